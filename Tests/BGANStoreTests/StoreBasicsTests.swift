import Foundation
import Testing
import TestSupport
@testable import BGANStore
import LMDBStorage

@Suite struct StoreBasicsTests {
    let directory = TemporaryDirectory("store")

    func code(_ hex: String) -> BinaryCode { try! BinaryCode(hex: hex) }

    @Test func itemsRoundTripAndSurviveReopen() throws {
        let path = directory.sub("s")
        do {
            let store = try Store.create(at: path, bitCount: 16)
            #expect(try store.insert(StoreItem(key: "a", code: code("00ff"), payload: Array("cat.jpg".utf8))) == 0)
            #expect(try store.insert(StoreItem(key: "b", code: code("0f0f"))) == 1)
            #expect(try store.count() == 2)
        }
        let store = try Store(openingAt: path)
        #expect(store.bitCount == 16)
        let a = try #require(try store.item(forKey: "a"))
        #expect(a.id == 0 && a.code == code("00ff") && a.payload == Array("cat.jpg".utf8))
        #expect(try store.item(forKey: "zz") == nil)

        #expect(try store.upsert(StoreItem(key: "a", code: code("ffff"), payload: [1])))
        #expect(try !store.upsert(StoreItem(key: "c", code: code("0000"))))
        #expect(try store.item(forKey: "a")?.code == code("ffff"))
        #expect(try store.item(forKey: "a")?.id == 0, "an upsert keeps the id")
        #expect(try store.remove(key: "b"))
        #expect(try !store.remove(key: "b"))
        #expect(try store.count() == 2)
        var keys: [String] = []
        try store.forEachItem { keys.append($0.key) }
        #expect(keys == ["a", "c"])
        #expect(try store.verify().problems == [])
    }

    @Test func creatingOverAStoreIsRefused() throws {
        let path = directory.sub("s")
        _ = try Store.create(at: path, bitCount: 64)
        let error = #expect(throws: StoreError.self) { try Store.create(at: path, bitCount: 64) }
        #expect(error?.code == .alreadyExists)
    }

