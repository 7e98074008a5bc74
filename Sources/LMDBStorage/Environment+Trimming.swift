import Basics
import CLMDB

extension Environment {
    /// Cuts a write-map environment's data file down to the pages in use, when this process is
    /// the only one that has the environment open. Called by ``close()`` before LMDB closes.
    ///
    /// LMDB sizes the data file of an `MDB_WRITEMAP` environment to its whole map, so a bulk
    /// import that grew the map to 16 GB leaves a 16 GB file holding 6.5 GB: sparse on disk, but
    /// a plain copy (`cp`, `rsync` without `--sparse`, most backup tools) writes every zero.
    ///
    /// Safe against other processes: LMDB's writer lock is held, so no commit moves the last page
    /// meanwhile, and byte 0 of the lock file is taken exclusively — which only succeeds when no
    /// other process has the environment open (each holds it shared) and keeps newcomers waiting
    /// in their open until LMDB's close releases this process's locks. Pages past the last one
    /// are free, and LMDB extends the file again when it needs them.
    ///
    /// - Returns: the lock-file descriptor to close after `mdb_env_close` (closing it earlier
    ///   would drop LMDB's own lock while the environment is still open), or nil.
    func trimToUsedPages() -> Int32? {
        guard options.writeMap, !options.readOnly else { return nil }
        var txn: OpaquePointer?
        guard mdb_txn_begin(handle, nil, 0, &txn) == 0, let txn else { return nil }
        defer { mdb_txn_abort(txn) }
        let lockFile = Glibc.open(path + "/lock.mdb", O_RDWR | O_CLOEXEC)
        guard lockFile >= 0 else { return nil }
        var exclusive = flock()
        exclusive.l_type = Int16(F_WRLCK)
        exclusive.l_whence = Int16(SEEK_SET)
        exclusive.l_start = 0
        exclusive.l_len = 1
        guard fcntl(lockFile, F_SETLK, &exclusive) == 0 else { return lockFile }
        var info = MDB_envinfo(), statistics = MDB_stat(), dataFile: Int32 = -1
        guard mdb_env_info(handle, &info) == 0, mdb_env_stat(handle, &statistics) == 0, mdb_env_get_fd(handle, &dataFile) == 0 else {
            return lockFile
        }
        let used = off_t(info.me_last_pgno + 1) * off_t(statistics.ms_psize)
        var file = stat()
        if fstat(dataFile, &file) == 0, file.st_size > used, ftruncate(dataFile, used) == 0 {
            options.logger.debug("data file trimmed to the pages in use", metadata: ["path": "\(path)", "bytes": "\(used)", "was": "\(file.st_size)"])
        }
        return lockFile
    }
}
