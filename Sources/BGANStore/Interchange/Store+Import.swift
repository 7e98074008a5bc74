import Foundation
import HammingSearch

/// What a bulk import did.
public struct ImportSummary: Sendable, Codable {
    public var rows = 0
    public var inserted = 0
    public var updated = 0
    /// Seconds spent writing items and codes, and rebuilding the index at the end.
    public var loadSeconds = 0.0
    public var indexSeconds = 0.0
    /// Wall-clock seconds of the whole import, commits and disk flushes included.
    public var totalSeconds = 0.0
}

extension Store {
    /// Loads every row of `matrix` as a code, under `keys[row]` (default: the row number as
    /// text), replacing items with the same key.
    ///
    /// Into an empty store with distinct keys, the whole load is one transaction that appends
    /// records, chunks and keys in order and builds the index at the end: all or nothing, and no
    /// B-tree search per row. Unnamed rows into a store that never held an item are *row-keyed*:
    /// row `r` becomes id `r` with key "r" and no record or key entry of its own (about 46 bytes
    /// less per item), which makes the store format 2 (docs/on-disk-format.md); every read and
    /// write treats those items as any other. Otherwise rows go in upsert transactions of `batchSize` and the index
    /// is rebuilt once at the end; an interrupted import then leaves finished batches in place, and
    /// rerunning it replaces them with the same items.
    ///
    /// - Parameters:
    ///   - matrix: packed codes, one row per item, of the store's code length.
    ///   - keys: one key per row; nil names each row by its number.
    ///   - batchSize: rows per transaction when the load cannot be one append.
    ///   - progress: called with the rows done after each batch.
    public func importCodes(_ matrix: NumPyByteMatrix, keys: [String]? = nil, batchSize: Int = 200_000,
                            progress: (Int) -> Void = { _ in }) throws -> ImportSummary {
        guard matrix.columns * 8 == bitCount else {
            throw StoreError(.codeLengthMismatch, "the codes are \(matrix.columns * 8) bits (\(matrix.columns) bytes per row) but \(path) stores \(bitCount)-bit codes")
        }
        if let keys, keys.count != matrix.rows {
            throw StoreError(.invalidArgument, "\(keys.count) keys for \(matrix.rows) codes; give one key per row")
        }
        let importStarted = Date()
        if try count() == 0, var summary = try bulkLoad(matrix, keys: keys, progress: progress) {
            summary.totalSeconds = Date().timeIntervalSince(importStarted)
            return summary
        }
        var summary = ImportSummary()
        let started = Date()
        var row = 0
        while row < matrix.rows {
            let end = min(row + max(batchSize, 1), matrix.rows)
            var items: [StoreItem] = []
            items.reserveCapacity(end - row)
            try matrix.bytes.withUnsafeBytes { raw in
                for r in row..<end {
                    let code = try BinaryCode(rawBytes: UnsafeRawBufferPointer(rebasing: raw[(r * matrix.columns)..<((r + 1) * matrix.columns)]))
                    items.append(StoreItem(key: keys?[r] ?? String(r), code: code))
                }
            }
            let written = try write(items, mode: .upsert, indexing: .deferred)
            summary.inserted += written.inserted
            summary.updated += written.updated
            row = end
            progress(row)
        }
        summary.rows = matrix.rows
        let loaded = Date()
        summary.loadSeconds = loaded.timeIntervalSince(started)
        try rebuildIndex()
        summary.indexSeconds = Date().timeIntervalSince(loaded)
        summary.totalSeconds = Date().timeIntervalSince(importStarted)
        return summary
    }
}

