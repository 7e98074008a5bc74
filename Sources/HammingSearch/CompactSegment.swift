/// One direct-addressed multi-index table: bucket `v` (a substring value) holds the ids
/// `ids[offsets[v] ..< offsets[v + 1]]`. Built once, read many times; pointers are borrowed.
public struct SegmentTable {
    public let offsets: UnsafePointer<UInt32>
    public let ids: UnsafePointer<UInt32>

    public init(offsets: UnsafePointer<UInt32>, ids: UnsafePointer<UInt32>) {
        self.offsets = offsets
        self.ids = ids
    }

    /// The ids whose substring equals `value`.
    public func bucket(_ value: UInt32) -> UnsafeBufferPointer<UInt32> {
        let start = Int(offsets[Int(value)])
        let end = Int(offsets[Int(value) + 1])
        return UnsafeBufferPointer(start: ids + start, count: end - start)
    }
}

/// The compacted part of a multi-index: one ``SegmentTable`` per substring, indexing every item
/// that was live, with the code it had, when the segment was built. Ids from ``endID`` on are
/// newer and not in it; items changed since are listed apart (see ``IndexSnapshot``).
public struct CompactSegment {
    public let layout: SubstringLayout
    public let tables: [SegmentTable]
    /// Items indexed (entries per table).
    public let itemCount: Int
    /// First id not covered by the segment.
    public let endID: UInt32

    public init(layout: SubstringLayout, tables: [SegmentTable], itemCount: Int, endID: UInt32) {
        precondition(tables.count == layout.count, "one table per substring")
        self.layout = layout
        self.tables = tables
        self.itemCount = itemCount
        self.endID = endID
    }

    /// The first position whose offset is below the one before it, or nil when the offsets never
    /// fall (a well-formed table; a damaged one would make buckets read outside the ids).
    public static func firstDecreasingOffset(_ offsets: UnsafeBufferPointer<UInt32>) -> Int? {
        guard offsets.count > 1 else { return nil }
        var falls: UInt32 = 0
        for i in 1..<offsets.count { falls |= offsets[i] < offsets[i - 1] ? 1 : 0 }
        guard falls != 0 else { return nil }
        return (1..<offsets.count).first { offsets[$0] < offsets[$0 - 1] }
    }

    /// Number of `UInt32` offsets of table `table`: one per bucket, plus the end.
    public static func offsetCount(layout: SubstringLayout, table: Int) -> Int {
        (1 << layout.lengths[table]) + 1
    }

    /// Fills one table by counting sort, without per-item inserts: one pass counts bucket sizes,
    /// a prefix sum turns them into offsets, a second pass places the ids.
    ///
    /// - Parameters:
    ///   - bucketBits: the table's substring length.
    ///   - itemIDs: the ids to index, in increasing order (buckets then list ids in order).
    ///   - values: each item's substring value for this table, in the order of `itemIDs`.
    ///   - offsets: `2^bucketBits + 1` entries, overwritten.
    ///   - ids: `itemIDs.count` entries, overwritten.
    public static func buildTable(bucketBits: Int, itemIDs: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<UInt32>,
                                  offsets: UnsafeMutableBufferPointer<UInt32>, ids: UnsafeMutableBufferPointer<UInt32>) {
        precondition(offsets.count == (1 << bucketBits) + 1, "offsets of the wrong size")
        precondition(values.count == itemIDs.count && ids.count == itemIDs.count, "one value and one slot per item")
        offsets.update(repeating: 0)
        for value in values { offsets[Int(value) + 1] &+= 1 }
        for bucket in 1..<offsets.count { offsets[bucket] &+= offsets[bucket - 1] }
        // Place ids, using offsets[v] as bucket v's cursor: afterwards offsets[v] is the end of v,
        // i.e. the start of v + 1; shifting by one restores the starts.
        for (index, value) in values.enumerated() {
            let bucket = Int(value)
            ids[Int(offsets[bucket])] = itemIDs[index]
            offsets[bucket] &+= 1
        }
        for bucket in stride(from: offsets.count - 1, to: 0, by: -1) { offsets[bucket] = offsets[bucket - 1] }
        offsets[0] = 0
    }

    /// Builds every table of a segment over the live ids below `limit` in `chunks`, handing each
    /// finished table's offsets and ids to `emit` (then reusing the buffers). The chunks are read
    /// before the first `emit`, so `emit` may invalidate them.
    public static func build(layout: SubstringLayout, chunks: CodeChunks, below limit: UInt32,
                             emit: (_ table: Int, _ offsets: UnsafeBufferPointer<UInt32>, _ ids: UnsafeBufferPointer<UInt32>) throws -> Void) rethrows {
        // Copy the codes first: `emit` may write, and a write may move or free the pages the
        // chunks point into (an LMDB write transaction spilling its dirty pages).
        let words = chunks.layout.words
        var itemIDs: [UInt32] = []
        var codes: [UInt64] = []
        chunks.forEachLive(below: limit) { id, code in
            itemIDs.append(id)
            codes.append(contentsOf: UnsafeBufferPointer(start: code, count: words))
        }
        try codes.withUnsafeBufferPointer { codes in
            try build(layout: layout, itemIDs: itemIDs, code: { codes.baseAddress! + $0 * words }, emit: emit)
        }
    }

    /// Builds every table over `itemIDs` (increasing), the code of the i-th at `code(i)`.
    public static func build(layout: SubstringLayout, itemIDs: [UInt32], code: (Int) -> UnsafePointer<UInt64>,
                             emit: (_ table: Int, _ offsets: UnsafeBufferPointer<UInt32>, _ ids: UnsafeBufferPointer<UInt32>) throws -> Void) rethrows {
        let count = itemIDs.count
        let values = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(count, 1))
        let ids = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(count, 1))
        defer {
            values.deallocate()
            ids.deallocate()
        }
        for table in 0..<layout.count {
            for index in 0..<count { values[index] = layout.value(of: code(index), table: table) }
            let offsets = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: offsetCount(layout: layout, table: table))
            defer { offsets.deallocate() }
            try itemIDs.withUnsafeBufferPointer { itemIDs in
                buildTable(bucketBits: layout.lengths[table], itemIDs: itemIDs,
                           values: UnsafeBufferPointer(rebasing: values[..<count]), offsets: offsets,
                           ids: UnsafeMutableBufferPointer(rebasing: ids[..<count]))
                try emit(table, UnsafeBufferPointer(offsets), UnsafeBufferPointer(rebasing: ids[..<count]))
            }
        }
    }
}

/// Everything a search reads, as borrowed pointers valid for one consistent state of the index.
public struct IndexSnapshot {
    public let bitCount: Int
    public let chunks: CodeChunks
    /// Ids are below this.
    public let idLimit: UInt32
    /// Live items.
    public let liveCount: Int
    /// The compacted multi-index, if one was built.
    public let segment: CompactSegment?
    /// Ids below the segment's end whose code changed after it was built (so its buckets do not
    /// list them under their current code). They are verified directly.
    public let movedIDs: [UInt32]

    public init(bitCount: Int, chunks: CodeChunks, idLimit: UInt32, liveCount: Int,
                segment: CompactSegment?, movedIDs: [UInt32]) {
        self.bitCount = bitCount
        self.chunks = chunks
        self.idLimit = idLimit
        self.liveCount = liveCount
        self.segment = segment
        self.movedIDs = movedIDs
    }

    /// First id not covered by the segment: ids from here to ``idLimit`` are scanned.
    public var tailStart: UInt32 { min(segment?.endID ?? 0, idLimit) }
}
