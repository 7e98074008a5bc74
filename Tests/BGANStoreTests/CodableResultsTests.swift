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

    @Test func payloadsAreTextWhenUTF8AndBase64Otherwise() throws {
        let code = try BinaryCode(hex: "0f0f")
        let text = SearchHit(id: 1, key: "a", distance: 2, payload: Array("shoes/1.jpg".utf8))
        let (textBack, textJSON) = try roundTrip(text)
        #expect(textBack == text && textJSON.contains("\"payload\":\"shoes\\/1.jpg\"") && !textJSON.contains("payloadBase64"))
        let binary = StoredItem(id: 2, key: "b", code: code, payload: [0xff, 0x00, 0xfe])
        let (binaryBack, binaryJSON) = try roundTrip(binary)
        let binaryObject = try #require(try JSONSerialization.jsonObject(with: Data(binaryJSON.utf8)) as? [String: Any])
        #expect(binaryBack == binary && binaryObject["payloadBase64"] as? String == "/wD+" && binaryObject["payload"] == nil, "\(binaryJSON)")
        let empty = SearchHit(id: 3, key: "c", distance: 0, payload: [], score: 0.5)
        let (emptyBack, emptyJSON) = try roundTrip(empty)
        #expect(emptyBack == empty && !emptyJSON.contains("payload") && emptyJSON.contains("\"score\":0.5"))
        let notBase64 = Data(#"{"id":1,"key":"k","code":"0f0f","payloadBase64":"%%"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(StoredItem.self, from: notBase64) }
    }

    @Test func aCodeThatIsNotHexIsADecodingError() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(BinaryCode.self, from: Data("\"zz\"".utf8)) }
    }
}
