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

    /// Memory the set-up of a training run beyond ``NearestNeighborLists/exactLimit`` images
    /// holds at a time for each of its steps — the lists' search (``NeighborListFile``), S's
    /// reverse lists and symmetric rows, the spectral embedding's vectors — besides a few bytes
    /// an image: what keeps the set-up's memory flat in the number of images.
    public static let trainingWorkingBytes = 64 << 20

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
        // Lists in memory cannot fail to be read.
        let forward = CompressedRows(concatenating: try! Self.votedRows(MemoryVotingInput(lists: lists, reverse: ReverseLists(lists)), k2: k2) { _ in CompressedRows() })
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
        try self.init(voting: MemoryVotingInput(lists: lists, reverse: ReverseLists(lists)), k2: k2, scratchWorkingBytes: scratchWorkingBytes,
                      valuesPerChunk: valuesPerChunk)
    }

    /// The same S from lists kept in a file, built in a temporary file without holding the lists
    /// or who lists whom: the reverse lists are written to a file of their own (a range of images
    /// at a time, as the symmetric rows are), and each image's vote reads the lists it needs
    /// with a `pread` each. Memory holds about `scratchWorkingBytes` of rows besides 12 bytes an
    /// image (each image's incoming pairs and its voted row's offset): 12 MB at a million images
    /// where the lists and who lists whom took 170 MB.
    /// - Throws: ``FileError`` when the files cannot be read or written (no room in `TMPDIR`).
    public init(neighbors lists: NeighborListFile, k2: Int, scratchWorkingBytes: Int) throws {
        try self.init(neighbors: lists, k2: k2, scratchWorkingBytes: scratchWorkingBytes, valuesPerChunk: 1 << 18)
    }

    init(neighbors lists: NeighborListFile, k2: Int, scratchWorkingBytes: Int, valuesPerChunk: Int) throws {
        let reverse = try CompressedRowFile(transposing: lists, count: lists.count, keepingSourceRows: false, droppingDiagonal: false,
                                            purpose: "the reverse neighbour lists", workingBytes: scratchWorkingBytes, valuesPerChunk: valuesPerChunk)
        try self.init(voting: FileVotingInput(lists: lists, reverse: reverse), k2: k2, scratchWorkingBytes: scratchWorkingBytes,
                      valuesPerChunk: valuesPerChunk)
    }

    /// Pass 1 into one temporary file per core, then pass 2 a range of images at a time
    /// (``CompressedRowFile/init(transposing:count:keepingSourceRows:droppingDiagonal:purpose:workingBytes:valuesPerChunk:)``).
    private init(voting input: some VotingInput, k2: Int, scratchWorkingBytes: Int, valuesPerChunk: Int) throws {
        let parts = try Self.votedRows(input, k2: k2) { first in
            try ScratchRows(purpose: "the neighbourhood structure's voted rows", first: first, valuesPerChunk: valuesPerChunk)
        }.map { try $0.finished() }
        let rows = try CompressedRowFile(transposing: ConsecutiveRowFiles(parts: parts), count: input.count, keepingSourceRows: true,
                                         droppingDiagonal: false, purpose: "the neighbourhood structure", workingBytes: scratchWorkingBytes,
                                         valuesPerChunk: valuesPerChunk)
        self.init(count: input.count, pairCount: rows.valueCount, file: rows.file, base: rows.base)
    }

    /// Pass 1, on every core at once: F(i) = ∪ N(v) over i's `k2` voters v (the images whose
    /// lists share the most with N(i), ties to the lower index), sorted and without repeats,
    /// appended to one sink per core (`makeSink(task)`); the sinks in the images' order.
    /// Overlaps are counted by sorting the images that list N(i)'s members, not in an array of
    /// one counter per image.
    private static func votedRows<Sink: VotedRowSink>(_ input: some VotingInput, k2: Int,
                                                      makeSink: (_ firstImage: Int) throws -> Sink) throws -> [Sink] {
        let n = input.count
        let tasks = n >= 4_096 ? max(1, BLAS.threads) : 1
        return try parallelMap(tasks: tasks) { task throws -> Sink in
            var sink = try makeSink(n * task / tasks)
            var list: [Int32] = [], sharing: [Int32] = [], overlaps: [(count: Int32, image: Int32)] = [], row: [Int32] = []
            for i in (n * task / tasks)..<(n * (task + 1) / tasks) {
                // |N(i) ∩ N(j)| for every j sharing a neighbour with i: how often j is among those listing N(i)'s members.
                list.removeAll(keepingCapacity: true)
                try input.appendList(of: i, to: &list)
                sharing.removeAll(keepingCapacity: true)
                for m in list { try input.appendListing(of: Int(m), to: &sharing) }
                sharing.sort()
                overlaps.removeAll(keepingCapacity: true)
                var start = 0
                while start < sharing.count {
                    var end = start + 1
                    while end < sharing.count, sharing[end] == sharing[start] { end += 1 }
                    overlaps.append((Int32(end - start), sharing[start]))
                    start = end
                }
                overlaps.sort { $0.count != $1.count ? $0.count > $1.count : $0.image < $1.image }
                row.removeAll(keepingCapacity: true)
                for voter in overlaps.prefix(k2) { try input.appendList(of: Int(voter.image), to: &row) }
                try sink.append(sortedUnique: &row)
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
            return try CompressedRowFile(file: file, base: base, count: count, valueCount: pairCount).row(i)[...]
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
    /// Appends `row` sorted and without repeats (sorting it in place).
    mutating func append(sortedUnique row: inout [Int32]) throws
}

extension ScratchRows: VotedRowSink {}

/// What pass 1 reads: every image's list, and for every image who lists it.
private protocol VotingInput {
    var count: Int { get }
    /// Appends image `i`'s neighbour list to `values`.
    func appendList(of i: Int, to values: inout [Int32]) throws
    /// Appends the images whose lists hold `m`, ascending, to `values`.
    func appendListing(of m: Int, to values: inout [Int32]) throws
}

/// Lists and who lists whom, in memory.
private struct MemoryVotingInput: VotingInput {
    let lists: NearestNeighborLists
    let reverse: ReverseLists

    var count: Int { lists.count }
    func appendList(of i: Int, to values: inout [Int32]) { values += lists.of(i) }
    func appendListing(of m: Int, to values: inout [Int32]) { values += reverse.listing(m) }
}

/// Lists and who lists whom, each in a file, read a row at a time.
private struct FileVotingInput: VotingInput {
    let lists: NeighborListFile
    let reverse: CompressedRowFile

    var count: Int { lists.count }
    func appendList(of i: Int, to values: inout [Int32]) throws { values += try lists.of(i) }
    func appendListing(of m: Int, to values: inout [Int32]) throws { values += try reverse.row(m) }
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
    mutating func append(sortedUnique row: inout [Int32]) {
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
