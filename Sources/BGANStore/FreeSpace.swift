import Foundation

extension Store {
    /// Bytes a new store needs beyond what it is created with: the lock file (which LMDB maps,
    /// so that a full disk would end the process with SIGBUS instead of an error) and the first
    /// pages.
    static let creationHeadroom = 1 << 20

    /// Free bytes for unprivileged users on the file system holding `path` (or, if `path` does
    /// not exist yet, its nearest existing parent).
    public static func freeBytes(at path: String) throws -> Int {
        var probe = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: probe.path), probe.path != "/" { probe.deleteLastPathComponent() }
        var info = statvfs()
        guard statvfs(probe.path, &info) == 0 else {
            throw StoreError(.invalidArgument, "cannot read the free space of \(probe.path): \(String(cString: strerror(errno)))")
        }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// Refuses to start a store where `bytes` (plus the headroom) do not fit.
    static func requireFreeSpace(_ bytes: Int, at path: String) throws {
        let free = try freeBytes(at: path)
        guard free >= bytes + creationHeadroom else {
            throw StoreError(.diskFull, "the file system holding \(path) has \(free >> 10) KiB free; a new store needs about \((bytes + creationHeadroom) >> 10) KiB. Free space, or create the store elsewhere")
        }
    }
}
