import LMDBStorage

/// The named tables of a store and the keys of its `meta` table. The layout is versioned by
/// ``formatVersion``; docs/on-disk-format.md describes it byte by byte.
enum StoreSchema {
    /// Version of the on-disk layout this code reads and writes.
    static let formatVersion: UInt32 = 1

    static let meta = TableSpec("meta")
    static let keys = TableSpec("keys")
    static let items = TableSpec("items", flags: .integerKey)
    static let codes = TableSpec("codes", flags: .integerKey)
    static let segment = TableSpec("segment", flags: .integerKey)
    static let moved = TableSpec("moved", flags: .integerKey)
    /// Item id → a small PNG of the item's image. Stores made before it existed lack it.
    static let thumbnails = TableSpec("thumbnails", flags: .integerKey, addedLater: true)

    /// Item id → the encoder's real-valued output for the item's image, one signed byte per bit
    /// (``Refinement/quantize(_:)``): what refined searches order candidates by. Only items
    /// inserted as images have one. Stores made before it existed lack it.
    static let refinements = TableSpec("refinements", flags: .integerKey, addedLater: true)

    static let all = [meta, keys, items, codes, segment, moved, thumbnails, refinements]

    /// Longest key LMDB accepts.
    static let maximumKeyBytes = 511
    /// Largest payload accepted.
    static let maximumPayloadBytes = 1 << 20
    /// Largest id plus one.
    static let idCapacity = UInt64(UInt32.max)

    /// Segment table keys: offsets and ids of substring table `j`.
    static func offsetsKey(_ table: Int) -> UInt32 { UInt32(table * 2) }
    static func idsKey(_ table: Int) -> UInt32 { UInt32(table * 2 + 1) }
}

/// The `items` value: the key's length (UInt16, little-endian), the key's UTF-8, the payload.
struct ItemRecord {
    var key: String
    var payload: [UInt8]

    func encoded() -> [UInt8] {
        let keyBytes = Array(key.utf8)
        var bytes: [UInt8] = [UInt8(keyBytes.count & 0xFF), UInt8(keyBytes.count >> 8)]
        bytes.reserveCapacity(2 + keyBytes.count + payload.count)
        bytes += keyBytes
        bytes += payload
        return bytes
    }

    init(key: String, payload: [UInt8]) {
        self.key = key
        self.payload = payload
    }

    init(decoding bytes: UnsafeRawBufferPointer, id: UInt32) throws {
        guard bytes.count >= 2 else { throw StoreError(.corrupted, "item \(id)'s record is \(bytes.count) bytes, shorter than its header") }
        let keyLength = Int(bytes[0]) | Int(bytes[1]) << 8
        guard 2 + keyLength <= bytes.count else {
            throw StoreError(.corrupted, "item \(id)'s record claims a \(keyLength)-byte key in \(bytes.count) bytes")
        }
        key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[2..<2 + keyLength]), as: UTF8.self)
        payload = Array(bytes[(2 + keyLength)...])
    }
}
