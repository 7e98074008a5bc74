import Basics
import NeuralNet

/// BGAN's neighbourhood structure S, after the authors' `create_S.py`, kept sparse.
///
/// From the `K1`-nearest-neighbour list `N(i)` of every image: for image `i`, the `K2` images `j`
/// whose lists overlap `N(i)` the most (ties to the lower index) vote; every image in the union
/// of their lists is similar to `i` (S = +1), symmetrically; all other pairs are dissimilar
/// (S = −1). Only the similar pairs are stored: a few hundred per image, never N × N.
///
/// The rows live in memory, or in a file read a row at a time (``init(neighbors:k2:scratchWorkingBytes:)``,
/// or a checkpoint read in place): a million images' S is over a gigabyte, which a training run
/// then does not hold. Either way the rows are the same.
public struct NeighborhoodStructure: Sendable {
    public let count: Int
    /// Similar pairs stored: every row's length summed (each pair twice, and each image with itself).
    public let pairCount: Int
    let storage: Storage

    enum Storage: Sendable {
        /// Row `i`'s similar items, ascending: `similar[offsets[i] ..< offsets[i+1]]`.
        case memory(offsets: [Int], similar: [Int32])
        /// The layout of ``CheckpointCodec``'s record at `base` of `file`: the count (`UInt64`),
        /// `count + 1` row offsets (`UInt64`), the similar items (`UInt32`), little-endian.
        case file(PositionedFile, base: Int)
    }

    /// S from its stored rows (as a checkpoint holds it).
    init(count: Int, offsets: [Int], similar: [Int32]) {
        self.count = count
        pairCount = similar.count
        storage = .memory(offsets: offsets, similar: similar)
    }

    /// S stored in the layout of ``Storage/file(_:base:)`` at `base` of `file` (checked by the caller).
    init(count: Int, pairCount: Int, file: PositionedFile, base: Int) {
        self.count = count
        self.pairCount = pairCount
        storage = .file(file, base: base)
    }

    /// Memory the build of a file-kept S uses for rows when training asks for one.
    public static let trainingWorkingBytes = 256 << 20

    /// S as training keeps it: in memory for up to ``NearestNeighborLists/exactLimit`` images,
    /// beyond that in a temporary file built with ``trainingWorkingBytes``.
    /// - Throws: ``FileError`` when the temporary files cannot be written (no room in `TMPDIR`).
    public static func forTraining(neighbors lists: NearestNeighborLists, k2: Int) throws -> NeighborhoodStructure {
        lists.count > NearestNeighborLists.exactLimit
            ? try NeighborhoodStructure(neighbors: lists, k2: k2, scratchWorkingBytes: trainingWorkingBytes)
            : NeighborhoodStructure(neighbors: lists, k2: k2)
    }

    /// Whether the rows are kept in a file.
    public var isKeptInFile: Bool {
        if case .file = storage { return true }
        return false
    }

    /// Builds S in memory from K1-nearest-neighbour lists, with `k2` voters per image.
    ///
    /// Two passes, both linear in the number of images: each image's own row — the union of
    /// its voters' lists — is found on every core at once, then S is that relation made
    /// symmetric (each row merged with the rows that name it). Rows are sorted arrays, not sets.
    public init(neighbors lists: NearestNeighborLists, k2: Int) {
        let forward = CompressedRows(concatenating: Self.votedRows(lists, k2: k2) { _ in CompressedRows() })
        // Pass 2: S(i) = F(i) ∪ {j : i ∈ F(j)}.
        let backward = forward.transposed(count: lists.count)
        var symmetric = CompressedRows(), row: [Int32] = []
        symmetric.values.reserveCapacity(2 * forward.values.count)
        for i in 0..<lists.count {
            row.removeAll(keepingCapacity: true)
            row += forward.row(i)
            row += backward.row(i)
            symmetric.append(sortedUnique: &row)
        }
        self.init(count: lists.count, offsets: symmetric.offsets, similar: symmetric.values)
    }

