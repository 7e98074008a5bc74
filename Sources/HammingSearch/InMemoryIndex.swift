/// A multi-index over codes held in memory, with the same layout and search as the persistent
/// store: code chunks by id, a compacted segment, and a list of items changed since it was built.
///
/// It serves as the storage-agnostic reference for tests and benchmarks. Not thread-safe.
public final class InMemoryIndex {
    public let bitCount: Int
    public let chunkLayout: CodeChunkLayout
    public private(set) var layout: SubstringLayout
    public private(set) var idLimit: UInt32 = 0
    public private(set) var liveCount = 0

    private var chunks: [UnsafeMutableRawPointer] = []
    private var segmentOffsets: [UnsafeMutableBufferPointer<UInt32>] = []
    private var segmentIDs: [UnsafeMutableBufferPointer<UInt32>] = []
    /// One per table when the layout has fingerprints, else empty.
    private var segmentFingerprints: [UnsafeMutableBufferPointer<UInt32>] = []
    private var segmentItems = 0
    private var segmentEnd: UInt32 = 0
    private var hasSegment = false
    private var moved: Set<UInt32> = []

    /// An empty index of `bitCount`-bit codes, split into `substrings` tables.
    public init(bitCount: Int, substrings: Int) throws {
        self.bitCount = bitCount
        self.layout = try SubstringLayout(bitCount: bitCount, substrings: substrings)
        self.chunkLayout = CodeChunkLayout(bitCount: bitCount)
    }

    deinit {
        chunks.forEach { $0.deallocate() }
        releaseSegment()
    }

    /// Adds `code` under the next id and returns it. Not indexed until ``rebuild(substrings:)``;
    /// searches scan it meanwhile.
    @discardableResult
    public func append(_ code: BinaryCode) throws -> UInt32 {
        try checkLength(code)
        let id = idLimit
        let (chunk, _) = CodeChunkLayout.locate(id)
        if chunk == chunks.count {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: chunkLayout.chunkBytes, alignment: 64)
            memory.initializeMemory(as: UInt8.self, repeating: 0, count: chunkLayout.chunkBytes)
            chunks.append(memory)
        }
        idLimit += 1
        write(code, at: id)
        setLive(id, true)
        liveCount += 1
        return id
    }

    /// Replaces the code of a live `id`.
    public func update(_ id: UInt32, to code: BinaryCode) throws {
        try checkLength(code)
        precondition(isLive(id), "update of id \(id), which is not live")
        write(code, at: id)
        if hasSegment, id < segmentEnd { moved.insert(id) }
    }

    /// Removes a live `id`.
    public func remove(_ id: UInt32) {
        precondition(isLive(id), "removal of id \(id), which is not live")
        setLive(id, false)
        moved.remove(id)
        liveCount -= 1
    }

    /// Whether `id` holds a live item.
    public func isLive(_ id: UInt32) -> Bool {
        id < idLimit && chunkView().isLive(id)
    }

    /// The code stored under a live `id`.
    public func code(of id: UInt32) -> BinaryCode? {
        guard isLive(id), let words = chunkView().code(of: id) else { return nil }
        return try? BinaryCode(bitCount: bitCount, words: Array(UnsafeBufferPointer(start: words, count: chunkLayout.words)))
    }

    /// Builds the compacted segment over every live item (with `substrings` tables, if given).
    public func rebuild(substrings: Int? = nil) throws {
        if let substrings { layout = try SubstringLayout(bitCount: bitCount, substrings: substrings) }
        releaseSegment()
        func owned(_ values: UnsafeBufferPointer<UInt32>) -> UnsafeMutableBufferPointer<UInt32> {
            let copy = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(values.count, 1))
            _ = copy.initialize(from: values)
            return copy
        }
        CompactSegment.build(layout: layout, chunks: chunkView(), below: idLimit) { _, offsets, ids, fingerprints in
            segmentOffsets.append(owned(offsets))
            segmentIDs.append(owned(ids))
            if let fingerprints { segmentFingerprints.append(owned(fingerprints)) }
        }
        segmentItems = liveCount
        segmentEnd = idLimit
        hasSegment = true
        moved.removeAll()
    }

    /// A view for searching; valid until the next change to the index.
    public func snapshot() -> IndexSnapshot {
        let segment = hasSegment ? CompactSegment(
            layout: layout,
            tables: segmentOffsets.indices.map { table in
                SegmentTable(offsets: UnsafePointer(segmentOffsets[table].baseAddress!), ids: UnsafePointer(segmentIDs[table].baseAddress!),
                             fingerprints: segmentFingerprints.isEmpty ? nil : UnsafePointer(segmentFingerprints[table].baseAddress!))
            },
            itemCount: segmentItems, endID: segmentEnd) : nil
        return IndexSnapshot(bitCount: bitCount, chunks: chunkView(), idLimit: idLimit, liveCount: liveCount,
                             segment: segment, movedIDs: moved.sorted())
    }

    // MARK: Plumbing

    private func chunkView() -> CodeChunks {
        CodeChunks(layout: chunkLayout, pointers: chunks.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) })
    }

    private func checkLength(_ code: BinaryCode) throws {
        guard code.bitCount == bitCount else {
            throw HammingError(.lengthMismatch, "a \(code.bitCount)-bit code cannot go into an index of \(bitCount)-bit codes")
        }
    }

    private func write(_ code: BinaryCode, at id: UInt32) {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        let target = (chunks[chunk] + slot * chunkLayout.words * 8).assumingMemoryBound(to: UInt64.self)
        for (i, word) in code.words.enumerated() { target[i] = word }
    }

    private func setLive(_ id: UInt32, _ live: Bool) {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        let byte = (chunks[chunk] + chunkLayout.liveOffset + slot / 8).assumingMemoryBound(to: UInt8.self)
        if live { byte.pointee |= 1 << UInt8(slot & 7) } else { byte.pointee &= ~(1 << UInt8(slot & 7)) }
    }

    private func releaseSegment() {
        segmentOffsets.forEach { $0.deallocate() }
        segmentIDs.forEach { $0.deallocate() }
        segmentFingerprints.forEach { $0.deallocate() }
        segmentOffsets = []
        segmentIDs = []
        segmentFingerprints = []
        hasSegment = false
    }
}
