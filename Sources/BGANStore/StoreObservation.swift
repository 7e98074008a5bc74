import Foundation
import HammingSearch
import Logging
import Metrics
import NeuralNet

/// What a store tells the application about itself: events through the options' swift-log
/// `Logger`, counts and timings through swift-metrics. Both are silent unless the application
/// hands the store a logger (``StoreOptions/logger``) or bootstraps a metrics backend
/// (`MetricsSystem.bootstrap`).
///
/// Metrics, each with the options' ``StoreOptions/metricsDimensions``:
///
/// | name | kind | what |
/// |---|---|---|
/// | `bganstore_queries_total` | counter, `path` = scan / mih / mih+scan | searches answered |
/// | `bganstore_query_duration_seconds` | timer, `path` | time of each search, in the store |
/// | `bganstore_query_candidates` | recorder | ids taken from multi-index buckets per search |
/// | `bganstore_items_inserted_total`, `…_updated_total`, `…_removed_total` | counters | items written |
/// | `bganstore_index_rebuilds_total` | counter | multi-index rebuilds (inside writes or asked for) |
/// | `bganstore_images_ingested_total`, `bganstore_images_rejected_total` | counters | bulk ingestion |
///
/// Log events: `opened` and `created` (info), `index rebuilt` (info), `slow query` (warning,
/// above ``StoreOptions/slowQueryThreshold``), `slow OpenBLAS kernels` (warning, once, when the
/// store first encodes), `re-encoded store swapped in` (notice); and from the storage layer
/// `map grown`, `stale reader slots cleared` (notice).
final class StoreObservation: Sendable {
    let logger: Logger
    let slowQueryThreshold: Duration?
    private let queries: [SearchPath: Counter]
    private let queryDurations: [SearchPath: Metrics.Timer]
    private let candidates: Recorder
    let inserted: Counter
    let updated: Counter
    let removed: Counter
    let indexRebuilds: Counter
    let imagesIngested: Counter
    let imagesRejected: Counter

    init(path: String, options: StoreOptions) {
        var logger = options.logger
        logger[metadataKey: "store"] = "\(path)"
        self.logger = logger
        slowQueryThreshold = options.slowQueryThreshold
        let dimensions = options.metricsDimensions
        let factory = options.metricsFactory ?? MetricsSystem.factory
        let paths: [SearchPath] = [.linearScan, .multiIndex, .multiIndexThenScan]
        queries = Dictionary(uniqueKeysWithValues: paths.map {
            ($0, Counter(label: "bganstore_queries_total", dimensions: dimensions + [("path", $0.rawValue)], factory: factory))
        })
        queryDurations = Dictionary(uniqueKeysWithValues: paths.map {
            ($0, Metrics.Timer(label: "bganstore_query_duration_seconds", dimensions: dimensions + [("path", $0.rawValue)], factory: factory))
        })
        candidates = Recorder(label: "bganstore_query_candidates", dimensions: dimensions, factory: factory)
        inserted = Counter(label: "bganstore_items_inserted_total", dimensions: dimensions, factory: factory)
        updated = Counter(label: "bganstore_items_updated_total", dimensions: dimensions, factory: factory)
        removed = Counter(label: "bganstore_items_removed_total", dimensions: dimensions, factory: factory)
        indexRebuilds = Counter(label: "bganstore_index_rebuilds_total", dimensions: dimensions, factory: factory)
        imagesIngested = Counter(label: "bganstore_images_ingested_total", dimensions: dimensions, factory: factory)
        imagesRejected = Counter(label: "bganstore_images_rejected_total", dimensions: dimensions, factory: factory)
    }

    /// Runs the search `body`, counts and times it, and logs it when slow.
    func query(_ description: @autoclosure () -> String, _ body: () throws -> StoreSearchResult) rethrows -> StoreSearchResult {
        let clock = ContinuousClock()
        let started = clock.now
        let result = try body()
        let elapsed = clock.now - started
        let path = result.statistics.path
        queries[path]?.increment()
        queryDurations[path]?.recordNanoseconds(Self.nanoseconds(elapsed))
        candidates.record(result.statistics.candidates)
        if let slowQueryThreshold, elapsed > slowQueryThreshold {
            logger.warning("slow query", metadata: [
                "query": "\(description())", "path": "\(path.rawValue)", "milliseconds": "\(Self.nanoseconds(elapsed) / 1_000_000)",
                "candidates": "\(result.statistics.candidates)", "distances": "\(result.statistics.distancesComputed)",
                "hits": "\(result.hits.count)",
            ])
        }
        return result
    }

    /// Counts what a write did, and logs an index rebuild that happened inside it.
    func wrote(_ summary: WriteSummary, items: Int) {
        inserted.increment(by: summary.inserted)
        updated.increment(by: summary.updated)
        if summary.rebuiltIndex { rebuiltIndex(inside: "a write of \(items) items") }
    }

    func rebuiltIndex(inside occasion: String) {
        indexRebuilds.increment()
        logger.info("index rebuilt", metadata: ["during": "\(occasion)"])
    }

    /// Warns once per store, when it first encodes, if OpenBLAS runs kernels far slower than
    /// this CPU allows (an executable can relaunch itself; a service must set the variable).
    func warnIfBLASIsSlow() {
        guard let better = BLASCore.recommendedCoreType(coreName: BLAS.coreName, features: BLASCore.cpuFeatures()) else { return }
        logger.warning("slow OpenBLAS kernels", metadata: [
            "running": "\(BLAS.coreName)", "recommended": "\(better)",
            "fix": "start the process with OPENBLAS_CORETYPE=\(better) in its environment (docs/embedding.md); encoding runs at about a fifth of the speed until then",
        ])
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
