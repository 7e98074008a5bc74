import Basics
import NeuralNet

/// The search behind approximate neighbour lists (``NearestNeighborLists/InvertedFile``), ready
/// to give the lists of any range of items: the k-means cells, every item filed in its nearest
/// cell (`members`, with its squared norm), and each item's `probes` nearest cells, kept in
/// memory or in a temporary file (64 bytes an item at 16 probes). The cells' k-means reads its
/// sample of rows a block at a time in each step, so its memory is the centroids'.
///
/// A range's lists need heaps, a visitor index and the lists themselves for that range only,
/// so the lists of a million items can be made a range at a time in bounded memory
/// (``NeighborListFile/init(rows:k:invertedFile:workingBytes:)``). Whatever the ranges, an item is
/// offered the same members of the same cells, and a heap keeps the `k` smallest (distance,
/// index) pairs whatever their order; the distances come from sgemm products of blocks of
/// visitors grouped differently per range, which OpenBLAS sums alike for a given pair, so the
/// lists come out identical (`NeighborListFileTests`; were a BLAS to round by grouping, only
/// near-ties could change).
///
/// Each range gathers the members of every cell its items probe — at 16 probes nearly every
/// cell — so the rows are read once per range: 6 passes at 10⁶ items in 64 MB, ~60 at 10⁷.
struct InvertedFileSearch {
    let features: FeatureRows
    let k: Int
    let probes: Int
    let members: CellIndex
    let norms: [Float]
    private let probed: ProbedCells

    /// Memory a searching item takes while its range is searched: its heap (`k` pairs and a
    /// size), its visitor entries, its probed cells as read and its list.
    static func bytesPerSearchingItem(k: Int, probes: Int) -> Int { 8 * k + 4 + 4 * probes + 4 * probes + 4 * k }

    /// Trains the cells on a sample of `features` and files every item: one pass over the rows.
    /// - Throws: what reading the rows throws; ``FileError`` when the probes' temporary file
    ///   cannot be written.
    init(_ features: FeatureRows, k: Int, invertedFile: NearestNeighborLists.InvertedFile, probesInScratchFile: Bool) throws {
        let n = features.count
        precondition(n <= Int(Int32.max), "lists hold 32-bit item numbers")
        self.features = features
        self.k = min(k, n)
        let cellCount = max(1, min(invertedFile.cells, n))
        let probes = max(1, min(invertedFile.probes, cellCount))
        self.probes = probes
        let sample = Self.trainingSample(of: n, rows: max(invertedFile.trainingRows, cellCount), seed: invertedFile.seed)
        var sampleRows = [Float]()
        let quantizer = try KMeans(trainingRows: sample.count, dimension: features.dimension, clusters: cellCount, iterations: invertedFile.iterations,
                                   seed: invertedFile.seed, rowsPerBlock: features.blockRows) { indices in
            try features.gather(indices.map { sample[$0] }, into: &sampleRows)
            return sampleRows
        }
        var ownCells = [Int32](), norms = [Float]()
        ownCells.reserveCapacity(n)
        norms.reserveCapacity(n)
        var probed = probesInScratchFile ? ProbedCells.file(try PositionedFile(scratchFor: "the inverted file's probed cells")) : .memory([])
        try features.forEachBlock { first, block in
            let nearest = quantizer.nearest(block, count: probes)
            for row in stride(from: 0, to: nearest.count, by: probes) { ownCells.append(nearest[row]) }
            norms += squaredNorms(block, dimension: features.dimension)
            try probed.append(nearest, firstItem: first, probes: probes)
        }
        members = CellIndex(cells: cellCount, entries: n, cell: { ownCells[$0] }, owner: { Int32($0) })
        self.norms = norms
        self.probed = probed
    }

