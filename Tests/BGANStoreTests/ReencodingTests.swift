import BGAN
import Foundation
import HammingSearch
import LMDBStorage
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// Moving a store to another model: every item re-encoded, nothing lost at any interruption.
@Suite struct ReencodingTests {
    let directory = TemporaryDirectory("reencode")

    /// A store of `count` Fashion-MNIST images under model seed 1, thumbnails whole (28 ≤ 64).
    func original(count: Int = 300) throws -> String {
        let path = directory.sub("store")
        let store = try Store.create(at: path, model: try StoreImageTests.model(seed: 1))
        _ = try store.write(images: (0..<count).map { ImageItem(key: "k\($0)", image: StoreImageTests.image($0), payload: [UInt8($0 % 256)]) })
        return path
    }

    /// Every item carries the code the new model gives its original image, its payload and thumbnail.
    func expectEncoded(_ path: String, by model: ModelFile, count: Int, skipping: Set<Int> = []) throws {
        let store = try Store(openingAt: path)
        #expect(try store.modelDigest() == model.digest)
        #expect(try store.count() == count - skipping.count)
        let encoder = try ImageEncoder(model: model)
        for index in 0..<count where !skipping.contains(index) {
            let item = try #require(try store.item(forKey: "k\(index)"))
            #expect(item.code == BinaryCode(signsOf: try encoder.signs(of: [StoreImageTests.image(index)])), "k\(index)")
            #expect(item.payload == [UInt8(index % 256)])
        }
        #expect(try store.thumbnail(forKey: "k7") == StoreImageTests.image(7))
        #expect(try store.verify().isHealthy)
    }

    @Test func aStoppedRunGoesOnAndTheSwapLeavesOneStore() throws {
        let path = try original()
        let target = try StoreImageTests.model(seed: 9)
        var reencoding = Reencoding(path: path, model: target)
        reencoding.batchSize = 64
        var batches = 0
        let first = try reencoding.run(shouldStop: { batches == 2 }, progress: { _ in batches += 1 })
        #expect(first.stopped && !first.finished && first.encoded == 128)
        // The store is untouched and whole while the work goes on beside it.
        do {
            let untouched = try Store(openingAt: path)
            #expect(try untouched.modelDigest() == StoreImageTests.model(seed: 1).digest && untouched.count() == 300)
        }
        let second = try reencoding.run()
        #expect(second.finished && second.encoded == 172 && second.alreadyEncoded == 128)
        #expect(!FileManager.default.fileExists(atPath: reencoding.workPath) && !FileManager.default.fileExists(atPath: reencoding.oldPath))
        try expectEncoded(path, by: target, count: 300)
        let again = try reencoding.run()
        #expect(again.wasBoundAlready && again.finished)
    }

    /// Killed after retiring the old store but before moving it away (found by the power-loss
    /// trials): the next run finishes the swap instead of refusing a store that was "written to".
    @Test func aRunKilledBetweenRetiringAndMovingFinishesTheSwap() throws {
        let path = try original(count: 40)
        let target = try StoreImageTests.model(seed: 9)
        var reencoding = Reencoding(path: path, model: target)
        reencoding.keepOld = true
        _ = try reencoding.run()
        // Put the pieces back where the kill left them: the retired old store at STORE, the work beside it.
        let files = FileManager.default
        try files.moveItem(atPath: path, toPath: reencoding.workPath)
        try files.moveItem(atPath: reencoding.oldPath, toPath: path)
        reencoding.keepOld = false
        let resumed = try reencoding.run()
        #expect(resumed.finished && resumed.total == 40)
        #expect(!files.fileExists(atPath: reencoding.workPath) && !files.fileExists(atPath: reencoding.oldPath))
        try expectEncoded(path, by: target, count: 40)
        let store = try Store(openingAt: path)
        try store.insert(StoreItem(key: "after", code: try store.codes(of: [StoreImageTests.image(3)])[0]))
        #expect(try store.count() == 41)
    }

    /// An old store left from an earlier re-encoding is never overwritten nor silently deleted:
    /// the run refuses before encoding anything.
    /// A power cut while the work store was being created (found by the power-loss trials) leaves
    /// it holding an LMDB environment without a store's metadata, or a store without the old
    /// store's stamp: the next run takes either over and finishes.
    @Test(arguments: ["environment only", "store without stamp"])
    func aWorkStoreWhoseCreateWasCutShortIsTakenOver(state: String) throws {
        let path = try original(count: 40)
        let target = try StoreImageTests.model(seed: 9)
        let reencoding = Reencoding(path: path, model: target)
        if state == "environment only" {
            do { _ = try Environment(path: reencoding.workPath, tables: StoreSchema.all) }
            #expect(throws: StoreError.self) { try Store(openingAt: reencoding.workPath) }
        } else {
            try Store.create(at: reencoding.workPath, model: target).close()
        }
        let report = try reencoding.run()
        #expect(report.finished && report.encoded == 40)
        try expectEncoded(path, by: target, count: 40)
    }

    @Test func anOldStoreLeftBesideIsRefusedBeforeAnyWork() throws {
        let path = try original(count: 20)
        var reencoding = Reencoding(path: path, model: try StoreImageTests.model(seed: 9))
        try FileManager.default.createDirectory(atPath: reencoding.oldPath, withIntermediateDirectories: false)
        reencoding.batchSize = 8
        let refused = #expect(throws: StoreError.self) { try reencoding.run() }
        #expect(refused?.code == .alreadyExists && refused?.message.contains("reencode-old") == true)
        #expect(!FileManager.default.fileExists(atPath: reencoding.workPath), "nothing encoded")
        #expect(FileManager.default.fileExists(atPath: reencoding.oldPath))
    }

