import CLMDB

@_exported import Basics

/// The errors of the storage layer.
public enum StorageErrorDomain: ErrorDomain { public static let name = "storage" }

/// An error from the storage layer (``ChainedError``): a matchable code, a message that says
/// what went wrong and how to fix it, the underlying LMDB or errno status as its cause
/// (``LMDBStatus``), and where it was raised.
///
/// ```swift
/// do { try environment.write { txn in try txn.put(table, key: k, value: v) } }
/// catch let error as StorageError where error.code == .readOnly { … }
/// ```
public typealias StorageError = LibraryError<StorageErrorDomain>

extension ErrorCode where Domain == StorageErrorDomain {
    /// The map is full and could not be grown (the configured maximum map size was reached).
    public static let mapFull = Self("mapFull")
    /// Every reader slot of the lock file is taken.
    public static let readersFull = Self("readersFull")
    /// A key, table or file that was asked for does not exist.
    public static let notFound = Self("notFound")
    /// The key exists already and the write asked not to overwrite it.
    public static let keyExists = Self("keyExists")
    /// The data file is damaged.
    public static let corrupted = Self("corrupted")
    /// The file was written by an incompatible LMDB version or is not an LMDB file.
    public static let versionMismatch = Self("versionMismatch")
    /// The same environment path is already open in this process.
    public static let alreadyOpen = Self("alreadyOpen")
    /// The environment was opened read-only, or a write was attempted in a read transaction.
    public static let readOnly = Self("readOnly")
    /// A write transaction was started while this thread already holds one.
    public static let nestedWrite = Self("nestedWrite")
    /// A key or value has a size LMDB does not accept (empty keys, keys above 511 bytes).
    public static let badValueSize = Self("badValueSize")
    /// More named tables were asked for than the environment allows.
    public static let tablesFull = Self("tablesFull")
    /// The transaction touched more pages than LMDB can hold dirty at once.
    public static let transactionFull = Self("transactionFull")
    /// Permission denied by the file system.
    public static let permissionDenied = Self("permissionDenied")
    /// The disk is full.
    public static let diskFull = Self("diskFull")
    /// An input/output error from the operating system.
    public static let io = Self("io")
    /// The environment was closed.
    public static let closed = Self("closed")
    /// LMDB hit a fatal error in this process (`MDB_PANIC`: a meta page update failed, often
    /// after an I/O error) and refuses further work on this open environment; the file itself
    /// holds its last commit. Close and reopen.
    public static let panicked = Self("panicked")
    /// A caller passed an argument the storage layer cannot use.
    public static let invalidArgument = Self("invalidArgument")
    /// Any other LMDB failure; see ``StorageError/cause``.
    public static let other = Self("other")
}

/// An LMDB return code or `errno` value, with LMDB's own words for it (`mdb_strerror` covers
/// both): the cause of a ``StorageError`` raised by a failing call.
public struct LMDBStatus: Error, Hashable, Sendable, CustomStringConvertible {
    public let returnCode: Int32
    public init(_ returnCode: Int32) { self.returnCode = returnCode }
    public var description: String { "\(returnCode): \(String(cString: mdb_strerror(returnCode)))" }
}

extension LibraryError where Domain == StorageErrorDomain {
    /// An error caused by an LMDB return code or `errno` value.
    init(_ code: Code, _ message: String, status: Int32?, file: String = #fileID, line: Int = #line) {
        self.init(code, message, cause: status.map(LMDBStatus.init), file: file, line: line)
    }

    /// The LMDB return code or `errno` behind this error, if one is.
    public var returnCode: Int32? { (cause as? LMDBStatus)?.returnCode }

    /// Maps an LMDB or errno return code to an error with a remedy, naming the operation and path.
    static func from(_ rc: Int32, operation: String, path: String,
                     file: String = #fileID, line: Int = #line) -> StorageError {
        let (code, remedy): (Code, String)
        switch rc {
        case MDB_MAP_FULL:
            (code, remedy) = (.mapFull, "the map size limit was reached; raise `maximumMapSize` in the environment options")
        case MDB_READERS_FULL:
            (code, remedy) = (.readersFull, "all reader slots are taken; close idle readers, clear the stale slots of dead processes (`Environment.clearStaleReaders()`) or raise `maxReaders`")
        case MDB_NOTFOUND:
            (code, remedy) = (.notFound, "no such key or table")
        case MDB_KEYEXIST:
            (code, remedy) = (.keyExists, "the key is already present; use an upsert to replace it")
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND:
            (code, remedy) = (.corrupted, "the data file is damaged; restore it from a backup")
        case MDB_PANIC:
            (code, remedy) = (.panicked, "LMDB stopped this open environment after a fatal error (a failed meta-page write, often an I/O error); the file keeps its last commit: close the environment and open it again, and check the disk if it recurs")
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
        return StorageError(code, "\(operation) failed for \(path): \(remedy)", status: rc, file: file, line: line)
    }
}
