import Foundation
import LMDBStorage
import Testing
import TestSupport
@testable import BGANStore

@Suite struct ImportTests {
    let directory = TemporaryDirectory("import")

    @Test(arguments: [0, 1, 2, 9, 10, 11, 99, 100, 101, 1000, 12345])
    func decimalKeysComeInByteOrder(count: Int) {
        var generated: [Int] = []
        DecimalKeys(count: count).forEach { row, _ in generated.append(row) }
        let expected = (0..<count).map(String.init).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { Int($0)! }
        #expect(generated == expected)
    }

    @Test(arguments: [0, 1, 2, 9, 10, 11, 99, 100, 101, 1000, 12345])
    func decimalKeysCarryTheirTextInEitherOrder(count: Int) {
        var walked: [(Int, String)] = []
        DecimalKeys(count: count).forEach { row, text in walked.append((row, String(decoding: text, as: UTF8.self))) }
        #expect(walked.allSatisfy { $0.1 == String($0.0) })
        var counted: [String] = []
        DecimalKeys.inRowOrder(count: count) { row, text in
            #expect(row == counted.count)
            counted.append(String(decoding: text, as: UTF8.self))
        }
        #expect(counted == (0..<count).map(String.init))
    }

    @Test(arguments: [nil, ["b", "a", "c", "é", "aa"]] as [[String]?])
    func bulkLoadIntoAnEmptyStoreEqualsItemByItemInserts(keys: [String]?) throws {
        var rng = SeededGenerator(seed: 12)
        let codes = (0..<5).map { _ in randomCode(bits: 72, rng: &rng) }
        let store = try directory.bareStore("bulk", bits: 72)
        let summary = try store.importCodes(codeMatrix(codes), keys: keys)
        #expect(summary.inserted == 5 && summary.rows == 5)
        for (row, code) in codes.enumerated() {
            let item = try #require(try store.item(forKey: keys?[row] ?? String(row)))
            #expect(item.code == code && item.id == UInt32(row))
        }
        #expect(try store.verify().problems == [])
        #expect(try store.statistics().indexedItems == 5)
    }

    @Test func writeMapStoresLoadAndReopenTheSame() throws {
        var rng = SeededGenerator(seed: 15)
        let codes = (0..<9000).map { _ in randomCode(bits: 64, rng: &rng) }
        var options = StoreOptions()
        options.writeMap = true
        let path = directory.sub("writemap")
        do {
            let store = try Store.create(at: path, bitCount: 64, options: options)
            _ = try store.importCodes(codeMatrix(codes))
            try store.insert(StoreItem(key: "extra", code: codes[0]))
        }
        // LMDB sizes a write-map data file to the whole map (64 MiB here); closing cut it to the
        // pages in use, so a plain copy of the store is as large as what it holds.
        var file = stat()
        #expect(stat(path + "/data.mdb", &file) == 0)
        let reopened = try Store(openingAt: path)
        let info = reopened.environment.info()
        #expect(Int(file.st_size) == (info.lastPage + 1) * Int(sysconf(Int32(_SC_PAGESIZE))), "the file holds exactly the pages in use")
        #expect(file.st_size < 8 << 20 && info.mapSize >= 64 << 20)
        #expect(try reopened.count() == 9001)
        #expect(try reopened.search(code: codes[5], radius: 0).hits.map(\.key).contains("5"))
        #expect(try reopened.verify().problems == [])
        reopened.close()
        do {
            let again = try Store(openingAt: path, options: options)
            try again.insert(StoreItem(key: "after trimming", code: codes[1]))
        }
        let last = try Store(openingAt: path)
        #expect(try last.count() == 9002 && last.verify().problems == [])
    }

    @Test func repeatedKeysFallBackToUpsertsWhereTheLastRowWins() throws {
        var rng = SeededGenerator(seed: 13)
        let codes = (0..<4).map { _ in randomCode(bits: 16, rng: &rng) }
        let store = try directory.bareStore("dup", bits: 16)
        let summary = try store.importCodes(codeMatrix(codes), keys: ["x", "y", "x", "z"])
        #expect(summary.inserted == 3 && summary.updated == 1)
        #expect(try store.item(forKey: "x")?.code == codes[2])
        #expect(try store.count() == 3)
        #expect(try store.verify().problems == [])
    }

    @Test func importIntoAFilledStoreReplacesAndAdds() throws {
        var rng = SeededGenerator(seed: 14)
        let first = (0..<300).map { _ in randomCode(bits: 64, rng: &rng) }
        let second = (0..<500).map { _ in randomCode(bits: 64, rng: &rng) }
        let store = try directory.bareStore("fill", bits: 64)
        _ = try store.importCodes(codeMatrix(first))
        let summary = try store.importCodes(codeMatrix(second), batchSize: 128)
        #expect(summary.updated == 300 && summary.inserted == 200)
        #expect(try store.item(forKey: "42")?.code == second[42])
        #expect(try store.item(forKey: "42")?.id == 42)
        #expect(try store.count() == 500)
        #expect(try store.verify().problems == [])
        #expect(try store.statistics().unindexedItems == 0)
    }

    @Test func wrongCodeLengthsAreRefusedBeforeWriting() throws {
        let store = try directory.bareStore("len", bits: 64)
        let error = #expect(throws: StoreError.self) {
            try store.importCodes(NumPyByteMatrix(rows: 2, columns: 4, bytes: Data(count: 8)))
        }
        #expect(error?.code == .codeLengthMismatch)
        #expect(try store.count() == 0)
    }

    @Test func npyFilesRoundTripAndBadOnesAreExplained() throws {
        let path = directory.sub("codes.npy")
        let original = NumPyByteMatrix(rows: 3, columns: 2, bytes: Data([1, 2, 3, 4, 5, 6]))
        try original.encoded().write(to: URL(fileURLWithPath: path))
        let read = try NumPyByteMatrix(contentsOf: path)
        #expect(read.rows == 3 && read.columns == 2 && Array(read.bytes) == [1, 2, 3, 4, 5, 6])
        #expect(original.encoded().count % 64 == 6 % 64, "the header pads the data to a 64-byte boundary")

        let cases: [(String, String)] = [
            ("not numpy at all", "magic"),
            ("\u{93}NUMPY\u{01}\u{00}\u{30}\u{00}{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", "dtype"),
            ("\u{93}NUMPY\u{01}\u{00}\u{30}\u{00}{'descr': '|u1', 'fortran_order': True, 'shape': (1, 2), }", "Fortran"),
            ("\u{93}NUMPY\u{01}\u{00}\u{2c}\u{00}{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", "shape"),
            ("\u{93}NUMPY\u{01}\u{00}\u{30}\u{00}{'descr': '|u1', 'fortran_order': False, 'shape': (9, 2), }", "truncated"),
            ("\u{93}NUMPY\u{01}\u{00}\u{30}\u{00}{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 8), }", "impossible"),
        ]
        for (index, (contents, reason)) in cases.enumerated() {
            let bad = directory.sub("bad\(index).npy")
            var bytes = Array(contents.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
            if bytes.count > 10 { bytes[8] = UInt8(bytes.count - 10) }
            try Data(bytes).write(to: URL(fileURLWithPath: bad))
            let error = #expect(throws: StoreError.self) { try NumPyByteMatrix(contentsOf: bad) }
            #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        }
    }
}