    /// A store is made in a new or empty directory: a folder of other files (a photo folder given
    /// as the store's path) is refused and left as it was, and so is a file.
    @Test func creatingAmongOtherFilesIsRefused() throws {
        let folder = directory.sub("photos")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/a.jpg"))
        let refused = #expect(throws: StoreError.self) { try Store.create(at: folder, bitCount: 64) }
        #expect(refused?.code == .invalidArgument && refused?.message.contains("a.jpg") == true, "\(refused?.message ?? "")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["a.jpg"], "nothing written, nothing removed")

        let file = directory.sub("file")
        try Data([1]).write(to: URL(fileURLWithPath: file))
        let notADirectory = #expect(throws: StoreError.self) { try Store.create(at: file, bitCount: 64) }
        #expect(notADirectory?.code == .invalidArgument && notADirectory?.message.contains("not a directory") == true)
        #expect(FileManager.default.fileExists(atPath: file))

        let orphan = directory.sub("missing") + "/store"
        let noParent = #expect(throws: StoreError.self) { try Store.create(at: orphan, bitCount: 64) }
        #expect(noParent?.message.contains("\(directory.sub("missing")) does not exist") == true, "\(noParent?.message ?? "")")

        let empty = directory.sub("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        #expect(try Store.create(at: empty, bitCount: 64).count() == 0)
    }

    /// A create killed before its meta records committed leaves an LMDB environment with the
    /// store's tables (or none) and nothing in them: opening says so, creating again takes it over.
    /// Anything holding data is left alone.
    @Test func aCreateKilledMidwayIsTakenOverByTheNextCreate() throws {
        let tablesOnly = directory.sub("tables-only")
        do { _ = try Environment(path: tablesOnly, tables: StoreSchema.all) }
        let open = #expect(throws: StoreError.self) { try Store(openingAt: tablesOnly) }
        #expect(open?.code == .notAStore && open?.message.contains("interrupted") == true, "\(open?.message ?? "")")
        let store = try Store.create(at: tablesOnly, bitCount: 64)
        try store.insert(StoreItem(key: "a", code: code("00000000000000ff")))
        #expect(try store.count() == 1)
        store.close()

        let bare = directory.sub("bare")
        do { _ = try Environment(path: bare, tables: []) }
        _ = try Store.create(at: bare, bitCount: 32)

        // Killed before LMDB wrote its meta pages: an empty or short data file (a power-cut trial found this).
        for (name, bytes) in [("empty-file", 0), ("short-file", 4096)] {
            let path = directory.sub(name)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            try Data(count: bytes).write(to: URL(fileURLWithPath: path + "/data.mdb"))
            let open = #expect(throws: StoreError.self) { try Store(openingAt: path) }
            #expect(open?.code == .notAStore && open?.message.contains("interrupted") == true, "\(open?.message ?? "")")
            let created = try Store.create(at: path, bitCount: 64)
            #expect(try created.count() == 0 && created.verify().problems == [])
            created.close()
        }

        let holdingData = directory.sub("holding-data")
        do {
            let environment = try Environment(path: holdingData, tables: StoreSchema.all)
            try environment.write { txn in try txn.put(try environment.table(StoreSchema.items.name), key: "x", value: "y") }
        }
        let refused = #expect(throws: StoreError.self) { try Store.create(at: holdingData, bitCount: 64) }
        #expect(refused?.code == .alreadyExists)
        #expect(FileManager.default.fileExists(atPath: holdingData + "/data.mdb"), "data is never removed")
    }

    @Test func openingWhatIsNotAStoreSaysSo() throws {
        let missing = #expect(throws: StoreError.self) { try Store(openingAt: directory.sub("nothing")) }
        #expect(missing?.code == .notAStore)
        try FileManager.default.createDirectory(atPath: directory.sub("empty"), withIntermediateDirectories: false)
        let empty = #expect(throws: StoreError.self) { try Store(openingAt: directory.sub("empty")) }
        #expect(empty?.code == .notAStore)
        #expect(!FileManager.default.fileExists(atPath: directory.sub("empty") + "/data.mdb"), "a failed open writes nothing")
        do { _ = try Environment(path: directory.sub("foreign"), tables: [TableSpec("other")]) }
        let foreign = #expect(throws: StoreError.self) { try Store(openingAt: directory.sub("foreign")) }
        #expect(foreign?.code == .notAStore)
    }

    @Test func badWritesAreRefusedBeforeAnythingIsWritten() throws {
        let store = try directory.bareStore("s", bits: 16)
        try store.insert(StoreItem(key: "a", code: code("0001")))
        let cases: [(StoreItem, StoreError.Code)] = [
            (StoreItem(key: "b", code: code("00")), .codeLengthMismatch),
            (StoreItem(key: "", code: code("0000")), .invalidKey),
            (StoreItem(key: String(repeating: "k", count: 512), code: code("0000")), .invalidKey),
            (StoreItem(key: "c", code: code("0000"), payload: [UInt8](repeating: 0, count: (1 << 20) + 1)), .payloadTooLarge),
            (StoreItem(key: "a", code: code("0000")), .keyExists),
        ]
        for (bad, expected) in cases {
            let error = #expect(throws: StoreError.self) { try store.write([StoreItem(key: "fine", code: code("1111")), bad]) }
            #expect(error?.code == expected)
        }
        #expect(try store.count() == 1)
        #expect(try store.item(forKey: "fine") == nil)
        let query = #expect(throws: StoreError.self) { try store.search(code: code("00"), k: 1) }
        #expect(query?.code == .codeLengthMismatch)
    }

    @Test func repeatedKeysInABatchFollowTheMode() throws {
        let store = try directory.bareStore("s", bits: 16)
        let batch = [StoreItem(key: "x", code: code("0001")), StoreItem(key: "x", code: code("0003"))]
        #expect(throws: StoreError.self) { try store.write(batch, mode: .insert) }
        let summary = try store.write(batch, mode: .upsert)
        #expect(summary.inserted == 1 && summary.updated == 1)
        #expect(try store.item(forKey: "x")?.code == code("0003"))
        #expect(try store.verify().isHealthy)
    }

    @Test func aBatchThatFillsTheMapIsRetriedWhole() throws {
        var options = StoreOptions()
        options.initialMapSize = 64 << 10
        options.rebuildMinimum = 1000
        let store = try directory.bareStore("tiny", bits: 256, options: options)
        var rng = SeededGenerator(seed: 31)
        let items = (0..<30_000).map { StoreItem(key: "k\($0)", code: randomCode(bits: 256, rng: &rng), payload: [UInt8](repeating: 7, count: 40)) }
        let summary = try store.write(items)
        #expect(summary.inserted == 30_000 && summary.rebuiltIndex)
        #expect(try store.count() == 30_000)
        #expect(try store.verify().problems == [])
    }

    @Test func keysAreTheirBytesNotTheirUnicodeMeaning() throws {
        let store = try directory.bareStore("nfc", bits: 8)
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed, "Swift calls them equal")
        let summary = try store.write([StoreItem(key: composed, code: code("01")), StoreItem(key: decomposed, code: code("02"))])
        #expect(summary.inserted == 2)
        #expect(try store.item(forKey: composed)?.code == code("01"))
        #expect(try store.item(forKey: decomposed)?.code == code("02"))
        #expect(try store.verify().problems == [])
    }

    @Test func unicodeKeysAndBinaryPayloadsAreKeptExactly() throws {
        let store = try directory.bareStore("s", bits: 8)
        let payload: [UInt8] = [0, 255, 10, 13, 0]
        try store.insert(StoreItem(key: "фото/猫.png", code: code("a5"), payload: payload))
        let hit = try #require(try store.search(code: code("a4"), k: 1).hits.first)
        #expect(hit.key == "фото/猫.png" && hit.payload == payload && hit.distance == 1)
    }

    @Test func readOnlyStoresRefuseWrites() throws {
        let path = directory.sub("s")
        do { try Store.create(at: path, bitCount: 8).insert(StoreItem(key: "a", code: code("01"))) }
        var options = StoreOptions()
        options.readOnly = true
        let store = try Store(openingAt: path, options: options)
        #expect(try store.search(code: code("01"), k: 1).hits.map(\.key) == ["a"])
        let error = #expect(throws: StorageError.self) { try store.insert(StoreItem(key: "b", code: code("02"))) }
        #expect(error?.code == .readOnly)
    }

    @Test func statisticsDescribeTheStore() throws {
        var options = StoreOptions()
        options.rebuildMinimum = 10
        let store = try directory.bareStore("s", bits: 64, options: options)
        var rng = SeededGenerator(seed: 1)
        try store.write((0..<300).map { StoreItem(key: "k\($0)", code: randomCode(bits: 64, rng: &rng)) })
        let stats = try store.statistics()
        #expect(stats.items == 300 && stats.bits == 64)
        #expect(stats.substrings == SubstringLayout.recommendedSubstrings(bitCount: 64, itemCount: 300))
        #expect(stats.indexedItems == 300 && stats.unindexedItems == 0)
        #expect(stats.tables.count == stats.substrings)
        #expect(stats.tables.allSatisfy { $0.nonemptyBuckets > 0 && $0.nonemptyBuckets <= 300 })
        #expect(stats.bytesPerItem > 8)
        #expect(stats.fileBytes >= stats.usedBytes)
    }
}