    /// Builds the same S into a temporary file (``PositionedFile/init(scratchFor:)``), holding no
    /// more than about `scratchWorkingBytes` of rows in memory at once besides a few bytes per
    /// image: each core writes the rows it votes to a file of its own, then the symmetric rows
    /// are made a range of images at a time — the range whose incoming pairs fit
    /// `scratchWorkingBytes`, found by one pass over those files per range.
    /// - Throws: ``FileError`` when the temporary files cannot be written (no room in `TMPDIR`).
    public init(neighbors lists: NearestNeighborLists, k2: Int, scratchWorkingBytes: Int) throws {
        try self.init(neighbors: lists, k2: k2, scratchWorkingBytes: scratchWorkingBytes, valuesPerChunk: 1 << 18)
    }

    /// The same with the files read and written `valuesPerChunk` values at a time (tests make
    /// it small so that every chunk boundary is crossed).
    init(neighbors lists: NearestNeighborLists, k2: Int, scratchWorkingBytes: Int, valuesPerChunk: Int) throws {
        let n = lists.count
        let parts = try Self.votedRows(lists, k2: k2) { first in
            try ScratchRows(purpose: "the neighbourhood structure's voted rows", first: first, valuesPerChunk: valuesPerChunk)
        }.map { try $0.finished() }
        // How many pairs point at each image: S(i)'s incoming half, to size the ranges.
        var incoming = [Int32](repeating: 0, count: n)
        for part in parts { try part.forEachRow { _, row in for j in row { incoming[Int(j)] += 1 } } }
        let file = try PositionedFile(scratchFor: "the neighbourhood structure")
        let valuesBase = 8 * (n + 2)
        var count = UInt64(n).littleEndian
        try withUnsafeBytes(of: &count) { try file.write($0, at: 0) }
        var output = BufferedInt32Writer(file: file, at: valuesBase, valuesPerWrite: valuesPerChunk)
        var first = UInt64(0)
        try withUnsafeBytes(of: &first) { try file.write($0, at: 8) }
        let budget = max(1, scratchWorkingBytes / 4)
        var start = 0
        while start < n {
            // The range [start, end): as many images as their incoming pairs fit in the budget (one at least).
            var end = start, pairs = 0
            while end < n, end == start || pairs + Int(incoming[end]) <= budget {
                pairs += Int(incoming[end])
                end += 1
            }
            var cursor = [Int](repeating: 0, count: end - start + 1)
            for j in start..<end { cursor[j - start + 1] = cursor[j - start] + Int(incoming[j]) }
            let rowStarts = cursor
            var backward = [Int32](repeating: 0, count: pairs)
            for part in parts {
                try part.forEachRow { i, row in
                    for j in row where Int(j) >= start && Int(j) < end {
                        backward[cursor[Int(j) - start]] = Int32(i)
                        cursor[Int(j) - start] += 1
                    }
                }
            }
            var offsets: [UInt64] = []
            offsets.reserveCapacity(end - start)
            var row: [Int32] = []
            for part in parts {
                try part.forEachRow(in: start..<end) { i, forwardRow in
                    row.removeAll(keepingCapacity: true)
                    row.append(contentsOf: forwardRow)
                    row += backward[rowStarts[i - start]..<rowStarts[i - start + 1]]
                    try appendSortedUnique(&row) { try output.append($0) }
                    offsets.append(UInt64(output.written).littleEndian)
                }
            }
            // offsets[i] sits at byte 8 + 8·i: this range's are offsets[start + 1 ... end].
            try offsets.withUnsafeBytes { try file.write($0, at: 8 * (start + 2)) }
            start = end
        }
        try output.flush()
        self.init(count: n, pairCount: output.written, file: file, base: 0)
    }

