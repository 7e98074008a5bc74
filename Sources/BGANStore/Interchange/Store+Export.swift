import Basics
import Foundation

/// How ``Store/export(to:format:since:progress:)`` writes the store's codes.
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
    /// Items written: every live item in a full export; the items inserted or written since the
    /// cursor in a change export.
    public var items: Int
    public var path: String
    /// The keys file of an `npy` export.
    public var keysPath: String?
    /// The store's change cursor at the moment the export read: sync the consumer it fills
    /// from here (``Store/export(to:format:since:progress:)``). Nil when the store keeps no
    /// change log.
    public var cursor: UInt64?
    /// Removals written by a change export (0 in a full export).
    public var removed = 0
}

/// Payload bytes for people and JSON: the text when they are UTF-8, else hex.
public enum Payload {
    public static func text(_ bytes: [UInt8]) -> String {
        String(validating: bytes, as: UTF8.self) ?? bytes.map { String(format: "%02x", $0) }.joined()
    }
}

extension Store {
    /// Writes every item's code, in insertion order, for a distributed engine or NumPy, from
    /// one consistent read of the store (writers may go on) — or, given `since`, only what
    /// changed after that change cursor (``forEachChange(since:_:)``), as `ndjson` lines with
    /// an `op` of `remove` (removals first) or `upsert`.
    /// - Parameters:
    ///   - path: the file to write (created or replaced); `npy` writes the keys beside it
    ///     (``ExportReport/keysPath``).
    ///   - format: ``ExportFormat`` `.npy` (packed codes) or `.ndjson` (one JSON object per item).
    ///   - since: a change cursor (``ExportReport/cursor`` of the export that filled the
    ///     consumer, or of the last change export); nil exports everything.
    ///   - progress: called with the number of items written so far.
    /// - Throws: `StoreError` `.invalidArgument` when `path` cannot be created, `since` is given
    ///   with `npy` (which cannot say "removed"), or, for `npy`, a key holds a line break (a keys
    ///   file cannot); `.changesUnavailable` as ``forEachChange(since:_:)``; the store's errors.
    @available(*, noasync, message: "blocks its thread: run it on a BlockingPool from async code")
    public func export(to path: String, format: ExportFormat, since: UInt64? = nil, progress: (Int) -> Void = { _ in }) throws -> ExportReport {
        if since != nil, format == .npy {
            throw StoreError(.invalidArgument, "a change export (since a cursor) needs the ndjson format, which can say that an item was removed; npy holds codes only")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw StoreError(.invalidArgument, "cannot create \(path); check that its folder exists and is writable")
        }
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? file.close() }
        var report = ExportReport(items: 0, path: path)
        switch format {
        case .npy:
            let keysPath = (path.hasSuffix(".npy") ? String(path.dropLast(4)) : path) + ".keys.txt"
            var codes = Data(), keys = Data()
            report.cursor = try forEachItemWithCursor { item in
                guard !item.key.contains(where: { $0.isNewline }) else {
                    throw StoreError(.invalidArgument, "key '\(item.key.prefix(60))' holds a line break, which a keys file cannot; export as ndjson")
                }
                codes.append(contentsOf: item.code.bytes)
                keys.append(contentsOf: Array((item.key + "\n").utf8))
                report.items += 1
                progress(report.items)
            }
            try file.write(contentsOf: NumPyByteMatrix(rows: report.items, columns: bitCount / 8, bytes: codes).encoded())
            try keys.write(to: URL(fileURLWithPath: keysPath))
            report.keysPath = keysPath
        case .ndjson:
            var lines = NDJSONWriter(file: file)
            if let since {
                report.cursor = try forEachChange(since: since) { change in
                    switch change {
                    case .removed(let id, let key):
                        try lines.append([("op", JSONText.string("remove")), ("id", String(id)), ("key", JSONText.string(key))])
                        report.removed += 1
                    case .upserted(let item):
                        try lines.append([("op", JSONText.string("upsert"))] + Self.exportFields(item))
                        report.items += 1
                        progress(report.items)
                    }
                }
            } else {
                report.cursor = try forEachItemWithCursor { item in
                    try lines.append(Self.exportFields(item))
                    report.items += 1
                    progress(report.items)
                }
            }
            try lines.flush()
        }
        return report
    }

    /// ``forEachItem(_:)``, returning the change cursor of the same read (nil without a log):
    /// where a consumer filled by this walk syncs from.
    private func forEachItemWithCursor(_ body: (StoredItem) throws -> Void) throws -> UInt64? {
        try environment.read { txn in
            try forEachItem(txn, body)
            return try readMeta(txn).changeLog?.last
        }
    }

    /// An item's fields in an ndjson export.
    private static func exportFields(_ item: StoredItem) -> [(String, String)] {
        var fields = [("id", String(item.id)), ("key", JSONText.string(item.key)), ("code_hex", JSONText.string(item.code.hex)),
                      ("code_u8", JSONText.array(item.code.bytes.map(String.init)))]
        if !item.payload.isEmpty { fields.append(("payload", JSONText.string(Payload.text(item.payload)))) }
        return fields
    }

    /// ``export(to:format:since:progress:)`` on the store's ``BlockingPool``.
    public func export(to path: String, format: ExportFormat, since: UInt64? = nil) async throws -> ExportReport {
        try await offPool { try $0.export(to: path, format: format, since: since) }
    }
}

/// JSON objects written one per line, a megabyte at a time.
private struct NDJSONWriter {
    let file: FileHandle
    private var buffer = Data()

    init(file: FileHandle) { self.file = file }

    mutating func append(_ fields: [(String, String)]) throws {
        buffer.append(contentsOf: Array((JSONText.object(fields) + "\n").utf8))
        if buffer.count > 1 << 20 { try flush() }
    }

    mutating func flush() throws {
        try file.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
