import HammingSearch
import LMDBStorage

/// Row-keyed ids: a bulk import of unnamed rows into an empty store names row `r` "r" and gives
/// it id `r`, so it writes neither an `items` record nor a `keys` entry for it — the key is the
/// id in decimal (``StoreSchema/MetaKey/rowKeys``). Such an item has an `items` record only while
/// an upsert has given it a payload; it is live exactly when its liveness bit is set. Every read of a
/// key or a record goes through here, so both kinds of item look the same to callers.
enum RowKeys {
    /// The row `key` names if it is a row number written the way a bulk import writes it
    /// (decimal digits, no sign, no leading zero), below `limit`; otherwise `nil`.
    static func row(named key: some StringProtocol, below limit: UInt32) -> UInt32? {
        let utf8 = key.utf8
        guard limit > 0, let first = utf8.first, utf8.count <= 10, first != UInt8(ascii: "0") || utf8.count == 1 else { return nil }
        var value: UInt64 = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value < UInt64(limit) ? UInt32(value) : nil
    }
}

extension Store {
    /// Ids below this without an `items` record are row-keyed (0 in most stores).
    func rowKeyedIDs(_ txn: borrowing Transaction) throws -> UInt32 {
        try StoreMeta.rowKeyedIDs(reading: txn, table: tables.meta) ?? 0
    }

    /// The record of the live item `id`: its `items` record, or, for a row-keyed id without one,
    /// its number as key and no payload. `nil` when neither exists.
    func record(ofLive id: UInt32, _ txn: borrowing Transaction) throws -> ItemRecord? {
        if let bytes = try txn.get(tables.items, key: id) { return try ItemRecord(decoding: bytes, id: id) }
        return id < (try rowKeyedIDs(txn)) ? ItemRecord(key: String(id), payload: []) : nil
    }

    /// The id `key` names among the row-keyed ids, if it names a live one — live as `chunks`
    /// has it, when a write in progress may have removed it. Keys in the `keys` table are
    /// looked up first: a removed row's key written again lives there under a new id.
    /// `limit` is the store's row-keyed ids when the caller has its meta record at hand.
    func rowKeyedID(forKey key: String, _ txn: borrowing Transaction, chunks: ChunkEditor?, limit: UInt32?) throws -> UInt32? {
        guard let first = key.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9"),
              let row = RowKeys.row(named: key, below: try limit ?? rowKeyedIDs(txn)) else { return nil }
        let editor = chunks ?? ChunkEditor(layout: CodeChunkLayout(bitCount: bitCount), table: tables.codes)
        return try editor.isLive(row, txn) ? row : nil
    }

    /// Calls `body` with every live item's id and record from `first` on, in id order, until it
    /// returns false: the `items` records merged with the row-keyed ids that have none, whose
    /// liveness is read from `chunks` (the transaction's code chunks, read here if not given).
    func forEachRecord(from first: UInt32, _ txn: borrowing Transaction, chunks: CodeChunks? = nil,
                       _ body: (UInt32, ItemRecord) throws -> Bool) throws {
        let rowKeyed = try rowKeyedIDs(txn)
        try txn.withCursor(tables.items) { cursor in
            var entry = try cursor.seek(atLeast: first)
            func nextStored() throws -> UInt32? {
                guard let (key, _) = entry else { return nil }
                return try StoreSchema.itemID(key, table: "items")
            }
            if first < rowKeyed {
                let chunks = try chunks ?? StoreSnapshot(reading: txn, tables: tables, path: path, includingIndex: false)
                    .withoutIndex().indexSnapshot().chunks
                for id in first..<rowKeyed where chunks.isLive(id) {
                    while let stored = try nextStored(), stored < id { entry = try cursor.next() }
                    let record: ItemRecord
                    if let stored = try nextStored(), stored == id, let (_, value) = entry {
                        record = try ItemRecord(decoding: value, id: id)
                        entry = try cursor.next()
                    } else {
                        record = ItemRecord(key: String(id), payload: [])
                    }
                    guard try body(id, record) else { return }
                }
                while let stored = try nextStored(), stored < rowKeyed { entry = try cursor.next() }
            }
            while let (key, value) = entry {
                let id = try StoreSchema.itemID(key, table: "items")
                guard try body(id, try ItemRecord(decoding: value, id: id)) else { return }
                entry = try cursor.next()
            }
        }
    }
}