    /// Pass 1, on every core at once: F(i) = ∪ N(v) over i's `k2` voters v (the images whose
    /// lists share the most with N(i), ties to the lower index), sorted and without repeats,
    /// appended to one sink per core (`makeSink(task)`); the sinks in the images' order.
    private static func votedRows<Sink: VotedRowSink>(_ lists: NearestNeighborLists, k2: Int,
                                                      makeSink: (_ firstImage: Int) throws(Sink.Failure) -> Sink) throws(Sink.Failure) -> [Sink] {
        let n = lists.count
        let reverse = ReverseLists(lists)
        let tasks = n >= 4_096 ? max(1, BLAS.threads) : 1
        return try parallelMap(tasks: tasks) { task throws(Sink.Failure) -> Sink in
            var sink = try makeSink(n * task / tasks)
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
                try sink.append(sortedUnique: &row)
                for j in touched { overlap[Int(j)] = 0 }
                touched.removeAll(keepingCapacity: true)
            }
            return sink
        }
    }

    /// The similar items of `i`, ascending (`i` itself among them).
    /// - Throws: ``FileError`` when S is kept in a file that cannot be read.
    public func similarItems(of i: Int) throws -> ArraySlice<Int32> {
        precondition((0..<count).contains(i), "image \(i) is not among S's \(count)")
        switch storage {
        case .memory(let offsets, let similar):
            return similar[offsets[i]..<offsets[i + 1]]
        case .file(let file, let base):
            let bounds = try file.read(UInt64.self, count: 2, at: base + 8 * (i + 1)).map { Int(truncatingIfNeeded: UInt64(littleEndian: $0)) }
            guard bounds[0] >= 0, bounds[0] <= bounds[1], bounds[1] <= pairCount else {
                throw FileError(.unreadable, "row \(i) of the neighbourhood structure in \(file.name) has offsets \(bounds[0])…\(bounds[1]) outside its \(pairCount) pairs: the file was altered")
            }
            let row = try file.read(UInt32.self, count: bounds[1] - bounds[0], at: base + 8 * (count + 2) + 4 * bounds[0])
            guard row.allSatisfy({ Int(UInt32(littleEndian: $0)) < count }) else {
                throw FileError(.unreadable, "row \(i) of the neighbourhood structure in \(file.name) names images beyond its \(count): the file was altered")
            }
            return row.map { Int32(bitPattern: UInt32(littleEndian: $0)) }[...]
        }
    }

    /// Whether `i` and `j` are similar (S = +1).
    /// - Throws: ``FileError`` when S is kept in a file that cannot be read.
    public func isSimilar(_ i: Int, _ j: Int) throws -> Bool {
        Self.contains(try similarItems(of: i), Int32(j))
    }

    /// Binary search of an ascending row.
    private static func contains(_ row: ArraySlice<Int32>, _ item: Int32) -> Bool {
        var low = row.startIndex, high = row.endIndex
        while low < high {
            let mid = (low + high) / 2
            if row[mid] < item { low = mid + 1 } else { high = mid }
        }
        return low < row.endIndex && row[low] == item
    }

    /// The similarity matrix of a batch (`batch.count²`, row-major) for the pairwise loss: +1
    /// for similar pairs and for an item with itself, `dissimilar` (the paper: −1) elsewhere.
    /// - Throws: ``FileError`` when S is kept in a file that cannot be read.
    public func batchMatrix(_ batch: [Int], dissimilar: Float = -1) throws -> [Float] {
        var matrix = [Float](repeating: dissimilar, count: batch.count * batch.count)
        for (a, i) in batch.enumerated() {
            let row = try similarItems(of: i)
            for (b, j) in batch.enumerated() where i == j || Self.contains(row, Int32(j)) { matrix[a * batch.count + b] = 1 }
        }
        return matrix
    }

    /// Similar pairs per image, on average.
    public var averageSimilar: Double { Double(pairCount) / Double(max(count, 1)) }
}

/// Where pass 1 puts the voted rows.
private protocol VotedRowSink {
    associatedtype Failure: Error
    /// Appends `row` sorted and without repeats (sorting it in place).
    mutating func append(sortedUnique row: inout [Int32]) throws(Failure)
}

