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

    /// Number of `UInt32` offsets of table `table`: one per bucket, plus the end.
    public static func offsetCount(layout: SubstringLayout, table: Int) -> Int {
        (1 << layout.lengths[table]) + 1
    }

    /// Fills one table by counting sort, without per-item inserts: one pass counts bucket sizes,
    /// a prefix sum turns them into offsets, a second pass places the ids.
    ///
    /// - Parameters:
    ///   - offsets: ``offsetCount(layout:table:)`` entries, overwritten.
    ///   - ids: exactly as many entries as `forEachItem` yields items, overwritten.
    ///   - forEachItem: calls its argument with every (id, code) to index, the same each time
    ///     (it is called twice), in increasing id order so buckets list ids in order.
    public static func buildTable(
        layout: SubstringLayout, table: Int,
        offsets: UnsafeMutableBufferPointer<UInt32>, ids: UnsafeMutableBufferPointer<UInt32>,
        forEachItem: ((UInt32, UnsafePointer<UInt64>) -> Void) -> Void
    ) {
        precondition(offsets.count == offsetCount(layout: layout, table: table), "offsets of the wrong size")
        offsets.update(repeating: 0)
        forEachItem { _, code in
            offsets[Int(layout.value(of: code, table: table)) + 1] &+= 1
        }
        for bucket in 1..<offsets.count { offsets[bucket] &+= offsets[bucket - 1] }
        precondition(Int(offsets[offsets.count - 1]) == ids.count, "forEachItem yielded \(offsets[offsets.count - 1]) items, ids hold \(ids.count)")
        // Place ids, using offsets[v] as bucket v's cursor: afterwards offsets[v] is the end of v,
        // i.e. the start of v + 1; shifting by one restores the starts.
        forEachItem { id, code in
            let bucket = Int(layout.value(of: code, table: table))
            ids[Int(offsets[bucket])] = id
            offsets[bucket] &+= 1
        }
        for bucket in stride(from: offsets.count - 1, to: 0, by: -1) { offsets[bucket] = offsets[bucket - 1] }
        offsets[0] = 0
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
