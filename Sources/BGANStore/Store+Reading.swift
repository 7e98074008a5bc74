import HammingSearch
import LMDBStorage

extension Store {
    /// The item stored under `key`, or `nil`.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func item(forKey key: String) throws -> StoredItem? {
        try environment.read { txn in
            guard let id = try id(forKey: key, txn) else { return nil }
            return try item(id: id, txn)
        }
    }

    /// Whether the store holds each of `keys` (one answer per key, in order), looked up in one
    /// read transaction: what a resumed bulk load skips. Keys are compared as bytes, as LMDB
    /// stores them: "é" as one code point and as "e" with a combining accent are two keys here,
    /// though Swift's `==` (and so a `Set<String>`) calls them equal.
    public func holds(keys: [String]) throws -> [Bool] {
        try environment.read { txn in try keys.map { try id(forKey: $0, txn) != nil } }
    }

    /// Calls `body` with every item in id (insertion) order, in one read transaction: a
    /// consistent view even while writers go on. Long walks pin old pages; keep `body` quick.
    public func forEachItem(_ body: (StoredItem) throws -> Void) throws {
        try environment.read { txn in try forEachItem(txn, body) }
    }

    /// ``forEachItem(_:)`` inside a read transaction the caller holds.
    func forEachItem(_ txn: borrowing Transaction, _ body: (StoredItem) throws -> Void) throws {
        let snapshot = try StoreSnapshot(reading: txn, tables: tables, path: path, includingIndex: false).withoutIndex().indexSnapshot()
        try forEachRecord(from: 0, txn, chunks: snapshot.chunks) { id, record in
            guard let words = snapshot.chunks.code(of: id), snapshot.chunks.isLive(id) else {
                throw StoreError(.corrupted, "item \(id) ('\(record.key.prefix(60))') has no live code; verify the store (`Store.verify()`)")
            }
            let code = try BinaryCode(bitCount: bitCount, words: Array(UnsafeBufferPointer(start: words, count: snapshot.chunks.layout.words)))
            try body(StoredItem(id: id, key: record.key, code: code, payload: record.payload))
            return true
        }
    }

    func item(id: UInt32, _ txn: borrowing Transaction) throws -> StoredItem {
        guard let record = try record(ofLive: id, txn) else {
            throw StoreError(.corrupted, "item \(id) is indexed but has no record; verify the store (`Store.verify()`)")
        }
        return try item(id: id, record: record, txn)
    }

    /// The item `id` with its record already read: its code is read from its chunk.
    func item(id: UInt32, record: ItemRecord, _ txn: borrowing Transaction) throws -> StoredItem {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        let layout = CodeChunkLayout(bitCount: bitCount)
        guard let chunkBytes = try txn.get(tables.codes, key: UInt32(chunk)), chunkBytes.count == layout.chunkBytes else {
            throw StoreError(.corrupted, "item \(id)'s code chunk is missing or damaged; verify the store (`Store.verify()`)")
        }
        let words = (0..<layout.words).map { chunkBytes.loadUnaligned(fromByteOffset: (slot * layout.words + $0) * 8, as: UInt64.self) }
        return StoredItem(id: id, key: record.key, code: try BinaryCode(bitCount: bitCount, words: words), payload: record.payload)
    }
}

extension Store {
    /// Up to `limit` items with ids from `id` on, in id (insertion) order, read in one
    /// transaction: pages through a large store without pinning one snapshot for the whole walk.
    public func items(fromID id: UInt32, limit: Int) throws -> [StoredItem] {
        precondition(limit >= 1)
        return try environment.read { txn in
            var found: [StoredItem] = []
            try forEachRecord(from: id, txn) { id, record in
                found.append(try item(id: id, record: record, txn))
                return found.count < limit
            }
            return found
        }
    }
}
