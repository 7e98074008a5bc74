import BGAN
import Foundation
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// The async API: same answers as the blocking one, blocking work kept off the cooperative pool,
/// cancellation that stops long jobs between batches, progress as an AsyncSequence.
@Suite struct AsyncStoreTests {
    let directory = TemporaryDirectory("async")

    /// `count` units whose loading takes `delay` each: a long ingest on any machine.
    /// Units that take `delay` each to load; with a `gate`, those after the first `open` wait
    /// until it is set (at most a minute), so a test can act between batches however busy the
    /// machine is.
    static func slowUnits(_ count: Int, delay: TimeInterval = 0.004, gate: LockedFlag? = nil, open: Int = 0) -> [IngestionUnit] {
        (0..<count).map { index in
            IngestionUnit(key: "img/\(index)", payload: [], name: "image \(index)") {
                if let gate, index >= open {
                    let deadline = Date().addingTimeInterval(60)
                    while !gate.value && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
                }
                Thread.sleep(forTimeInterval: delay)
                return StoreImageTests.image(index % 50)
            }
        }
    }

    @Test func asyncCallsAnswerLikeTheBlockingOnes() async throws {
        let path = directory.sub("s")
        let created = try await Store.create(at: path, bitCount: 64)
        var rng = SeededGenerator(seed: 3)
        let items = (0..<500).map { StoreItem(key: "k\($0)", code: randomCode(bits: 64, rng: &rng)) }
        #expect(try await created.write(items).inserted == 500)
        created.close()
        let store = try await Store.open(at: path)
        defer { store.close() }
        var oracle = FlatIndex(bitCount: 64)
        for item in items { oracle.append(item.code) }
        for query in items.prefix(20).map(\.code) {
            let found = try await store.search(code: query, k: 7)
            let expected = try oracle.nearest(to: query, k: 7)
            #expect(found.hits.map(\.id) == expected.neighbors.map(\.id) && found.hits.map(\.distance) == expected.neighbors.map(\.distance))
            let within = try await store.search(code: query, radius: 20)
            #expect(within.hits.count == (try oracle.within(radius: 20, of: query)).neighbors.count)
        }
        #expect(try await store.remove(keys: ["k1", "k2"]) == 2)
        #expect(try await store.count() == 498)
        #expect(try await store.item(forKey: "k3")?.code == items[3].code)
        #expect(try await store.verify().isHealthy)
    }

    /// Three blocking jobs at once (two ingests, a backup) must leave the cooperative pool free:
    /// a small task started meanwhile finishes while the ingests still run. If the async API
    /// blocked cooperative threads, on a 2-core machine (one cooperative thread per core) it
    /// would wait for an ingest to end.
    @Test func theCooperativePoolStaysFreeDuringIngestsAndABackup() async throws {
        var options = StoreOptions()
        options.blockingPool = BlockingPool(threads: 3, name: "test.async")
        let model = try StoreImageTests.model(seed: 5)
        let first = try directory.boundStore("busy1", model: model, options: options)
        let second = try directory.boundStore("busy2", model: model, options: options)
        defer { first.close(); second.close() }
        try await first.write((0..<2000).map { StoreItem(key: "seed\($0)", code: BinaryCode(signsOf: (0..<32).map { Float($0 % 3) - 1 })) })
        let running = LockedCounter()
        let units = Self.slowUnits(300), copy = directory.sub("copy")
        let ingests = [first, second].map { store in
            Task { () async throws -> IngestionReport in
                running.add(1)
                defer { running.add(-1) }
                return try await BulkIngestion(store: store, batchSize: 20, workers: 1).run(units)
            }
        }
        let backup = Task { try await first.backup(to: copy) }
        // A generous bound for the ingests to start: the whole suite shares the cooperative pool,
        // and on a loaded machine (a training run beside the tests) 10 s was once too short.
        let deadline = ContinuousClock.now + .seconds(60)
        while running.value < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        let small = await Task { (0..<1000).reduce(0, +) }.value
        #expect(small == 499_500)
        #expect(running.value == 2, "the small task finished while both ingests ran")
        for ingest in ingests {
            let report = try await ingest.value
            #expect(report.added == 300 && !report.stopped)
        }
        try await backup.value
        #expect(try await Store.open(at: copy).count() >= 2000)
    }

    @Test func cancellingAnIngestStopsItBetweenBatchesAndARerunFinishes() async throws {
        let store = try directory.boundStore("cancel", model: try StoreImageTests.model(seed: 6))
        defer { store.close() }
        let firstBatch = LockedFlag(), cancelled = LockedFlag()
        let task = Task {
            try await BulkIngestion(store: store, batchSize: 10, workers: 1).run(Self.slowUnits(400, gate: cancelled, open: 10)) { _ in firstBatch.set() }
        }
        // Units after the first batch wait for the cancellation: the run cannot finish before it.
        while !firstBatch.value { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        cancelled.set()
        let stopped = try await task.value
        #expect(stopped.stopped && stopped.added >= 10 && stopped.added < 400, "\(stopped.added) added")
        #expect(try await store.count() == stopped.added, "whole batches only")
        let rest = try await BulkIngestion(store: store, batchSize: 50).run(Self.slowUnits(400, delay: 0))
        #expect(rest.alreadyStored == stopped.added && rest.added == 400 - stopped.added)
    }

    @Test func progressArrivesAsAnAsyncSequence() async throws {
        let store = try directory.boundStore("stream", model: try StoreImageTests.model(seed: 7))
        defer { store.close() }
        var seen: [Int] = []
        for try await report in BulkIngestion(store: store, batchSize: 25, workers: 2).reports(Self.slowUnits(100, delay: 0)) {
            seen.append(report.done)
        }
        #expect(seen.last == 100)
        #expect(seen == seen.sorted(), "reports only move forward: \(seen)")
        #expect(try await store.count() == 100)
    }
}
