import Foundation
import HammingSearch
import LMDBStorage
import Testing
import TestSupport
@testable import BGANStore

/// The change log (ChangeLog.swift): a consumer that applies the changes since its cursor holds
/// exactly what the store holds, whatever was written, removed, imported or trimmed between.
@Suite struct ChangeLogTests {
    let directory = TemporaryDirectory("changes")

    /// A copy of a store's items as a consumer (a replica, a distributed engine) keeps them, by id.
    struct Replica {
        var items: [UInt32: StoredItem] = [:]
        var cursor: UInt64

        /// Applies the changes since the cursor; a removal must name an item the replica holds.
        mutating func sync(from store: Store) throws {
            let changes = try store.changes(since: cursor)
            for removal in changes.removed {
                #expect(items.removeValue(forKey: removal.id)?.key == removal.key, "removed item \(removal.id) was held under its key")
            }
            for item in changes.upserted { items[item.id] = item }
            #expect(changes.upserted.map(\.id) == changes.upserted.map(\.id).sorted())
            cursor = changes.cursor
        }
    }

    func contents(of store: Store) throws -> [UInt32: StoredItem] {
        var items: [UInt32: StoredItem] = [:]
        try store.forEachItem { items[$0.id] = $0 }
        return items
    }

    /// Random batches of inserts, upserts and removals (on a row-keyed import, a named one, or
    /// nothing), with replicas that sync at random moments from random starting points: each
    /// equals the store after its sync, also after trims and a reopen.
    @Test(arguments: [(41, "rows"), (42, "named"), (43, "empty")])
    func replicasThatSyncHoldWhatTheStoreHolds(seed: Int, start: String) throws {
        var rng = SeededGenerator(seed: UInt64(seed))
        let path = directory.sub("s\(seed)")
        var store: Store? = try Store.create(at: path, bitCount: 32)
        #expect(try store!.enableChangeLog() == 0)
        let imported = (0..<3000).map { _ in randomCode(bits: 32, rng: &rng) }
        switch start {
        case "rows": _ = try store!.importCodes(codeMatrix(imported))
        case "named": _ = try store!.importCodes(codeMatrix(imported), keys: (0..<3000).map { "n\($0)" })
        default: break
        }
        var replicas = [Replica(cursor: 0)]
        var keys = Set(try contents(of: store!).values.map(\.key))
        for round in 0..<60 {
            let current = try #require(store)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let batch = (0..<Int.random(in: 1...40, using: &rng)).map { _ in
                    StoreItem(key: Bool.random(using: &rng) && !keys.isEmpty ? keys.randomElement(using: &rng)! : "k\(Int.random(in: 0..<400, using: &rng))",
                              code: randomCode(bits: 32, rng: &rng),
                              payload: Bool.random(using: &rng) ? [UInt8(round)] : [])
                }
                try current.write(batch, mode: .upsert)
                keys.formUnion(batch.map(\.key))
            case 5..<8:
                let gone = (0..<Int.random(in: 1...30, using: &rng)).compactMap { _ in keys.randomElement(using: &rng) }
                try current.remove(keys: gone)
                keys.subtract(gone)
            case 8:
                // A new replica filled from a full export, at that export's cursor.
                var replica = Replica(cursor: 0)
                let report = try current.export(to: directory.sub("full.ndjson"), format: .ndjson)
                replica.cursor = try #require(report.cursor)
                replica.items = try contents(of: current)
                replicas.append(replica)
            default:
                let oldest = replicas.map(\.cursor).min()!
                try current.trimChanges(through: oldest)
                if Bool.random(using: &rng) {
                    current.close()
                    store = try Store(openingAt: path)
                }
            }
            let syncing = Int.random(in: 0..<replicas.count, using: &rng)
            try replicas[syncing].sync(from: store!)
            #expect(replicas[syncing].items == (try contents(of: store!)), "replica \(syncing) after round \(round)")
        }
        for index in replicas.indices {
            try replicas[index].sync(from: store!)
            #expect(replicas[index].items == (try contents(of: store!)))
            #expect(replicas[index].cursor == (try store!.changeCursor()))
        }
        #expect(try store!.verify().problems == [])
    }

    @Test func aStoreThatHeldItemsBeforeItsLogNeedsAFullExportFirst() throws {
        var rng = SeededGenerator(seed: 44)
        let store = try directory.bareStore(bits: 64)
        try store.insert(StoreItem(key: "before", code: randomCode(bits: 64, rng: &rng)))
        #expect(try store.changeCursor() == nil)
        let unlogged = #expect(throws: StoreError.self) { try store.changes(since: 0) }
        #expect(unlogged?.code == .changesUnavailable)
        #expect(try store.enableChangeLog() == 1)
        #expect(try store.enableChangeLog() == 1, "enabling twice changes nothing")
        let tooOld = #expect(throws: StoreError.self) { try store.changes(since: 0) }
        #expect(tooOld?.code == .changesUnavailable && tooOld?.message.contains("full export") == true)
        let full = try store.export(to: directory.sub("full.ndjson"), format: .ndjson)
        #expect(full.cursor == 1 && full.items == 1)
        let code = randomCode(bits: 64, rng: &rng)
        try store.insert(StoreItem(key: "after", code: code))
        #expect(try store.remove(key: "before"))
        let changes = try store.changes(since: 1)
        #expect(changes.removed == [StoreChanges.Removal(id: 0, key: "before")])
        #expect(changes.upserted == [StoredItem(id: 1, key: "after", code: code, payload: [])])
        #expect(changes.cursor == 3)
        let ahead = #expect(throws: StoreError.self) { try store.changes(since: 4) }
        #expect(ahead?.code == .changesUnavailable)
        #expect(try store.changes(since: 3) == StoreChanges(cursor: 3))
    }

    @Test func anItemInsertedAndRemovedInsideTheWindowIsNotReported() throws {
        var rng = SeededGenerator(seed: 45)
        let store = try directory.bareStore(bits: 64)
        try store.enableChangeLog()
        try store.write((0..<5).map { StoreItem(key: "k\($0)", code: randomCode(bits: 64, rng: &rng)) })
        let cursor = try #require(try store.changeCursor())
        try store.insert(StoreItem(key: "brief", code: randomCode(bits: 64, rng: &rng)))
        try store.remove(keys: ["brief", "k2"])
        let changes = try store.changes(since: cursor)
        #expect(changes.removed.map(\.key) == ["k2"] && changes.upserted.isEmpty)
    }

    @Test func trimmingDeletesEntriesAndRefusesOlderCursors() throws {
        var rng = SeededGenerator(seed: 46)
        let store = try directory.bareStore(bits: 64)
        try store.enableChangeLog()
        for index in 0..<10 { try store.insert(StoreItem(key: "k\(index)", code: randomCode(bits: 64, rng: &rng))) }
        #expect(try store.trimChanges(through: 4) == 4)
        #expect(try store.trimChanges(through: 2) == 0, "trimming behind the trimmed point does nothing")
        let refused = #expect(throws: StoreError.self) { try store.changes(since: 3) }
        #expect(refused?.code == .changesUnavailable)
        #expect(try store.changes(since: 4).upserted.map(\.key) == (4..<10).map { "k\($0)" })
        let beyond = #expect(throws: StoreError.self) { try store.trimChanges(through: 11) }
        #expect(beyond?.code == .invalidArgument)
        let entries = try store.environment.read { txn in try txn.statistics(of: store.tables.changes!).entries }
        #expect(entries == 6)
    }

    @Test func aLoggingStoreIsFormatThreeAndReopensAsOne() throws {
        var rng = SeededGenerator(seed: 47)
        let path = directory.sub("f")
        do {
            let store = try Store.create(at: path, bitCount: 64)
            _ = try store.importCodes(codeMatrix((0..<100).map { _ in randomCode(bits: 64, rng: &rng) }))
            try store.enableChangeLog()
            #expect(try store.remove(key: "7"))
            #expect(try store.formatRecord() == 3, "row-keyed and logging: format 3 (older builds must refuse, they would write unlogged)")
        }
        var readOnly = StoreOptions()
        readOnly.readOnly = true
        let reopened = try Store(openingAt: path, options: readOnly)
        #expect(try reopened.changes(since: 1).removed == [StoreChanges.Removal(id: 7, key: "7")])
        #expect(try reopened.item(forKey: "8")?.id == 8)
        #expect(try reopened.verify().problems == [])
    }

    @Test func aChangeExportWritesRemovalsThenUpsertsAsNDJSON() throws {
        var rng = SeededGenerator(seed: 48)
        let store = try directory.bareStore(bits: 64)
        try store.enableChangeLog()
        let codes = (0..<3).map { _ in randomCode(bits: 64, rng: &rng) }
        try store.write([StoreItem(key: "a", code: codes[0]), StoreItem(key: "b", code: codes[1])])
        let cursor = try #require(try store.changeCursor())
        try store.upsert(StoreItem(key: "b", code: codes[2], payload: Array("x".utf8)))
        try store.remove(key: "a")
        let path = directory.sub("changes.ndjson")
        let report = try store.export(to: path, format: .ndjson, since: cursor)
        #expect(report.items == 1 && report.removed == 1 && report.cursor == cursor + 2)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(lines.count == 2)
        #expect(lines[0]["op"] as? String == "remove" && lines[0]["id"] as? Int == 0 && lines[0]["key"] as? String == "a")
        #expect(lines[1]["op"] as? String == "upsert" && lines[1]["id"] as? Int == 1 && lines[1]["code_hex"] as? String == codes[2].hex)
        #expect(lines[1]["payload"] as? String == "x")
        let npy = #expect(throws: StoreError.self) { try store.export(to: directory.sub("c.npy"), format: .npy, since: cursor) }
        #expect(npy?.code == .invalidArgument)
    }

    /// A re-encoding gives every item a new id and code: the new store's log begins after the
    /// old one's last change, so an old cursor asks for a full export instead of syncing wrongly.
    @Test func aReencodedStoreRefusesCursorsOfTheOldOne() throws {
        let path = directory.sub("images")
        let cursor: UInt64
        do {
            let store = try Store.create(at: path, model: try StoreImageTests.model(seed: 1))
            try store.enableChangeLog()
            _ = try store.write(images: (0..<40).map { ImageItem(key: "k\($0)", image: StoreImageTests.image($0)) })
            try store.remove(key: "k3")
            cursor = try #require(try store.changeCursor())
        }
        #expect(try Reencoding(path: path, model: try StoreImageTests.model(seed: 9)).run().finished)
        let store = try Store(openingAt: path)
        #expect(try store.changeCursor() == cursor + 1)
        let refused = #expect(throws: StoreError.self) { try store.changes(since: cursor) }
        #expect(refused?.code == .changesUnavailable)
        var replica = Replica(cursor: try #require(try store.export(to: directory.sub("full.ndjson"), format: .ndjson).cursor))
        replica.items = try contents(of: store)
        #expect(replica.items.count == 39)
        try store.remove(key: "k5")
        try replica.sync(from: store)
        #expect(replica.items == (try contents(of: store)))
        #expect(try store.verify().problems == [])
    }

    @Test func damagedLogEntriesAreCaughtByVerify() throws {
        var rng = SeededGenerator(seed: 49)
        let store = try directory.bareStore(bits: 64)
        try store.enableChangeLog()
        try store.insert(StoreItem(key: "a", code: randomCode(bits: 64, rng: &rng)))
        #expect(try store.verify().problems == [])
        try store.environment.write { txn in
            try txn.put(store.tables.changes!, key: UInt64(1), value: [UInt8(9), 0, 0])
            try txn.put(store.tables.changes!, key: UInt64(5), value: ChangeLogEntry.replaced(0).encoded)
        }
        let problems = try store.verify().problems
        #expect(problems.contains { $0.contains("change 1") }, "\(problems)")
        #expect(problems.contains { $0.contains("change 5") }, "\(problems)")
    }
}
