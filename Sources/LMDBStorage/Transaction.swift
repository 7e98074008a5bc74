import CLMDB

/// A transaction, lent to the closure of ``Environment/read(_:)`` or ``Environment/write(_:)``.
///
/// It is non-copyable and only borrowed, so it cannot outlive its closure. Bytes it returns point
/// into the memory map and are valid only until the closure returns (and, in a write
/// transaction, only until the next write to any table): copy what you keep.
public struct Transaction: ~Copyable {
    let handle: OpaquePointer
    let environment: Environment
    /// True inside ``Environment/read(_:)``: writes throw ``StorageError/Code/readOnly``.
    public let isReadOnly: Bool
    let state: TransactionState

    /// LMDB's transaction id: the id of the snapshot this transaction sees.
    public var id: Int { Int(mdb_txn_id(handle)) }

    /// The value stored under `key`, or `nil`. Zero-copy: valid until the transaction ends.
    @inlinable
    public func get(_ table: Table, key: some StorageBytes) throws -> UnsafeRawBufferPointer? {
        try key.withStorageBytes { try getBytes(table, key: $0) }
    }

    /// Stores `value` under `key`, replacing an existing value unless `flags` say otherwise.
    /// In a dup-sort table, adds `value` to the key's set.
    @inlinable
    public func put(_ table: Table, key: some StorageBytes, value: some StorageBytes, flags: WriteFlags = []) throws {
        try key.withStorageBytes { keyBytes in
            try value.withStorageBytes { try putBytes(table, key: keyBytes, value: $0, flags: flags) }
        }
    }

    @usableFromInline
    func getBytes(_ table: Table, key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var k = makeValue(key)
        var v = MDB_val()
        let rc = mdb_get(handle, table.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "reading from table '\(table.name)'")
        return v.bytes
    }

    @usableFromInline
    func putBytes(_ table: Table, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: WriteFlags) throws {
        try requireWritable("writing to table '\(table.name)'")
        var k = makeValue(key)
        var v = makeValue(value)
        try check(mdb_put(handle, table.dbi, &k, &v, flags.rawValue), "writing to table '\(table.name)'")
    }

    /// Reserves `count` bytes under `key` and lets `fill` write them in place (`MDB_RESERVE`),
    /// saving a copy for large values. Not for dup-sort tables.
    @inlinable
    public func put(_ table: Table, key: some StorageBytes, reservingCount count: Int, flags: WriteFlags = [],
                    fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        let target = try key.withStorageBytes { try reserveBytes(table, key: $0, count: count, flags: flags) }
        try fill(target)
    }

    @usableFromInline
    func reserveBytes(_ table: Table, key: UnsafeRawBufferPointer, count: Int, flags: WriteFlags) throws -> UnsafeMutableRawBufferPointer {
        try requireWritable("writing to table '\(table.name)'")
        var k = makeValue(key)
        var v = MDB_val(mv_size: count, mv_data: nil)
        try check(mdb_put(handle, table.dbi, &k, &v, flags.rawValue | UInt32(MDB_RESERVE)), "reserving in table '\(table.name)'")
        return UnsafeMutableRawBufferPointer(start: v.mv_data, count: count)
    }

    /// Deletes `key` (every value, in a dup-sort table) or, when `value` is given, only that pair.
    /// - Returns: whether anything was deleted.
    @discardableResult
    public func delete(_ table: Table, key: some StorageBytes, value: (some StorageBytes)? = nil as [UInt8]?) throws -> Bool {
        try requireWritable("deleting from table '\(table.name)'")
        return try key.withStorageBytes { keyBytes in
            var k = makeValue(keyBytes)
            let rc: Int32
            if let value {
                rc = value.withStorageBytes { valueBytes in
                    var v = makeValue(valueBytes)
                    return mdb_del(handle, table.dbi, &k, &v)
                }
            } else {
                rc = mdb_del(handle, table.dbi, &k, nil)
            }
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "deleting from table '\(table.name)'")
            return true
        }
    }

    /// Removes every entry of `table`, keeping the table.
    public func clear(_ table: Table) throws {
        try requireWritable("clearing table '\(table.name)'")
        try check(mdb_drop(handle, table.dbi, 0), "clearing table '\(table.name)'")
    }

    /// Entry count and B-tree shape of `table` as this transaction sees it.
    public func statistics(of table: Table) throws -> TableStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(handle, table.dbi, &stat), "reading statistics of table '\(table.name)'")
        return TableStatistics(stat)
    }

    /// Runs `body` with a cursor over `table`, closed when `body` returns.
    public func withCursor<R>(_ table: Table, _ body: (borrowing Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, table.dbi, &cursor), "opening a cursor on table '\(table.name)'")
        guard let cursor else { throw StorageError(.other, "mdb_cursor_open returned no cursor") }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(handle: cursor, table: table, environment: environment, isReadOnly: isReadOnly, state: state))
    }

    // MARK: Errors

    func requireWritable(_ operation: @autoclosure () -> String) throws {
        if isReadOnly {
            throw StorageError(.readOnly, "\(operation()) needs a write transaction; use `write { … }` instead of `read { … }`")
        }
    }

    /// Throws for a non-zero LMDB return code, remembering a full map so the write is retried.
    func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
        guard rc != 0 else { return }
        if rc == MDB_MAP_FULL { state.mapFull = true }
        throw StorageError.from(rc, operation: operation(), path: environment.path)
    }
}

/// Size and shape of a table or the whole environment (`MDB_stat`).
public struct TableStatistics: Sendable, Equatable {
    public var pageSize: Int
    public var depth: Int
    public var branchPages: Int
    public var leafPages: Int
    public var overflowPages: Int
    /// Number of entries (key/value pairs; each duplicate counts).
    public var entries: Int

    init(_ stat: MDB_stat) {
        pageSize = Int(stat.ms_psize)
        depth = Int(stat.ms_depth)
        branchPages = stat.ms_branch_pages
        leafPages = stat.ms_leaf_pages
        overflowPages = stat.ms_overflow_pages
        entries = stat.ms_entries
    }

    /// Bytes of pages the table occupies.
    public var bytes: Int { (branchPages + leafPages + overflowPages) * pageSize }
}
