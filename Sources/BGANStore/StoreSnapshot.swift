import Foundation
import HammingSearch
import LMDBStorage

/// Pointers into one committed state of a store: its code chunks, segment tables and moved ids.
/// Valid while a transaction on that state is open and the map has not moved.
struct StoreSnapshot {
    let meta: StoreMeta
    let chunkPointers: [UnsafePointer<UInt8>?]
    let segmentTables: [SegmentTable]
    let movedIDs: [UInt32]

    func indexSnapshot() throws -> IndexSnapshot {
        let chunkLayout = CodeChunkLayout(bitCount: meta.bitCount)
        var segment: CompactSegment?
        if meta.segmentSubstrings > 0 {
            let layout = try SubstringLayout(bitCount: meta.bitCount, substrings: meta.segmentSubstrings)
            segment = CompactSegment(layout: layout, tables: segmentTables, itemCount: meta.segmentItems, endID: meta.segmentEnd)
        }
        return IndexSnapshot(bitCount: meta.bitCount, chunks: CodeChunks(layout: chunkLayout, pointers: chunkPointers),
                             idLimit: meta.idLimit, liveCount: meta.liveCount, segment: segment, movedIDs: movedIDs)
    }

    /// Reads the snapshot a transaction sees, checking every size against the meta record.
    /// With `includingIndex: false` the segment and moved ids are skipped (and not checked): what
    /// rebuilding or exporting needs, even when the index is damaged.
    init(reading txn: borrowing Transaction, tables: StoreSchema.Tables, path: String, includingIndex: Bool = true) throws {
        let meta = try StoreMeta(reading: txn, table: tables.meta, path: path)
        self.meta = meta
        self.chunkPointers = try Self.chunkPointers(txn, tables: tables, meta: meta)
        guard includingIndex else {
            segmentTables = []
            movedIDs = []
            return
        }
        (segmentTables, movedIDs) = try Self.index(txn, tables: tables, meta: meta)
    }

    /// Like `init(reading:)`, for a store whose index is not to be used: no segment.
    func withoutIndex() -> StoreSnapshot {
        var meta = self.meta
        meta.segmentSubstrings = 0
        meta.segmentItems = 0
        meta.segmentEnd = 0
        return StoreSnapshot(meta: meta, chunkPointers: chunkPointers, segmentTables: [], movedIDs: [])
    }

    private init(meta: StoreMeta, chunkPointers: [UnsafePointer<UInt8>?], segmentTables: [SegmentTable], movedIDs: [UInt32]) {
        self.meta = meta
        self.chunkPointers = chunkPointers
        self.segmentTables = segmentTables
        self.movedIDs = movedIDs
    }

    private static func chunkPointers(_ txn: borrowing Transaction, tables: StoreSchema.Tables, meta: StoreMeta) throws -> [UnsafePointer<UInt8>?] {
        let chunkLayout = CodeChunkLayout(bitCount: meta.bitCount)
        let chunkCount = (Int(meta.idLimit) + CodeChunkLayout.capacity - 1) / CodeChunkLayout.capacity
        var pointers = [UnsafePointer<UInt8>?](repeating: nil, count: chunkCount)
        try txn.withCursor(tables.codes) { cursor in
            var entry = try cursor.first()
            while let (key, value) = entry {
                guard key.count == 4 else { throw StoreError(.corrupted, "a code chunk has a \(key.count)-byte key") }
                let chunk = Int(key.loadUnaligned(as: UInt32.self))
                guard chunk < chunkCount else {
                    throw StoreError(.corrupted, "code chunk \(chunk) lies past the last id \(meta.idLimit); verify the store (`Store.verify()`)")
                }
                guard value.count == chunkLayout.chunkBytes else {
                    throw StoreError(.corrupted, "code chunk \(chunk) is \(value.count) bytes, not \(chunkLayout.chunkBytes)")
                }
                pointers[chunk] = value.baseAddress!.assumingMemoryBound(to: UInt8.self)
                entry = try cursor.next()
            }
        }
        return pointers
    }

