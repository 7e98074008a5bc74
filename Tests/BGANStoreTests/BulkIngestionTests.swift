import BGAN
import Foundation
import PixelIO
import MetricsTestKit
import Testing
import TestSupport
@testable import BGANStore

/// The decode-while-writing pipeline: everything lands once, in order, resumably; bad units are reported.
@Suite struct BulkIngestionTests {
    let directory = TemporaryDirectory("bulk")

    struct Unloadable: Error, CustomStringConvertible {
        var description: String { "cannot be loaded" }
    }

    static func units(_ range: Range<Int>, failing: Set<Int> = []) -> [IngestionUnit] {
        range.map { index in
            IngestionUnit(key: "img/\(index)", payload: [UInt8(index % 251)], name: "image \(index)") {
                if failing.contains(index) { throw Unloadable() }
                return StoreImageTests.image(index)
            }
        }
    }

    @Test func everyUnitLandsOnceWithItsCodeAndBadOnesAreReported() throws {
        let model = try StoreImageTests.model(seed: 4)
        let store = try directory.boundStore("s", model: model)
        var reports: [IngestionReport] = []
        let report = try BulkIngestion(store: store, batchSize: 64, workers: 3)
            .run(Self.units(0..<300, failing: [5, 130]), progress: { reports.append($0) })
        #expect(report.added == 298 && report.alreadyStored == 0 && report.done == 300 && !report.stopped)
        #expect(report.rejected.map(\.name) == ["image 5", "image 130"])
        #expect(report.rejected.allSatisfy { $0.reason == "cannot be loaded" })
        #expect(reports.map(\.done) == [64, 128, 192, 256, 300], "progress after every batch")
        #expect(try store.count() == 298)
        let encoder = try ImageEncoder(model: model)
        for index in [0, 64, 299] {
            let item = try #require(try store.item(forKey: "img/\(index)"))
            #expect(item.code == BinaryCode(signsOf: try encoder.signs(of: [StoreImageTests.image(index)])))
            #expect(item.payload == [UInt8(index % 251)])
        }
        // Ids follow the units' order, batch after batch.
        let ids = try (0..<300).filter { ![5, 130].contains($0) }.map { try #require(try store.item(forKey: "img/\($0)")).id }
        #expect(ids == ids.sorted())
        #expect(try store.item(forKey: "img/5") == nil)
        #expect(try store.verify().isHealthy)
    }

    /// LMDB keys are bytes; Swift calls "é" (one code point) and "e" + combining accent equal.
    /// Both are ingested, and a second run finds both stored.
    @Test func keysThatSwiftCallsEqualButDifferInBytesAreTwoItems() throws {
        let store = try directory.boundStore("unicode", model: try StoreImageTests.model(seed: 4))
        let composed = "caf\u{E9}.jpg", decomposed = "cafe\u{301}.jpg"
        #expect(composed == decomposed && Array(composed.utf8) != Array(decomposed.utf8))
        let units = [composed, decomposed].enumerated().map { index, key in
            IngestionUnit(key: key, payload: [UInt8(index)], name: key) { StoreImageTests.image(index) }
        }
        let first = try BulkIngestion(store: store, batchSize: 8).run(units)
        #expect(first.added == 2 && first.alreadyStored == 0)
        #expect(try store.count() == 2)
        #expect(try store.holds(keys: [composed, decomposed, "cafe.jpg"]) == [true, true, false])
        let again = try BulkIngestion(store: store, batchSize: 8).run(units)
        #expect(again.added == 0 && again.alreadyStored == 2)
    }

    @Test func aStoppedRunLeavesWholeBatchesAndTheNextRunFinishes() throws {
        let store = try directory.boundStore("r", model: try StoreImageTests.model(seed: 4))
        var batches = 0
        let first = try BulkIngestion(store: store, batchSize: 50).run(Self.units(0..<400), shouldStop: { batches == 3 }) { _ in batches += 1 }
        #expect(first.stopped && first.added == 150 && first.done == 150)
        #expect(try store.count() == 150)
        let second = try BulkIngestion(store: store, batchSize: 50).run(Self.units(0..<400))
        #expect(!second.stopped && second.added == 250 && second.alreadyStored == 150)
        #expect(try store.count() == 400)
        #expect(try store.verify().isHealthy)
    }

    /// Two runs of the same sources at once (a second ingest started before the first ended):
    /// keys the other stored after a batch was checked are counted as already stored, and the
    /// rest of that batch is written, instead of the batch failing with `keyExists`. A key named
    /// twice in the units is still an error.
    @Test func keysStoredByAnotherRunMeanwhileAreSkippedNotAnError() throws {
        let metrics = TestMetrics()
        var options = StoreOptions()
        options.metricsFactory = metrics
        let store = try directory.boundStore("overlap", model: try StoreImageTests.model(seed: 4), options: options)
        let units = Self.units(0..<30)
        var batches = 0
        // Called before each batch is written, after its keys were checked: the other run's
        // writes land in between, two keys of this batch and one of a later one.
        let report = try BulkIngestion(store: store, batchSize: 10, workers: 2).run(units, shouldStop: {
            if batches == 1 {
                for index in [12, 17, 25] {
                    #expect((try? store.insert(image: StoreImageTests.image(index), key: "img/\(index)")) != nil, "the other run stores img/\(index)")
                }
            }
            batches += 1
            return false
        })
        #expect(report.added == 27 && report.alreadyStored == 3 && report.done == 30, "\(report)")
        #expect(try metrics.expectCounter("bganstore_images_ingested_total", []).totalValue == 27, "the images this run stored")
        #expect(try store.count() == 30)
        #expect(try store.verify().isHealthy)

        let twice = try directory.boundStore("twice", model: try StoreImageTests.model(seed: 4))
        let repeated = Self.units(0..<3) + Self.units(1..<2)
        let error = #expect(throws: StoreError.self) { try BulkIngestion(store: twice, batchSize: 8).run(repeated) }
        #expect(error?.code == .keyExists)
        #expect(try twice.count() == 0)
    }

    @Test func aStoreWithoutAModelStopsTheRunBeforeAnyWrite() throws {
        let store = try directory.bareStore("bare", bits: 32)
        let error = #expect(throws: StoreError.self) { try BulkIngestion(store: store).run(Self.units(0..<10)) }
        #expect(error?.code == .noModel)
        #expect(try store.count() == 0)
    }
}
