import Foundation

/// Minimal JSON writing with a fixed key order, for line-oriented output scripts can read
/// (`bgan-db --json`, NDJSON exports).
public enum JSONText {
    public static func string(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case let c where c.value < 0x20: escaped += String(format: "\\u%04x", c.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }

    /// An object from already-encoded values, in the order given.
    public static func object(_ fields: KeyValuePairs<String, String>) -> String {
        "{" + fields.map { "\(string($0.key)): \($0.value)" }.joined(separator: ", ") + "}"
    }

    public static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    public static func array(_ values: [String]) -> String { "[" + values.joined(separator: ", ") + "]" }

    /// Encodes a `Codable` value with sorted keys (for reports).
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
