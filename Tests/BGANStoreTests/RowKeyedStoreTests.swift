import Foundation
import HammingSearch
import LMDBStorage
import Testing
import TestSupport
@testable import BGANStore

/// Stores whose bulk-imported rows are keyed by their row number and keep no record or key entry
/// for them (RowKeys.swift): every read and write must see them exactly as a store that wrote
/// each row as an item would.
@Suite struct RowKeyedStoreTests {
    let directory = TemporaryDirectory("rowkeys")

    @Test func rowsImportedWithoutKeysKeepNoRecordsAndReadAsItems() throws {
        var rng = SeededGenerator(seed: 31)
        let codes = (0..<5000).map { _ in randomCode(bits: 64, rng: &rng) }
        let store = try directory.bareStore("rows", bits: 64)
        _ = try store.importCodes(codeMatrix(codes))
        let statistics = try store.environment.read { txn in
            (try txn.statistics(of: store.tables.items).entries, try txn.statistics(of: store.tables.keys).entries)
        }
        #expect(statistics.0 == 0 && statistics.1 == 0, "no item record and no key entry per row")
        #expect(try store.formatRecord() == 2)
        for row in [0, 1, 9, 10, 4999] {
            let item = try #require(try store.item(forKey: String(row)))
            #expect(item.id == UInt32(row) && item.code == codes[row] && item.payload.isEmpty)
        }
        for absent in ["5000", "05", "00", "-1", "+1", "1e3", " 7", "7 ", "", "4294967296", "99999999999"] where !absent.isEmpty {
            #expect(try store.item(forKey: absent) == nil, "'\(absent)' names no row")
        }
        #expect(try store.holds(keys: ["17", "017", "5000"]) == [true, false, false])
        let hits = try store.search(code: codes[1234], k: 1).hits
        #expect(hits.first?.key == "1234" && hits.first?.distance == 0)
        #expect(try store.verify().problems == [])

        let named = try directory.bareStore("named", bits: 64)
        _ = try named.importCodes(codeMatrix(Array(codes.prefix(10))), keys: (0..<10).map { "k\($0)" })
        #expect(try named.formatRecord() == 1, "stores with named rows keep the format older builds read")
    }

    @Test func aRemovedRowsKeyWrittenAgainTakesANewIDAndOnlyThatOne() throws {
        var rng = SeededGenerator(seed: 32)
        let codes = (0..<100).map { _ in randomCode(bits: 64, rng: &rng) }
        let store = try directory.bareStore(bits: 64)
        _ = try store.importCodes(codeMatrix(codes))
        #expect(try store.remove(key: "5"))
        #expect(try store.item(forKey: "5") == nil)
        #expect(try store.search(code: codes[5], radius: 0).hits.isEmpty)
        let fresh = randomCode(bits: 64, rng: &rng)
        let id = try store.insert(StoreItem(key: "5", code: fresh, payload: [9]))
        #expect(id == 100)
        #expect(try store.item(forKey: "5") == StoredItem(id: 100, key: "5", code: fresh, payload: [9]))
        #expect(throws: StoreError.self) { try store.insert(StoreItem(key: "6", code: fresh)) }
        #expect(try store.upsert(StoreItem(key: "6", code: codes[6], payload: [1, 2])))
        #expect(try store.item(forKey: "6") == StoredItem(id: 6, key: "6", code: codes[6], payload: [1, 2]))
        #expect(try store.verify().problems == [])
        #expect(try store.upsert(StoreItem(key: "7", code: codes[8])))
        #expect(try store.item(forKey: "7") == StoredItem(id: 7, key: "7", code: codes[8], payload: []))
        let records = try store.environment.read { txn in try txn.statistics(of: store.tables.items).entries }
        #expect(records == 2, "ids 6 (with its payload) and 100 have records; 7, rewritten without a payload, needs none")
        #expect(try store.remove(key: "5") && store.remove(key: "6"))
        #expect(try store.item(forKey: "5") == nil && store.item(forKey: "6") == nil)
        #expect(try store.count() == 98 && store.verify().problems == [])
    }

