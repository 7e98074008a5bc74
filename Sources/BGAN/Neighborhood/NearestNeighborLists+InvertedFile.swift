import Basics
import NeuralNet

extension NearestNeighborLists {
    /// How approximate lists are searched: an inverted file whose cells are k-means clusters of
    /// the features. Every item is filed in the cell of its nearest centroid and looks for its
    /// neighbours among the items of its `probes` nearest cells only.
    public struct InvertedFile: Sendable, Hashable, CustomStringConvertible {
        /// k-means clusters, each a cell.
        public var cells: Int
        /// Cells each item searches, its own included.
        public var probes: Int
        /// Rows k-means trains on (a random sample when there are more).
        public var trainingRows: Int
        /// Lloyd steps of the k-means.
        public var iterations: Int
        public var seed: UInt64

        public init(cells: Int, probes: Int, trainingRows: Int = 100_000, iterations: Int = 10, seed: UInt64 = 2026) {
            self.cells = cells
            self.probes = probes
            self.trainingRows = trainingRows
            self.iterations = iterations
            self.seed = seed
        }

        /// The settings for `count` items: 4·√count cells (so a cell holds about √count / 4
        /// items and the work grows as count^1.5, not count²), each item searching 16 of them;
        /// k-means trained for 8 steps on 25 rows per cell. Chosen on Fashion-MNIST's 60,000
        /// training images in pixels, where the lists keep ≥ 0.95 of the exact 20 nearest
        /// (docs/scaling.md).
        public static func recommended(count: Int) -> InvertedFile {
            let cells = max(1, Int((4 * Double(count).squareRoot()).rounded()))
            return InvertedFile(cells: cells, probes: min(16, cells), trainingRows: 25 * cells, iterations: 8)
        }

        public var description: String { "inverted file of \(cells) cells, \(probes) probed" }
    }

    /// Up to this many items, ``searching(_:dimension:k:)`` computes exact lists.
    public static let exactLimit = 100_000

    /// The lists training builds: exact up to ``exactLimit`` items (Fashion-MNIST's 60,000 and
    /// every bundled recipe), through the ``InvertedFile/recommended(count:)`` inverted file
    /// beyond, where N² distances would take hours.
    public static func searching(_ features: [Float], dimension: Int, k: Int) -> NearestNeighborLists {
        // An array's rows cannot fail to be read.
        try! searching(FeatureRows(features, dimension: dimension), k: k)
    }

    /// ``searching(_:dimension:k:)`` on rows read as they are needed: beyond ``exactLimit`` the
    /// inverted file reads a block or a cell's rows at a time, so rows kept in a file or gathered
    /// from images are never held whole.
    /// - Throws: what reading the rows throws.
    public static func searching(_ features: FeatureRows, k: Int) throws -> NearestNeighborLists {
        guard features.count > exactLimit else {
            return NearestNeighborLists(features: try features.allRows(), dimension: features.dimension, k: k)
        }
        return try NearestNeighborLists(rows: features, k: k, invertedFile: .recommended(count: features.count))
    }

    /// Approximate lists: the `k` nearest of every item among the items of its
    /// `invertedFile.probes` nearest cells (an item's own cell always among them, so every item
    /// is its own nearest). Each list is ordered by (distance, index) as exact lists are, and is
    /// exact whenever every true neighbour lies in a probed cell; an item whose probed cells
    /// hold fewer than `k` items gets an exact list. Cost: N · probes · (N / cells) distances
    /// against the exact N², through one sgemm per cell and block of searching items.
    public init(features: [Float], dimension: Int, k: Int, invertedFile: InvertedFile) {
        // An array's rows cannot fail to be read.
        try! self.init(rows: FeatureRows(features, dimension: dimension), k: k, invertedFile: invertedFile)
    }

