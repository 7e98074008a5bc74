import CLMDB
import Basics
import Logging

/// One LMDB environment: a directory holding `data.mdb` and `lock.mdb`, its named tables opened
/// once at start-up, and scoped transactions.
///
/// ```swift
/// let env = try Environment(path: "/var/lib/app/store",
///                           tables: [TableSpec("items"), TableSpec("ids", flags: [.duplicateSort, .duplicateFixed])])
/// let items = try env.table("items")
/// try env.write { txn in try txn.put(items, key: "a", value: [1, 2, 3]) }
/// let bytes = try env.read { txn in try txn.get(items, key: "a").map(Array.init) }
/// ```
///
/// Rules (see docs/caveats.md): one `Environment` per path per process (a second open throws
/// ``StorageError/Code/alreadyOpen``); bytes read are valid only inside the transaction closure;
/// a write closure may run more than once when the map has to grow, so it must not have side
/// effects outside the transaction; do not keep read transactions open for long.
///
/// Thread safety: an `Environment` may be shared by any number of threads and tasks. Reads run
/// concurrently; writes are serialised. Transactions block the calling thread: call them from
/// your own threads or a dedicated queue rather than holding Swift's cooperative pool.
public final class Environment: @unchecked Sendable {
    /// The directory of the environment.
    public let path: String
    /// The options it was opened with.
    public let options: EnvironmentOptions

    let handle: OpaquePointer
    let mapLock = MapLock()
    private let registration: OpenPathRegistry.Registration
    private let writerMutex = Mutex()
    private let stateMutex = Mutex()
    nonisolated(unsafe) private var writerThread: pthread_t?
    nonisolated(unsafe) private var isClosed = false
    nonisolated(unsafe) private var growthCount = 0
    nonisolated(unsafe) private var remapCount = 0
    private var tablesByName: [String: Table] = [:]