    /// Random writes on a row-keyed store against a dictionary: after every batch, lookups,
    /// walks, pages, searches, counts and verification agree with it, and so after a reopen.
    @Test(arguments: [33, 34, 35]) func randomWritesAgreeWithADictionary(seed: Int) throws {
        var rng = SeededGenerator(seed: UInt64(seed))
        let pool = (0..<24).map { _ in randomCode(bits: 32, rng: &rng) }
        let rows = 9000
        let imported = (0..<rows).map { _ in pool[Int.random(in: 0..<pool.count, using: &rng)] }
        let path = directory.sub("random\(seed)")
        var store = try Store.create(at: path, bitCount: 32)
        _ = try store.importCodes(codeMatrix(imported))
        var oracle: [String: (code: BinaryCode, payload: [UInt8])] = [:]
        for (row, code) in imported.enumerated() { oracle[String(row)] = (code, []) }
        var keyPool = ["0", "8999", "9000", "007", "00", "-3", "x", "1.5", "12a"]
        for _ in 0..<40 { keyPool.append(String(Int.random(in: 0..<(rows + 20), using: &rng))) }

        func check(_ when: String) throws {
            for key in keyPool {
                let stored = try store.item(forKey: key)
                #expect(stored?.code == oracle[key]?.code && stored?.payload == oracle[key]?.payload, "\(when): key '\(key)'")
            }
            var walked: [StoredItem] = []
            try store.forEachItem { walked.append($0) }
            #expect(walked.count == oracle.count && walked.map(\.id) == walked.map(\.id).sorted(), "\(when): walk")
            #expect(walked.allSatisfy { oracle[$0.key]?.code == $0.code && oracle[$0.key]?.payload == $0.payload }, "\(when): walk")
            var paged: [StoredItem] = []
            while true {
                let page = try store.items(fromID: paged.last.map { $0.id + 1 } ?? 0, limit: 1777)
                if page.isEmpty { break }
                paged += page
            }
            #expect(paged == walked, "\(when): pages")
            for code in pool.prefix(4) {
                let found = Set(try store.search(code: code, radius: 0).hits.map(\.key))
                #expect(found == Set(oracle.filter { $0.value.code == code }.keys), "\(when): search")
            }
            #expect(try store.count() == oracle.count)
            #expect(try store.verify().problems == [], "\(when): verify")
        }

        for round in 0..<6 {
            var batch: [StoreItem] = []
            var removals: [String] = []
            for _ in 0..<30 {
                let key = keyPool[Int.random(in: 0..<keyPool.count, using: &rng)]
                if Bool.random(using: &rng) {
                    let payload = Bool.random(using: &rng) ? [] : [UInt8(round), UInt8(batch.count)]
                    batch.append(StoreItem(key: key, code: pool[Int.random(in: 0..<pool.count, using: &rng)], payload: payload))
                } else {
                    removals.append(key)
                }
            }
            try store.write(batch, mode: .upsert)
            for item in batch { oracle[item.key] = (item.code, item.payload) }
            let removed = try store.remove(keys: removals)
            var expectedRemoved = 0
            for key in removals where oracle.removeValue(forKey: key) != nil { expectedRemoved += 1 }
            #expect(removed == expectedRemoved)
            if round == 3 { try store.rebuildIndex() }
            try check("round \(round)")
        }
        store.close()
        store = try Store(openingAt: path)
        try check("reopened")
    }

    @Test func anExportOfRowKeyedItemsLoadsBackAsTheSameItems() throws {
        var rng = SeededGenerator(seed: 38)
        let codes = (0..<300).map { _ in randomCode(bits: 64, rng: &rng) }
        let store = try directory.bareStore("source", bits: 64)
        _ = try store.importCodes(codeMatrix(codes))
        try store.remove(keys: ["0", "150"])
        try store.upsert(StoreItem(key: "7", code: codes[7], payload: [7]))
        try store.insert(StoreItem(key: "named", code: codes[1]))
        _ = try store.export(to: directory.sub("out.npy"), format: .npy)
        let keys = try String(contentsOfFile: directory.sub("out.keys.txt"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(keys.count == 299 && keys.first == "1" && keys.last == "named" && !keys.contains("150"))
        let copy = try directory.bareStore("copy", bits: 64)
        _ = try copy.importCodes(try NumPyByteMatrix(contentsOf: directory.sub("out.npy")), keys: keys)
        var original: [String: BinaryCode] = [:]
        try store.forEachItem { original[$0.key] = $0.code }
        var loaded: [String: BinaryCode] = [:]
        try copy.forEachItem { loaded[$0.key] = $0.code }
        #expect(loaded == original)
    }

    @Test func verificationFindsAKeyEntryShadowingALiveRow() throws {
        var rng = SeededGenerator(seed: 36)
        let codes = (0..<50).map { _ in randomCode(bits: 64, rng: &rng) }
        let store = try directory.bareStore(bits: 64)
        _ = try store.importCodes(codeMatrix(codes))
        try store.environment.write { txn in try txn.put(store.tables.keys, key: "3", value: UInt32(3)) }
        let problems = try store.verify().problems
        #expect(problems.contains { $0.contains("key '3' names both row-keyed item 3") })
    }

    @Test func aFormatWithoutItsRowKeyRecordIsRefused() throws {
        var rng = SeededGenerator(seed: 37)
        let path = directory.sub("damaged")
        do {
            let store = try Store.create(at: path, bitCount: 64)
            _ = try store.importCodes(codeMatrix((0..<10).map { _ in randomCode(bits: 64, rng: &rng) }))
            _ = try store.environment.write { txn in try txn.delete(store.tables.meta, key: StoreSchema.MetaKey.rowKeys) }
        }
        #expect { try Store(openingAt: path) } throws: { error in
            (error as? StoreError)?.code == .corrupted && "\(error)".contains("row-keys")
        }
    }
}