    /// The lists of `items`, `items.count × k`, list after list, each ordered by (distance, index).
    /// - Throws: what reading the rows or the probes throws.
    func lists(of items: Range<Int>) throws -> [Int32] {
        let dimension = features.dimension, first = items.lowerBound
        let probedCells = try probed.cells(of: items, probes: probes)
        let visitors = CellIndex(cells: members.cellCount, entries: items.count * probes, cell: { probedCells[probedCells.startIndex + $0] },
                                 owner: { Int32(first + $0 / probes) })
        let heaps = NeighborHeaps(count: items.count, capacity: k)
        defer { heaps.deallocate() }
        let blockRows = 2048
        var memberRows = [Float](), visitorRows = [Float](), products = [Float]()
        for cell in 0..<members.cellCount {
            let cellMembers = members.rows(of: cell), cellVisitors = visitors.rows(of: cell)
            guard !cellMembers.isEmpty, !cellVisitors.isEmpty else { continue }
            try features.gather(cellMembers.map(Int.init), into: &memberRows)
            for start in stride(from: 0, to: cellVisitors.count, by: blockRows) {
                let block = cellVisitors[(cellVisitors.startIndex + start)..<(cellVisitors.startIndex + min(start + blockRows, cellVisitors.count))]
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
                            let heap = Int(block[block.startIndex + row]) - first
                            let line = p.baseAddress! + row * cellMembers.count
                            for (column, member) in cellMembers.enumerated() {
                                heaps.offer(heap, distance: norms[Int(member)] - 2 * line[column], index: member)
                            }
                        }
                    }
                }
            }
        }
        try completeShortLists(heaps, first: first)
        var result = [Int32](repeating: 0, count: items.count * k)
        result.withUnsafeMutableBufferPointer { out in
            for heap in 0..<items.count { heaps.writeSorted(heap, into: out.baseAddress! + heap * k) }
        }
        return result
    }

    /// An item whose probed cells hold fewer than `k` items is compared with every item.
    private func completeShortLists(_ heaps: NeighborHeaps, first: Int) throws {
        let short = (0..<heaps.count).filter { heaps.size(of: $0) < k }
        guard !short.isEmpty else { return }
        let dimension = features.dimension
        for heap in short { heaps.removeAll(of: heap) }
        var rows = [Float](), products = [Float]()
        try features.gather(short.map { first + $0 }, into: &rows)
        let group = 512
        try features.forEachBlock { firstRow, block in
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
                    let heap = short[start + row]
                    for column in 0..<blockCount {
                        heaps.offer(heap, distance: norms[firstRow + column] - 2 * products[row * blockCount + column], index: Int32(firstRow + column))
                    }
                }
            }
        }
    }

    /// Up to `rows` distinct rows of `count` drawn with `seed` (all of them when there are no
    /// more): what the k-means of the cells trains on, read a block at a time in each step.
    private static func trainingSample(of count: Int, rows: Int, seed: UInt64) -> [Int] {
        guard rows < count else { return Array(0..<count) }
        var rng = SeededGenerator(seed: seed)
        return rng.distinctIndices(rows, below: count)
    }
}

/// Every item's probed cells, `probes` a row: in an array, or in a temporary file whose rows are
/// read a range at a time.
private enum ProbedCells {
    case memory([Int32])
    case file(PositionedFile)

    mutating func append(_ cells: [Int32], firstItem: Int, probes: Int) throws {
        switch self {
        case .memory(var all):
            self = .memory([])
            all += cells
            self = .memory(all)
        case .file(let file):
            try cells.withUnsafeBytes { try file.write($0, at: 4 * firstItem * probes) }
        }
    }

    func cells(of items: Range<Int>, probes: Int) throws -> ArraySlice<Int32> {
        switch self {
        case .memory(let all): all[(items.lowerBound * probes)..<(items.upperBound * probes)]
        case .file(let file): try file.read(Int32.self, count: items.count * probes, at: 4 * items.lowerBound * probes)[...]
        }
    }
}

/// The owners filed under each cell, cell after cell (a counting sort of the entries): 4 bytes
/// an entry.
struct CellIndex {
    let starts: [Int]
    let owners: [Int32]

    var cellCount: Int { starts.count - 1 }

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
