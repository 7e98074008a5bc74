import Foundation
import Testing
import TestSupport
@testable import BGANStore
import LMDBStorage

/// The persisted store must answer exactly like the brute-force oracle, through every path,
/// after every kind of change, and after reopening.
@Suite struct StoreSearchTests {
    let directory = TemporaryDirectory("search")

    func smallRebuilds() -> StoreOptions {
        var options = StoreOptions()
        options.rebuildMinimum = 64
        return options
    }

    func check(_ store: Store, _ oracle: FlatIndex, queries: [BinaryCode], sourceLocation: SourceLocation = #_sourceLocation) throws {
        for query in queries {
            for method in SearchMethod.allCases {
                for k in [1, 10, 100] {
                    let hits = try store.search(code: query, k: k, method: method).hits
                    #expect(hits.map { Neighbor(id: $0.id, distance: $0.distance) } == (try oracle.nearest(to: query, k: k)).neighbors,
                            "k=\(k) \(method)", sourceLocation: sourceLocation)
                }
                for radius in [0, 2, query.bitCount / 8] {
                    let hits = try store.search(code: query, radius: radius, method: method).hits
                    #expect(hits.map { Neighbor(id: $0.id, distance: $0.distance) } == (try oracle.within(radius: radius, of: query)).neighbors,
                            "radius=\(radius) \(method)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test(arguments: [8, 64, 256, 1024], CodeDistribution.allCases)
    func persistedSearchEqualsTheOracle(bits: Int, distribution: CodeDistribution) throws {
        var rng = SeededGenerator(seed: UInt64(bits) &* 7 &+ UInt64(distribution.rawValue.count))
        let count = bits >= 256 ? 1200 : 2500
        let codes = makeCodes(count, bits: bits, distribution: distribution, rng: &rng)
        let path = directory.sub("s")
        var oracle = FlatIndex(bitCount: bits)
        do {
            let store = try Store.create(at: path, bitCount: bits, options: smallRebuilds())
            try store.write(codes.enumerated().map { StoreItem(key: "item-\($0.offset)", code: $0.element) })
            codes.forEach { oracle.append($0) }
            let queries = (0..<2).map { _ in flip(codes.randomElement(using: &rng)!, probability: 0.05, rng: &rng) } + [codes[1]]
            try check(store, oracle, queries: queries)
            #expect(try store.verify().problems == [])
        }
        let reopened = try Store(openingAt: path, options: smallRebuilds())
        try check(reopened, oracle, queries: [flip(codes[7], probability: 0.1, rng: &rng)])
    }

    @Test func deletesUpsertsAndNewItemsAreSearchedExactly() throws {
        var rng = SeededGenerator(seed: 42)
        let bits = 64
        var options = smallRebuilds()
        options.rebuildFraction = 0.5
        options.rebuildMinimum = 2000
        let store = try directory.bareStore("s", bits: bits, options: options)
        var codes = makeCodes(3000, bits: bits, distribution: .clustered, rng: &rng)
        try store.write(codes.enumerated().map { StoreItem(key: "k\($0.offset)", code: $0.element) })
        #expect(try store.statistics().indexedItems == 3000)
        var live = [Bool](repeating: true, count: 3000)
        try store.remove(keys: stride(from: 0, to: 3000, by: 9).map { "k\($0)" })
        for i in stride(from: 0, to: 3000, by: 9) { live[i] = false }
        var moved: [StoreItem] = []
        for i in stride(from: 4, to: 3000, by: 9) {
            codes[i] = flip(codes.randomElement(using: &rng)!, probability: 0.05, rng: &rng)
            moved.append(StoreItem(key: "k\(i)", code: codes[i]))
        }
        try store.write(moved, mode: .upsert)
        var added: [StoreItem] = []
        for i in 3000..<3400 {
            let code = flip(codes.randomElement(using: &rng)!, probability: 0.1, rng: &rng)
            codes.append(code)
            live.append(true)
            added.append(StoreItem(key: "k\(i)", code: code))
        }
        try store.write(added)
        let stats = try store.statistics()
        #expect(stats.unindexedItems > 0 && stats.staleIndexEntries > 0, "the changes should not have been merged yet")
        var oracle = FlatIndex(bitCount: codes[0].bitCount)
        for (i, code) in codes.enumerated() { oracle.codes.append(live[i] ? code : nil) }
        let queries = (0..<3).map { _ in flip(codes.randomElement(using: &rng)!, probability: 0.05, rng: &rng) } + [codes[4], codes[3399]]
        try check(store, oracle, queries: queries)
        #expect(try store.verify().problems == [])
        try store.rebuildIndex(substrings: .fixed(5))
        #expect(try store.statistics().substrings == 5)
        #expect(try store.statistics().unindexedItems == 0)
        try check(store, oracle, queries: queries)
        #expect(try store.verify().problems == [])
    }

    /// The on-disk index through ``SearchIndex``, against the oracle, after a history that crosses
    /// chunk boundaries (an index over the first 7,000 ids, removals and changed codes in the
    /// second chunk, an unindexed tail that ends mid-chunk), persisted and reopened, by every method.
    @Test(arguments: [64, 128], [CodeDistribution.uniform, .duplicates])
    func theReopenedStoreAnswersLikeTheOracleAcrossChunks(bits: Int, distribution: CodeDistribution) throws {
        let scenario = ChunkCrossingScenario(bits: bits, distribution: distribution, seed: UInt64(bits) &+ 17)
        let path = directory.sub("chunks-\(bits)-\(distribution)")
        do {
            let store = try Store.create(at: path, bitCount: bits, substrings: bits / 16)
            var pending: [StoreItem] = []
            var next = 0
            func flush() throws {
                if !pending.isEmpty { try store.write(pending, indexing: .deferred) }
                pending.removeAll()
            }
            for step in scenario.steps {
                switch step {
                case .append(let code):
                    pending.append(StoreItem(key: "k\(next)", code: code))
                    next += 1
                case .rebuild:
                    try flush()
                    try store.rebuildIndex()
                case .remove(let id):
                    try flush()
                    #expect(try store.remove(key: "k\(id)"))
                case .update(let id, let code):
                    try flush()
                    #expect(try store.upsert(StoreItem(key: "k\(id)", code: code)), "an upsert of a stored key replaces it")
                }
            }
            try flush()
            let statistics = try store.statistics()
            #expect(statistics.unindexedItems > ChunkCrossingScenario.appended && statistics.staleIndexEntries > 0,
                    "the history must leave a tail and stale entries: \(statistics.unindexedItems), \(statistics.staleIndexEntries)")
            store.close()
        }
        let reopened = try Store(openingAt: path)
        defer { reopened.close() }
        for method in SearchMethod.allCases {
            try reopened.withSearchIndex(method: method) { index in
                try expectConform([("store, \(method)", index)], to: scenario.oracle, queries: scenario.queries, "\(bits) bits, \(distribution)")
            }
        }
    }

    @Test func emptyAndSingleItemStores() throws {
        let store = try directory.bareStore("s", bits: 64, options: smallRebuilds())
        var rng = SeededGenerator(seed: 3)
        let query = randomCode(bits: 64, rng: &rng)
        for method in SearchMethod.allCases {
            #expect(try store.search(code: query, k: 10, method: method).hits.isEmpty)
            #expect(try store.search(code: query, radius: 64, method: method).hits.isEmpty)
        }
        try store.insert(StoreItem(key: "only", code: query))
        try store.rebuildIndex()
        let far = try BinaryCode(bitCount: 64, words: [~query.words[0]])
        for method in SearchMethod.allCases {
            #expect(try store.search(code: far, k: 10, method: method).hits.map(\.distance) == [64])
            #expect(try store.search(code: far, radius: 63, method: method).hits.isEmpty)
            #expect(try store.search(code: query, radius: 0, method: method).hits.map(\.key) == ["only"])
        }
    }

    @Test func automaticRebuildsKeepTheIndexCurrent() throws {
        let store = try directory.bareStore("s", bits: 32, options: smallRebuilds())
        var rng = SeededGenerator(seed: 5)
        for batch in 0..<10 {
            try store.write((0..<50).map { StoreItem(key: "b\(batch)-\($0)", code: randomCode(bits: 32, rng: &rng)) })
        }
        let stats = try store.statistics()
        #expect(stats.substrings > 0)
        #expect(stats.unindexedItems <= 64)
        #expect(try store.verify().problems == [])
    }

    @Test func verifyFindsDamage() throws {
        let path = directory.sub("s")
        do {
            let store = try Store.create(at: path, bitCount: 32, options: smallRebuilds())
            var rng = SeededGenerator(seed: 5)
            try store.write((0..<200).map { StoreItem(key: "k\($0)", code: randomCode(bits: 32, rng: &rng)) })
        }
        do {
            // Damage it behind the store's back: drop one key and one index entry's bucket.
            let env = try Environment(path: path, tables: StoreSchema.all)
            let keys = try env.table("keys")
            try env.write { txn in _ = try txn.delete(keys, key: "k17") }
        }
        let report = try Store(openingAt: path).verify()
        #expect(!report.isHealthy)
        #expect(report.problems.contains { $0.contains("keys but") })
        #expect(report.problems.contains { $0.contains("'k17' maps to nothing") })
    }

    /// A closed store at `sub("s")` of 300 random 32-bit codes keyed k0…k299, indexed.
    func indexedStoreOnDisk(seed: UInt64) throws -> (path: String, codes: [BinaryCode]) {
        let path = directory.sub("s")
        var rng = SeededGenerator(seed: seed)
        let codes = (0..<300).map { _ in randomCode(bits: 32, rng: &rng) }
        let store = try Store.create(at: path, bitCount: 32, options: smallRebuilds())
        defer { store.close() }
        try store.write(codes.enumerated().map { StoreItem(key: "k\($0.offset)", code: $0.element) })
        #expect(try store.statistics().indexedItems == 300)
        return (path, codes)
    }

    @Test func aDamagedIndexIsReportedAndRebuilt() throws {
        let (path, codes) = try indexedStoreOnDisk(seed: 6)
        do {
            let env = try Environment(path: path, tables: StoreSchema.all)
            let segment = try env.table("segment")
            try env.write { txn in _ = try txn.delete(segment, key: StoreSchema.idsKey(1)) }
        }
        let store = try Store(openingAt: path, options: smallRebuilds())
        let report = try store.verify()
        #expect(report.problems.contains { $0.contains("multi-index cannot be read") })
        var exported = 0
        try store.forEachItem { _ in exported += 1 }
        #expect(exported == 300, "export works without the index")
        try store.rebuildIndex()
        #expect(try store.verify().problems == [])
        #expect(try store.search(code: codes[7], radius: 0).hits.map(\.key).contains("k7"))
    }

    /// Index records of the right size but wrong content (offsets that fall) and id keys of the
    /// wrong length: the tools meant to find damage report it instead of reading out of bounds.
    @Test func malformedIndexRecordsAreReportedNotReadOutOfBounds() throws {
        let (path, codes) = try indexedStoreOnDisk(seed: 8)
        do {
            let env = try Environment(path: path, tables: StoreSchema.all)
            let segment = try env.table("segment")
            try env.write { txn in
                var offsets = try #require(try txn.get(segment, key: StoreSchema.offsetsKey(0))).map { $0 }
                // Bucket 5 starts past the end of the ids, then the offsets fall back.
                offsets.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(1_000_000), toByteOffset: 5 * 4, as: UInt32.self) }
                try txn.put(segment, key: StoreSchema.offsetsKey(0), value: offsets)
            }
        }
        do {
            let store = try Store(openingAt: path, options: smallRebuilds())
            let report = try store.verify()
            #expect(report.problems.contains { $0.contains("offsets that fall at bucket 6") }, "\(report.problems)")
            let stats = #expect(throws: StoreError.self) { try store.statistics() }
            #expect(stats?.code == .corrupted)
            let search = #expect(throws: StoreError.self) { try store.search(code: codes[0], k: 3) }
            #expect(search?.message.contains("rebuild the index") == true, "\(search?.message ?? "")")
            try store.rebuildIndex()
            #expect(try store.verify().isHealthy)
        }
        do {
            let env = try Environment(path: path, tables: StoreSchema.all)
            try env.write { txn in try txn.put(try env.table("moved"), key: [UInt8(1), 2], value: [UInt8]()) }
        }
        let store = try Store(openingAt: path, options: smallRebuilds())
        let report = try store.verify()
        #expect(report.problems.contains { $0.contains("moved table holds a 2-byte key") }, "\(report.problems)")
        #expect(throws: StoreError.self) { try store.search(code: codes[0], k: 3) }
    }

