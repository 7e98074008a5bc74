import Foundation
import Testing
import TestSupport
@testable import BGANStore

/// Exports as library calls: the NumPy matrix and keys file, NDJSON lines, refusals before damage.
@Suite struct ExportTests {
    let directory = TemporaryDirectory("export")

    func store() throws -> (Store, [StoreItem]) {
        let store = try directory.bareStore(bits: 16)
        let items = [StoreItem(key: "a", code: try BinaryCode(hex: "00ff"), payload: Array("cat".utf8)),
                     StoreItem(key: "b\"q", code: try BinaryCode(hex: "8001"), payload: [0xff, 0x00])]
        try store.write(items)
        return (store, items)
    }

    @Test func npyHoldsTheCodesInInsertionOrderWithTheirKeysBeside() throws {
        let (store, items) = try store()
        defer { store.close() }
        var seen: [Int] = []
        let report = try store.export(to: directory.sub("codes.npy"), format: .npy) { seen.append($0) }
        #expect(report == ExportReport(items: 2, path: directory.sub("codes.npy"), keysPath: directory.sub("codes.keys.txt")))
        #expect(seen == [1, 2])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.sub("codes.npy"))))
        #expect(Array(bytes.prefix(6)) == [0x93] + Array("NUMPY".utf8))
        #expect(String(decoding: bytes, as: UTF8.self).contains("'shape': (2, 2)"))
        #expect(Array(bytes.suffix(4)) == items[0].code.bytes + items[1].code.bytes)
        #expect(try String(contentsOfFile: directory.sub("codes.keys.txt"), encoding: .utf8) == "a\nb\"q\n")
    }

    @Test func ndjsonLinesCarryKeyCodeAndPayload() throws {
        let (store, _) = try store()
        defer { store.close() }
        #expect(try store.export(to: directory.sub("codes.ndjson"), format: .ndjson).items == 2)
        let lines = try String(contentsOfFile: directory.sub("codes.ndjson"), encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects[0]["key"] as? String == "a" && objects[0]["code_hex"] as? String == "00ff" && objects[0]["payload"] as? String == "cat")
        #expect(objects[1]["key"] as? String == "b\"q" && objects[1]["code_u8"] as? [Int] == [128, 1] && objects[1]["payload"] as? String == "ff00")
    }

    @Test func aKeyWithALineBreakIsRefusedForNpy() throws {
        let store = try directory.bareStore("newline", bits: 16)
        defer { store.close() }
        try store.insert(StoreItem(key: "two\nlines", code: try BinaryCode(hex: "0000")))
        let error = #expect(throws: StoreError.self) { try store.export(to: directory.sub("x.npy"), format: .npy) }
        #expect(error?.message.contains("export as ndjson") == true)
        #expect(try store.export(to: directory.sub("x.ndjson"), format: .ndjson).items == 1)
    }
}
