import Foundation
import Testing
import TestSupport
@testable import BGANStore

/// Results and reports travel as JSON (a service answering over HTTP, a job's log): each type
/// encodes and decodes back to itself, codes as hex.
@Suite struct CodableResultsTests {
    let directory = TemporaryDirectory("codable")

    func roundTrip<T: Codable>(_ value: T) throws -> (T, String) {
        let data = try JSONEncoder().encode(value)
        return (try JSONDecoder().decode(T.self, from: data), String(decoding: data, as: UTF8.self))
    }

    @Test func searchResultsAndItemsRoundTrip() throws {
        let store = try directory.bareStore(bits: 64)
        defer { store.close() }
        var rng = SeededGenerator(seed: 2)
        try store.write((0..<50).map { StoreItem(key: "k\($0)", code: randomCode(bits: 64, rng: &rng), payload: [UInt8($0)]) })
        let result = try store.search(code: try BinaryCode(hex: "00000000000000ff"), k: 5)
        let (back, json) = try roundTrip(result)
        #expect(back.hits == result.hits && back.statistics == result.statistics)
        #expect(json.contains("\"key\":\"k") && json.contains("\"path\""))
        let item = try #require(try store.item(forKey: "k7"))
        let (itemBack, itemJSON) = try roundTrip(item)
        #expect(itemBack == item && itemJSON.contains("\"code\":\"\(item.code.hex)\""))
        #expect(try roundTrip(WriteSummary()).0 == WriteSummary())
    }

    @Test func reportsWithNamedReasonsRoundTrip() throws {
        var ingestion = IngestionReport()
        ingestion.added = 3
        ingestion.rejected = [SkippedInput("a.png", "damaged or truncated PNG")]
        let (ingestionBack, json) = try roundTrip(ingestion)
        #expect(ingestionBack.added == 3 && ingestionBack.rejected.map(\.name) == ["a.png"] && ingestionBack.rejected[0].reason == "damaged or truncated PNG")
        #expect(json.contains("{\"name\":\"a.png\",\"reason\":\"damaged or truncated PNG\"}") || json.contains("\"reason\":\"damaged or truncated PNG\",\"name\":\"a.png\""))
        var reencoding = ReencodingReport()
        reencoding.missing = [SkippedInput("k1", "no image")]
        reencoding.finished = true
        let (reencodingBack, _) = try roundTrip(reencoding)
        #expect(reencodingBack.missing.map(\.name) == ["k1"] && reencodingBack.finished)
    }

    @Test func aCodeThatIsNotHexIsADecodingError() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(BinaryCode.self, from: Data("\"zz\"".utf8)) }
    }
}
