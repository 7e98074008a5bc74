import Basics

/// The process-wide set of open environments, by device and inode.
///
/// LMDB forbids opening one environment twice in a process: the second handle's locks and
/// the first's would not see each other, and closing either releases the other's POSIX locks.
/// Identity is the file system object, not the spelling of the path, so symlinks and `..` do
/// not slip past the guard.
enum OpenPathRegistry {
    struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private static let mutex = Mutex()
    nonisolated(unsafe) private static var open: Set<FileIdentity> = []

    static func identity(of path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Registers `identity`; returns false when it is already open in this process.
    static func register(_ identity: FileIdentity) -> Bool {
        mutex.withLock { open.insert(identity).inserted }
    }

    static func unregister(_ identity: FileIdentity) {
        _ = mutex.withLock { open.remove(identity) }
    }
}
