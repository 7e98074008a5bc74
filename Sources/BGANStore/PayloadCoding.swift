import Foundation
import HammingSearch

/// How items and hits appear in JSON (`bgan-db query|get --json`, a service's answers): a payload
/// that is UTF-8 is the text itself (`"payload": "shoes/1.jpg"`), any other payload is Base64
/// under `payloadBase64`; a code is its hex (``BinaryCode``); an empty payload is left out.
enum PayloadCodingKeys: String, CodingKey {
    case payload
    case payloadBase64
}

extension KeyedEncodingContainer where Key == PayloadCodingKeys {
    mutating func encodePayload(_ payload: [UInt8]) throws {
        guard !payload.isEmpty else { return }
        if let text = String(validating: payload, as: UTF8.self) {
            try encode(text, forKey: .payload)
        } else {
            try encode(Data(payload).base64EncodedString(), forKey: .payloadBase64)
        }
    }
}

extension KeyedDecodingContainer where Key == PayloadCodingKeys {
    func decodePayload() throws -> [UInt8] {
        if let text = try decodeIfPresent(String.self, forKey: .payload) { return Array(text.utf8) }
        guard let base64 = try decodeIfPresent(String.self, forKey: .payloadBase64) else { return [] }
        guard let bytes = Data(base64Encoded: base64) else {
            throw DecodingError.dataCorruptedError(forKey: .payloadBase64, in: self, debugDescription: "'\(base64.prefix(40))' is not Base64")
        }
        return Array(bytes)
    }
}

extension SearchHit: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, key, distance, score
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UInt32.self, forKey: .id)
        key = try container.decode(String.self, forKey: .key)
        distance = try container.decode(Int.self, forKey: .distance)
        score = try container.decodeIfPresent(Float.self, forKey: .score)
        payload = try decoder.container(keyedBy: PayloadCodingKeys.self).decodePayload()
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(key, forKey: .key)
        try container.encode(distance, forKey: .distance)
        try container.encodeIfPresent(score, forKey: .score)
        var payloadContainer = encoder.container(keyedBy: PayloadCodingKeys.self)
        try payloadContainer.encodePayload(payload)
    }
}

extension StoredItem: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, key, code
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UInt32.self, forKey: .id)
        key = try container.decode(String.self, forKey: .key)
        code = try container.decode(BinaryCode.self, forKey: .code)
        payload = try decoder.container(keyedBy: PayloadCodingKeys.self).decodePayload()
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(key, forKey: .key)
        try container.encode(code, forKey: .code)
        var payloadContainer = encoder.container(keyedBy: PayloadCodingKeys.self)
        try payloadContainer.encodePayload(payload)
    }
}
