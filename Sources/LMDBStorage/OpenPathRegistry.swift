import Basics

/// The process-wide set of open environments, by the device and inode of their directory.
///
/// LMDB forbids opening one environment twice in a process: the second handle's locks and
/// the first's would not see each other, and closing either releases the other's POSIX locks.
/// Identity is the file system object, not the spelling of the path, so symlinks and `..` do
/// not slip past the guard.
///
/// A directory's inode number is free for reuse once the directory is deleted, even while an
/// environment that lived in it is still open (its files stay alive through their descriptors,
/// the directory does not). So an entry whose environment's data file has been unlinked no
/// longer stands for any directory, and a new directory that happens to get its inode number
/// may be opened.
enum OpenPathRegistry {
    struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// One registration: `token` tells its owner's unregistration apart from a later one of the
    /// same identity; `dataFile` is the open data file's descriptor once known (-1 before).
    private struct Entry {
        let token: UInt64
        var dataFile: Int32
    }

    private static let mutex = Mutex()
    nonisolated(unsafe) private static var open: [FileIdentity: Entry] = [:]
    nonisolated(unsafe) private static var nextToken: UInt64 = 1

    static func identity(of path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Registers `identity`; returns its token, or nil when an environment of this process has
    /// that directory open.
    static func register(_ identity: FileIdentity) -> UInt64? {
        mutex.withLock {
            if let existing = open[identity], !isUnlinked(existing.dataFile) { return nil }
            let token = nextToken
            nextToken += 1
            open[identity] = Entry(token: token, dataFile: -1)
            return token
        }
    }

    /// Records the data file of the environment registered with `token`, once it is open.
    static func setDataFile(_ descriptor: Int32, of identity: FileIdentity, token: UInt64) {
        mutex.withLock {
            if open[identity]?.token == token { open[identity]?.dataFile = descriptor }
        }
    }

    /// Removes the registration made with `token` (and nothing registered since).
    static func unregister(_ identity: FileIdentity, token: UInt64) {
        mutex.withLock {
            if open[identity]?.token == token { open[identity] = nil }
        }
    }

    /// Whether the file open as `descriptor` has no name left (its directory was deleted).
    private static func isUnlinked(_ descriptor: Int32) -> Bool {
        guard descriptor >= 0 else { return false }
        var info = stat()
        return fstat(descriptor, &info) == 0 && info.st_nlink == 0
    }
}
