import Basics
import Foundation
import Logging
import Metrics
import MetricsTestKit
import Testing
import TestSupport
@testable import BGANStore

/// A swift-log handler that keeps every record, for tests to read.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    struct Record {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var kept: [Record] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { kept.append(Record(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 })) }
    }

    var records: [Record] { lock.withLock { kept } }
    func records(_ message: String) -> [Record] { records.filter { $0.message == message } }
}

@Suite struct ObservationTests {
    let directory = TemporaryDirectory("observation")

    func observed(_ handler: CapturingLogHandler, _ metrics: TestMetrics) -> StoreOptions {
        var options = StoreOptions()
        options.logger = Logger(label: "test") { _ in handler }
        options.metricsFactory = metrics
        options.metricsDimensions = [("store", "photos")]
        return options
    }

    func items(_ count: Int, from first: Int = 0) -> [StoreItem] {
        var rng = SeededGenerator(seed: 11)
        return (first..<(first + count)).map { StoreItem(key: "k\($0)", code: randomCode(bits: 64, rng: &rng)) }
    }

    @Test func theDefaultsSayNothing() {
        let options = StoreOptions()
        #expect(options.logger.handler is SwiftLogNoOpLogHandler)
        #expect(options.metricsFactory == nil)
        #expect(options.slowQueryThreshold == .milliseconds(100))
    }

    @Test func writesSearchesAndRebuildsAreCountedAndLogged() throws {
        let log = CapturingLogHandler(), metrics = TestMetrics()
        var options = observed(log, metrics)
        options.rebuildMinimum = 100
        let store = try directory.bareStore(bits: 64, options: options)
        let created = try #require(log.records("created").first)
        #expect(created.level == .info && created.metadata["store"] == "\(directory.sub("s"))" && created.metadata["bits"] == "64")

        let summary = try store.write(items(300))
        #expect(summary.rebuiltIndex)
        #expect(try metrics.expectCounter("bganstore_items_inserted_total", [("store", "photos")]).totalValue == 300)
        #expect(log.records("index rebuilt").count == 1)
        #expect(try store.upsert(items(1)[0]))
        #expect(try metrics.expectCounter("bganstore_items_updated_total", [("store", "photos")]).totalValue == 1)

        let query = items(1, from: 999)[0].code
        let scan = try store.search(code: query, k: 5, method: .linearScan)
        let mih = try store.search(code: query, k: 5, method: .multiIndex)
        #expect(scan.statistics.path == .linearScan && mih.statistics.path == .multiIndex)
        #expect(try metrics.expectCounter("bganstore_queries_total", [("store", "photos"), ("path", "scan")]).totalValue == 1)
        #expect(try metrics.expectCounter("bganstore_queries_total", [("store", "photos"), ("path", "mih")]).totalValue == 1)
        #expect(try metrics.expectTimer("bganstore_query_duration_seconds", [("store", "photos"), ("path", "mih")]).values.count == 1)
        let candidates = try metrics.expectRecorder("bganstore_query_candidates", [("store", "photos")]).values
        #expect(candidates.count == 2 && candidates[1] == Double(mih.statistics.candidates))
        #expect(log.records("slow query").isEmpty, "300 codes answer well within 100 ms")

        #expect(try store.remove(keys: ["k1", "k2", "nope"]) == 2)
        #expect(try metrics.expectCounter("bganstore_items_removed_total", [("store", "photos")]).totalValue == 2)
        try store.rebuildIndex()
        #expect(try metrics.expectCounter("bganstore_index_rebuilds_total", [("store", "photos")]).totalValue == 2)
        #expect(log.records("index rebuilt").last?.metadata["during"] == "Store.rebuildIndex()")

        store.close()
        let reopened = try Store(openingAt: directory.sub("s"), options: options)
        defer { reopened.close() }
        #expect(log.records("opened").count == 1)
    }

    @Test func searchesAboveTheThresholdAreLoggedAsSlow() throws {
        let log = CapturingLogHandler(), metrics = TestMetrics()
        var options = observed(log, metrics)
        options.slowQueryThreshold = .zero
        let store = try directory.bareStore(bits: 64, options: options)
        defer { store.close() }
        try store.write(items(50))
        _ = try store.search(code: items(1)[0].code, radius: 3)
        let slow = try #require(log.records("slow query").first)
        #expect(slow.level == .warning && slow.metadata["query"] == "within 3 bits of a code" && slow.metadata["hits"] != nil)
        options.slowQueryThreshold = nil
        let quiet = try directory.bareStore("quiet", bits: 64, options: options)
        defer { quiet.close() }
        try quiet.write(items(50))
        _ = try quiet.search(code: items(1)[0].code, k: 3)
        #expect(log.records("slow query").count == 1)
    }

    @Test func mapGrowthIsLoggedByTheStorageLayer() throws {
        let log = CapturingLogHandler(), metrics = TestMetrics()
        var options = observed(log, metrics)
        options.initialMapSize = 1 << 20
        let store = try directory.bareStore(bits: 64, options: options)
        defer { store.close() }
        var payload = [UInt8](repeating: 7, count: 4096)
        for batch in 0..<4 {
            payload[0] = UInt8(batch)
            try store.write((0..<200).map { StoreItem(key: "b\(batch)-\($0)", code: try! BinaryCode(bitCount: 64, words: [UInt64($0)]), payload: payload) })
        }
        let grown = log.records("map grown")
        #expect(!grown.isEmpty)
        let first = try #require(grown.first)
        #expect(first.level == .notice && first.metadata["store"] == "\(directory.sub("s"))")
        #expect(Int(first.metadata["to_bytes"]?.description ?? "") ?? 0 > Int(first.metadata["from_bytes"]?.description ?? "") ?? 0)
    }
}