    private static func index(_ txn: borrowing Transaction, tables: StoreSchema.Tables, meta: StoreMeta) throws -> ([SegmentTable], [UInt32]) {
        var segmentTables: [SegmentTable] = []
        if meta.segmentSubstrings > 0 {
            let layout = try SubstringLayout(bitCount: meta.bitCount, substrings: meta.segmentSubstrings)
            for table in 0..<layout.count {
                let offsetCount = CompactSegment.offsetCount(layout: layout, table: table)
                guard let offsets = try txn.get(tables.segment, key: StoreSchema.offsetsKey(table)),
                      offsets.count == offsetCount * 4,
                      let ids = try txn.get(tables.segment, key: StoreSchema.idsKey(table)),
                      ids.count == meta.segmentItems * 4 else {
                    throw StoreError(.corrupted, "multi-index table \(table) is missing or has the wrong size; rebuild the index (`Store.rebuildIndex()`)")
                }
                let offsetPointer = offsets.baseAddress!.assumingMemoryBound(to: UInt32.self)
                guard offsetPointer[offsetCount - 1] == UInt32(meta.segmentItems) else {
                    throw StoreError(.corrupted, "multi-index table \(table) ends at \(offsetPointer[offsetCount - 1]), not \(meta.segmentItems); rebuild the index (`Store.rebuildIndex()`)")
                }
                // Every bucket is read as ids[offsets[v] ..< offsets[v + 1]], in C too: offsets that
                // fall would read outside the table. Once per committed state (snapshots are cached).
                if let bucket = CompactSegment.firstDecreasingOffset(UnsafeBufferPointer(start: offsetPointer, count: offsetCount)) {
                    throw StoreError(.corrupted, "multi-index table \(table) has bucket offsets that fall at bucket \(bucket) (\(offsetPointer[bucket]) after \(offsetPointer[bucket - 1])); rebuild the index (`Store.rebuildIndex()`)")
                }
                // Fingerprints are optional (segments built before them, or codes over 64 bits).
                let fingerprints = try txn.get(tables.segment, key: StoreSchema.fingerprintsKey(table))
                if let fingerprints, fingerprints.count != meta.segmentItems * 4 || layout.fingerprintBits == 0 {
                    throw StoreError(.corrupted, "multi-index table \(table) has \(fingerprints.count) bytes of fingerprints for \(meta.segmentItems) items of a layout with \(layout.fingerprintBits)-bit fingerprints; rebuild the index (`Store.rebuildIndex()`)")
                }
                segmentTables.append(SegmentTable(offsets: offsetPointer,
                                                  ids: (ids.baseAddress ?? offsets.baseAddress!).assumingMemoryBound(to: UInt32.self),
                                                  fingerprints: fingerprints.map { ($0.baseAddress ?? offsets.baseAddress!).assumingMemoryBound(to: UInt32.self) }))
            }
        }
        var moved: [UInt32] = []
        try txn.withCursor(tables.moved) { cursor in
            var entry = try cursor.first()
            while let (key, _) = entry {
                moved.append(try StoreSchema.itemID(key, table: "moved"))
                entry = try cursor.next()
            }
        }
        return (segmentTables, moved)
    }
}

/// The last snapshot read, reused by queries on the same committed state: reading it costs a
/// walk over every chunk, which a query at 10⁷ items should not pay each time.
final class SnapshotCache: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: (transactionID: Int, mapGeneration: Int, snapshot: StoreSnapshot)?

    /// The snapshot of `txn`'s state: cached if the same transaction id and map are current.
    func snapshot(_ txn: borrowing Transaction, store: Store) throws -> StoreSnapshot {
        let id = txn.id
        let generation = store.environment.mapGeneration
        if let hit = lock.withLock({ cached }), hit.transactionID == id, hit.mapGeneration == generation {
            return hit.snapshot
        }
        let snapshot = try StoreSnapshot(reading: txn, tables: store.tables, path: store.path)
        lock.withLock {
            if (cached?.transactionID ?? -1) <= id { cached = (id, generation, snapshot) }
        }
        return snapshot
    }
}
