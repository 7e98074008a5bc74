/// The errors of files a module keeps outside memory (scratch files, checkpoints read in place).
public enum FileErrorDomain: ErrorDomain { public static let name = "file" }

/// A file that cannot be created, written or read (``ChainedError``): the message names the file,
/// the operation and the system's reason.
public typealias FileError = LibraryError<FileErrorDomain>

extension ErrorCode where Domain == FileErrorDomain {
    /// A file could not be created or written (no space, no permission).
    public static let unwritable = Self("unwritable")
    /// A file could not be opened or read, or ended early.
    public static let unreadable = Self("unreadable")
}

/// An open file read and written at explicit offsets (`pread`/`pwrite`), safe to read from several
/// threads at once. Closed when the last reference goes.
public final class PositionedFile: @unchecked Sendable {
    /// What messages call the file (its path, or what a scratch file holds).
    public let name: String
    private let descriptor: Int32

    /// Opens `path` for reading.
    /// - Throws: ``FileError`` `.unreadable` when it cannot be opened.
    public init(reading path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw FileError(.unreadable, "cannot open \(path): \(String(cString: strerror(errno))); check that it exists and is readable")
        }
        self.descriptor = descriptor
        name = path
    }

    /// A new empty file in `TMPDIR` (else `/tmp`), unlinked at once so that it disappears with
    /// this object (or the process) whatever happens; `purpose` names it in messages
    /// ("the neighbourhood structure").
    /// - Throws: ``FileError`` `.unwritable` when the folder has no room or is not writable.
    public init(scratchFor purpose: String) throws {
        let folder = Self.scratchFolder
        var template = Array("\(folder)/bgan-scratch-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw FileError(.unwritable, "cannot create a temporary file in \(folder) for \(purpose): \(String(cString: strerror(errno))); set TMPDIR to a writable folder with room")
        }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.descriptor = descriptor
        name = "the temporary file for \(purpose) in \(folder)"
    }

    /// Takes over an open `descriptor` (closed with this object); `name` names it in messages.
    public init(adopting descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    deinit { close(descriptor) }

    /// Where scratch files go: `TMPDIR`, else `/tmp`.
    public static var scratchFolder: String {
        getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    /// The file's size in bytes.
    public func size() throws -> Int {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw FileError(.unreadable, "cannot read the size of \(name): \(String(cString: strerror(errno)))")
        }
        return Int(status.st_size)
    }

    /// Fills `destination` from the bytes at `offset`.
    /// - Throws: ``FileError`` `.unreadable` when the read fails or the file ends first.
    public func read(into destination: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        try Self.repeat(destination.count, { done in
            pread(descriptor, destination.baseAddress! + done, destination.count - done, off_t(offset + done))
        }) { got in
            FileError(.unreadable, "cannot read \(destination.count) bytes at \(offset) of \(name)\(got < 0 ? ": \(String(cString: strerror(errno)))" : ": the file ends early")")
        }
    }

    /// `count` values of `T` from the bytes at `offset` (the machine's byte order).
    public func read<T: FixedWidthInteger>(_ type: T.Type, count: Int, at offset: Int) throws -> [T] {
        var values = [T](repeating: 0, count: count)
        try values.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        return values
    }

    /// Writes all of `bytes` at `offset`.
    /// - Throws: ``FileError`` `.unwritable` when the write fails (no space left, an I/O error).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        try Self.repeat(bytes.count, { done in
            pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
        }) { _ in
            FileError(.unwritable, "cannot write \(bytes.count) bytes at \(offset) of \(name): \(String(cString: strerror(errno))); free space there\(name.hasPrefix("the temporary file") ? " or set TMPDIR to another folder" : "")")
        }
    }

    /// Calls `transfer(done)` — one `pread`/`pwrite` of what is left after `done` bytes — until
    /// `count` bytes have moved, again after an interrupted call; `failure(result)` says why
    /// when a call moves nothing (0: the file ended; negative: `errno` holds the reason).
    private static func `repeat`(_ count: Int, _ transfer: (_ done: Int) -> Int, failure: (Int) -> FileError) throws {
        var done = 0
        while done < count {
            let moved = transfer(done)
            if moved < 0, errno == EINTR { continue }
            guard moved > 0 else { throw failure(moved) }
            done += moved
        }
    }

    /// Flushes what was written to the disk.
    /// - Throws: ``FileError`` `.unwritable` when the disk refuses it.
    public func synchronize() throws {
        guard fsync(descriptor) == 0 else {
            throw FileError(.unwritable, "cannot flush \(name) to disk: \(String(cString: strerror(errno)))")
        }
    }
}
