import Basics
import CLMDB
import Logging

/// How durable a commit is. LMDB trades durability for speed through these flags.
public enum SyncMode: Sendable {
    /// `fsync` data and meta page at every commit: a committed transaction survives a power cut.
    case full
    /// `MDB_NOMETASYNC`: skip the meta page flush. A crash may lose the last commit, never consistency.
    case noMetaSync
    /// `MDB_NOSYNC`: leave flushing to the OS. A system crash may lose recent commits, and with
    /// file systems that reorder writes, damage the file. Call ``Environment/sync(force:)`` yourself.
    case noSync
}

/// Settings of an ``Environment``. A `Sendable` value of defaulted fields:
///
/// ```swift
/// var options = EnvironmentOptions()
/// options.mapSize = 1 << 30
/// let env = try Environment(path: "/data/store", options: options, tables: [.init("items")])
/// ```
public struct EnvironmentOptions: Sendable {
    /// Initial size of the memory map in bytes. It grows by itself when full (up to
    /// ``maximumMapSize``), so a small start is fine; a larger start avoids early regrowth.
    public var mapSize: Int = 64 << 20
    /// Upper bound for automatic map growth, in bytes.
    public var maximumMapSize: Int = 1 << 40
    /// Maximum number of concurrent read transactions across all processes (lock-file slots).
    public var maxReaders: UInt32 = 126
    /// Maximum number of named tables.
    public var maxTables: UInt32 = 64
    /// Open for reading only: every write transaction is refused with ``StorageError/Code/readOnly``.
    public var readOnly = false
    /// Durability of commits.
    public var syncMode: SyncMode = .full
    /// Turn off OS read-ahead (`MDB_NORDAHEAD`): helps random reads on databases larger than RAM.
    public var noReadAhead = false
    /// Write dirty pages straight into the memory map (`MDB_WRITEMAP`) instead of copying them
    /// from private buffers at commit: much faster for large transactions (bulk loads), at the
    /// price that a stray write through a pointer read from the map could damage the file.
    /// The data file is then sized to the whole map (sparse on Linux file systems).
    public var writeMap = false
    /// Create named tables that do not exist yet. Off, opening refuses an environment that lacks
    /// one of the tables asked for (``StorageError/Code/notFound``), as a read-only open does.
    public var createsTables = true
    /// Permissions of newly created files (the directory gets the same plus search bits).
    public var fileMode: mode_t = 0o640
    /// Where the environment reports what it does on its own: map growth (notice), adopting a
    /// map another process grew (debug), stale reader slots cleared (notice). Silent by default.
    public var logger: Logger = .disabled

    public init() {}

    /// The `mdb_env_open` flags these options mean. `MDB_NOTLS` is always set: read
    /// transactions are not tied to threads, so Swift tasks may hop threads safely.
    var lmdbFlags: UInt32 {
        var flags = UInt32(MDB_NOTLS)
        if readOnly { flags |= UInt32(MDB_RDONLY) }
        if noReadAhead { flags |= UInt32(MDB_NORDAHEAD) }
        if writeMap { flags |= UInt32(MDB_WRITEMAP) }
        switch syncMode {
        case .full: break
        case .noMetaSync: flags |= UInt32(MDB_NOMETASYNC)
        case .noSync: flags |= UInt32(MDB_NOSYNC)
        }
        return flags
    }
}

/// How a named table orders and stores its entries (`mdb_dbi_open` flags).
public struct TableFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Keys are compared as strings read from the end (`MDB_REVERSEKEY`).
    public static let reverseKey = TableFlags(rawValue: UInt32(MDB_REVERSEKEY))
    /// A key may hold several sorted values (`MDB_DUPSORT`).
    public static let duplicateSort = TableFlags(rawValue: UInt32(MDB_DUPSORT))
    /// Keys are native-endian `UInt32` or `UInt64` (`MDB_INTEGERKEY`).
    public static let integerKey = TableFlags(rawValue: UInt32(MDB_INTEGERKEY))
    /// With ``duplicateSort``: all values of a key have one size, enabling bulk reads and writes (`MDB_DUPFIXED`).
    public static let duplicateFixed = TableFlags(rawValue: UInt32(MDB_DUPFIXED))
    /// With ``duplicateSort``: values are native-endian integers (`MDB_INTEGERDUP`).
    public static let integerDuplicate = TableFlags(rawValue: UInt32(MDB_INTEGERDUP))

    /// The flags LMDB records with a table when it creates it.
    static let persistent: TableFlags = [.reverseKey, .duplicateSort, .integerKey, .duplicateFixed, .integerDuplicate]
}

/// A named table to open (and create, unless read-only) when an ``Environment`` opens.
public struct TableSpec: Sendable, Hashable {
    public var name: String
    public var flags: TableFlags
    /// A table that environments written by older versions may lack: it is created when the
    /// environment is opened for writing, and simply left out (``Environment/tableIfPresent(_:)``
    /// returns nil) when a read-only open finds none.
    public var addedLater: Bool

    public init(_ name: String, flags: TableFlags = [], addedLater: Bool = false) {
        self.name = name
        self.flags = flags
        self.addedLater = addedLater
    }
}

/// An open named table: a handle valid for the life of its ``Environment``.
public struct Table: Sendable, Hashable {
    public let name: String
    public let flags: TableFlags
    let dbi: MDB_dbi
}

/// Flags of a single write (`mdb_put`, `mdb_cursor_put`).
public struct WriteFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Fail with ``StorageError/Code/keyExists`` if the key is present (`MDB_NOOVERWRITE`).
    public static let noOverwrite = WriteFlags(rawValue: UInt32(MDB_NOOVERWRITE))
    /// In a dup-sort table, fail if this key/value pair exists (`MDB_NODUPDATA`).
    public static let noDuplicateData = WriteFlags(rawValue: UInt32(MDB_NODUPDATA))
    /// Append at the end: keys must arrive in order; much faster bulk loads (`MDB_APPEND`).
    public static let append = WriteFlags(rawValue: UInt32(MDB_APPEND))
    /// Append a duplicate at the end of a key's sorted values (`MDB_APPENDDUP`).
    public static let appendDuplicate = WriteFlags(rawValue: UInt32(MDB_APPENDDUP))
}
