import Basics
import NeuralNet

/// The `k` nearest neighbours of every item of a feature matrix, by Euclidean distance, each item
/// counting as its own nearest. Never materialises the N × N distance matrix: distances come a
/// block of rows at a time from one sgemm (`‖x‖² + ‖y‖² − 2·x·y`), and each row keeps a bounded
/// max-heap of its best `k`. Ties go to the lower index.
public struct NearestNeighborLists: Sendable {
    public let count: Int
    public let k: Int
    /// Row `i` is `neighbors[i·k ..< (i+1)·k]`, nearest first.
    public let neighbors: [Int32]

    /// Neighbours of item `i`, nearest first.
    public func of(_ i: Int) -> ArraySlice<Int32> { neighbors[(i * k)..<((i + 1) * k)] }

    /// The first `k` of every list: the same lists as computing them with `k` directly, since
    /// every list is ordered by (distance, index) and distances do not depend on `k`.
    public func prefix(_ k: Int) -> NearestNeighborLists {
        let k = min(k, self.k)
        var kept = [Int32]()
        kept.reserveCapacity(count * k)
        for i in 0..<count { kept += of(i).prefix(k) }
        return NearestNeighborLists(count: count, k: k, neighbors: kept)
    }

    private init(count: Int, k: Int, neighbors: [Int32]) {
        self.count = count
        self.k = k
        self.neighbors = neighbors
    }

    /// Computes the lists for `features` (`count × dimension`, row-major).
    public init(features: [Float], dimension: Int, k: Int, blockRows: Int = 512) {
        let n = features.count / dimension
        precondition(n * dimension == features.count, "\(features.count) values are not whole \(dimension)-dimensional rows")
        let k = min(k, n)
        count = n
        self.k = k
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var sum: Float = 0
            for j in 0..<dimension { let v = features[i * dimension + j]; sum += v * v }
            norms[i] = sum
        }
        var result = [Int32](repeating: 0, count: n * k)
        var products = [Float](repeating: 0, count: blockRows * n)
        for first in stride(from: 0, to: n, by: blockRows) {
            let rows = min(blockRows, n - first)
            // x_block · Xᵀ : (rows × D) · (D × N)
            features.withUnsafeBufferPointer { x in
                products.withUnsafeMutableBufferPointer { p in
                    BLAS.gemm(transposeB: true, m: rows, n: n, k: dimension, a: x.baseAddress! + first * dimension, lda: dimension,
                              b: x.baseAddress!, ldb: dimension, c: p.baseAddress!, ldc: n)
                }
            }
            products.withUnsafeBufferPointer { p in
                result.withUnsafeMutableBufferPointer { out in
                    norms.withUnsafeBufferPointer { norm in
                        parallelRanges(rows, tasks: BLAS.threads) { (block: Range<Int>) in
                            var heap = BoundedNeighborHeap(capacity: k)
                            for row in block {
                                let i = first + row
                                heap.removeAll()
                                let line = p.baseAddress! + row * n
                                for j in 0..<n {
                                    // ‖x_i‖² is the same for the whole row: leave it out.
                                    heap.offer(distance: norm[j] - 2 * line[j], index: Int32(j))
                                }
                                heap.writeSorted(into: out.baseAddress! + i * k)
                            }
                        }
                    }
                }
            }
        }
        neighbors = result
    }
}

/// The `capacity` smallest (distance, index) pairs seen, as a max-heap.
struct BoundedNeighborHeap {
    let capacity: Int
    private var distances: [Float] = []
    private var indices: [Int32] = []

    init(capacity: Int) {
        self.capacity = capacity
        distances.reserveCapacity(capacity)
        indices.reserveCapacity(capacity)
    }

    mutating func removeAll() {
        distances.removeAll(keepingCapacity: true)
        indices.removeAll(keepingCapacity: true)
    }

    /// Whether (a, ia) sorts after (b, ib): larger distance, or equal distance and larger index.
    @inline(__always)
    static func after(_ a: Float, _ ia: Int32, _ b: Float, _ ib: Int32) -> Bool { a > b || (a == b && ia > ib) }

    @inline(__always)
    mutating func offer(distance: Float, index: Int32) {
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
    func writeSorted(into target: UnsafeMutablePointer<Int32>) {
        let order = distances.indices.sorted { Self.after(distances[$1], indices[$1], distances[$0], indices[$0]) }
        for (slot, position) in order.enumerated() { target[slot] = indices[position] }
    }
}
