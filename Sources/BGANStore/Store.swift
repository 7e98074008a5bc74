import Foundation
import HammingSearch
import LMDBStorage

/// An on-disk, ACID store of binary codes with exact Hamming search.
///
/// ```swift
/// let store = try Store.create(at: "/data/photos.bgan", bitCount: 64)
/// try store.insert(StoreItem(key: "cat.jpg", code: try BinaryCode(hex: "00ff00ff00ff00ff")))
/// let result = try store.search(code: query, k: 10)
/// for hit in result.hits { print(hit.key, hit.distance) }
/// ```
///
/// A store is one LMDB environment (a directory): items by key, their codes in id order, and a
/// multi-index over the codes. Many threads and processes may read at once; writes are
/// serialised; every write is one transaction. One `Store` per path per process: share it.
/// Calls block the calling thread: from async code, call them from your own executor or thread.
public final class Store: @unchecked Sendable {
    /// The store's directory.
    public let path: String
    /// Code length in bits.
    public let bitCount: Int
    /// Options it was opened with.
    public let options: StoreOptions

    let environment: Environment
    let tables: StoreSchema.Tables
    let searcher: HammingSearcher
    let snapshots = SnapshotCache()
    let boundEncoder = BoundEncoder()
    let observation: StoreObservation

    /// Creates a store for `bitCount`-bit codes at `path` (a new or empty directory).
    ///
    /// - Parameters:
    ///   - path: a new or empty directory.
    ///   - bitCount: the code length, a multiple of 8.
    ///   - substrings: the number of multi-index tables `m`; `nil` follows the log₂ N
    ///     rule at every rebuild.
    ///   - options: map size, logging and the other settings of the open store.
    /// - Throws: `StoreError` `.alreadyExists` if `path` holds a store (also when another
    ///   process created it meanwhile: creates of one path wait for each other);
    ///   `.invalidArgument` if it is a file or a directory holding other files; `HammingError`
    ///   for a bad length or split.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public static func create(at path: String, bitCount: Int, substrings: Int? = nil,
                              options: StoreOptions = StoreOptions()) throws -> Store {
        try create(at: path, bitCount: bitCount, substrings: substrings, options: options) { _, _ in }
    }

    /// Creates the store and writes its meta records, and `more` of them, in one transaction.
    /// If anything fails, the files it made are removed: a store is created whole or not at all.
    static func create(at path: String, bitCount: Int, substrings: Int?, options: StoreOptions, extraBytes: Int = 0,
                       writing more: (borrowing Transaction, StoreSchema.Tables) throws -> Void) throws -> Store {
        try BinaryCode.validate(bitCount: bitCount)
        if let substrings { _ = try SubstringLayout(bitCount: bitCount, substrings: substrings) }
        let files = FileManager.default
        try requireFreeSpace(extraBytes, at: path)
        // Held until the meta records commit: another process's create waits, then finds the
        // store; its opening waits, then opens it.
        let lock = try DirectoryLock.forCreating(at: path, mode: directoryMode)
        if files.fileExists(atPath: path + "/data.mdb") {
            guard try isInterruptedCreation(at: path) else {
                throw StoreError(.alreadyExists, "\(path) already holds a store; open it, or choose a new directory")
            }
            // A create killed before its meta records committed: nothing of value, start again.
            for name in ["data.mdb", "lock.mdb"] { try? files.removeItem(atPath: "\(path)/\(name)") }
        }
        try requireNoOtherFiles(in: path)
        var environment: Environment?
        do {
            let (opened, tables) = try openEnvironment(path: path, options: options, creating: true)
            environment = opened
            try opened.write { txn in
                try StoreMeta(bitCount: bitCount, requestedSubstrings: substrings ?? 0).write(txn, table: tables.meta)
                try more(txn, tables)
            }
            let store = try Store(path: path, options: options, environment: opened, tables: tables)
            store.observation.logger.info("created", metadata: ["bits": "\(bitCount)"])
            lock.unlock()
            return store
        } catch {
            environment?.close()
            for name in ["data.mdb", "lock.mdb"] { try? files.removeItem(atPath: "\(path)/\(name)") }
            // Only a directory this create made, and only if empty: rmdir, never a removal of its contents.
            if lock.madeDirectory { rmdir(path) }
            throw error
        }
    }

    /// Refuses a directory that holds anything besides a store's own files: a store is made in
    /// a new or empty directory, so that a path given in the wrong place (a folder of photos)
    /// does not get a store among its files.
    static func requireNoOtherFiles(in path: String) throws {
        let others = try FileManager.default.contentsOfDirectory(atPath: path).filter { !["data.mdb", "lock.mdb"].contains($0) }.sorted()
        guard let first = others.first else { return }
        throw StoreError(.invalidArgument, "\(path) holds \(others.count == 1 ? "a file" : "\(others.count) files") that \(others.count == 1 ? "is" : "are") not a store's (\(first.prefix(60))\(others.count > 1 ? ", …" : "")); a store is made in a new or empty directory: choose another path")
    }

    /// Whether `path` holds what a create killed midway leaves: a data file shorter than LMDB's
    /// two meta pages (killed before LMDB wrote them), or an LMDB environment with no store
    /// metadata and no entry in any table. Anything else (a store, another program's LMDB
    /// environment, data without metadata) is not touched.
    static func isInterruptedCreation(at path: String) throws -> Bool {
        var file = stat()
        if stat(path + "/data.mdb", &file) == 0, isShorterThanLMDBHeader(file) { return true }
        var options = EnvironmentOptions()
        options.readOnly = true
        options.createsTables = false
        let environment: Environment
        do {
            environment = try Environment(path: path, options: options, tables: StoreSchema.all)
        } catch let error as StorageError where error.code == .notFound {
            // Some table is missing: only a kill before the tables were made leaves none at all.
            guard let bare = try? Environment(path: path, options: options, tables: []) else { return false }
            defer { bare.close() }
            return try bare.statistics().entries == 0
        } catch {
            return false
        }
        defer { environment.close() }
        let tables = try StoreSchema.Tables(opening: environment)
        return try environment.read { txn in
            try tables.all.allSatisfy { try txn.statistics(of: $0).entries == 0 }
        }
    }

    /// Whether a data file is shorter than LMDB's two meta pages: LMDB never wrote its header.
    static func isShorterThanLMDBHeader(_ dataFile: stat) -> Bool {
        Int(dataFile.st_size) < 2 * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Opens the store at `path`.
    /// - Throws: `StoreError` `.notAStore` if there is none, `StoreError` `.unsupportedVersion`.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public convenience init(openingAt path: String, options: StoreOptions = StoreOptions()) throws {
        // One stat tells a missing path from one a directory on the way hides from this user
        // (FileManager answers "no" to both).
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == EACCES {
                throw StoreError(.permissionDenied, "\(path) cannot be reached: a directory on the way denies this user (uid \(getuid())) access; run as the store's owner, or give this user access to the directories and files")
            }
            throw StoreError(.notAStore, "\(path) does not exist; create a store there first (`Store.create(at:)`)")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw StoreError(.notAStore, "\(path) is a file, not a store (a store is a directory holding data.mdb); check the path")
        }
        let (environment, tables) = try DirectoryLock.whileNoCreation(at: path) {
            try Self.openEnvironment(atStorePath: path, options: options)
        }
        try self.init(path: path, options: options, environment: environment, tables: tables)
        observation.logger.info("opened", metadata: ["bits": "\(bitCount)", "read_only": "\(options.readOnly)",
                                                     "map_bytes": "\(environment.info().mapSize)"])
    }

    /// Opens the environment of the store at `path`, a directory, after the checks that tell
    /// what is there instead of a store.
    private static func openEnvironment(atStorePath path: String, options: StoreOptions) throws -> (Environment, StoreSchema.Tables) {
        var info = stat()
        guard stat(path + "/data.mdb", &info) == 0 else {
            if errno == EACCES {
                throw StoreError(.permissionDenied, "\(path) cannot be looked into: permission denied for this user (uid \(getuid())); run as the store's owner, or give this user access to the directory and its files")
            }
            throw StoreError(.notAStore, "\(path) is not a store (no data.mdb inside); check the path, or create one (`Store.create(at:)`)")
        }
        if Self.isShorterThanLMDBHeader(info) {
            throw StoreError(.notAStore, "\(path) holds a data.mdb of \(info.st_size) bytes, too short for LMDB's header (a create that was interrupted leaves this); create the store there again (`Store.create(at:)`), which takes it over")
        }
        return try openEnvironment(path: path, options: options, creating: false)
    }

    private init(path: String, options: StoreOptions, environment: Environment, tables: StoreSchema.Tables) throws {
        self.path = path
        self.options = options
        self.environment = environment
        self.tables = tables
        self.searcher = HammingSearcher(costModel: options.costModel)
        self.observation = StoreObservation(path: path, options: options)
        self.bitCount = try environment.read { txn in try StoreMeta(reading: txn, table: tables.meta, path: path).bitCount }
    }

    /// Mode of a store's files (the owner reads and writes, the group reads), and of a
    /// directory made for them (the same, and whoever may read may enter), as LMDB makes it.
    static let fileMode: mode_t = 0o640
    static let directoryMode: mode_t = fileMode | ((fileMode & 0o444) >> 2)

    private static func openEnvironment(path: String, options: StoreOptions, creating: Bool) throws -> (Environment, StoreSchema.Tables) {
        var environmentOptions = EnvironmentOptions()
        environmentOptions.readOnly = options.readOnly
        environmentOptions.mapSize = min(options.maximumMapSize,
                                         options.initialMapSize ?? (options.writeMap ? 64 << 20 : StoreOptions.automaticMapSize))
        environmentOptions.maximumMapSize = options.maximumMapSize
        environmentOptions.syncMode = options.syncMode
        environmentOptions.maxReaders = options.maxReaders
        environmentOptions.writeMap = options.writeMap
        environmentOptions.createsTables = creating
        environmentOptions.fileMode = fileMode
        environmentOptions.logger = options.logger
        environmentOptions.logger[metadataKey: "store"] = "\(path)"
        let environment: Environment
        do {
            environment = try Environment(path: path, options: environmentOptions, tables: StoreSchema.all)
        } catch let error as StorageError where error.code == .notFound && !creating {
            throw StoreError(.notAStore, "\(path) holds an LMDB environment that is not a BGANStore store (\(error.message))")
        }
        return (environment, try StoreSchema.Tables(opening: environment))
    }

    /// Closes the store's environment. Later calls throw.
    public func close() { environment.close() }

    /// Number of live items.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func count() throws -> Int {
        try environment.read { txn in try readMeta(txn).liveCount }
    }

    // MARK: Helpers shared by the extensions

    /// A write transaction of the store: refused when a re-encoding retired this store (its
    /// files were moved away, so anything written here would be lost).
    func writing<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        try environment.write { txn in
            if let reason = try txn.get(tables.meta, key: StoreSchema.MetaKey.retired) {
                throw StoreError(.retired, "\(path) was replaced while this handle kept the old store open (\(reason.stringValue)); nothing was written: open the path again and retry")
            }
            return try body(txn)
        }
    }

    /// Why a re-encoding retired this store, or nil when it is in service.
    func retirement() throws -> String? {
        try environment.read { txn in try txn.get(tables.meta, key: StoreSchema.MetaKey.retired)?.stringValue }
    }

    func readMeta(_ txn: borrowing Transaction) throws -> StoreMeta {
        try StoreMeta(reading: txn, table: tables.meta, path: path)
    }

    func checkLength(_ code: BinaryCode) throws {
        guard code.bitCount == bitCount else {
            throw StoreError(.codeLengthMismatch, "a \(code.bitCount)-bit code was given to a store of \(bitCount)-bit codes at \(path); encode with the store's encoder or create a store of \(code.bitCount)-bit codes")
        }
    }

    static func validate(key: String) throws {
        let length = key.utf8.count
        guard length > 0 else { throw StoreError(.invalidKey, "keys must not be empty") }
        guard length <= StoreSchema.maximumKeyBytes else {
            throw StoreError(.invalidKey, "key '\(key.prefix(40))…' is \(length) bytes; keys are at most \(StoreSchema.maximumKeyBytes) bytes of UTF-8 (store long names in the payload)")
        }
    }
}