    /// Opens (creating unless read-only) the environment at `path` and its named `tables`.
    ///
    /// - Throws: ``StorageError`` with code `.alreadyOpen` if this process has it open already,
    ///   `.notFound` if a read-only open finds no store or a table missing, `.versionMismatch` if
    ///   the directory holds something that is not a compatible LMDB environment, `.permissionDenied`.
    public init(path: String, options: EnvironmentOptions = EnvironmentOptions(), tables: [TableSpec] = []) throws {
        self.path = path
        self.options = options
        try Environment.prepareDirectory(path, options: options)
        let registration: OpenPathRegistry.Registration
        switch OpenPathRegistry.register(path) {
        case .registered(let made): registration = made
        case .alreadyOpen:
            throw StorageError(.alreadyOpen, "the environment at \(path) is already open in this process; share the one Environment instead of opening it twice (LMDB forbids two handles on one path in a process)")
        case .failed(let reason):
            throw StorageError.from(reason, operation: "opening the directory", path: path)
        }
        var created: OpaquePointer?
        var rc = mdb_env_create(&created)
        guard rc == 0, let env = created else {
            OpenPathRegistry.unregister(registration)
            throw StorageError.from(rc, operation: "mdb_env_create", path: path)
        }
        rc = mdb_env_set_mapsize(env, max(options.mapSize, 1 << 16))
        if rc == 0 { rc = mdb_env_set_maxreaders(env, options.maxReaders) }
        if rc == 0 { rc = mdb_env_set_maxdbs(env, options.maxTables) }
        if rc == 0 { rc = mdb_env_open(env, path, options.lmdbFlags, options.fileMode) }
        guard rc == 0 else {
            mdb_env_close(env)
            OpenPathRegistry.unregister(registration)
            if rc == ENOENT, options.readOnly {
                throw StorageError(.notFound, "\(path) is not a store (it has no data.mdb); create it first, or check the path", status: rc)
            }
            throw StorageError.from(rc, operation: "opening the environment", path: path)
        }
        self.handle = env
        self.registration = registration
        do {
            try openTables(tables)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the environment. Every transaction must have ended; later calls throw `.closed`.
    /// Called by `deinit` too.
    public func close() {
        precondition(mapLock.depthOnThisThread == 0, "Environment.close() called inside a transaction of \(path)")
        // Wait for the writer and every reader of this process, then close.
        let wasOpen = writerMutex.withLock {
            mapLock.withExclusive {
                stateMutex.withLock { () -> Bool in
                    defer { isClosed = true }
                    return !isClosed
                }
            } ?? false
        }
        guard wasOpen else { return }
        let trimLock = trimToUsedPages()
        mdb_env_close(handle)
        if let trimLock { Glibc.close(trimLock) }
        OpenPathRegistry.unregister(registration)
    }

    /// The named table opened at start-up.
    /// - Throws: `.notFound` if `name` was not in the `tables` passed to `init`.
    public func table(_ name: String) throws -> Table {
        guard let table = tablesByName[name] else {
            throw StorageError(.notFound, "table '\(name)' was not opened; list it in the `tables` passed when opening \(path)")
        }
        return table
    }

    /// The named table opened at start-up, or nil for an ``TableSpec/addedLater`` table that a
    /// read-only open did not find.
    public func tableIfPresent(_ name: String) -> Table? { tablesByName[name] }

    /// All named tables opened at start-up.
    public var tables: [Table] { tablesByName.values.sorted { $0.name < $1.name } }

    /// How many times this process grew the map since it opened the environment.
    public var mapGrowths: Int { stateMutex.withLock { growthCount } }

    /// Changes whenever this process remaps the file (its own growth, or adopting another
    /// process's). Pointers read from a snapshot stay valid for that snapshot's transaction id
    /// only while this value is unchanged: key caches of them by both.
    public var mapGeneration: Int { stateMutex.withLock { remapCount } }

    // MARK: Transactions

    /// Runs `body` in a read-only transaction on a consistent snapshot.
    ///
    /// Bytes returned by `txn` are valid only until `body` returns: copy what you keep.
    /// Reads never block writers or other readers.
    @available(*, noasync, message: "LMDB transactions block the thread; run them off the cooperative pool")
    public func read<R>(_ body: (borrowing Transaction) throws -> R) throws -> R {
        mapLock.acquireShared()
        defer { mapLock.releaseShared() }
        try checkOpen()
        let txn = try beginTransaction(readOnly: true)
        defer { mdb_txn_abort(txn) }
        return try body(Transaction(handle: txn, environment: self, isReadOnly: true, state: TransactionState()))
    }

    /// Runs `body` in the write transaction: commits when it returns, aborts and rethrows when it throws.
    ///
    /// If the map fills up, the transaction is aborted, the map grows and `body` runs again, so
    /// `body` must have no effects outside the transaction. Writes are serialised across threads
    /// and processes.
    ///
    /// - Throws: `.readOnly` in a read-only environment, `.nestedWrite` if this thread is already
    ///   inside `write`, `.mapFull` only when ``EnvironmentOptions/maximumMapSize`` is reached.
    @available(*, noasync, message: "LMDB transactions block the thread; run them off the cooperative pool")
    public func write<R>(_ body: (borrowing Transaction) throws -> R) throws -> R {
        try checkOpen()
        guard !options.readOnly else {
            throw StorageError(.readOnly, "the environment at \(path) was opened read-only; reopen it without `readOnly` to write")
        }
        let me = pthread_self()
        if stateMutex.withLock({ writerThread.map { pthread_equal($0, me) != 0 } ?? false }) {
            throw StorageError(.nestedWrite, "a write transaction was started inside another on the same thread; do all the work in the outer `write` closure")
        }
        // A thread holding a read transaction must not wait for the writer: the writer may be
        // waiting for every transaction to end so it can grow the map.
        if mapLock.depthOnThisThread > 0 {
            throw StorageError(.nestedWrite, "a write transaction was started while this thread holds a read transaction of \(path); end the read (copy what you need out of it) before writing")
        }
        return try writerMutex.withLock {
            stateMutex.withLock { writerThread = me }
            defer { stateMutex.withLock { writerThread = nil } }
            while true {
                let state = TransactionState()
                do {
                    return try writeOnce(state: state, body)
                } catch let error as StorageError where error.code == .mapFull || state.mapFull {
                    try growMap(after: error)
                } catch where state.mapFull {
                    try growMap(after: StorageError(.mapFull, "map full during a write to \(path)"))
                }
            }
        }
    }

    private func writeOnce<R>(state: TransactionState, _ body: (borrowing Transaction) throws -> R) throws -> R {
        mapLock.acquireShared()
        defer { mapLock.releaseShared() }
        try checkOpen()
        let txn = try beginTransaction(readOnly: false)
        let result: R
        do {
            result = try body(Transaction(handle: txn, environment: self, isReadOnly: false, state: state))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        if state.mapFull {
            mdb_txn_abort(txn)
            throw StorageError(.mapFull, "map full during a write to \(path)")
        }
        let rc = mdb_txn_commit(txn)
        guard rc == 0 else {
            if rc == MDB_MAP_FULL { state.mapFull = true }
            throw StorageError.from(rc, operation: "commit", path: path)
        }
        return result
    }

    /// Begins a transaction, adopting a map another process has grown (`MDB_MAP_RESIZED`).
    /// The caller holds the map lock shared.
    private func beginTransaction(readOnly: Bool) throws -> OpaquePointer {
        while true {
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
            if rc == 0, let txn { return txn }
            guard rc == MDB_MAP_RESIZED else {
                throw StorageError.from(rc, operation: readOnly ? "beginning a read transaction" : "beginning a write transaction", path: path)
            }
            mapLock.releaseShared()
            let adopted = mapLock.withExclusive { () -> Int32 in
                stateMutex.withLock { remapCount += 1 }
                return mdb_env_set_mapsize(handle, 0)
            }
            mapLock.acquireShared()
            if adopted == 0 {
                options.logger.debug("adopted a map another process grew", metadata: ["path": "\(path)", "map_bytes": "\(unlockedMapSize())"])
            }
            guard let adopted else {
                throw StorageError(.mapFull, "another process grew the map of \(path) while this thread holds a transaction; end it and retry", status: rc)
            }
            guard adopted == 0 else { throw StorageError.from(adopted, operation: "adopting the new map size", path: path) }
        }
    }

    /// Grows the map to at least `bytes` (within ``EnvironmentOptions/maximumMapSize``) before a
    /// large write, so the write does not fill the map and run again several times. Must not be
    /// called while this thread holds a transaction.
    public func reserveMapSize(_ bytes: Int) throws {
        try checkOpen()
        guard !options.readOnly else { return }
        let target = min(bytes, options.maximumMapSize)
        guard info().mapSize < target else { return }
        let outcome = mapLock.withExclusive { () -> Int32 in
            guard unlockedMapSize() < target else { return 0 }
            stateMutex.withLock { remapCount += 1 }
            return mdb_env_set_mapsize(handle, target)
        }
        guard let outcome else {
            throw StorageError(.invalidArgument, "the map of \(path) cannot grow while this thread holds a transaction")
        }
        guard outcome == 0 else { throw StorageError.from(outcome, operation: "growing the map", path: path) }
    }

    /// The map size, read without the map lock: for callers that hold it exclusively.
    private func unlockedMapSize() -> Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Doubles the map (up to the configured maximum) while no transaction of this process is open.
    private func growMap(after error: StorageError) throws {
        var sizes = (from: 0, to: 0)
        let outcome = try mapLock.withExclusive { () -> Int32 in
            let current = unlockedMapSize()
            guard current < options.maximumMapSize else {
                throw StorageError(.mapFull, "the map of \(path) is full at its maximum of \(current) bytes; raise `maximumMapSize` or free space (a compacting backup, `Environment.backup(to:compact: true)`)", cause: error)
            }
            let grown = min(options.maximumMapSize, max(current * 2, current + (16 << 20)))
            sizes = (current, grown)
            stateMutex.withLock { remapCount += 1 }
            return mdb_env_set_mapsize(handle, grown)
        }
        guard let outcome else {
            throw StorageError(.mapFull, "the map of \(path) is full and cannot grow while this thread holds a read transaction; end it before writing", cause: error)
        }
        guard outcome == 0 else { throw StorageError.from(outcome, operation: "growing the map", path: path) }
        stateMutex.withLock { growthCount += 1 }
        options.logger.notice("map grown", metadata: ["path": "\(path)", "from_bytes": "\(sizes.from)", "to_bytes": "\(sizes.to)"])
    }

    // MARK: Opening

    private static func prepareDirectory(_ path: String, options: EnvironmentOptions) throws {
        var info = stat()
        if stat(path, &info) != 0 {
            guard errno == ENOENT else { throw StorageError.from(errno, operation: "stat", path: path) }
            guard !options.readOnly else {
                throw StorageError(.notFound, "\(path) does not exist; create the store first, or check the path", status: ENOENT)
            }
            let directoryMode = options.fileMode | ((options.fileMode & 0o444) >> 2)
            guard mkdir(path, directoryMode) == 0 else {
                throw StorageError.from(errno, operation: "creating the directory", path: path)
            }
            return
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw StorageError(.invalidArgument, "\(path) is not a directory; a store is a directory holding data.mdb and lock.mdb")
        }
    }

    /// Opens every named table in one transaction that commits, so the handles become shared by
    /// all later transactions (LMDB keeps handles opened in an aborted transaction private to it).
    private func openTables(_ specs: [TableSpec]) throws {
        guard !specs.isEmpty else { return }
        func open(_ txn: borrowing Transaction) throws -> [String: Table] {
            var opened: [String: Table] = [:]
            for spec in specs {
                do {
                    opened[spec.name] = try openTable(spec, in: txn)
                } catch let error as StorageError where error.code == .notFound && spec.addedLater {
                    continue
                }
            }
            return opened
        }
        if !options.readOnly {
            tablesByName = try write(open)
            return
        }
        mapLock.acquireShared()
        defer { mapLock.releaseShared() }
        let txn = try beginTransaction(readOnly: true)
        do {
            tablesByName = try open(Transaction(handle: txn, environment: self, isReadOnly: true, state: TransactionState()))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        let rc = mdb_txn_commit(txn)
        guard rc == 0 else { throw StorageError.from(rc, operation: "opening tables", path: path) }
    }

    /// Opens one table and checks that it was created with the flags asked for: LMDB itself
    /// silently keeps the flags a table was created with.
    private func openTable(_ spec: TableSpec, in txn: borrowing Transaction) throws -> Table {
        var dbi = MDB_dbi()
        let create = options.readOnly || !(options.createsTables || spec.addedLater) ? 0 : UInt32(MDB_CREATE)
        var rc = mdb_dbi_open(txn.handle, spec.name, spec.flags.rawValue | create, &dbi)
        if rc == MDB_NOTFOUND {
            throw StorageError(.notFound, "table '\(spec.name)' does not exist in \(path); was the store made by another program, or never written?", status: rc)
        }
        guard rc == 0 else { throw StorageError.from(rc, operation: "opening table '\(spec.name)'", path: path) }
        var stored: UInt32 = 0
        rc = mdb_dbi_flags(txn.handle, dbi, &stored)
        guard rc == 0 else { throw StorageError.from(rc, operation: "reading the flags of table '\(spec.name)'", path: path) }
        let storedFlags = TableFlags(rawValue: stored).intersection(TableFlags.persistent)
        guard storedFlags == spec.flags.intersection(TableFlags.persistent) else {
            throw StorageError(.versionMismatch, "table '\(spec.name)' in \(path) was created with flags \(storedFlags.rawValue) but is opened with \(spec.flags.rawValue); the store was written by an incompatible version")
        }
        return Table(name: spec.name, flags: spec.flags, dbi: dbi)
    }

    func checkOpen() throws {
        if stateMutex.withLock({ isClosed }) {
            throw StorageError(.closed, "the environment at \(path) was closed; open it again")
        }
    }
}

/// What a transaction learned that outlives it: whether LMDB reported a full map.
final class TransactionState {
    var mapFull = false
}