    /// Fingerprints beside the index's ids: a wrong one is found by verify, a wrong-sized record
    /// is refused, and a segment without them (written by a build that had none) still answers
    /// exactly and verifies.
    @Test func indexFingerprintsAreCheckedAndOptional() throws {
        let (path, codes) = try indexedStoreOnDisk(seed: 9)
        var oracle = FlatIndex(bitCount: 32)
        codes.forEach { oracle.append($0) }
        let queries = [codes[3], codes[200]]
        func damage(_ change: (borrowing Transaction, Table) throws -> Void) throws {
            let env = try Environment(path: path, tables: StoreSchema.all)
            let segment = try env.table("segment")
            try env.write { txn in try change(txn, segment) }
        }
        try damage { txn, segment in
            var fingerprints = try #require(try txn.get(segment, key: StoreSchema.fingerprintsKey(1))).map { $0 }
            fingerprints[8] ^= 0x01
            try txn.put(segment, key: StoreSchema.fingerprintsKey(1), value: fingerprints)
        }
        do {
            let store = try Store(openingAt: path, options: smallRebuilds())
            #expect(try store.verify().problems.contains { $0.contains("table 1 holds 1 fingerprints that differ") })
            try store.rebuildIndex()
            #expect(try store.verify().isHealthy)
        }
        try damage { txn, segment in try txn.put(segment, key: StoreSchema.fingerprintsKey(0), value: [UInt8](repeating: 0, count: 12)) }
        do {
            let store = try Store(openingAt: path, options: smallRebuilds())
            let refused = #expect(throws: StoreError.self) { try store.search(code: codes[0], k: 3) }
            #expect(refused?.message.contains("bytes of fingerprints") == true)
        }
        try damage { txn, segment in
            for table in 0..<16 { _ = try txn.delete(segment, key: StoreSchema.fingerprintsKey(table)) }
        }
        let store = try Store(openingAt: path, options: smallRebuilds())
        #expect(try store.verify().isHealthy)
        try check(store, oracle, queries: queries)
    }

    @Test func readersSeeWholeTransactionsWhileAWriterWrites() throws {
        let store = try directory.bareStore("s", bits: 64, options: smallRebuilds())
        var rng = SeededGenerator(seed: 9)
        let pairs = (0..<150).map { _ in randomCode(bits: 64, rng: &rng) }
        let torn = LockedCounter()
        let searches = LockedCounter()
        let finished = LockedFlag()
        let done = DispatchGroup()
        for reader in 0..<4 {
            done.enter()
            Thread {
                defer { done.leave() }
                var index = reader
                while !finished.value {
                    let code = pairs[index % pairs.count]
                    index += 1
                    // Each code is written twice in one transaction: a reader sees both or neither.
                    let count = (try? store.search(code: code, radius: 0).hits.count) ?? -1
                    searches.increment()
                    if count != 0 && count != 2 { torn.increment() }
                }
            }.start()
        }
        for (i, code) in pairs.enumerated() {
            try store.write([StoreItem(key: "a\(i)", code: code), StoreItem(key: "b\(i)", code: code)])
        }
        finished.set()
        done.wait()
        #expect(torn.value == 0)
        #expect(searches.value > 0)
        #expect(try store.verify().problems == [])
    }
}
