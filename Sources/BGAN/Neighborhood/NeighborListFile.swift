import Basics

/// Nearest-neighbour lists kept in a temporary file (``PositionedFile/init(scratchFor:)``) and
/// read a range of lists at a time: the lists of a million images (84 MB at 21 neighbours) that a
/// training run then does not hold. Row `i` is `width` item numbers (`Int32`, this machine's
/// byte order) from byte `4 · width · i`, nearest first; the first `k` of each row are the lists.
public struct NeighborListFile: Sendable, NeighborListReading {
    public let count: Int
    /// Neighbours per list.
    public let k: Int
    /// Item numbers stored per row (`k` or more: ``prefix(_:)`` shares the file).
    let width: Int
    let file: PositionedFile

    /// Lists read at once by ``forEachRange(listsPerRead:_:)`` unless told otherwise.
    public static let listsPerRead = 65_536

    /// The lists of `features` from an inverted file (as ``NearestNeighborLists/init(rows:k:invertedFile:)``,
    /// the same lists), made a range of items at a time and written here as they come: the
    /// search holds heaps, visitors and lists for as many items as `workingBytes` allows, besides
    /// 8 bytes an item (each item's cell and squared norm), the cells' centroids and their
    /// training sample. Each range reads every cell's members once more.
    /// - Throws: what reading the rows throws; ``FileError`` when `TMPDIR` has no room.
    public init(rows features: FeatureRows, k: Int, invertedFile: NearestNeighborLists.InvertedFile, workingBytes: Int) throws {
        let search = try InvertedFileSearch(features, k: k, invertedFile: invertedFile, probesInScratchFile: true)
        let file = try PositionedFile(scratchFor: "the neighbour lists")
        let n = features.count
        let itemsPerRange = max(1, workingBytes / InvertedFileSearch.bytesPerSearchingItem(k: search.k, probes: search.probes))
        for first in stride(from: 0, to: n, by: itemsPerRange) {
            let lists = try search.lists(of: first..<min(n, first + itemsPerRange))
            try lists.withUnsafeBytes { try file.write($0, at: 4 * first * search.k) }
        }
        self.init(count: n, k: search.k, width: search.k, file: file)
    }

    /// `lists` written into a new temporary file.
    /// - Throws: ``FileError`` when `TMPDIR` has no room.
    public init(_ lists: NearestNeighborLists) throws {
        let file = try PositionedFile(scratchFor: "the neighbour lists")
        if !lists.neighbors.isEmpty { try lists.neighbors.withUnsafeBytes { try file.write($0, at: 0) } }
        self.init(count: lists.count, k: lists.k, width: lists.k, file: file)
    }

    init(count: Int, k: Int, width: Int, file: PositionedFile) {
        self.count = count
        self.k = k
        self.width = width
        self.file = file
    }

    /// The first `k` of every list (as ``NearestNeighborLists/prefix(_:)``), read from the same file.
    public func prefix(_ k: Int) -> NeighborListFile {
        NeighborListFile(count: count, k: min(k, self.k), width: width, file: file)
    }

    /// The lists of `items`, `items.count × k`, list after list.
    /// - Throws: ``FileError`` when the file cannot be read.
    public func lists(of items: Range<Int>) throws -> [Int32] {
        precondition(items.lowerBound >= 0 && items.upperBound <= count, "lists \(items) of \(count)")
        let stored = try file.read(Int32.self, count: items.count * width, at: 4 * items.lowerBound * width)
        guard width != k else { return stored }
        var kept = [Int32]()
        kept.reserveCapacity(items.count * k)
        for row in 0..<items.count { kept += stored[(row * width)..<(row * width + k)] }
        return kept
    }

    /// The list of item `i`, nearest first.
    /// - Throws: ``FileError`` when the file cannot be read.
    public func of(_ i: Int) throws -> [Int32] { try lists(of: i..<(i + 1)) }

    public func list(of i: Int) throws -> [Int32] { try of(i) }

    /// Calls `body` with consecutive ranges of at most `listsPerRead` items of `items` (every
    /// item when nil) and their lists.
    /// - Throws: ``FileError`` when the file cannot be read, or what `body` throws.
    public func forEachRange(in items: Range<Int>? = nil, listsPerRead: Int = listsPerRead,
                             _ body: (_ items: Range<Int>, _ lists: [Int32]) throws -> Void) throws {
        let items = items ?? 0..<count, step = max(1, listsPerRead)
        for first in stride(from: items.lowerBound, to: items.upperBound, by: step) {
            let range = first..<min(items.upperBound, first + step)
            try body(range, try lists(of: range))
        }
    }

    /// Every list, read into memory.
    /// - Throws: ``FileError`` when the file cannot be read.
    public func inMemory() throws -> NearestNeighborLists {
        NearestNeighborLists(count: count, k: k, neighbors: try lists(of: 0..<count))
    }
}

extension NeighborListFile: RowSource {
    func forEachRow(in items: Range<Int>?, _ body: (Int, UnsafeBufferPointer<Int32>) throws -> Void) throws {
        try forEachRange(in: items) { range, lists in
            try lists.withUnsafeBufferPointer { lists in
                for i in range {
                    let row = i - range.lowerBound
                    try body(i, UnsafeBufferPointer(rebasing: lists[(row * k)..<((row + 1) * k)]))
                }
            }
        }
    }
}