    /// ``init(features:dimension:k:invertedFile:)`` on rows read as they are needed (a block of
    /// rows, a cell's rows), so that the features are never held whole: the same lists as from
    /// the same rows in an array.
    /// - Throws: what reading the rows throws.
    public init(rows features: FeatureRows, k: Int, invertedFile: InvertedFile) throws {
        let n = features.count, dimension = features.dimension
        let k = min(k, n)
        let cellCount = max(1, min(invertedFile.cells, n)), probes = max(1, min(invertedFile.probes, cellCount))
        let quantizer = KMeans(training: try Self.trainingSample(features, rows: max(invertedFile.trainingRows, cellCount), seed: invertedFile.seed),
                               dimension: dimension, clusters: cellCount, iterations: invertedFile.iterations, seeding: .randomRows,
                               seed: invertedFile.seed)
        let (members, visitors, norms) = try Self.cells(of: features, quantizer: quantizer, cells: cellCount, probes: probes)

        let heaps = NeighborHeaps(count: n, capacity: k)
        defer { heaps.deallocate() }
        let blockRows = 2048
        var memberRows = [Float](), visitorRows = [Float](), products = [Float]()
        for cell in 0..<cellCount {
            let cellMembers = members.rows(of: cell), cellVisitors = visitors.rows(of: cell)
            guard !cellMembers.isEmpty, !cellVisitors.isEmpty else { continue }
            try features.gather(cellMembers.map(Int.init), into: &memberRows)
            for first in stride(from: 0, to: cellVisitors.count, by: blockRows) {
                let block = cellVisitors[(cellVisitors.startIndex + first)..<(cellVisitors.startIndex + min(first + blockRows, cellVisitors.count))]
                try features.gather(block.map(Int.init), into: &visitorRows)
                if products.count < block.count * cellMembers.count { products = [Float](repeating: 0, count: block.count * cellMembers.count) }
                visitorRows.withUnsafeBufferPointer { v in
                    memberRows.withUnsafeBufferPointer { m in
                        products.withUnsafeMutableBufferPointer { p in
                            BLAS.gemm(transposeB: true, m: block.count, n: cellMembers.count, k: dimension, a: v.baseAddress!, lda: dimension,
                                      b: m.baseAddress!, ldb: dimension, c: p.baseAddress!, ldc: cellMembers.count)
                        }
                    }
                }
                products.withUnsafeBufferPointer { p in
                    // A visitor appears once per cell, so the rows of a block own their heaps.
                    parallelRanges(block.count, tasks: BLAS.threads, minimumPerTask: 64) { range in
                        for row in range {
                            let visitor = Int(block[block.startIndex + row])
                            let line = p.baseAddress! + row * cellMembers.count
                            for (column, member) in cellMembers.enumerated() {
                                heaps.offer(visitor, distance: norms[Int(member)] - 2 * line[column], index: member)
                            }
                        }
                    }
                }
            }
        }
        // An item whose probed cells hold fewer than k items is compared with every item.
        let short = (0..<n).filter { heaps.size(of: $0) < k }
        if !short.isEmpty {
            for i in short { heaps.removeAll(of: i) }
            var rows = [Float]()
            try features.gather(short, into: &rows)
            let group = 512
            try features.forEachBlock { first, block in
                let blockCount = block.count / dimension
                for start in stride(from: 0, to: short.count, by: group) {
                    let queries = min(group, short.count - start)
                    if products.count < queries * blockCount { products = [Float](repeating: 0, count: queries * blockCount) }
                    rows.withUnsafeBufferPointer { q in
                        block.withUnsafeBufferPointer { y in
                            products.withUnsafeMutableBufferPointer { p in
                                BLAS.gemm(transposeB: true, m: queries, n: blockCount, k: dimension, a: q.baseAddress! + start * dimension, lda: dimension,
                                          b: y.baseAddress!, ldb: dimension, c: p.baseAddress!, ldc: blockCount)
                            }
                        }
                    }
                    for row in 0..<queries {
                        let i = short[start + row]
                        for column in 0..<blockCount {
                            heaps.offer(i, distance: norms[first + column] - 2 * products[row * blockCount + column], index: Int32(first + column))
                        }
                    }
                }
            }
        }
        var result = [Int32](repeating: 0, count: n * k)
        result.withUnsafeMutableBufferPointer { out in
            for i in 0..<n { heaps.writeSorted(i, into: out.baseAddress! + i * k) }
        }
        self.init(count: n, k: k, neighbors: result)
    }

    /// Each item filed in the cell of its nearest centroid (`members`) and under each of its
    /// `probes` nearest cells (`visitors`), and its squared norm: one pass over the rows, a
    /// block at a time, whose cell numbers are dropped once filed.
    private static func cells(of features: FeatureRows, quantizer: KMeans, cells: Int, probes: Int) throws
        -> (members: CellIndex, visitors: CellIndex, norms: [Float]) {
        let n = features.count
        precondition(n <= Int(Int32.max), "lists hold 32-bit item numbers")
        var probed = [Int32](), norms = [Float]()
        probed.reserveCapacity(n * probes)
        norms.reserveCapacity(n)
        try features.forEachBlock { _, block in
            probed += quantizer.nearest(block, count: probes)
            norms += squaredNorms(block, dimension: features.dimension)
        }
        return (CellIndex(cells: cells, entries: n, cell: { probed[$0 * probes] }, owner: { Int32($0) }),
                CellIndex(cells: cells, entries: n * probes, cell: { probed[$0] }, owner: { Int32($0 / probes) }),
                norms)
    }

    /// Up to `rows` distinct rows of `features` drawn with `seed` (all of them when there are
    /// no more): what the k-means of the cells trains on.
    private static func trainingSample(_ features: FeatureRows, rows: Int, seed: UInt64) throws -> [Float] {
        let n = features.count
        var sample = [Float]()
        guard rows < n else {
            try features.gather(Array(0..<n), into: &sample)
            return sample
        }
        var rng = SeededGenerator(seed: seed)
        try features.gather(rng.distinctIndices(rows, below: n), into: &sample)
        return sample
    }
}

/// The owners filed under each cell, cell after cell (a counting sort of the entries): 4 bytes
/// an entry, 16 probes an item.
private struct CellIndex {
    let starts: [Int]
    let owners: [Int32]

    /// Entries `0 ..< entries`, entry `e` filed under `cell(e)` as `owner(e)`, in entry order within a cell.
    init(cells: Int, entries: Int, cell: (Int) -> Int32, owner: (Int) -> Int32) {
        var starts = [Int](repeating: 0, count: cells + 1)
        for entry in 0..<entries { starts[Int(cell(entry)) + 1] += 1 }
        for cell in 0..<cells { starts[cell + 1] += starts[cell] }
        var next = starts, owners = [Int32](repeating: 0, count: entries)
        for entry in 0..<entries {
            let filed = Int(cell(entry))
            owners[next[filed]] = owner(entry)
            next[filed] += 1
        }
        self.starts = starts
        self.owners = owners
    }

    func rows(of cell: Int) -> ArraySlice<Int32> { owners[starts[cell]..<starts[cell + 1]] }
}
