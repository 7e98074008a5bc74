import CLMDB
import Glibc

/// An error from the storage layer: a matchable ``code``, a ``message`` that says what went wrong
/// and how to fix it, the underlying LMDB or errno ``cause``, and where it was raised.
///
/// ```swift
/// do { try environment.write { txn in try txn.put(table, key: k, value: v) } }
/// catch let error as StorageError where error.code == .readOnly { … }
/// ```
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// A category of storage failure. Extensible: compare with `==` against the static values.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The map is full and could not be grown (the configured maximum map size was reached).
        public static let mapFull = Code("mapFull")
        /// Every reader slot of the lock file is taken.
        public static let readersFull = Code("readersFull")
        /// A key, table or file that was asked for does not exist.
        public static let notFound = Code("notFound")
        /// The key exists already and the write asked not to overwrite it.
        public static let keyExists = Code("keyExists")
        /// The data file is damaged.
        public static let corrupted = Code("corrupted")
        /// The file was written by an incompatible LMDB version or is not an LMDB file.
        public static let versionMismatch = Code("versionMismatch")
        /// The same environment path is already open in this process.
        public static let alreadyOpen = Code("alreadyOpen")
        /// The environment was opened read-only, or a write was attempted in a read transaction.
        public static let readOnly = Code("readOnly")
        /// A write transaction was started while this thread already holds one.
        public static let nestedWrite = Code("nestedWrite")
        /// A key or value has a size LMDB does not accept (empty keys, keys above 511 bytes).
        public static let badValueSize = Code("badValueSize")
        /// More named tables were asked for than the environment allows.
        public static let tablesFull = Code("tablesFull")
        /// The transaction touched more pages than LMDB can hold dirty at once.
        public static let transactionFull = Code("transactionFull")
        /// Permission denied by the file system.
        public static let permissionDenied = Code("permissionDenied")
        /// The disk is full.
        public static let diskFull = Code("diskFull")
        /// An input/output error from the operating system.
        public static let io = Code("io")
        /// The environment was closed.
        public static let closed = Code("closed")
        /// A caller passed an argument the storage layer cannot use.
        public static let invalidArgument = Code("invalidArgument")
        /// Any other LMDB failure; see ``StorageError/cause``.
        public static let other = Code("other")
    }

    /// What kind of failure this is.
    public let code: Code
    /// What went wrong, where, and how it may be fixed.
    public let message: String
    /// The LMDB return code or `errno` that caused it, if any.
    public let cause: Int32?
    /// Source location that raised the error.
    public let file: String
    public let line: Int

    public init(_ code: Code, _ message: String, cause: Int32? = nil,
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let cause { text += " [\(StorageError.causeDescription(cause))]" }
        return text
    }

    /// LMDB's own words for a return code (`mdb_strerror` also covers errno values).
    public static func causeDescription(_ rc: Int32) -> String {
        "\(rc): \(String(cString: mdb_strerror(rc)))"
    }
}

extension StorageError {
    /// Maps an LMDB or errno return code to an error with a remedy, naming the operation and path.
    static func from(_ rc: Int32, operation: String, path: String,
                     file: String = #fileID, line: Int = #line) -> StorageError {
        let (code, remedy): (Code, String)
        switch rc {
        case MDB_MAP_FULL:
            (code, remedy) = (.mapFull, "the map size limit was reached; raise `maximumMapSize` in the environment options")
        case MDB_READERS_FULL:
            (code, remedy) = (.readersFull, "all reader slots are taken; close idle readers, run `bgan-db stats` (it clears stale slots of dead processes) or raise `maxReaders`")
        case MDB_NOTFOUND:
            (code, remedy) = (.notFound, "no such key or table")
        case MDB_KEYEXIST:
            (code, remedy) = (.keyExists, "the key is already present; use an upsert to replace it")
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_PANIC:
            (code, remedy) = (.corrupted, "the data file is damaged; restore it from a backup (`bgan-db backup`)")
        case MDB_VERSION_MISMATCH, MDB_INVALID, MDB_INCOMPATIBLE:
            (code, remedy) = (.versionMismatch, "this is not an LMDB file of a compatible version, or a table was opened with other flags than it was created with")
        case MDB_BAD_VALSIZE:
            (code, remedy) = (.badValueSize, "keys must be 1 to 511 bytes (and values of dup-sort tables too)")
        case MDB_DBS_FULL:
            (code, remedy) = (.tablesFull, "raise `maxTables` in the environment options")
        case MDB_TXN_FULL:
            (code, remedy) = (.transactionFull, "split the batch into smaller transactions")
        case EACCES, EPERM:
            (code, remedy) = (.permissionDenied, "check the permissions of the directory and its files")
        case EROFS:
            (code, remedy) = (.readOnly, "the file system is read-only; open the environment read-only")
        case ENOSPC:
            (code, remedy) = (.diskFull, "free disk space, then retry")
        case ENOENT:
            (code, remedy) = (.notFound, "the path does not exist; create it first or check the spelling")
        case EIO:
            (code, remedy) = (.io, "the operating system reported an I/O error: the disk may be full or failing; free space or check the disk")
        case EINVAL:
            (code, remedy) = (.invalidArgument, "LMDB rejected an argument (is this an LMDB environment? is a path on a network file system?)")
        default:
            (code, remedy) = (.other, "see the cause")
        }
        return StorageError(code, "\(operation) failed for \(path): \(remedy)", cause: rc, file: file, line: line)
    }
}
