import LMDBStorage

/// The layout of a store in one place: its named tables, the keys of its `meta` table, and the
/// limits of its records. Versioned by ``formatVersion``; docs/on-disk-format.md mirrors it byte
/// by byte. The records' shapes have their own types: ``StoreMeta`` (the counters),
/// ``ItemRecord`` (`items`), ``ChunkEditor`` (the 4,096-id chunks of `codes`), ``StoreSnapshot``
/// and ``PrebuiltSegment`` (the multi-index in `segment`).
enum StoreSchema {
    /// Version of the on-disk layout this code writes for a store without row-keyed ids.
    static let formatVersion: UInt32 = 1
    /// Version written once a store has row-keyed ids (``MetaKey/rowKeys``): format 1 plus
    /// that record, so a build that knows only format 1 refuses the store instead of missing
    /// its implicit items.
    static let rowKeyedFormatVersion: UInt32 = 2
    /// Version written once a store keeps a change log (``MetaKey/changeLog``), with or
    /// without row-keyed ids: a build that knows only formats 1 and 2 would write without
    /// logging, so it must refuse the store.
    static let changeLogFormatVersion: UInt32 = 3
    /// Every version this code reads.
    static let readableFormatVersions: ClosedRange<UInt32> = 1...3

    /// The item id a key of an id-keyed table (items, moved, thumbnails, refinements) holds.
    /// - Throws: `StoreError` `.corrupted` when the key is not 4 bytes.
    static func itemID(_ key: UnsafeRawBufferPointer, table: String) throws -> UInt32 {
        guard let id = key.uint32Value else {
            throw StoreError(.corrupted, "the \(table) table holds a \(key.count)-byte key; item ids are 4 bytes. Verify the store (`Store.verify()`)")
        }
        return id
    }

    static let meta = TableSpec("meta")
    static let keys = TableSpec("keys")
    static let items = TableSpec("items", flags: .integerKey)
    static let codes = TableSpec("codes", flags: .integerKey)
    static let segment = TableSpec("segment", flags: .integerKey)
    static let moved = TableSpec("moved", flags: .integerKey)
    /// Item id → a small PNG of the item's image. Stores made before it existed lack it.
    static let thumbnails = TableSpec("thumbnails", flags: .integerKey, addedLater: true)

    /// Item id → the encoder's real-valued output for the item's image, one signed byte per bit
    /// (`Refinement.quantize(_:)`): what refined searches order candidates by. Only items
    /// inserted as images have one. Stores made before it existed lack it.
    static let refinements = TableSpec("refinements", flags: .integerKey, addedLater: true)

    /// Change number (`UInt64`, native order) → one change to the items (``ChangeLogEntry``).
    /// Written only in stores that keep a change log; stores made before it existed lack it.
    static let changes = TableSpec("changes", flags: .integerKey, addedLater: true)

    static let all = [meta, keys, items, codes, segment, moved, thumbnails, refinements, changes]

    /// Keys of the `meta` table.
    enum MetaKey {
        /// The counters of ``StoreMeta``, one little-endian `UInt64` each, in this order.
        static let counters = ["format", "bits", "substrings", "id-limit", "live", "segment-substrings",
                               "segment-items", "segment-end", "stale"]
        /// Optional `UInt64` (absent: 0): ids below it that have no `items` record are items
        /// whose key is the id in decimal and whose payload is empty — what a bulk import of
        /// unnamed rows into an empty store writes instead of one record and one key per row.
        /// Present exactly in format-2 stores.
        static let rowKeys = "row-keys"
        /// Optional `UInt64`: the number of the last change in the `changes` table (0 before
        /// the first). Present exactly in stores that keep a change log (format 3).
        static let changeLog = "change-log"
        /// Optional `UInt64` beside ``changeLog``: changes up to this number are no longer in
        /// the log (trimmed, or made before the log began); a sync from an older cursor needs
        /// a full export.
        static let changesTrimmedThrough = "changes-trimmed-through"
        /// The bound encoder's model file, whole.
        static let model = "model"
        /// The bound model's SHA-256 digest, as lower-case hex: what a store refuses other models by.
        static let modelDigest = "model-digest"
        /// The identity of the bound encoder when it is not a model file (PDQ, an application's):
        /// JSON `{"name": …, "version": …}` (``EncoderIdentity``). A store bound to a model has
        /// `model` and `model-digest` instead; a store of bare codes has neither.
        static let encoder = "encoder"
        /// The side of the thumbnails kept with images (`UInt64`; 0 keeps none).
        static let thumbnailSide = "thumbnail-side"
        /// How the store decodes colour JPEGs for its encoder (text): `luma` — as their luma
        /// plane, for an encoder that reads only luminance (PDQ), written when such a store is
        /// created. Absent: as RGB, which stores made before it existed keep, so that files they
        /// hold decode for queries as they did when stored.
        static let imageDecoding = "image-decoding"
        /// In a re-encoding's work store only: the stamp of the source store it re-encodes.
        static let reencodeSource = "reencode-source"
        /// Set in a store a re-encoding replaced, in the transaction before the swap: why its
        /// writes are refused (text). A store holding it takes no more writes.
        static let retired = "retired"
    }

    /// The opened tables of a store.
    struct Tables {
        let meta, keys, items, codes, segment, moved: Table
        /// Nil only when a read-only open finds a store made before thumbnails existed.
        let thumbnails: Table?
        /// Nil only when a read-only open finds a store made before refinement vectors existed.
        let refinements: Table?
        /// Nil only when a read-only open finds a store made before change logs existed.
        let changes: Table?

        init(opening environment: Environment) throws {
            meta = try environment.table(StoreSchema.meta.name)
            keys = try environment.table(StoreSchema.keys.name)
            items = try environment.table(StoreSchema.items.name)
            codes = try environment.table(StoreSchema.codes.name)
            segment = try environment.table(StoreSchema.segment.name)
            moved = try environment.table(StoreSchema.moved.name)
            thumbnails = environment.tableIfPresent(StoreSchema.thumbnails.name)
            refinements = environment.tableIfPresent(StoreSchema.refinements.name)
            changes = environment.tableIfPresent(StoreSchema.changes.name)
        }

        /// Every table the store has open, in ``StoreSchema/all``'s order.
        var all: [Table] { [meta, keys, items, codes, segment, moved, thumbnails, refinements, changes].compactMap { $0 } }
    }

    /// Longest key LMDB accepts.
    static let maximumKeyBytes = 511
    /// Largest payload accepted.
    static let maximumPayloadBytes = 1 << 20
    /// Largest id plus one.
    static let idCapacity = UInt64(UInt32.max)

    /// Segment table keys: offsets and ids of substring table `j`.
    static func offsetsKey(_ table: Int) -> UInt32 { UInt32(table * 2) }
    static func idsKey(_ table: Int) -> UInt32 { UInt32(table * 2 + 1) }
    /// Segment table key of table `j`'s fingerprints, one per id (`SubstringLayout.fingerprintBits`):
    /// written by builds whose layout has them; a segment built without them is searched without.
    static func fingerprintsKey(_ table: Int) -> UInt32 { UInt32(0x1_0000 + table) }
}
