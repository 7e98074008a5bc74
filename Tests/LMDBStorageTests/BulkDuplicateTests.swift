import Testing
import TestSupport
@testable import LMDBStorage

@Suite struct BulkDuplicateTests {
    let directory = TemporaryDirectory()
    let spec = TableSpec("postings", flags: [.duplicateSort, .duplicateFixed, .integerKey, .integerDuplicate])

    @Test(arguments: [1, 2, 1023, 1024, 1025, 50_000])
    func bulkWriteThenBulkReadReturnsEveryValue(count: Int) throws {
        let env = try Environment(path: directory.sub("env"), tables: [spec])
        let postings = try env.table(spec.name)
        let values = (0..<count).map { UInt32($0 * 3 + 1) }
        try env.write { txn in
            try txn.withCursor(postings) { cursor in
                for key: UInt64 in [5, 9] {
                    try values.withUnsafeBytes {
                        try cursor.putMultiple(key: key, values: $0, elementSize: 4, flags: .append)
                    }
                }
            }
        }
        let (read, pages, duplicates) = try env.read { txn in
            try txn.withCursor(postings) { cursor in
                var read: [UInt32] = []
                var pages = 0
                let bytes = try cursor.forEachValuePage(of: UInt64(9)) { page in
                    pages += 1
                    read.append(contentsOf: page.bindMemory(to: UInt32.self))
                }
                #expect(bytes == count * 4)
                _ = try cursor.seek(exactly: UInt64(5))
                return (read, pages, try cursor.duplicateCount())
            }
        }
        #expect(read == values)
        #expect(duplicates == count)
        #expect(pages >= 1 && pages <= count / 400 + 1, "a page should carry hundreds of values")
        let missing = try env.read { txn in
            try txn.withCursor(postings) { try $0.forEachValuePage(of: UInt64(7)) { _ in } }
        }
        #expect(missing == 0)
    }

    @Test func appendOutOfOrderIsRefused() throws {
        let env = try Environment(path: directory.sub("env"), tables: [spec])
        let postings = try env.table(spec.name)
        let values: [UInt32] = [1, 2, 3]
        let error = #expect(throws: StorageError.self) {
            try env.write { txn in
                try txn.withCursor(postings) { cursor in
                    try values.withUnsafeBytes {
                        try cursor.putMultiple(key: UInt64(9), values: $0, elementSize: 4, flags: .append)
                        try cursor.putMultiple(key: UInt64(3), values: $0, elementSize: 4, flags: .append)
                    }
                }
            }
        }
        #expect(error?.code == .keyExists)
    }

    @Test func bulkReadsNeedDupFixedTables() throws {
        let env = try Environment(path: directory.sub("env"), tables: [TableSpec("plain")])
        let plain = try env.table("plain")
        let error = #expect(throws: StorageError.self) {
            try env.read { txn in try txn.withCursor(plain) { try $0.forEachValuePage(of: "k") { _ in } } }
        }
        #expect(error?.code == .invalidArgument)
    }

    @Test func deletingOnePairKeepsTheOthers() throws {
        let env = try Environment(path: directory.sub("env"), tables: [spec])
        let postings = try env.table(spec.name)
        try env.write { txn in
            for v: UInt32 in [10, 20, 30] { try txn.put(postings, key: UInt64(1), value: v) }
            try txn.delete(postings, key: UInt64(1), value: UInt32(20))
        }
        let left = try env.read { txn in
            try txn.withCursor(postings) { cursor in
                var left: [UInt32] = []
                try cursor.forEachValuePage(of: UInt64(1)) { left += $0.bindMemory(to: UInt32.self) }
                return left
            }
        }
        #expect(left == [10, 30])
    }
}
