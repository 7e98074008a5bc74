import Testing
import TestSupport
@testable import LMDBStorage

@Suite struct RoundTripTests {
    let directory = TemporaryDirectory()

    func open(_ tables: [TableSpec] = [TableSpec("items")]) throws -> Environment {
        try Environment(path: directory.sub("env"), tables: tables)
    }

    @Test func putGetDeleteRoundTrip() throws {
        let env = try open()
        let items = try env.table("items")
        try env.write { txn in
            try txn.put(items, key: "alpha", value: [1, 2, 3] as [UInt8])
            try txn.put(items, key: "beta", value: "second")
        }
        let (alpha, beta, missing) = try env.read { txn in
            (try txn.get(items, key: "alpha").map(Array.init),
             try txn.get(items, key: "beta")?.stringValue,
             try txn.get(items, key: "gamma"))
        }
        #expect(alpha == [1, 2, 3])
        #expect(beta == "second")
        #expect(missing == nil)

        let deleted = try env.write { txn in try txn.delete(items, key: "alpha") }
        let deletedAgain = try env.write { txn in try txn.delete(items, key: "alpha") }
        #expect(deleted)
        #expect(!deletedAgain)
        #expect(try env.read { txn in try txn.statistics(of: items).entries } == 1)
    }

    @Test func valuesSurviveReopen() throws {
        do {
            let env = try open()
            let items = try env.table("items")
            try env.write { txn in
                for i in 0..<1000 as Range<UInt64> { try txn.put(items, key: i.bigEndianKey, value: "v\(i)") }
            }
        }
        let env = try open()
        let items = try env.table("items")
        let values = try env.read { txn in
            try txn.withCursor(items) { cursor in
                var seen: [String] = []
                var entry = try cursor.first()
                while let (_, value) = entry {
                    seen.append(value.stringValue)
                    entry = try cursor.next()
                }
                return seen
            }
        }
        #expect(values == (0..<1000).map { "v\($0)" })
    }

    @Test func integerKeysSortNumerically() throws {
        let env = try open([TableSpec("ints", flags: .integerKey)])
        let ints = try env.table("ints")
        let keys: [UInt64] = [300, 2, 1 << 40, 17, 0]
        try env.write { txn in
            for key in keys { try txn.put(ints, key: key, value: key) }
        }
        let order = try env.read { txn in
            try txn.withCursor(ints) { cursor in
                var seen: [UInt64] = []
                var entry = try cursor.first()
                while let e = entry {
                    seen.append(e.key.uint64Value!)
                    #expect(e.value.uint64Value == e.key.uint64Value)
                    entry = try cursor.next()
                }
                return seen
            }
        }
        #expect(order == keys.sorted())
    }

    @Test func throwingWriteRollsBack() throws {
        struct Abandon: Error {}
        let env = try open()
        let items = try env.table("items")
        #expect(throws: Abandon.self) {
            try env.write { txn in
                try txn.put(items, key: "k", value: "v")
                throw Abandon()
            }
        }
        #expect(try env.read { txn in try txn.get(items, key: "k") } == nil)
    }

    @Test func noOverwriteReportsKeyExists() throws {
        let env = try open()
        let items = try env.table("items")
        try env.write { txn in try txn.put(items, key: "k", value: "one") }
        let error = #expect(throws: StorageError.self) {
            try env.write { txn in try txn.put(items, key: "k", value: "two", flags: .noOverwrite) }
        }
        #expect(error?.code == .keyExists)
        #expect(try env.read { txn in try txn.get(items, key: "k")?.stringValue } == "one")
    }

    @Test func reservedValuesAreWrittenInPlace() throws {
        let env = try open()
        let items = try env.table("items")
        try env.write { txn in
            try txn.put(items, key: "big", reservingCount: 10_000) { buffer in
                for i in 0..<buffer.count { buffer[i] = UInt8(i % 251) }
            }
        }
        let bytes = try env.read { txn in try txn.get(items, key: "big").map(Array.init) }
        #expect(bytes == (0..<10_000).map { UInt8($0 % 251) })
    }

    @Test func seekFindsFirstKeyAtOrAbove() throws {
        let env = try open()
        let items = try env.table("items")
        try env.write { txn in
            for key in ["apple", "banana", "cherry"] { try txn.put(items, key: key, value: key.uppercased()) }
        }
        let (ranged, exact, absent) = try env.read { txn in
            try txn.withCursor(items) { cursor in
                (try cursor.seek(atLeast: "b")?.value.stringValue,
                 try cursor.seek(exactly: "cherry")?.value.stringValue,
                 try cursor.seek(exactly: "blueberry"))
            }
        }
        #expect(ranged == "BANANA")
        #expect(exact == "CHERRY")
        #expect(absent == nil)
    }
}

extension UInt64 {
    /// Big-endian bytes, so that byte order equals numeric order in a default table.
    var bigEndianKey: [UInt8] { withUnsafeBytes(of: bigEndian, Array.init) }
}
