import CLMDB
import Basics
import Logging

/// Map size and reader use of an environment (`MDB_envinfo`).
public struct EnvironmentInfo: Sendable, Equatable {
    /// Current size of the memory map in bytes.
    public var mapSize: Int
    /// Number of the last page used: `(lastPage + 1) * pageSize` bytes of the file hold data.
    public var lastPage: Int
    /// Id of the last committed transaction.
    public var lastTransactionID: Int
    /// Reader slots in the lock file.
    public var maxReaders: Int
    /// Reader slots ever used (including stale ones not yet cleared).
    public var readersUsed: Int
}

extension Environment {
    /// Map size, last page and reader slots.
    public func info() -> EnvironmentInfo {
        var info = MDB_envinfo()
        mapLock.acquireShared()
        mdb_env_info(handle, &info)
        mapLock.releaseShared()
        return EnvironmentInfo(mapSize: info.me_mapsize, lastPage: info.me_last_pgno,
                               lastTransactionID: info.me_last_txnid, maxReaders: Int(info.me_maxreaders),
                               readersUsed: Int(info.me_numreaders))
    }

    /// Statistics of the environment's main B-tree (which holds the named tables' roots).
    public func statistics() throws -> TableStatistics {
        try checkOpen()
        var stat = MDB_stat()
        mapLock.acquireShared()
        let rc = mdb_env_stat(handle, &stat)
        mapLock.releaseShared()
        guard rc == 0 else { throw StorageError.from(rc, operation: "mdb_env_stat", path: path) }
        return TableStatistics(stat)
    }

    /// Size of `data.mdb` on disk, in bytes (sparse regions of a grown map count as their length).
    public func fileSize() throws -> Int {
        var info = stat()
        let file = path + "/data.mdb"
        guard stat(file, &info) == 0 else { throw StorageError.from(errno, operation: "stat", path: file) }
        return Int(info.st_size)
    }

    /// Clears reader slots left by processes that died without ending their transactions
    /// (`mdb_reader_check`). Stale slots pin old pages and make the file grow. Returns how many
    /// slots were cleared.
    @discardableResult
    public func clearStaleReaders() throws -> Int {
        try checkOpen()
        var dead: Int32 = 0
        let rc = mdb_reader_check(handle, &dead)
        guard rc == 0 else { throw StorageError.from(rc, operation: "mdb_reader_check", path: path) }
        if dead > 0 {
            options.logger.notice("stale reader slots cleared", metadata: ["path": "\(path)", "slots": "\(dead)"])
        }
        return Int(dead)
    }

    /// Writes a consistent copy of the environment into the directory `destination` while readers
    /// and the writer go on (a hot backup, `mdb_env_copyfd2`). The directory is created if missing
    /// and must not hold a `data.mdb`. With `compact`, free pages are left out and pages
    /// renumbered: slower, but the copy is as small as the data.
    ///
    /// The copy is private and durable: it is written to `data.mdb.partial` with the
    /// environment's ``EnvironmentOptions/fileMode`` (whatever the umask or the directory),
    /// flushed with `fsync`, renamed to `data.mdb` and the directory flushed too. A copy that
    /// fails midway leaves no `data.mdb` behind (and no partial file), so a retry just works; a
    /// power cut leaves either no `data.mdb` or a whole one.
    public func backup(to destination: String, compact: Bool = false) throws {
        try checkOpen()
        var info = stat()
        if stat(destination, &info) != 0 {
            guard mkdir(destination, options.fileMode | ((options.fileMode & 0o444) >> 2)) == 0 else {
                throw StorageError.from(errno, operation: "creating the backup directory", path: destination)
            }
        } else if access(destination + "/data.mdb", F_OK) == 0 {
            throw StorageError(.keyExists, "\(destination) already holds a data.mdb; back up into a new or empty directory")
        }
        let partial = destination + "/data.mdb.partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, options.fileMode)
        guard fd >= 0 else { throw StorageError.from(errno, operation: "creating the backup file", path: partial) }
        var closed = false
        defer {
            if !closed { Glibc.close(fd) }
        }
        do {
            // open() applied the umask; the copy gets exactly the store's permissions.
            guard fchmod(fd, options.fileMode) == 0 else { throw StorageError.from(errno, operation: "setting the backup's permissions", path: partial) }
            // The copy reads through the map: keep it from being resized meanwhile.
            mapLock.acquireShared()
            let rc = mdb_env_copyfd2(handle, fd, compact ? UInt32(MDB_CP_COMPACT) : 0)
            mapLock.releaseShared()
            guard rc == 0 else { throw StorageError.from(rc, operation: "backup", path: destination) }
            guard fsync(fd) == 0 else { throw StorageError.from(errno, operation: "flushing the backup to disk", path: partial) }
            closed = true
            guard Glibc.close(fd) == 0 else { throw StorageError.from(errno, operation: "closing the backup", path: partial) }
            guard rename(partial, destination + "/data.mdb") == 0 else {
                throw StorageError.from(errno, operation: "moving the backup into place", path: destination)
            }
        } catch {
            unlink(partial)
            throw error
        }
        try Self.syncDirectory(destination)
    }

    /// Flushes a directory's entries (a rename into it) to disk.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.from(errno, operation: "opening the directory to flush it", path: path) }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw StorageError.from(errno, operation: "flushing the directory", path: path) }
    }

    /// Flushes buffers to disk; needed only with ``SyncMode/noSync`` or ``SyncMode/noMetaSync``.
    public func sync(force: Bool = true) throws {
        try checkOpen()
        let rc = mdb_env_sync(handle, force ? 1 : 0)
        guard rc == 0 else { throw StorageError.from(rc, operation: "mdb_env_sync", path: path) }
    }

    /// The LMDB library version this process runs, e.g. "LMDB 0.9.24: (July 24, 2019)".
    public static var libraryVersion: String {
        String(cString: mdb_version(nil, nil, nil))
    }
}
