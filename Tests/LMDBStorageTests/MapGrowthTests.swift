import Testing
import TestSupport
@testable import LMDBStorage

@Suite struct MapGrowthTests {
    let directory = TemporaryDirectory()

    func tinyOptions() -> EnvironmentOptions {
        var options = EnvironmentOptions()
        options.mapSize = 64 << 10
        return options
    }

    @Test func oneLargeTransactionGrowsTheMapAndCommits() throws {
        let env = try Environment(path: directory.sub("env"), options: tinyOptions(), tables: [TableSpec("blobs")])
        let blobs = try env.table("blobs")
        let blob = [UInt8](repeating: 0xAB, count: 4096)
        var attempts = 0
        try env.write { txn in
            attempts += 1
            for i in 0..<5_000 as Range<UInt64> { try txn.put(blobs, key: i.bigEndianKey, value: blob) }
        }
        #expect(attempts > 1, "the tiny map should have filled at least once")
        #expect(env.mapGrowths == attempts - 1)
        #expect(env.info().mapSize >= 5_000 * 4096)
        let stored = try env.read { txn in try txn.statistics(of: blobs).entries }
        #expect(stored == 5_000)
    }

    @Test func manySmallTransactionsGrowTheMap() throws {
        let env = try Environment(path: directory.sub("env"), options: tinyOptions(), tables: [TableSpec("blobs")])
        let blobs = try env.table("blobs")
        for batch in 0..<20 as Range<UInt64> {
            try env.write { txn in
                for i in 0..<100 as Range<UInt64> {
                    try txn.put(blobs, key: (batch * 100 + i).bigEndianKey, value: [UInt8](repeating: UInt8(batch), count: 2000))
                }
            }
        }
        #expect(env.mapGrowths > 0)
        let sample = try env.read { txn in try txn.get(blobs, key: UInt64(1_950).bigEndianKey).map(Array.init) }
        #expect(sample == [UInt8](repeating: 19, count: 2000))
    }

    @Test func growthStopsAtTheConfiguredMaximum() throws {
        var options = tinyOptions()
        options.maximumMapSize = 1 << 20
        let env = try Environment(path: directory.sub("env"), options: options, tables: [TableSpec("blobs")])
        let blobs = try env.table("blobs")
        let error = #expect(throws: StorageError.self) {
            try env.write { txn in
                for i in 0..<1_000 as Range<UInt64> { try txn.put(blobs, key: i.bigEndianKey, value: [UInt8](repeating: 1, count: 4096)) }
            }
        }
        #expect(error?.code == .mapFull)
        #expect(error?.message.contains("maximumMapSize") == true)
        #expect(try env.read { txn in try txn.statistics(of: blobs).entries } == 0)
    }

    @Test func aThreadHoldingAReadCannotWriteAndSaysWhy() throws {
        let env = try Environment(path: directory.sub("env"), options: tinyOptions(), tables: [TableSpec("blobs")])
        let blobs = try env.table("blobs")
        let error = #expect(throws: StorageError.self) {
            try env.read { _ in
                try env.write { txn in
                    for i in 0..<1_000 as Range<UInt64> { try txn.put(blobs, key: i.bigEndianKey, value: [UInt8](repeating: 1, count: 4096)) }
                }
            }
        }
        #expect(error?.code == .nestedWrite)
        #expect(error?.message.contains("read transaction") == true)
    }
}