extension Store {
    /// Loads into an empty store in one transaction, appending everything in order. Returns `nil`
    /// (writing nothing) when the store is not empty or the given keys repeat.
    func bulkLoad(_ matrix: NumPyByteMatrix, keys: [String]?, progress: (Int) -> Void) throws -> ImportSummary? {
        let rows = matrix.rows
        var keyOrder: [Int] = []
        if let keys {
            keyOrder = keys.indices.sorted { UTF8Order.compare(keys[$0], keys[$1]) < 0 }
            for (a, b) in zip(keyOrder, keyOrder.dropFirst()) where UTF8Order.compare(keys[a], keys[b]) == 0 { return nil }
            for key in keys { try Self.validate(key: key) }
        }
        let started = Date()
        // The index is built from the rows on another core while this one writes them.
        let plannedMeta = try environment.read { txn in try readMeta(txn) }
        let segment = PrebuiltSegment(
            layout: try SubstringLayout(bitCount: bitCount, substrings: plannedMeta.requestedSubstrings > 0
                ? plannedMeta.requestedSubstrings
                : SubstringLayout.recommendedSubstrings(bitCount: bitCount, itemCount: rows)),
            matrix: matrix, firstID: plannedMeta.idLimit)
        segment.start()
        defer { segment.wait() }
        let layout = CodeChunkLayout(bitCount: bitCount)
        let averageKey = keys.map { $0.reduce(0) { $0 + $1.utf8.count } / max($0.count, 1) } ?? 8
        let perRowKey = keys == nil && plannedMeta.idLimit == 0 ? 0 : 3 * averageKey + 72
        let estimate = rows * (perRowKey + 2 * layout.words * 8 + 48) + 64 << 20
        try environment.reserveMapSize((environment.info().lastPage + 1) * environment.statistics().pageSize + estimate)
        let summary: ImportSummary? = try writing { txn in
            var meta = try readMeta(txn)
            guard meta.liveCount == 0 else { return nil }
            guard UInt64(meta.idLimit) + UInt64(rows) <= StoreSchema.idCapacity else {
                throw StoreError(.idsExhausted, "\(rows) more items would pass the store's \(StoreSchema.idCapacity) ids")
            }
            let first = meta.idLimit
            // Unnamed rows into a store that never held an item: row r is id r, keyed "r" by
            // its number alone (RowKeys.swift), with no record and no key entry of its own.
            let rowKeyed = keys == nil && first == 0
            let chunks = ChunkEditor(layout: layout, table: tables.codes)
            let noPayload = UnsafeRawBufferPointer(start: nil, count: 0)
            // Codes and item records in row order; the keys are the given ones or the row numbers.
            try matrix.bytes.withUnsafeBytes { raw in
                if let keys {
                    for row in 0..<rows {
                        let id = first + UInt32(row)
                        try chunks.set(id, codeBytes: UnsafeRawBufferPointer(rebasing: raw[(row * matrix.columns)..<((row + 1) * matrix.columns)]), txn)
                        var key = keys[row]
                        try key.withUTF8 { try putRecord(key: UnsafeRawBufferPointer($0), payload: noPayload, id: id, append: true, txn) }
                        if row % 65536 == 65535 { progress(row / 2) }
                    }
                } else if rowKeyed {
                    for row in 0..<rows {
                        try chunks.set(UInt32(row), codeBytes: UnsafeRawBufferPointer(rebasing: raw[(row * matrix.columns)..<((row + 1) * matrix.columns)]), txn)
                        if row % 65536 == 65535 { progress(row) }
                    }
                } else {
                    try DecimalKeys.inRowOrder(count: rows) { row, text in
                        let id = first + UInt32(row)
                        try chunks.set(id, codeBytes: UnsafeRawBufferPointer(rebasing: raw[(row * matrix.columns)..<((row + 1) * matrix.columns)]), txn)
                        try putRecord(key: text, payload: noPayload, id: id, append: true, txn)
                        if row % 65536 == 65535 { progress(row / 2) }
                    }
                }
            }
            try chunks.flush(txn)
            // The keys table, appended in key order.
            var done = 0
            func keyed() {
                if done % 65536 == 65535 { progress((rows + done) / 2) }
                done += 1
            }
            if let keys {
                for row in keyOrder {
                    try txn.put(tables.keys, key: keys[row], value: first + UInt32(row), flags: .append)
                    keyed()
                }
            } else if !rowKeyed {
                try DecimalKeys(count: rows).forEach { row, text in
                    try txn.put(tables.keys, key: text, value: first + UInt32(row), flags: .append)
                    keyed()
                }
            }
            meta.idLimit += UInt32(rows)
            meta.liveCount = rows
            try logChange(.inserted(first..<meta.idLimit), &meta, txn)
            if rowKeyed { meta.rowKeyedIDs = UInt32(rows) }
            var summary = ImportSummary()
            summary.rows = rows
            summary.inserted = rows
            summary.loadSeconds = Date().timeIntervalSince(started)
            let indexing = Date()
            segment.wait()
            if first == plannedMeta.idLimit {
                try txn.clear(tables.segment)
                try txn.clear(tables.moved)
                for (table, built) in segment.tables.enumerated() {
                    try built.offsets.withUnsafeBytes { try txn.put(tables.segment, key: StoreSchema.offsetsKey(table), value: $0) }
                    try built.ids.withUnsafeBytes { try txn.put(tables.segment, key: StoreSchema.idsKey(table), value: $0) }
                    try built.fingerprints?.withUnsafeBytes { try txn.put(tables.segment, key: StoreSchema.fingerprintsKey(table), value: $0) }
                }
                meta.segmentSubstrings = segment.layout.count
                meta.segmentItems = rows
                meta.segmentEnd = meta.idLimit
                meta.staleEntries = 0
            } else {
                try rebuildIndex(&meta, substrings: nil, txn)
            }
            summary.indexSeconds = Date().timeIntervalSince(indexing)
            try meta.write(txn, table: tables.meta)
            return summary
        }
        if summary != nil { progress(rows) }
        return summary
    }
}
