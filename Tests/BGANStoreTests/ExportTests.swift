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

    /// The engines that load an export compare codes by their own documented rules: Milvus reads
    /// a `BINARY_VECTOR` field from a C-order `uint8 [N, dim/8]` NumPy file (or from JSON rows of
    /// 0–255 numbers) and Elasticsearch/OpenSearch a `dense_vector` of `element_type: bit` from a
    /// hex string of dim/4 digits (or signed bytes −128…127); both rank by the number of differing
    /// bits, byte by byte. Read that way, every export must rank as the store does: each query's
    /// ten nearest distances equal the store's exact 10-NN, at a short and a long code length.
    @Test(arguments: [64, 256])
    func exportsReadAsTheEnginesDocumentRankAsTheStore(bits: Int) throws {
        var rng = SeededGenerator(seed: UInt64(bits))
        let store = try directory.bareStore("engines-\(bits)", bits: bits)
        defer { store.close() }
        let codes = (0..<500).map { _ in randomCode(bits: bits, rng: &rng) }
        try store.write(codes.enumerated().map { StoreItem(key: "k\($0.offset)", code: $0.element) })
        _ = try store.export(to: directory.sub("e\(bits).npy"), format: .npy)
        _ = try store.export(to: directory.sub("e\(bits).ndjson"), format: .ndjson)

        let npy = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.sub("e\(bits).npy"))))
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'descr': '|u1'") && header.contains("'fortran_order': False") && header.contains("'shape': (500, \(bits / 8))"))
        let width = bits / 8
        let milvusRows = (0..<500).map { Array(npy[(10 + headerLength + $0 * width)..<(10 + headerLength + ($0 + 1) * width)]) }

        let lines = try String(contentsOfFile: directory.sub("e\(bits).ndjson"), encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let milvusJSONRows = try objects.map { try #require($0["code_u8"] as? [Int]) }
        #expect(milvusJSONRows.allSatisfy { $0.count == width && $0.allSatisfy { (0...255).contains($0) } })
        let elasticRows: [[Int8]] = try objects.map { object in
            let hex = try #require(object["code_hex"] as? String)
            #expect(hex.count == bits / 4 && hex.allSatisfy(\.isHexDigit))
            let digits = Array(hex.utf8)
            return stride(from: 0, to: digits.count, by: 2).map { Int8(bitPattern: UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)!) }
        }
        #expect(objects.map { $0["key"] as? String } == (0..<500).map { "k\($0)" })

        func engineDistance(_ a: [UInt8], _ b: [UInt8]) -> Int { zip(a, b).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount } }
        for _ in 0..<20 {
            let query = randomCode(bits: bits, rng: &rng)
            let expected = try store.search(code: query, k: 10).hits.map(\.distance)
            let nearest = { (rows: [[UInt8]]) in Array(rows.map { engineDistance($0, query.bytes) }.sorted().prefix(10)) }
            #expect(nearest(milvusRows) == expected)
            #expect(nearest(milvusJSONRows.map { $0.map(UInt8.init) }) == expected)
            #expect(nearest(elasticRows.map { $0.map { UInt8(bitPattern: $0) } }) == expected)
        }
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
