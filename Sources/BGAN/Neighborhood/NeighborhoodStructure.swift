import Basics
import NeuralNet

/// BGAN's neighbourhood structure S, after the authors' `create_S.py`, kept sparse.
///
/// From the `K1`-nearest-neighbour list `N(i)` of every image: for image `i`, the `K2` images `j`
/// whose lists overlap `N(i)` the most (ties to the lower index) vote; every image in the union
/// of their lists is similar to `i` (S = +1), symmetrically; all other pairs are dissimilar
/// (S = −1). Only the similar pairs are stored: a few hundred per image, never N × N.
public struct NeighborhoodStructure: Sendable {
    public let count: Int
    /// Row `i`'s similar items, ascending: `similar[offsets[i] ..< offsets[i+1]]`.
    public let offsets: [Int]
    public let similar: [Int32]

    /// S from its stored rows (as a checkpoint holds it).
    init(count: Int, offsets: [Int], similar: [Int32]) {
        self.count = count
        self.offsets = offsets
        self.similar = similar
    }

    /// Builds S from K1-nearest-neighbour lists, with `k2` voters per image.
    ///
    /// Two passes, both linear in the number of images: each image's own row — the union of
    /// its voters' lists — is found on every core at once, then S is that relation made
    /// symmetric (each row merged with the rows that name it). Rows are sorted arrays, not sets:
    /// a million images fit in a few GB.
    public init(neighbors lists: NearestNeighborLists, k2: Int) {
        let n = lists.count
        count = n
        let reverse = ReverseLists(lists)
        // Pass 1: F(i) = ∪ N(v) over i's k2 voters v, sorted and without repeats.
        let tasks = n >= 4_096 ? max(1, BLAS.threads) : 1
        let parts = parallelMap(tasks: tasks) { task -> CompressedRows in
            var part = CompressedRows()
            var overlap = [Int32](repeating: 0, count: n)
            var touched: [Int32] = [], row: [Int32] = []
            for i in (n * task / tasks)..<(n * (task + 1) / tasks) {
                // |N(i) ∩ N(j)| for every j sharing a neighbour with i.
                for m in lists.of(i) {
                    for j in reverse.listing(Int(m)) {
                        if overlap[Int(j)] == 0 { touched.append(j) }
                        overlap[Int(j)] += 1
                    }
                }
                let voters = touched.sorted { overlap[Int($0)] != overlap[Int($1)] ? overlap[Int($0)] > overlap[Int($1)] : $0 < $1 }.prefix(k2)
                row.removeAll(keepingCapacity: true)
                for voter in voters { row += lists.of(Int(voter)) }
                part.append(sortedUnique: &row)
                for j in touched { overlap[Int(j)] = 0 }
                touched.removeAll(keepingCapacity: true)
            }
            return part
        }
        let forward = CompressedRows(concatenating: parts)
        // Pass 2: S(i) = F(i) ∪ {j : i ∈ F(j)}.
        let backward = forward.transposed(count: n)
        var symmetric = CompressedRows(), row: [Int32] = []
        symmetric.values.reserveCapacity(2 * forward.values.count)
        for i in 0..<n {
            row.removeAll(keepingCapacity: true)
            row += forward.row(i)
            row += backward.row(i)
            symmetric.append(sortedUnique: &row)
        }
        offsets = symmetric.offsets
        similar = symmetric.values
    }

    /// Whether `i` and `j` are similar (S = +1).
    public func isSimilar(_ i: Int, _ j: Int) -> Bool {
        let row = similar[offsets[i]..<offsets[i + 1]]
        var low = row.startIndex, high = row.endIndex
        while low < high {
            let mid = (low + high) / 2
            if row[mid] < Int32(j) { low = mid + 1 } else { high = mid }
        }
        return low < row.endIndex && row[low] == Int32(j)
    }

    /// The similarity matrix of a batch (`batch.count²`, row-major) for the pairwise loss: +1
    /// for similar pairs and for an item with itself, `dissimilar` (the paper: −1) elsewhere.
    public func batchMatrix(_ batch: [Int], dissimilar: Float = -1) -> [Float] {
        var matrix = [Float](repeating: dissimilar, count: batch.count * batch.count)
        for (a, i) in batch.enumerated() {
            for (b, j) in batch.enumerated() where i == j || isSimilar(i, j) { matrix[a * batch.count + b] = 1 }
        }
        return matrix
    }

    /// The similar items of `i`, ascending.
    public func similarItems(of i: Int) -> ArraySlice<Int32> { similar[offsets[i]..<offsets[i + 1]] }

    /// Similar pairs per image, on average.
    public var averageSimilar: Double { Double(similar.count) / Double(max(count, 1)) }
}

/// Who lists whom: for every item, the items whose K1 lists hold it.
private struct ReverseLists {
    let offsets: [Int]
    let items: [Int32]

    init(_ lists: NearestNeighborLists) {
        let n = lists.count
        var offsets = [Int](repeating: 0, count: n + 1)
        for j in lists.neighbors { offsets[Int(j) + 1] += 1 }
        for i in 0..<n { offsets[i + 1] += offsets[i] }
        var cursor = offsets
        var items = [Int32](repeating: 0, count: lists.neighbors.count)
        for i in 0..<n {
            for j in lists.of(i) {
                items[cursor[Int(j)]] = Int32(i)
                cursor[Int(j)] += 1
            }
        }
        self.offsets = offsets
        self.items = items
    }

    func listing(_ item: Int) -> ArraySlice<Int32> { items[offsets[item]..<offsets[item + 1]] }
}

/// Rows of item indices one after the other (compressed sparse rows).
private struct CompressedRows: Sendable {
    var offsets: [Int] = [0]
    var values: [Int32] = []

    init() {}

    init(concatenating parts: [CompressedRows]) {
        for part in parts {
            let base = values.count
            values += part.values
            offsets += part.offsets.dropFirst().map { $0 + base }
        }
    }

    /// Appends `row` sorted and without repeats (sorting it in place).
    mutating func append(sortedUnique row: inout [Int32]) {
        row.sort()
        var previous: Int32 = -1
        for j in row where j != previous {
            values.append(j)
            previous = j
        }
        offsets.append(values.count)
    }

    func row(_ i: Int) -> ArraySlice<Int32> { values[offsets[i]..<offsets[i + 1]] }

    /// Row j of the result lists the rows that hold j, ascending.
    func transposed(count n: Int) -> CompressedRows {
        var result = CompressedRows()
        var counts = [Int](repeating: 0, count: n + 1)
        for j in values { counts[Int(j) + 1] += 1 }
        for j in 0..<n { counts[j + 1] += counts[j] }
        var cursor = counts
        var transposedValues = [Int32](repeating: 0, count: values.count)
        for i in 0..<(offsets.count - 1) {
            for j in row(i) {
                transposedValues[cursor[Int(j)]] = Int32(i)
                cursor[Int(j)] += 1
            }
        }
        result.offsets = counts
        result.values = transposedValues
        return result
    }
}
