/// The `capacity` smallest (distance, index) pairs seen, as a max-heap: the top-k of a row of
/// distances in exact and approximate neighbour lists and in k-means assignment.
package struct BoundedNeighborHeap {
    package let capacity: Int
    private var distances: [Float] = []
    private var indices: [Int32] = []

    package init(capacity: Int) {
        self.capacity = capacity
        distances.reserveCapacity(capacity)
        indices.reserveCapacity(capacity)
    }

    /// How many pairs are kept (at most `capacity`).
    package var count: Int { distances.count }

    package mutating func removeAll() {
        distances.removeAll(keepingCapacity: true)
        indices.removeAll(keepingCapacity: true)
    }

    /// Whether (a, ia) sorts after (b, ib): larger distance, or equal distance and larger index.
    @inline(__always)
    package static func after(_ a: Float, _ ia: Int32, _ b: Float, _ ib: Int32) -> Bool { a > b || (a == b && ia > ib) }

    @inline(__always)
    package mutating func offer(distance: Float, index: Int32) {
        if distances.count < capacity {
            distances.append(distance)
            indices.append(index)
            var child = distances.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.after(distances[child], indices[child], distances[parent], indices[parent]) else { break }
                distances.swapAt(child, parent)
                indices.swapAt(child, parent)
                child = parent
            }
            return
        }
        guard Self.after(distances[0], indices[0], distance, index) else { return }
        distances[0] = distance
        indices[0] = index
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < capacity, Self.after(distances[left], indices[left], distances[largest], indices[largest]) { largest = left }
            if right < capacity, Self.after(distances[right], indices[right], distances[largest], indices[largest]) { largest = right }
            guard largest != parent else { break }
            distances.swapAt(parent, largest)
            indices.swapAt(parent, largest)
            parent = largest
        }
    }

    /// Writes the kept indices, nearest first.
    package func writeSorted(into target: UnsafeMutablePointer<Int32>) {
        let order = distances.indices.sorted { Self.after(distances[$1], indices[$1], distances[$0], indices[$0]) }
        for (slot, position) in order.enumerated() { target[slot] = indices[position] }
    }
}
