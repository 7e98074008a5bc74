import CLMDB

/// A position in a table, lent to the closure of ``Transaction/withCursor(_:_:)``.
///
/// Entries it returns point into the memory map: valid until the transaction ends, or until the
/// next write of any kind in a write transaction. Methods that move return `nil` at the end of the table.
public struct Cursor: ~Copyable {
    /// A key and its value, both borrowed from the map.
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    let handle: OpaquePointer
    /// The table this cursor walks.
    public let table: Table
    let environment: Environment
    let isReadOnly: Bool
    let state: TransactionState

    // MARK: Moving

    /// The first entry of the table.
    public func first() throws -> Entry? { try move(MDB_FIRST) }
    /// The last entry of the table.
    public func last() throws -> Entry? { try move(MDB_LAST) }
    /// The next entry (the next duplicate first, in a dup-sort table).
    public func next() throws -> Entry? { try move(MDB_NEXT) }
    /// The previous entry.
    public func previous() throws -> Entry? { try move(MDB_PREV) }
    /// The entry at the cursor.
    public func current() throws -> Entry? { try move(MDB_GET_CURRENT) }
    /// The first value of the next key (dup-sort tables: skips the remaining duplicates).
    public func nextKey() throws -> Entry? { try move(MDB_NEXT_NODUP) }

    /// Positions at the first entry whose key is ≥ `key` (`MDB_SET_RANGE`).
    public func seek(atLeast key: some StorageBytes) throws -> Entry? {
        try key.withStorageBytes { try move(MDB_SET_RANGE, key: $0) }
    }

    /// Positions at `key` exactly (`MDB_SET_KEY`), or returns `nil` if it is absent.
    public func seek(exactly key: some StorageBytes) throws -> Entry? {
        try key.withStorageBytes { try move(MDB_SET_KEY, key: $0) }
    }

    /// Number of values stored under the current key (1 outside dup-sort tables).
    public func duplicateCount() throws -> Int {
        var count: Int = 0
        try check(mdb_cursor_count(handle, &count), "counting duplicates in table '\(table.name)'")
        return count
    }

    // MARK: Bulk reads (dup-fixed tables)

    /// Calls `body` with the values of `key`, a page at a time, as one contiguous buffer of
    /// fixed-size elements (`MDB_GET_MULTIPLE` then `MDB_NEXT_MULTIPLE`). Needs a
    /// `.duplicateSort + .duplicateFixed` table. Returns the number of bytes visited.
    @discardableResult
    public func forEachValuePage(of key: some StorageBytes, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        guard table.flags.contains(.duplicateFixed) else {
            throw StorageError(.invalidArgument, "bulk reads need a dup-fixed table; '\(table.name)' is not one")
        }
        guard let first = try seek(exactly: key) else { return 0 }
        var total = 0
        var page = try move(MDB_GET_MULTIPLE)
        if page?.value.isEmpty ?? true {
            // A key with a single value has no duplicate sub-tree: LMDB returns no page for it.
            try body(first.value)
            return first.value.count
        }
        while let values = page?.value {
            try body(values)
            total += values.count
            page = try move(MDB_NEXT_MULTIPLE)
        }
        return total
    }

    // MARK: Writing

    /// Stores `value` under `key` through the cursor, leaving it on the new entry.
    public func put(key: some StorageBytes, value: some StorageBytes, flags: WriteFlags = []) throws {
        try requireWritable()
        try key.withStorageBytes { keyBytes in
            try value.withStorageBytes { valueBytes in
                var k = makeValue(keyBytes)
                var v = makeValue(valueBytes)
                try check(mdb_cursor_put(handle, &k, &v, flags.rawValue), "writing to table '\(table.name)'")
            }
        }
    }

    /// Stores many fixed-size values under one key in a single call (`MDB_MULTIPLE`), for
    /// `.duplicateSort + .duplicateFixed` tables. `values` holds `values.count / elementSize`
    /// elements, each `elementSize` bytes. With `.append` the key must sort after every key in the
    /// table (bulk loading in key order), which avoids B-tree searches entirely.
    public func putMultiple(key: some StorageBytes, values: UnsafeRawBufferPointer, elementSize: Int,
                            flags: WriteFlags = []) throws {
        try requireWritable()
        guard table.flags.contains(.duplicateFixed) else {
            throw StorageError(.invalidArgument, "bulk writes need a dup-fixed table; '\(table.name)' is not one")
        }
        guard elementSize > 0, values.count % elementSize == 0 else {
            throw StorageError(.invalidArgument, "\(values.count) bytes are not a whole number of \(elementSize)-byte values")
        }
        let count = values.count / elementSize
        guard count > 0 else { return }
        try key.withStorageBytes { keyBytes in
            var k = makeValue(keyBytes)
            var written = 0
            while written < count {
                let start = UnsafeMutableRawPointer(mutating: values.baseAddress!) + written * elementSize
                var pair = (MDB_val(mv_size: elementSize, mv_data: start), MDB_val(mv_size: count - written, mv_data: nil))
                let rc = withUnsafeMutablePointer(to: &pair) { pointer in
                    pointer.withMemoryRebound(to: MDB_val.self, capacity: 2) {
                        mdb_cursor_put(handle, &k, $0, flags.rawValue | UInt32(MDB_MULTIPLE))
                    }
                }
                try check(rc, "bulk writing to table '\(table.name)'")
                guard pair.1.mv_size > 0 else {
                    throw StorageError(.other, "LMDB stored no value of a bulk write to '\(table.name)'")
                }
                written += pair.1.mv_size
            }
        }
    }

    // MARK: Plumbing

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil) throws -> Entry? {
        var k = key.map(makeValue) ?? MDB_val()
        var v = MDB_val()
        let rc = mdb_cursor_get(handle, &k, &v, op)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading table '\(table.name)'")
        return (k.bytes, v.bytes)
    }

    private func requireWritable() throws {
        if isReadOnly {
            throw StorageError(.readOnly, "writing to table '\(table.name)' needs a write transaction; use `write { … }`")
        }
    }

    private func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
        guard rc != 0 else { return }
        if rc == MDB_MAP_FULL { state.mapFull = true }
        throw StorageError.from(rc, operation: operation(), path: environment.path)
    }
}
