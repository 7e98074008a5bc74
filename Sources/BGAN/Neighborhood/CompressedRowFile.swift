import Basics

/// Rows of item numbers, one row per item, that a pass reads in the items' order.
protocol RowSource {
    /// Calls `body` with every row whose item is in `items` (every row when nil), in the items'
    /// order: each item of the range has exactly one row.
    func forEachRow(in items: Range<Int>?, _ body: (_ item: Int, _ row: UnsafeBufferPointer<Int32>) throws -> Void) throws
}

/// Rows of item numbers kept in a file as compressed sparse rows: at `base`, the row count
/// (`UInt64`), `count + 1` row offsets (`UInt64`), then the values (`UInt32`), little-endian —
/// the layout of S in a checkpoint (``CheckpointCodec``), so a structure built in a file is copied
/// into a checkpoint as it lies. A row is read with two `pread`s; a pass reads a stretch of rows
/// at a time.
struct CompressedRowFile: Sendable, RowSource {
    let file: PositionedFile
    let base: Int
    let count: Int
    /// Values in all rows together.
    let valueCount: Int
    /// Rows whose offsets a pass reads at once.
    var rowsPerRead = 1 << 16
    /// Values a pass reads at once (the rows that fit; a longer row alone).
    var valuesPerRead = 1 << 18

    init(file: PositionedFile, base: Int, count: Int, valueCount: Int) {
        self.file = file
        self.base = base
        self.count = count
        self.valueCount = valueCount
    }

    private var valuesBase: Int { base + 8 * (count + 2) }

    /// Row `i`'s values.
    /// - Throws: ``FileError`` when the file cannot be read, or holds offsets or values that do
    ///   not fit its count (it was altered).
    func row(_ i: Int) throws -> [Int32] {
        let bounds = try file.read(UInt64.self, count: 2, at: base + 8 * (i + 1)).map { Int(truncatingIfNeeded: UInt64(littleEndian: $0)) }
        try check(bounds[0], bounds[1], row: i)
        let row = try file.read(UInt32.self, count: bounds[1] - bounds[0], at: valuesBase + 4 * bounds[0])
        return try row.map { try item($0, row: i) }
    }

    func forEachRow(in items: Range<Int>? = nil, _ body: (Int, UnsafeBufferPointer<Int32>) throws -> Void) throws {
        let items = items ?? 0..<count
        precondition(items.lowerBound >= 0 && items.upperBound <= count, "rows \(items) of \(count)")
        var values = [Int32]()
        for first in stride(from: items.lowerBound, to: items.upperBound, by: max(1, rowsPerRead)) {
            let rows = min(max(1, rowsPerRead), items.upperBound - first)
            let offsets = try file.read(UInt64.self, count: rows + 1, at: base + 8 * (first + 1)).map { Int(truncatingIfNeeded: UInt64(littleEndian: $0)) }
            var low = 0
            while low < rows {
                var end = low + 1
                while end < rows, offsets[end + 1] - offsets[low] <= valuesPerRead { end += 1 }
                try check(offsets[low], offsets[end], row: first + low)
                let stretch = offsets[end] - offsets[low]
                if values.count < stretch { values = [Int32](repeating: 0, count: stretch) }
                try values.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(4 * stretch)]), at: valuesBase + 4 * offsets[low]) }
                for index in 0..<stretch { values[index] = try item(UInt32(bitPattern: values[index]), row: first + low) }
                try values.withUnsafeBufferPointer { read in
                    for r in low..<end {
                        try check(offsets[r], offsets[r + 1], row: first + r)
                        try body(first + r, UnsafeBufferPointer(rebasing: read[(offsets[r] - offsets[low])..<(offsets[r + 1] - offsets[low])]))
                    }
                }
                low = end
            }
        }
    }

    private func check(_ start: Int, _ end: Int, row: Int) throws {
        guard start >= 0, start <= end, end <= valueCount else {
            throw FileError(.unreadable, "row \(row) of the rows in \(file.name) has offsets \(start)…\(end) outside its \(valueCount) values: the file was altered")
        }
    }

    private func item(_ stored: UInt32, row: Int) throws -> Int32 {
        let value = UInt32(littleEndian: stored)
        guard Int(value) < count else {
            throw FileError(.unreadable, "row \(row) of the rows in \(file.name) names item \(value), beyond its \(count): the file was altered")
        }
        return Int32(bitPattern: value)
    }

    /// Writes into a new temporary file the rows T(j) = {i : j ∈ R(i)} of `source`'s rows R —
    /// joined with R(j) itself when `keepingSourceRows` (the relation made symmetric), and
    /// without j itself when `droppingDiagonal` — each ascending without repeats, for `count` items.
    ///
    /// Holds about `workingBytes` in memory — a range's incoming pairs (4 bytes each) and its
    /// row starts and offsets (24 bytes an item) — besides 4 bytes an item (how many pairs point
    /// at each): the rows are made a range of items at a time, the range that fits, by one pass
    /// over `source` per range.
    /// - Throws: ``FileError`` when the file cannot be written (no room in `TMPDIR`), or what
    ///   reading `source` throws.
    init(transposing source: some RowSource, count n: Int, keepingSourceRows: Bool, droppingDiagonal: Bool, purpose: String,
         workingBytes: Int, valuesPerChunk: Int = 1 << 18) throws {
        func kept(_ j: Int32, of i: Int) -> Bool { !droppingDiagonal || Int(j) != i }
        var incoming = [Int32](repeating: 0, count: n)
        try source.forEachRow(in: nil) { i, row in for j in row where kept(j, of: i) { incoming[Int(j)] += 1 } }
        let file = try PositionedFile(scratchFor: purpose)
        let header = [UInt64(n).littleEndian, 0]
        try header.withUnsafeBytes { try file.write($0, at: 0) }
        var output = BufferedInt32Writer(file: file, at: 8 * (n + 2), valuesPerWrite: valuesPerChunk)
        var start = 0, row: [Int32] = []
        while start < n {
            // The range [start, end): as many items as their incoming pairs and row bookkeeping fit (one at least).
            var end = start, pairs = 0
            while end < n, end == start || 4 * (pairs + Int(incoming[end])) + 24 * (end + 1 - start) <= workingBytes {
                pairs += Int(incoming[end])
                end += 1
            }
            var cursor = [Int](repeating: 0, count: end - start + 1)
            for j in start..<end { cursor[j - start + 1] = cursor[j - start] + Int(incoming[j]) }
            let rowStarts = cursor
            var backward = [Int32](repeating: 0, count: pairs)
            try source.forEachRow(in: nil) { i, row in
                for j in row where Int(j) >= start && Int(j) < end && kept(j, of: i) {
                    backward[cursor[Int(j) - start]] = Int32(i)
                    cursor[Int(j) - start] += 1
                }
            }
            var offsets: [UInt64] = []
            offsets.reserveCapacity(end - start)
            func emit(_ j: Int, _ forward: UnsafeBufferPointer<Int32>?) throws {
                row.removeAll(keepingCapacity: true)
                if let forward { for value in forward where kept(value, of: j) { row.append(value) } }
                row += backward[rowStarts[j - start]..<rowStarts[j - start + 1]]
                try appendSortedUnique(&row) { try output.append($0) }
                offsets.append(UInt64(output.written).littleEndian)
            }
            if keepingSourceRows {
                try source.forEachRow(in: start..<end) { j, forward in try emit(j, forward) }
            } else {
                for j in start..<end { try emit(j, nil) }
            }
            // offsets[j] sits at byte 8 + 8·j: this range's are offsets[start + 1 ... end].
            try offsets.withUnsafeBytes { try file.write($0, at: 8 * (start + 2)) }
            start = end
        }
        try output.flush()
        self.init(file: file, base: 0, count: n, valueCount: output.written)
    }
}

