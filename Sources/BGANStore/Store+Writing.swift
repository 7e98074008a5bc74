import HammingSearch
import LMDBStorage

extension Store {
    /// Inserts one item. Throws `StoreError` `.keyExists` if its key is stored already.
    /// - Returns: the new item's id.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func insert(_ item: StoreItem) throws -> UInt32 {
        try write([item], mode: .insert).insertedIDs[0]
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
    ///   - items: the items, each with a code of the store's length.
    ///   - mode: `.insert` refuses the batch if a key exists; `.upsert` replaces.
    ///   - indexing: `.deferred` skips automatic index rebuilds (call `rebuildIndex(substrings:)`
    ///     after a bulk load).
    /// - Throws: ``StoreError`` (`.codeLengthMismatch`, `.invalidKey`, `.payloadTooLarge`,
    ///   `.keyExists`, `.idsExhausted`) before anything is written; `StorageError` from LMDB.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func write(_ items: [StoreItem], mode: WriteMode = .insert, indexing: IndexingMode = .automatic) throws -> WriteSummary {
        try write(items, images: nil, mode: mode, indexing: indexing)
    }

    /// `write(_:mode:indexing:)` with what each item's image left beside its code (thumbnail,
    /// refinement vector), in the same transaction. An item written without them loses those it
    /// had: they always belong to the image the code came from.
    func write(_ items: [StoreItem], images: [ImageExtras]?, mode: WriteMode, indexing: IndexingMode) throws -> WriteSummary {
        precondition(images == nil || images!.count == items.count, "one image slot per item")
        for item in items {
            try checkLength(item.code)
            try Self.validate(key: item.key)
            guard item.payload.count <= StoreSchema.maximumPayloadBytes else {
                throw StoreError(.payloadTooLarge, "the payload of '\(item.key.prefix(60))' is \(item.payload.count) bytes; the limit is \(StoreSchema.maximumPayloadBytes)")
            }
        }
        // Keys are looked up and inserted in sorted order, so the B-tree walks neighbouring pages.
        let sorted = items.indices.sorted { a, b in
            let order = UTF8Order.compare(items[a].key, items[b].key)
            return order != 0 ? order < 0 : a < b
        }
        let summary = try writing { txn in
            var meta = try readMeta(txn)
            let chunks = ChunkEditor(layout: CodeChunkLayout(bitCount: bitCount), table: tables.codes)
            var summary = WriteSummary()
            // 1. Which keys exist; a key repeated in the batch is looked up once, at its first
            //    sorted position (the lowest caller index).
            var existing = [UInt32?](repeating: nil, count: items.count)
            var firstOccurrence = [Bool](repeating: false, count: items.count)
            var previous: Int?
            for index in sorted {
                if let previous, UTF8Order.compare(items[previous].key, items[index].key) == 0 {
                    if mode == .insert {
                        throw StoreError(.keyExists, "key '\(items[index].key.prefix(80))' appears twice in the batch; use upsert to let the last one win")
                    }
                    continue
                }
                firstOccurrence[index] = true
                existing[index] = try id(forKey: items[index].key, txn, chunks: chunks, meta: meta)
                if existing[index] != nil, mode == .insert {
                    throw StoreError(.keyExists, "key '\(items[index].key.prefix(80))' is already stored; use upsert to replace it")
                }
                previous = index
            }
            // 2. New items take ids in the caller's order, so a scan lists them as given.
            var newIDs = [UInt32?](repeating: nil, count: items.count)
            let firstNewID = meta.idLimit
            for index in items.indices where firstOccurrence[index] && existing[index] == nil {
                guard UInt64(meta.idLimit) < StoreSchema.idCapacity else {
                    throw StoreError(.idsExhausted, "the store has handed out all \(StoreSchema.idCapacity) item ids; export its items into a new store")
                }
                newIDs[index] = meta.idLimit
                meta.idLimit += 1
            }
            // 3. New items: records appended in id order, codes into their chunks, keys in key order.
            for index in items.indices {
                guard let id = newIDs[index] else { continue }
                summary.insertedIDs.append(id)
                try putRecord(items[index], id: id, append: true, txn)
                try chunks.set(id, code: items[index].code.words, live: true, txn)
                try putImageExtras(images?[index], id: id, replacing: false, txn)
            }
            try logChange(.inserted(firstNewID..<meta.idLimit), &meta, txn)
            var lastKeyIndex: Int?
            for index in sorted {
                if let id = newIDs[index] {
                    try txn.put(tables.keys, key: items[index].key, value: id)
                    meta.liveCount += 1
                    summary.inserted += 1
                    lastKeyIndex = index
                    continue
                }
                // 4. Replacements, in caller order among equal keys (sorted is stable): last wins.
                let key = items[index].key
                let id: UInt32
                if let known = existing[index] {
                    id = known
                } else if let lastKeyIndex, UTF8Order.compare(items[lastKeyIndex].key, key) == 0, let fresh = newIDs[lastKeyIndex] {
                    id = fresh
                } else {
                    guard let found = try self.id(forKey: key, txn, chunks: chunks, meta: meta) else { continue }
                    id = found
                }
                if try chunks.code(of: id, txn) != items[index].code.words {
                    try chunks.set(id, code: items[index].code.words, live: true, txn)
                    try markMoved(id, &meta, txn)
                }
                if id < meta.rowKeyedIDs, items[index].payload.isEmpty {
                    try txn.delete(tables.items, key: id)
                } else {
                    try putRecord(items[index], id: id, append: false, txn)
                }
                try putImageExtras(images?[index], id: id, replacing: true, txn)
                try logChange(.replaced(id), &meta, txn)
                summary.updated += 1
            }
            try chunks.flush(txn)
            if indexing == .automatic, needsRebuild(meta) {
                try rebuildIndex(&meta, substrings: nil, txn)
                summary.rebuiltIndex = true
            }
            try meta.write(txn, table: tables.meta)
            return summary
        }
        observation.wrote(summary, items: items.count)
        return summary
    }

    /// Removes the item with `key`. Returns whether there was one.
    @discardableResult
    public func remove(key: String) throws -> Bool {
        try remove(keys: [key]) == 1
    }

    /// Removes the items with these keys in one transaction; returns how many existed.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func remove(keys: [String]) throws -> Int {
        let (removed, rebuilt) = try writing { txn in
            var meta = try readMeta(txn)
            let chunks = ChunkEditor(layout: CodeChunkLayout(bitCount: bitCount), table: tables.codes)
            var removed = 0
            for key in keys {
                guard let id = try id(forKey: key, txn, chunks: chunks, meta: meta) else { continue }
                try txn.delete(tables.keys, key: key)
                try txn.delete(tables.items, key: id)
                try putImageExtras(nil, id: id, replacing: true, txn)
                try chunks.set(id, code: nil, live: false, txn)
                let wasMoved = try txn.delete(tables.moved, key: id)
                if id < meta.segmentEnd, !wasMoved { meta.staleEntries += 1 }
                meta.liveCount -= 1
                try logChange(.removed(id, key: key), &meta, txn)
                removed += 1
            }
            try chunks.flush(txn)
            let rebuilt = needsRebuild(meta)
            if rebuilt { try rebuildIndex(&meta, substrings: nil, txn) }
            try meta.write(txn, table: tables.meta)
            return (removed, rebuilt)
        }
        observation.removed.increment(by: removed)
        if rebuilt { observation.rebuiltIndex(inside: "a removal of \(keys.count) keys") }
        return removed
    }

    // MARK: Plumbing

    /// The id of the live item with `key`: from the `keys` table, or a row-keyed id (RowKeys.swift)
    /// as live in `chunks`, the edits of the write in progress, if any. A write passes its `meta`,
    /// so its lookups do not read the row-keyed limit again.
    func id(forKey key: String, _ txn: borrowing Transaction, chunks: ChunkEditor? = nil, meta: StoreMeta? = nil) throws -> UInt32? {
        guard let bytes = try txn.get(tables.keys, key: key) else {
            return try rowKeyedID(forKey: key, txn, chunks: chunks, limit: meta?.rowKeyedIDs)
        }
        guard let id = bytes.uint32Value else { throw StoreError(.corrupted, "key '\(key.prefix(80))' maps to a \(bytes.count)-byte id") }
        return id
    }

    /// Writes an item's record (key length, key, payload) in place, without an intermediate array.
    private func putRecord(_ item: StoreItem, id: UInt32, append: Bool, _ txn: borrowing Transaction) throws {
        var key = item.key
        try key.withUTF8 { keyBytes in
            try item.payload.withUnsafeBytes { payload in
                try putRecord(key: UnsafeRawBufferPointer(keyBytes), payload: payload, id: id, append: append, txn)
            }
        }
    }

    func putRecord(key: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, id: UInt32, append: Bool,
                   _ txn: borrowing Transaction) throws {
        try txn.put(tables.items, key: id, reservingCount: 2 + key.count + payload.count, flags: append ? .append : []) { target in
            target[0] = UInt8(key.count & 0xFF)
            target[1] = UInt8(key.count >> 8)
            UnsafeMutableRawBufferPointer(rebasing: target[2..<(2 + key.count)]).copyMemory(from: key)
            if payload.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: target[(2 + key.count)...]).copyMemory(from: payload)
            }
        }
    }

    /// Records that a segment-indexed item now has another code.
    private func markMoved(_ id: UInt32, _ meta: inout StoreMeta, _ txn: borrowing Transaction) throws {
        guard id < meta.segmentEnd, try txn.get(tables.moved, key: id) == nil else { return }
        try txn.put(tables.moved, key: id, value: [UInt8]())
        meta.staleEntries += 1
    }
}
