import HammingSearch
import LMDBStorage

/// How the index is chosen for a rebuild.
public enum SubstringChoice: Sendable, Equatable {
    /// Keep what the store was told before (a fixed `m`, or the automatic rule).
    case unchanged
    /// Follow the log₂ N rule at this and every later rebuild.
    case automatic
    /// Use exactly `m` tables from now on.
    case fixed(Int)
}

extension Store {
    /// Rebuilds the multi-index over every live item in one transaction, so that searches stop
    /// scanning items added or changed since the last build. With `.fixed(m)` or `.automatic`
    /// the choice is remembered for later rebuilds (`bgan-db reindex --substrings`).
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func rebuildIndex(substrings choice: SubstringChoice = .unchanged) throws {
        if case .fixed(let m) = choice { _ = try SubstringLayout(bitCount: bitCount, substrings: m) }
        try writing { txn in
            var meta = try readMeta(txn)
            switch choice {
            case .unchanged: break
            case .automatic: meta.requestedSubstrings = 0
            case .fixed(let m): meta.requestedSubstrings = m
            }
            try rebuildIndex(&meta, substrings: nil, txn)
            try meta.write(txn, table: tables.meta)
        }
        observation.rebuiltIndex(inside: "Store.rebuildIndex()")
    }

    /// The number of tables a rebuild would use now.
    func substringsForRebuild(_ meta: StoreMeta) -> Int {
        meta.requestedSubstrings > 0
            ? meta.requestedSubstrings
            : SubstringLayout.recommendedSubstrings(bitCount: meta.bitCount, itemCount: meta.liveCount)
    }

    /// Whether enough items escape the index that rebuilding it pays.
    func needsRebuild(_ meta: StoreMeta) -> Bool {
        let unindexed = Int(meta.idLimit - meta.segmentEnd) + meta.staleEntries
        let threshold = max(options.rebuildMinimum, Int(Double(meta.liveCount) * options.rebuildFraction))
        return unindexed > threshold
    }

    /// Rebuilds the segment inside `txn` by counting sort over the code chunks, without a
    /// B-tree insert per item: each table is two large values written once.
    func rebuildIndex(_ meta: inout StoreMeta, substrings: Int?, _ txn: borrowing Transaction) throws {
        let layout = try SubstringLayout(bitCount: meta.bitCount, substrings: substrings ?? substringsForRebuild(meta))
        // The snapshot reads the counters from the transaction: bring them up to date first.
        try meta.write(txn, table: tables.meta)
        let snapshot = try StoreSnapshot(reading: txn, tables: tables, path: path, includingIndex: false)
        let chunks = try snapshot.withoutIndex().indexSnapshot().chunks
        let limit = meta.idLimit
        var live = 0
        chunks.forEachLive(below: limit) { _, _ in live += 1 }
        guard live == meta.liveCount else {
            throw StoreError(.corrupted, "the code chunks mark \(live) items live but the store counts \(meta.liveCount); verify the store (`Store.verify()`)")
        }
        try txn.clear(tables.segment)
        try txn.clear(tables.moved)
        try CompactSegment.build(layout: layout, chunks: chunks, below: limit) { table, offsets, ids, fingerprints in
            try txn.put(tables.segment, key: StoreSchema.offsetsKey(table), value: UnsafeRawBufferPointer(offsets))
            try txn.put(tables.segment, key: StoreSchema.idsKey(table), value: UnsafeRawBufferPointer(ids))
            if let fingerprints {
                try txn.put(tables.segment, key: StoreSchema.fingerprintsKey(table), value: UnsafeRawBufferPointer(fingerprints))
            }
        }
        meta.segmentSubstrings = layout.count
        meta.segmentItems = live
        meta.segmentEnd = limit
        meta.staleEntries = 0
    }
}
