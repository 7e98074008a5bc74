import Basics

/// The process-wide set of open environments, by the device and inode of their directory.
///
/// LMDB forbids opening one environment twice in a process: the second handle's locks and
/// the first's would not see each other, and closing either releases the other's POSIX locks.
/// Identity is the file system object, not the spelling of the path, so symlinks and `..` do
/// not slip past the guard.
///
/// Each registration holds its directory open. A deleted directory's inode number is free for
/// reuse only once nothing refers to the directory, so while it is registered no new directory
/// can get its number: two registrations with one identity are always one directory, whatever
/// was renamed or deleted meanwhile. (Without the held descriptor a new directory could be
/// refused as "already open" because a deleted one with its number still had an environment.)
enum OpenPathRegistry {
    struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// A directory held open for as long as it is registered, and the token that unregisters it.
    struct Registration {
        let identity: FileIdentity
        let token: UInt64
    }

    /// Linux's `O_PATH` (not exported to Swift): a descriptor that names the directory without
    /// needing read permission on it.
    private static let pathOnly: Int32 = 0o10_000_000

    private static let mutex = Mutex()
    nonisolated(unsafe) private static var open: [FileIdentity: (token: UInt64, directory: Int32)] = [:]
    nonisolated(unsafe) private static var nextToken: UInt64 = 1

    /// The result of trying to register the directory at a path.
    enum Outcome {
        case registered(Registration)
        /// An environment of this process has that directory open.
        case alreadyOpen
        /// The directory cannot be opened or examined; `errno` is the reason.
        case failed(errno: Int32)
    }

    /// Opens the directory at `path` and registers it, unless an environment of this process
    /// has it open.
    static func register(_ path: String) -> Outcome {
        let directory = Glibc.open(path, pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { return .failed(errno: errno) }
        var info = stat()
        guard fstat(directory, &info) == 0 else {
            let reason = errno
            Glibc.close(directory)
            return .failed(errno: reason)
        }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        let token: UInt64? = mutex.withLock {
            guard open[identity] == nil else { return nil }
            defer { nextToken += 1 }
            open[identity] = (nextToken, directory)
            return nextToken
        }
        guard let token else {
            Glibc.close(directory)
            return .alreadyOpen
        }
        return .registered(Registration(identity: identity, token: token))
    }

    /// Removes `registration` (and nothing registered since) and lets its directory go.
    static func unregister(_ registration: Registration) {
        let directory: Int32? = mutex.withLock {
            guard let entry = open[registration.identity], entry.token == registration.token else { return nil }
            open[registration.identity] = nil
            return entry.directory
        }
        if let directory { Glibc.close(directory) }
    }

    /// Whether the directory of `identity` is registered (for tests).
    static func isRegistered(_ identity: FileIdentity) -> Bool {
        mutex.withLock { open[identity] != nil }
    }
}
