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
    public init(neighbors lists: NearestNeighborLists, k2: Int) {
        let n = lists.count
        count = n
        // Who lists whom: reverse lists, to find the images sharing a neighbour with i.
        var reverseOffsets = [Int](repeating: 0, count: n + 1)
        for j in lists.neighbors { reverseOffsets[Int(j) + 1] += 1 }
        for i in 0..<n { reverseOffsets[i + 1] += reverseOffsets[i] }
        var cursor = reverseOffsets
        var reverse = [Int32](repeating: 0, count: lists.neighbors.count)
        for i in 0..<n {
            for j in lists.of(i) {
                reverse[cursor[Int(j)]] = Int32(i)
                cursor[Int(j)] += 1
            }
        }
        var positive = [Set<Int32>](repeating: [], count: n)
        var overlap = [Int32](repeating: 0, count: n)
        var touched: [Int32] = []
        for i in 0..<n {
            // |N(i) ∩ N(j)| for every j sharing a neighbour with i.
            for m in lists.of(i) {
                for position in reverseOffsets[Int(m)]..<reverseOffsets[Int(m) + 1] {
                    let j = reverse[position]
                    if overlap[Int(j)] == 0 { touched.append(j) }
                    overlap[Int(j)] += 1
                }
            }
            let voters = touched.sorted { overlap[Int($0)] != overlap[Int($1)] ? overlap[Int($0)] > overlap[Int($1)] : $0 < $1 }.prefix(k2)
            for voter in voters {
                for member in lists.of(Int(voter)) {
                    positive[i].insert(member)
                    positive[Int(member)].insert(Int32(i))
                }
            }
            for j in touched { overlap[Int(j)] = 0 }
            touched.removeAll(keepingCapacity: true)
        }
        var offsets = [0]
        var similar: [Int32] = []
        for i in 0..<n {
            similar.append(contentsOf: positive[i].sorted())
            offsets.append(similar.count)
        }
        self.offsets = offsets
        self.similar = similar
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
