/// The sift routines of a bounded max-heap of (distance, index) pairs kept in caller-owned
/// memory: the `capacity` smallest pairs seen, the top-k of a row of distances in exact and
/// approximate neighbour lists and in k-means assignment (``NeighborHeaps``).
enum BoundedNeighborHeap {
    /// Whether (a, ia) sorts after (b, ib): larger distance, or equal distance and larger index.
    @inline(__always)
    static func after(_ a: Float, _ ia: Int32, _ b: Float, _ ib: Int32) -> Bool { a > b || (a == b && ia > ib) }

    /// Offers a pair to the heap of `size` pairs (at most `capacity`) at `distances`/`indices`.
    @inline(__always)
    static func offer(distance: Float, index: Int32, distances: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
                      size: inout Int32, capacity: Int) {
        func swapAt(_ a: Int, _ b: Int) {
            swap(&distances[a], &distances[b])
            swap(&indices[a], &indices[b])
        }
        if Int(size) < capacity {
            var child = Int(size)
            distances[child] = distance
            indices[child] = index
            size += 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard after(distances[child], indices[child], distances[parent], indices[parent]) else { break }
                swapAt(child, parent)
                child = parent
            }
            return
        }
        guard after(distances[0], indices[0], distance, index) else { return }
        distances[0] = distance
        indices[0] = index
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < capacity, after(distances[left], indices[left], distances[largest], indices[largest]) { largest = left }
            if right < capacity, after(distances[right], indices[right], distances[largest], indices[largest]) { largest = right }
            guard largest != parent else { break }
            swapAt(parent, largest)
            parent = largest
        }
    }

    /// Writes the indices of the heap of `size` pairs at `distances`/`indices`, nearest first.
    static func writeSorted(distances: UnsafePointer<Float>, indices: UnsafePointer<Int32>, size: Int, into target: UnsafeMutablePointer<Int32>) {
        let order = (0..<size).sorted { after(distances[$1], indices[$1], distances[$0], indices[$0]) }
        for (slot, position) in order.enumerated() { target[slot] = indices[position] }
    }
}

/// `count` heaps of `capacity` pairs each (as ``BoundedNeighborHeap``) in three flat arrays: the
/// lists of a search over a million items, whose million small heaps of two arrays each would
/// cost twice the memory and leave the C heap fragmented after they are freed.
package struct NeighborHeaps: @unchecked Sendable {
    package let count: Int
    package let capacity: Int
    private let distances: UnsafeMutablePointer<Float>
    private let indices: UnsafeMutablePointer<Int32>
    private let sizes: UnsafeMutablePointer<Int32>

    /// Heaps that must be given back with ``deallocate()``.
    package init(count: Int, capacity: Int) {
        self.count = count
        self.capacity = capacity
        distances = .allocate(capacity: max(1, count * capacity))
        indices = .allocate(capacity: max(1, count * capacity))
        sizes = .allocate(capacity: max(1, count))
        sizes.initialize(repeating: 0, count: max(1, count))
    }

    package func deallocate() {
        distances.deallocate()
        indices.deallocate()
        sizes.deallocate()
    }

    /// How many pairs heap `heap` keeps.
    package func size(of heap: Int) -> Int { Int(sizes[heap]) }

    package func removeAll(of heap: Int) { sizes[heap] = 0 }

    /// Offers a pair to heap `heap`. Threads may offer to distinct heaps at once.
    @inline(__always)
    package func offer(_ heap: Int, distance: Float, index: Int32) {
        BoundedNeighborHeap.offer(distance: distance, index: index, distances: distances + heap * capacity, indices: indices + heap * capacity,
                                  size: &sizes[heap], capacity: capacity)
    }

    /// Writes heap `heap`'s indices, nearest first.
    package func writeSorted(_ heap: Int, into target: UnsafeMutablePointer<Int32>) {
        BoundedNeighborHeap.writeSorted(distances: distances + heap * capacity, indices: indices + heap * capacity, size: Int(sizes[heap]), into: target)
    }
}