/// Voted rows written to a temporary file as they come; their offsets stay in memory.
private struct ScratchRows: VotedRowSink {
    let file: PositionedFile
    var writer: BufferedInt32Writer
    var offsets: [Int] = [0]

    /// The image of the first row.
    let first: Int
    let valuesPerChunk: Int

    init(purpose: String, first: Int, valuesPerChunk: Int) throws {
        file = try PositionedFile(scratchFor: purpose)
        writer = BufferedInt32Writer(file: file, at: 0, valuesPerWrite: valuesPerChunk)
        self.first = first
        self.valuesPerChunk = valuesPerChunk
    }

    mutating func append(sortedUnique row: inout [Int32]) throws(any Error) {
        try appendSortedUnique(&row) { try writer.append($0) }
        offsets.append(writer.written)
    }

    /// The rows written, to be read.
    func finished() throws -> FileRows {
        var writer = writer
        try writer.flush()
        return FileRows(file: file, offsets: offsets, first: first, valuesPerRead: valuesPerChunk)
    }
}

/// Rows of `Int32` in a file, read a stretch at a time.
private struct FileRows {
    let file: PositionedFile
    /// Row `r` (0-based within this file) is values `offsets[r] ..< offsets[r+1]`.
    let offsets: [Int]
    /// The image of this file's first row.
    let first: Int
    /// Values read at once (the rows that fit; a longer row alone).
    let valuesPerRead: Int

    /// Calls `body` with every row whose image is in `images`, in order.
    func forEachRow(in images: Range<Int>? = nil, _ body: (Int, UnsafeBufferPointer<Int32>) throws -> Void) throws {
        let rows = offsets.count - 1
        var low = max(0, (images?.lowerBound ?? first) - first)
        let high = min(rows, (images?.upperBound ?? first + rows) - first)
        guard low < high else { return }
        var buffer = [Int32]()
        while low < high {
            var end = low + 1
            while end < high, offsets[end + 1] - offsets[low] <= valuesPerRead { end += 1 }
            let values = offsets[end] - offsets[low]
            if buffer.count < values { buffer = [Int32](repeating: 0, count: values) }
            try buffer.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(4 * values)]), at: 4 * offsets[low]) }
            try buffer.withUnsafeBufferPointer { stretch in
                for r in low..<end {
                    try body(first + r, UnsafeBufferPointer(rebasing: stretch[(offsets[r] - offsets[low])..<(offsets[r + 1] - offsets[low])]))
                }
            }
            low = end
        }
    }
}

/// `Int32` values appended to a file at consecutive positions from a start, a megabyte at a time.
private struct BufferedInt32Writer {
    let file: PositionedFile
    let start: Int
    let valuesPerWrite: Int
    /// Values appended so far (written or buffered).
    private(set) var written = 0
    private var buffer: [Int32] = []

    init(file: PositionedFile, at start: Int, valuesPerWrite: Int) {
        self.file = file
        self.start = start
        self.valuesPerWrite = max(1, valuesPerWrite)
        buffer.reserveCapacity(self.valuesPerWrite)
    }

    mutating func append(_ value: Int32) throws {
        buffer.append(Int32(littleEndian: value))
        written += 1
        if buffer.count == valuesPerWrite { try flush() }
    }

    mutating func flush() throws {
        let first = written - buffer.count
        try buffer.withUnsafeBytes { try file.write($0, at: start + 4 * first) }
        buffer.removeAll(keepingCapacity: true)
    }
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
private struct CompressedRows: Sendable, VotedRowSink {
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
    mutating func append(sortedUnique row: inout [Int32]) throws(Never) {
        appendSortedUnique(&row) { values.append($0) }
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

/// Sorts `row` in place and hands `emit` its items in order, each once.
private func appendSortedUnique<Failure: Error>(_ row: inout [Int32], _ emit: (Int32) throws(Failure) -> Void) throws(Failure) {
    row.sort()
    var previous: Int32 = -1
    for j in row where j != previous {
        try emit(j)
        previous = j
    }
}
