import Foundation

/// An advisory lock (`flock`) on a store's directory that makes creating a store one step for
/// every process: ``Store/create(at:bitCount:substrings:options:)`` holds it exclusively from
/// its first look into the directory until its meta records have committed, and opening holds
/// it shared while it looks. So no process takes a store another is still making for one a
/// killed create left (and removes it), or for no store at all; a second creator waits and then
/// finds the store made. A killed holder's lock goes with its process.
struct DirectoryLock: ~Copyable {
    private let descriptor: Int32
    /// Whether the directory was made for this lock (a create that fails removes it, if empty).
    let madeDirectory: Bool

    private init(descriptor: Int32, exclusive: Bool, madeDirectory: Bool) {
        // EINTR: a signal came while waiting; wait again. Any other error (a file system
        // without locks): go on unlocked, as before there were any.
        while flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) != 0 && errno == EINTR {}
        self.descriptor = descriptor
        self.madeDirectory = madeDirectory
    }

    /// For a create: makes the directory at `path` unless it exists (with `mode`), then waits
    /// for its exclusive lock — again if a creator that failed removed the directory meanwhile.
    static func forCreating(at path: String, mode: mode_t) throws -> DirectoryLock {
        for _ in 0..<16 {
            let made = mkdir(path, mode) == 0
            if !made && errno != EEXIST {
                let parent = (path as NSString).deletingLastPathComponent
                if errno == ENOENT {
                    throw StoreError(.invalidArgument, "cannot make the directory \(path) for the store: \(parent.isEmpty ? "its parent" : parent) does not exist; create it first (`mkdir -p`), or check the path")
                }
                throw StoreError(errno == EACCES ? .permissionDenied : .invalidArgument,
                                 "cannot make the directory \(path) for the store: \(String(cString: strerror(errno))); check the permissions of \(parent.isEmpty ? "its parent" : parent)")
            }
            let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else {
                if errno == ENOENT { continue }
                if errno == ENOTDIR {
                    throw StoreError(.invalidArgument, "\(path) is a file, not a directory; a store is a directory holding data.mdb and lock.mdb: choose another path")
                }
                throw StoreError(errno == EACCES ? .permissionDenied : .invalidArgument,
                                 "cannot open the directory \(path): \(String(cString: strerror(errno))); run as its owner, or choose another path")
            }
            let lock = DirectoryLock(descriptor: descriptor, exclusive: true, madeDirectory: made)
            if lock.isStillAt(path) { return lock }
        }
        throw StoreError(.invalidArgument, "\(path) kept being removed while a store was to be made there; check what else works on that path")
    }

    /// For opening: runs `body` once no create holds the directory at `path`, holding it shared
    /// meanwhile (unlocked when the directory cannot be opened for reading: `body`'s own checks
    /// then report what is wrong).
    static func whileNoCreation<T>(at path: String, _ body: () throws -> T) throws -> T {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return try body() }
        let lock = DirectoryLock(descriptor: descriptor, exclusive: false, madeDirectory: false)
        let result = try body()
        lock.unlock()
        return result
    }

    /// Whether `path` still names the locked directory.
    private func isStillAt(_ path: String) -> Bool {
        var locked = stat(), named = stat()
        guard fstat(descriptor, &locked) == 0, stat(path, &named) == 0 else { return false }
        return locked.st_dev == named.st_dev && locked.st_ino == named.st_ino
    }

    /// Releases the lock; so does the end of the value's life, on any path that throws.
    consuming func unlock() {}

    deinit { close(descriptor) }
}
