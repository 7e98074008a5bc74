import HammingSearch
import LMDBStorage

/// Size and shape of a store, for `bgan-db stats`.
public struct StoreStatistics: Sendable, Codable {
    public var path: String
    public var items: Int
    public var bits: Int
    /// Tables of the built index (0: none yet).
    public var substrings: Int
    /// Substring lengths of the built index.
    public var substringBits: [Int]
    /// `m` asked for; 0 = automatic (log₂ N rule).
    public var requestedSubstrings: Int
    /// Items the index covers, and items searched by scanning because they are newer or changed.
    public var indexedItems: Int
    public var unindexedItems: Int
    public var staleIndexEntries: Int
    /// Per table: buckets, non-empty buckets, largest bucket.
    public var tables: [TableOccupancy]
    /// Bytes of pages in use, and the size of the data file and the map.
    public var usedBytes: Int
    public var fileBytes: Int
    public var mapBytes: Int
    public var bytesPerItem: Double
    /// Bytes per named table.
    public var tableBytes: [String: Int]
    /// Stale reader slots cleared while gathering these figures.
    public var staleReadersCleared: Int
    /// Digest of the bound encoder model; nil for a store of bare codes or one bound to another encoder.
    public var modelDigest: String?
    /// The bound encoder (a model's identity holds its digest); nil for a store of bare codes.
    public var encoder: EncoderIdentity?
    /// Longest side of the thumbnails kept with images (0: none), and how many are kept.
    public var thumbnailSide: Int
    public var thumbnails: Int
    /// Items with a refinement vector (one byte per bit, or per value of the encoder's own
    /// refinement vector, ``ImageCodeEncoder/refinementWidth``; `Refinement`), which searches by
    /// image use to order their candidates.
    public var refinementVectors: Int
    /// Bytes of each refinement vector (the first one kept; one per bit, or per value of the
    /// encoder's own vector: 256 for the photo model's hidden layer); nil when none is kept.
    public var refinementVectorBytes: Int?
    /// The change log (`Store.enableChangeLog()`): nil when the store keeps none.
    public var changeLog: ChangeLogStatistics?

    /// Where a store's change log stands.
    public struct ChangeLogStatistics: Sendable, Codable, Equatable {
        /// The store's change cursor: the number of its last change.
        public var cursor: UInt64
        /// Changes up to this number are no longer in the log; older cursors need a full export.
        public var trimmedThrough: UInt64
        /// Entries the log holds.
        public var entries: Int
    }

    public struct TableOccupancy: Sendable, Codable {
        public var buckets: Int
        public var nonemptyBuckets: Int
        public var largestBucket: Int
    }
}

extension Store {
    /// Counts, sizes and index occupancy. Also clears reader slots of dead processes.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func statistics() throws -> StoreStatistics {
        // The reader table lives in the lock file: a read-only open may clear dead slots too.
        let cleared = try environment.clearStaleReaders()
        return try environment.read { txn in
            let snapshot = try StoreSnapshot(reading: txn, tables: tables, path: path)
            let meta = snapshot.meta
            let index = try snapshot.indexSnapshot()
            var occupancy: [StoreStatistics.TableOccupancy] = []
            if let segment = index.segment {
                for (table, segmentTable) in segment.tables.enumerated() {
                    let buckets = 1 << segment.layout.lengths[table]
                    var nonempty = 0, largest = 0
                    for value in 0..<buckets {
                        let size = Int(segmentTable.offsets[value + 1] - segmentTable.offsets[value])
                        if size > 0 { nonempty += 1 }
                        largest = max(largest, size)
                    }
                    occupancy.append(.init(buckets: buckets, nonemptyBuckets: nonempty, largestBucket: largest))
                }
            }
            var tableBytes: [String: Int] = [:]
            var used = 0
            for table in tables.all {
                let bytes = try txn.statistics(of: table).bytes
                tableBytes[table.name] = bytes
                used += bytes
            }
            let digest = try txn.get(tables.meta, key: StoreSchema.MetaKey.modelDigest).map { String(decoding: $0, as: UTF8.self) }
            return StoreStatistics(
                path: path, items: meta.liveCount, bits: meta.bitCount,
                substrings: meta.segmentSubstrings, substringBits: index.segment?.layout.lengths ?? [],
                requestedSubstrings: meta.requestedSubstrings,
                indexedItems: meta.segmentItems - (meta.staleEntries),
                unindexedItems: meta.liveCount - (meta.segmentItems - meta.staleEntries),
                staleIndexEntries: meta.staleEntries, tables: occupancy,
                usedBytes: used, fileBytes: try environment.fileSize(), mapBytes: environment.info().mapSize,
                bytesPerItem: meta.liveCount > 0 ? Double(used) / Double(meta.liveCount) : 0,
                tableBytes: tableBytes, staleReadersCleared: cleared,
                modelDigest: digest,
                encoder: try digest.map { EncoderIdentity(name: ModelEncoder.identityName, version: $0) }
                    ?? txn.get(tables.meta, key: StoreSchema.MetaKey.encoder).map { try Self.decodeIdentity(Array($0), path: path) },
                thumbnailSide: try thumbnailSide(txn),
                thumbnails: try tables.thumbnails.map { try txn.statistics(of: $0).entries } ?? 0,
                refinementVectors: try tables.refinements.map { try txn.statistics(of: $0).entries } ?? 0,
                refinementVectorBytes: try tables.refinements.flatMap { table in try txn.withCursor(table) { try $0.first()?.value.count } },
                changeLog: try meta.changeLog.map { log in
                    StoreStatistics.ChangeLogStatistics(cursor: log.last, trimmedThrough: log.trimmedThrough,
                                                        entries: try tables.changes.map { try txn.statistics(of: $0).entries } ?? 0)
                })
        }
    }

    /// Writes a consistent copy of the store into `destination` while it stays in use. With
    /// `compact`, free pages are left out.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func backup(to destination: String, compact: Bool = false) throws {
        try environment.backup(to: destination, compact: compact)
    }
}
