import Basics
import Foundation

/// How ``Store/export(to:format:progress:)`` writes the store's codes.
public enum ExportFormat: String, CaseIterable, Sendable, Codable {
    /// A uint8 NumPy array `[N, bits/8]` (faiss binary indexes, Milvus `BINARY_VECTOR`,
    /// `numpy.unpackbits`), and beside it `OUT.keys.txt` (OUT without `.npy`), the keys one per
    /// line in the same order.
    case npy
    /// One JSON object per line: `key`, `code_hex` (the bytes as hex: ClickHouse's `unhex`,
    /// Elasticsearch/OpenSearch `bit` vectors, which read a hex string or signed bytes),
    /// `code_u8` (the bytes as numbers 0–255: Milvus JSON import) and `payload` when there is one.
    case ndjson
}

/// What an export wrote.
public struct ExportReport: Sendable, Codable, Equatable {
    public var items: Int
    public var path: String
    /// The keys file of an `npy` export.
    public var keysPath: String?
}

/// Payload bytes for people and JSON: the text when they are UTF-8, else hex.
public enum Payload {
    public static func text(_ bytes: [UInt8]) -> String {
        String(validating: bytes, as: UTF8.self) ?? bytes.map { String(format: "%02x", $0) }.joined()
    }
}

extension Store {
    /// Writes every item's code, in insertion order, for a distributed engine or NumPy, from
    /// one consistent read of the store (writers may go on).
    /// - Parameters:
    ///   - path: the file to write (created or replaced); `npy` writes the keys beside it
    ///     (``ExportReport/keysPath``).
    ///   - format: ``ExportFormat`` `.npy` (packed codes) or `.ndjson` (one JSON object per item).
    ///   - progress: called with the number of items written so far.
    /// - Throws: `StoreError` `.invalidArgument` when `path` cannot be created or, for `npy`,
    ///   a key holds a line break (a keys file cannot); the store's errors.
    @available(*, noasync, message: "blocks its thread: run it on a BlockingPool from async code")
    public func export(to path: String, format: ExportFormat, progress: (Int) -> Void = { _ in }) throws -> ExportReport {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw StoreError(.invalidArgument, "cannot create \(path); check that its folder exists and is writable")
        }
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? file.close() }
        var written = 0
        switch format {
        case .npy:
            let keysPath = (path.hasSuffix(".npy") ? String(path.dropLast(4)) : path) + ".keys.txt"
            var codes = Data(), keys = Data()
            try forEachItem { item in
                guard !item.key.contains(where: { $0.isNewline }) else {
                    throw StoreError(.invalidArgument, "key '\(item.key.prefix(60))' holds a line break, which a keys file cannot; export as ndjson")
                }
                codes.append(contentsOf: item.code.bytes)
                keys.append(contentsOf: Array((item.key + "\n").utf8))
                written += 1
                progress(written)
            }
            try file.write(contentsOf: NumPyByteMatrix(rows: written, columns: bitCount / 8, bytes: codes).encoded())
            try keys.write(to: URL(fileURLWithPath: keysPath))
            return ExportReport(items: written, path: path, keysPath: keysPath)
        case .ndjson:
            var buffer = Data()
            try forEachItem { item in
                var fields = [("key", JSONText.string(item.key)), ("code_hex", JSONText.string(item.code.hex)),
                              ("code_u8", JSONText.array(item.code.bytes.map(String.init)))]
                if !item.payload.isEmpty { fields.append(("payload", JSONText.string(Payload.text(item.payload)))) }
                buffer.append(contentsOf: Array((JSONText.object(fields) + "\n").utf8))
                if buffer.count > 1 << 20 {
                    try file.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
                written += 1
                progress(written)
            }
            try file.write(contentsOf: buffer)
            return ExportReport(items: written, path: path, keysPath: nil)
        }
    }

    /// ``export(to:format:progress:)`` on the store's ``BlockingPool``.
    public func export(to path: String, format: ExportFormat) async throws -> ExportReport {
        try await offPool { try $0.export(to: path, format: format) }
    }
}
