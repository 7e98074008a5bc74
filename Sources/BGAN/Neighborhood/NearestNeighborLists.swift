import Basics
import NeuralNet

/// Nearest-neighbour lists read one at a time, wherever they are kept: in memory
/// (``NearestNeighborLists``) or in a file (``NeighborListFile``).
public protocol NeighborListReading: Sendable {
    var count: Int { get }
    /// Neighbours per list.
    var k: Int { get }
    /// Item `i`'s list, nearest first.
    /// - Throws: ``FileError`` when the lists are kept in a file that cannot be read.
    func list(of i: Int) throws -> [Int32]
}

/// The `k` nearest neighbours of every item of a feature matrix, by Euclidean distance, each item
/// counting as its own nearest. Never materialises the N × N distance matrix: distances come a
/// block of rows at a time from one sgemm (`‖x‖² + ‖y‖² − 2·x·y`), and each row keeps a bounded
/// max-heap of its best `k`. Ties go to the lower index.
public struct NearestNeighborLists: Sendable, NeighborListReading {
    public let count: Int
    public let k: Int
    /// Row `i` is `neighbors[i·k ..< (i+1)·k]`, nearest first.
    public let neighbors: [Int32]

    /// Neighbours of item `i`, nearest first.
    public func of(_ i: Int) -> ArraySlice<Int32> { neighbors[(i * k)..<((i + 1) * k)] }

    public func list(of i: Int) -> [Int32] { Array(of(i)) }

    /// The first `k` of every list: the same lists as computing them with `k` directly, since
    /// every list is ordered by (distance, index) and distances do not depend on `k`.
    public func prefix(_ k: Int) -> NearestNeighborLists {
        let k = min(k, self.k)
        var kept = [Int32]()
        kept.reserveCapacity(count * k)
        for i in 0..<count { kept += of(i).prefix(k) }
        return NearestNeighborLists(count: count, k: k, neighbors: kept)
    }

    init(count: Int, k: Int, neighbors: [Int32]) {
        self.count = count
        self.k = k
        self.neighbors = neighbors
    }

    /// Computes the lists for `features` (`count × dimension`, row-major).
    public init(features: [Float], dimension: Int, k: Int, blockRows: Int = 512) {
        let n = features.count / dimension
        precondition(n * dimension == features.count, "\(features.count) values are not whole \(dimension)-dimensional rows")
        self.init(queries: features, of: features, dimension: dimension, k: k, norms: squaredNorms(features, dimension: dimension),
                  blockRows: blockRows)
    }

    /// The exact `k` nearest rows of `features` to each row of `queries` (both row-major,
    /// `dimension` wide): list `i` is query `i`'s. What approximate lists are measured against
    /// when the whole N × N search is too dear: the lists of a sample of the items.
    public init(queries: [Float], of features: [Float], dimension: Int, k: Int) {
        precondition(features.count % dimension == 0 && queries.count % dimension == 0, "rows must be \(dimension) values wide")
        self.init(queries: queries, of: features, dimension: dimension, k: k, norms: squaredNorms(features, dimension: dimension))
    }

    init(queries: [Float], of features: [Float], dimension: Int, k: Int, norms: [Float], blockRows: Int = 512) {
        count = queries.count / dimension
        self.k = min(k, features.count / dimension)
        neighbors = nearestRows(of: queries, in: features, databaseNorms: norms, dimension: dimension, k: k, blockRows: blockRows)
    }
}
