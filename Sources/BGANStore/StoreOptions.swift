@_exported import enum LMDBStorage.SyncMode
@_exported import HammingSearch
import Basics
import Logging
import Metrics

/// Settings of an open ``Store``: a `Sendable` value of defaulted fields.
public struct StoreOptions: Sendable {
    /// Open for reading only; every write throws.
    public var readOnly = false
    /// Initial map size in bytes; nil (the default) chooses ``automaticMapSize`` (64 GiB of
    /// address space), or 64 MiB with ``writeMap``, whose data file is as large as its map. The
    /// map grows by itself when full, but a growth must wait until every transaction of this
    /// process has ended, and new transactions wait behind it — a search would wait for an
    /// export or a backup — so the default is large enough that stores below 64 GiB never
    /// grow. Without ``writeMap`` a large map costs address space only (the file grows with the
    /// data); set a smaller size where a process's address space is limited (`ulimit -v`).
    public var initialMapSize: Int? = nil
    /// The initial map of a store opened without ``writeMap`` when ``initialMapSize`` is nil.
    public static let automaticMapSize = 64 << 30
    /// Upper bound of the map (and so of the data file).
    public var maximumMapSize = 1 << 42
    /// Durability of commits (see `SyncMode`).
    public var syncMode: SyncMode = .full
    /// Write pages straight into the map (`MDB_WRITEMAP`): bulk loads of 10⁷ items take 40%
    /// less time. The trade-off: if the disk fills up during a write, the process is killed by
    /// SIGBUS instead of getting an error (the store itself stays at its last commit). Worth it
    /// for a process that only loads, after checking free space (`bgan-db import` does).
    public var writeMap = false
    /// Maximum concurrent readers across processes.
    public var maxReaders: UInt32 = 126
    /// The planner's prices.
    public var costModel = SearchCostModel()
    /// The index is rebuilt (in the writing transaction) once items not covered by it — new,
    /// changed or removed since the last build — exceed this fraction of the live items...
    public var rebuildFraction = 1.0 / 16
    /// ...and this many items. Below it, new items are scanned: cheap at this size.
    public var rebuildMinimum = 4096
    /// Where the store and its environment report events (opened, map grown, index rebuilt,
    /// stale readers cleared, slow queries, slow OpenBLAS kernels): the application's swift-log
    /// `Logger`. Silent by default (`StoreObservation` lists the events).
    public var logger: Logger = .disabled
    /// Searches that take longer than this are logged as warnings; nil logs none.
    public var slowQueryThreshold: Duration? = .milliseconds(100)
    /// Dimensions added to every metric the store records (e.g. `[("store", "photos")]` when a
    /// process holds several stores). Metrics go to the swift-metrics backend the application
    /// bootstrapped, and nowhere without one.
    public var metricsDimensions: [(String, String)] = []
    /// The swift-metrics factory the store records into; nil: the one the application
    /// bootstrapped (`MetricsSystem.factory`, a no-op without a bootstrap).
    public var metricsFactory: (any MetricsFactory)?
    /// The threads the `async` API runs blocking work on (``BlockingPool``); nil: the shared
    /// pool, started at the first async call (a process that never calls one starts no threads).
    public var blockingPool: BlockingPool?
    /// Encoders of the application's own (``ImageCodeEncoder``), or a configured ``PDQEncoder``:
    /// a store bound to one of them by its identity uses it to encode images. Stores bound to a
    /// model file need none; a PDQ store without one uses a default `PDQEncoder()`.
    public var encoders: [any ImageCodeEncoder] = []

    /// The pool async calls run on.
    var pool: BlockingPool { blockingPool ?? .shared }

    public init() {}
}

/// An item to write: its external key, its code and the caller's payload.
public struct StoreItem: Sendable, Hashable, Codable {
    /// The user-facing identity: 1 to 511 bytes of UTF-8.
    public var key: String
    public var code: BinaryCode
    /// Any bytes: a path, a URL, JSON. At most 1 MiB.
    public var payload: [UInt8]

    public init(key: String, code: BinaryCode, payload: [UInt8] = []) {
        self.key = key
        self.code = code
        self.payload = payload
    }
}

/// An item read back from the store.
public struct StoredItem: Sendable, Hashable {
    /// The item's internal id: dense, assigned in insertion order, never reused.
    public var id: UInt32
    public var key: String
    public var code: BinaryCode
    public var payload: [UInt8]
}

/// What to do when a written key exists already.
public enum WriteMode: Sendable {
    /// Refuse the whole batch with `StoreError` `.keyExists`.
    case insert
    /// Replace the code and payload, keeping the item's id.
    case upsert
}

/// When the multi-index is rebuilt.
public enum IndexingMode: Sendable {
    /// Rebuild in the same transaction once the unindexed part passes the options' thresholds.
    case automatic
    /// Leave it to a later `Store.rebuildIndex(substrings:)` (bulk loads).
    case deferred
}

/// What a batch write did.
public struct WriteSummary: Sendable, Equatable, Codable {
    /// Ids given to the new items, in the order of the batch.
    public var insertedIDs: [UInt32] = []
    public var inserted = 0
    public var updated = 0
    /// Whether the multi-index was rebuilt as part of the write.
    public var rebuiltIndex = false
    public init() {}
}

/// One search result: the item's key, payload and distance.
public struct SearchHit: Sendable, Hashable {
    public var id: UInt32
    public var key: String
    public var distance: Int
    public var payload: [UInt8]
    /// Cosine between the query's real-valued encoding and the item's refinement vector, in
    /// refined searches (`Store.search(image:k:method:refinement:)`); nil otherwise.
    public var score: Float? = nil
}

/// The answer to a store query, with what it cost.
public struct StoreSearchResult: Sendable, Codable {
    /// Hits in result order: distance, then insertion order; refined searches by descending
    /// score, then distance, then insertion order.
    public var hits: [SearchHit]
    public var statistics: SearchStatistics
}
