import HammingSearch
import LMDBStorage

extension Store {
    /// Inserts one item. Throws ``StoreError/Code/keyExists`` if its key is stored already.
    /// - Returns: the new item's id.
    @discardableResult
    public func insert(_ item: StoreItem) throws -> UInt32 {
        try write([item], mode: .insert)
        return try environment.read { txn in try id(forKey: item.key, txn)! }
    }

    /// Inserts the item, or replaces the code and payload of the item with its key.
    /// - Returns: whether an existing item was replaced.
    @discardableResult
    public func upsert(_ item: StoreItem) throws -> Bool {
        try write([item], mode: .upsert).updated == 1
    }

    /// Writes a batch in one transaction: all of it or, on any error, none of it. Within the
    /// batch a repeated key is applied in order (the last write wins with `.upsert`).
    ///
    /// - Parameters:
    ///   - mode: `.insert` refuses the batch if a key exists; `.upsert` replaces.
    ///   - indexing: `.deferred` skips automatic index rebuilds (call ``rebuildIndex(substrings:)``
    ///     after a bulk load).
    /// - Throws: ``StoreError`` (`.codeLengthMismatch`, `.invalidKey`, `.payloadTooLarge`,
    ///   `.keyExists`, `.idsExhausted`) before anything is written; `StorageError` from LMDB.
    @discardableResult
    public func write(_ items: [StoreItem], mode: WriteMode = .insert, indexing: IndexingMode = .automatic) throws -> WriteSummary {
        for item in items {
            try checkLength(item.code)
            try Self.validate(key: item.key)
            guard item.payload.count <= StoreSchema.maximumPayloadBytes else {
                throw StoreError(.payloadTooLarge, "the payload of '\(item.key.prefix(60))' is \(item.payload.count) bytes; the limit is \(StoreSchema.maximumPayloadBytes)")
            }
        }
        // Keys in sorted order make the B-tree inserts walk neighbouring pages.
        let order = items.indices.sorted { items[$0].key.utf8.lexicographicallyPrecedes(items[$1].key.utf8) || (items[$0].key == items[$1].key && $0 < $1) }
        return try environment.write { txn in
            var meta = try readMeta(txn)
            var chunks = ChunkEditor(layout: CodeChunkLayout(bitCount: bitCount), table: tables.codes)
            var summary = WriteSummary()
            // Ids follow the caller's order, so a scan lists items as they were given.
            var assigned: [String: UInt32] = [:]
            for index in items.indices {
                let item = items[index]
                if try assigned[item.key] != nil || id(forKey: item.key, txn) != nil {
                    if mode == .insert {
                        throw StoreError(.keyExists, "key '\(item.key.prefix(80))' is already stored; use upsert to replace it")
                    }
                    continue
                }
                guard UInt64(meta.idLimit) < StoreSchema.idCapacity else {
                    throw StoreError(.idsExhausted, "the store has handed out all \(StoreSchema.idCapacity) item ids; export its items into a new store")
                }
                assigned[item.key] = meta.idLimit
                meta.idLimit += 1
            }
            for index in order {
                let item = items[index]
                let record = ItemRecord(key: item.key, payload: item.payload).encoded()
                if let id = assigned.removeValue(forKey: item.key) {
                    try txn.put(tables.keys, key: item.key, value: id)
                    try txn.put(tables.items, key: id, value: record)
                    try chunks.set(id, code: item.code.words, live: true, txn)
                    meta.liveCount += 1
                    summary.inserted += 1
                } else {
                    let id = try id(forKey: item.key, txn)!
                    if try chunks.code(of: id, txn) != item.code.words {
                        try chunks.set(id, code: item.code.words, live: true, txn)
                        try markMoved(id, &meta, txn)
                    }
                    try txn.put(tables.items, key: id, value: record)
                    summary.updated += 1
                }
            }
            try chunks.flush(txn)
            if indexing == .automatic, needsRebuild(meta) {
                try rebuildIndex(&meta, substrings: nil, txn)
                summary.rebuiltIndex = true
            }
            try meta.write(txn, table: tables.meta)
            return summary
        }
    }

    /// Removes the item with `key`. Returns whether there was one.
    @discardableResult
    public func remove(key: String) throws -> Bool {
        try remove(keys: [key]) == 1
    }

    /// Removes the items with these keys in one transaction; returns how many existed.
    @discardableResult
    public func remove(keys: [String]) throws -> Int {
        try environment.write { txn in
            var meta = try readMeta(txn)
            var chunks = ChunkEditor(layout: CodeChunkLayout(bitCount: bitCount), table: tables.codes)
            var removed = 0
            for key in keys {
                guard let id = try id(forKey: key, txn) else { continue }
                try txn.delete(tables.keys, key: key)
                try txn.delete(tables.items, key: id)
                try chunks.set(id, code: nil, live: false, txn)
                let wasMoved = try txn.delete(tables.moved, key: id)
                if id < meta.segmentEnd, !wasMoved { meta.staleEntries += 1 }
                meta.liveCount -= 1
                removed += 1
            }
            try chunks.flush(txn)
            if needsRebuild(meta) { try rebuildIndex(&meta, substrings: nil, txn) }
            try meta.write(txn, table: tables.meta)
            return removed
        }
    }

    // MARK: Plumbing

    func id(forKey key: String, _ txn: borrowing Transaction) throws -> UInt32? {
        guard let bytes = try txn.get(tables.keys, key: key) else { return nil }
        guard bytes.count == 4 else { throw StoreError(.corrupted, "key '\(key.prefix(80))' maps to a \(bytes.count)-byte id") }
        return bytes.loadUnaligned(as: UInt32.self)
    }

    /// Records that a segment-indexed item now has another code.
    private func markMoved(_ id: UInt32, _ meta: inout StoreMeta, _ txn: borrowing Transaction) throws {
        guard id < meta.segmentEnd, try txn.get(tables.moved, key: id) == nil else { return }
        try txn.put(tables.moved, key: id, value: [UInt8]())
        meta.staleEntries += 1
    }
}
