/// One direct-addressed multi-index table: bucket `v` (a substring value) holds the ids
/// `ids[offsets[v] ..< offsets[v + 1]]`, and, when the layout has fingerprints
/// (``SubstringLayout/fingerprintBits``), `fingerprints[k]` belongs to `ids[k]`. Built once, read
/// many times; pointers are borrowed.
public struct SegmentTable {
    public let offsets: UnsafePointer<UInt32>
    public let ids: UnsafePointer<UInt32>
    public let fingerprints: UnsafePointer<UInt32>?

    public init(offsets: UnsafePointer<UInt32>, ids: UnsafePointer<UInt32>, fingerprints: UnsafePointer<UInt32>? = nil) {
        self.offsets = offsets
        self.ids = ids
        self.fingerprints = fingerprints
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

    /// Fills one table without per-item inserts (``BucketSort``: a counting sort for a table of
    /// cache size, radix passes for larger ones).
    ///
    /// - Parameters:
    ///   - bucketBits: the table's substring length.
    ///   - itemIDs: the ids to index, in increasing order (buckets then list ids in order).
    ///   - values: each item's substring value for this table, in the order of `itemIDs`.
    ///   - offsets: `2^bucketBits + 1` entries, overwritten.
    ///   - ids: `itemIDs.count` entries, overwritten.
    ///   - itemFingerprints: each item's fingerprint for this table, in the order of `itemIDs`,
    ///     placed into `fingerprints` beside its id; both nil for a table without fingerprints.
    public static func buildTable(bucketBits: Int, itemIDs: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<UInt32>,
                                  offsets: UnsafeMutableBufferPointer<UInt32>, ids: UnsafeMutableBufferPointer<UInt32>,
                                  itemFingerprints: UnsafeBufferPointer<UInt32>? = nil,
                                  fingerprints: UnsafeMutableBufferPointer<UInt32>? = nil) {
        precondition(offsets.count == (1 << bucketBits) + 1, "offsets of the wrong size")
        precondition(values.count == itemIDs.count && ids.count == itemIDs.count, "one value and one slot per item")
        precondition((itemFingerprints == nil) == (fingerprints == nil)
                     && (itemFingerprints.map { $0.count == itemIDs.count && fingerprints!.count == itemIDs.count } ?? true),
                     "one fingerprint and one fingerprint slot per item, or none")
        BucketSort.place(bucketBits: bucketBits, count: values.count, fill: { entries in
            for index in entries.indices {
                entries[index] = BucketSort.Entry(value: values[index], id: itemIDs[index], fingerprint: itemFingerprints?[index] ?? 0)
            }
        }, offsets: offsets, ids: ids, fingerprints: fingerprints)
    }

    /// Builds every table of a segment over the live ids below `limit` in `chunks`, handing each
    /// finished table's offsets, ids and fingerprints (nil when the layout has none) to `emit`
    /// (then reusing the buffers). The chunks are read
    /// before the first `emit`, so `emit` may invalidate them.
    public static func build(layout: SubstringLayout, chunks: CodeChunks, below limit: UInt32,
                             emit: (_ table: Int, _ offsets: UnsafeBufferPointer<UInt32>, _ ids: UnsafeBufferPointer<UInt32>,
                                    _ fingerprints: UnsafeBufferPointer<UInt32>?) throws -> Void) rethrows {
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
                             emit: (_ table: Int, _ offsets: UnsafeBufferPointer<UInt32>, _ ids: UnsafeBufferPointer<UInt32>,
                                    _ fingerprints: UnsafeBufferPointer<UInt32>?) throws -> Void) rethrows {
        try itemIDs.withUnsafeBufferPointer { itemIDs in
            for table in 0..<layout.count {
                let built = builtTable(table, layout: layout, itemIDs: itemIDs, code: code)
                try built.offsets.withUnsafeBufferPointer { offsets in
                    try built.ids.withUnsafeBufferPointer { ids in
                        if let fingerprints = built.fingerprints {
                            try fingerprints.withUnsafeBufferPointer { try emit(table, offsets, ids, $0) }
                        } else {
                            try emit(table, offsets, ids, nil)
                        }
                    }
                }
            }
        }
    }

    /// Builds table `table` alone over `itemIDs` (increasing), the code of the i-th at `code(i)`,
    /// into arrays of its own: tables are independent, so a builder may run several at once.
    public static func builtTable(_ table: Int, layout: SubstringLayout, itemIDs: UnsafeBufferPointer<UInt32>,
                                  code: (Int) -> UnsafePointer<UInt64>) -> (offsets: [UInt32], ids: [UInt32], fingerprints: [UInt32]?) {
        let count = itemIDs.count
        let withFingerprints = layout.fingerprintBits > 0
        var fingerprints: [UInt32]? = withFingerprints ? [UInt32](repeating: 0, count: count) : nil
        var ids: [UInt32] = []
        let offsets = [UInt32](unsafeUninitializedCapacity: offsetCount(layout: layout, table: table)) { offsetBuffer, offsetsDone in
            ids = [UInt32](unsafeUninitializedCapacity: count) { idBuffer, idsDone in
                // Straight from the codes to the sort's entries, without value and fingerprint arrays.
                func place(_ fingerprintBuffer: UnsafeMutableBufferPointer<UInt32>?) {
                    BucketSort.place(bucketBits: layout.lengths[table], count: count, fill: { entries in
                        for index in 0..<count {
                            let words = code(index)
                            entries[index] = BucketSort.Entry(value: layout.value(of: words, table: table), id: itemIDs[index],
                                                              fingerprint: withFingerprints ? layout.fingerprint(of: words, table: table) : 0)
                        }
                    }, offsets: offsetBuffer, ids: idBuffer, fingerprints: fingerprintBuffer)
                }
                if fingerprints != nil { fingerprints!.withUnsafeMutableBufferPointer { place($0) } } else { place(nil) }
                idsDone = count
            }
            offsetsDone = offsetBuffer.count
        }
        return (offsets, ids, fingerprints)
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