/// Rows written to a temporary file as they come, in the items' order from `first`; their
/// offsets stay in memory.
struct ScratchRows {
    let file: PositionedFile
    var writer: BufferedInt32Writer
    var offsets: [Int] = [0]

    /// The item of the first row.
    let first: Int
    let valuesPerChunk: Int

    init(purpose: String, first: Int, valuesPerChunk: Int) throws {
        file = try PositionedFile(scratchFor: purpose)
        writer = BufferedInt32Writer(file: file, at: 0, valuesPerWrite: valuesPerChunk)
        self.first = first
        self.valuesPerChunk = valuesPerChunk
    }

    /// Appends `row` sorted and without repeats (sorting it in place).
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
struct FileRows {
    let file: PositionedFile
    /// Row `r` (0-based within this file) is values `offsets[r] ..< offsets[r+1]`.
    let offsets: [Int]
    /// The item of this file's first row.
    let first: Int
    /// Values read at once (the rows that fit; a longer row alone).
    let valuesPerRead: Int

    /// Calls `body` with every row whose item is in `items`, in order.
    func forEachRow(in items: Range<Int>? = nil, _ body: (Int, UnsafeBufferPointer<Int32>) throws -> Void) throws {
        let rows = offsets.count - 1
        var low = max(0, (items?.lowerBound ?? first) - first)
        let high = min(rows, (items?.upperBound ?? first + rows) - first)
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

/// The rows of several ``FileRows`` that cover consecutive items, as one source.
struct ConsecutiveRowFiles: RowSource {
    let parts: [FileRows]

    func forEachRow(in items: Range<Int>?, _ body: (Int, UnsafeBufferPointer<Int32>) throws -> Void) throws {
        for part in parts { try part.forEachRow(in: items, body) }
    }
}

/// `Int32` values appended to a file at consecutive positions from a start, a megabyte at a time.
struct BufferedInt32Writer {
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

/// Sorts `row` in place and hands `emit` its items in order, each once.
func appendSortedUnique<Failure: Error>(_ row: inout [Int32], _ emit: (Int32) throws(Failure) -> Void) throws(Failure) {
    row.sort()
    var previous: Int32 = -1
    for j in row where j != previous {
        try emit(j)
        previous = j
    }
}