    /// A process that kept the old store open and writes after the swap would write into files
    /// that were moved away: the old store is retired first, so such writes are refused, whole.
    @Test func theReplacedStoreRefusesWritesThroughHandlesToIt() throws {
        let path = try original(count: 40)
        var reencoding = Reencoding(path: path, model: try StoreImageTests.model(seed: 9))
        reencoding.keepOld = true
        #expect(try reencoding.run().finished)
        let old = try Store(openingAt: reencoding.oldPath)
        defer { old.close() }
        let refused = #expect(throws: StoreError.self) { try old.insert(image: StoreImageTests.image(1), key: "late") }
        #expect(refused?.code == .retired && refused?.message.contains("open the path again") == true, "\(refused?.message ?? "")")
        #expect(throws: StoreError.self) { try old.remove(keys: ["k1"]) }
        #expect(try old.count() == 40 && old.item(forKey: "k1") != nil, "reads go on; nothing changed")
        #expect(try Store(openingAt: path).insert(image: StoreImageTests.image(1), key: "late") == 40, "the new store takes writes")
    }

    @Test func aSecondReencodingOfTheSameStoreRefusesToStart() throws {
        let path = try original(count: 20)
        let reencoding = Reencoding(path: path, model: try StoreImageTests.model(seed: 9))
        let fd = open(path + ".reencode.lock", O_RDWR | O_CREAT, 0o640)
        try #require(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        let busy = #expect(throws: StoreError.self) { try reencoding.run() }
        #expect(busy?.message.contains("another re-encoding") == true, "\(busy?.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: reencoding.workPath), "it stopped before any work")
        close(fd)
        #expect(try reencoding.run().finished)
    }

    @Test func aSwapCutShortIsCompletedByTheNextRun() throws {
        let path = try original(count: 50)
        let target = try StoreImageTests.model(seed: 9)
        var reencoding = Reencoding(path: path, model: target)
        reencoding.keepOld = true
        #expect(try reencoding.run().finished)
        // Undo the second rename, as a crash between the two would leave it: no store at the path.
        try FileManager.default.moveItem(atPath: path, toPath: reencoding.workPath)
        reencoding.keepOld = false
        #expect(try reencoding.run().finished)
        #expect(!FileManager.default.fileExists(atPath: reencoding.oldPath))
        try expectEncoded(path, by: target, count: 50)
    }

    @Test func itemsWithoutImagesStopTheSwapUnlessGivenOrDropped() throws {
        let path = try original(count: 40)
        do {
            let store = try Store(openingAt: path)
            try store.insert(StoreItem(key: "code-only", code: BinaryCode(signsOf: [Float](repeating: 1, count: 32))))
        }
        let target = try StoreImageTests.model(seed: 9)
        var reencoding = Reencoding(path: path, model: target)
        let error = #expect(throws: StoreError.self) { try reencoding.run() }
        #expect(error?.code == .incomplete && error?.message.contains("code-only") == true, "\(error?.message ?? "")")
        #expect(try Store(openingAt: path).modelDigest() == StoreImageTests.model(seed: 1).digest, "the store stays as it was")

        // The original of the code-only item, from elsewhere: now every item has an image.
        let load: @Sendable () throws -> PixelBuffer = { StoreImageTests.image(999) }
        reencoding.imageSource = { key in key == "code-only" ? load : nil }
        let report = try reencoding.run()
        #expect(report.finished && report.missing.isEmpty && report.alreadyEncoded == 40 && report.encoded == 1)
        let store = try Store(openingAt: path)
        #expect(try store.item(forKey: "code-only")?.code == BinaryCode(signsOf: try ImageEncoder(model: target).signs(of: [StoreImageTests.image(999)])))
    }

    @Test func droppingMissingItemsListsThem() throws {
        let path = try original(count: 20)
        do { try Store(openingAt: path).insert(StoreItem(key: "bare", code: BinaryCode(signsOf: [Float](repeating: -1, count: 32)))) }
        var reencoding = Reencoding(path: path, model: try StoreImageTests.model(seed: 9))
        reencoding.dropMissing = true
        let report = try reencoding.run()
        #expect(report.finished && report.missing.map(\.name) == ["bare"])
        #expect(try Store(openingAt: path).count() == 20)
    }

    @Test func aWriteDuringTheReencodingIsRefusedBeforeTheSwap() throws {
        let path = try original(count: 200)
        var reencoding = Reencoding(path: path, model: try StoreImageTests.model(seed: 9))
        reencoding.batchSize = 50
        var batches = 0
        #expect(try reencoding.run(shouldStop: { batches == 1 }, progress: { _ in batches += 1 }).stopped)
        do { _ = try Store(openingAt: path).remove(key: "k3") }
        let error = #expect(throws: StoreError.self) { try reencoding.run() }
        #expect(error?.code == .incomplete && error?.message.contains("changed") == true, "\(error?.message ?? "")")
        #expect(try Store(openingAt: path).count() == 199, "the store keeps its own state")
    }

    @Test func aReencodingToAnotherModelInProgressIsNotMixedIn() throws {
        let path = try original(count: 100)
        var first = Reencoding(path: path, model: try StoreImageTests.model(seed: 9))
        first.batchSize = 50
        var batches = 0
        #expect(try first.run(shouldStop: { batches == 1 }, progress: { _ in batches += 1 }).stopped)
        let error = #expect(throws: StoreError.self) { try Reencoding(path: path, model: try StoreImageTests.model(seed: 10)).run() }
        #expect(error?.code == .modelMismatch)
    }
}
