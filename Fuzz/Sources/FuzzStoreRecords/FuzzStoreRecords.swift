import BGANStore
import Foundation
import HammingSearch
import LMDBStorage
import PixelIO

/// libFuzzer entry: one record of any of a store's data tables (keys, items, codes, segment,
/// moved, thumbnails, refinements) replaced, re-keyed, removed or added by arbitrary bytes, then
/// the store opened, described, verified, searched (each path, by code, radius and refined),
/// paged, read back and exported. Every damage must surface as a thrown error — `verify`
/// reporting it — never a crash, a hang or an out-of-bounds read.
///
/// Input: byte 0 picks the table, bytes 1–2 the record (an index into the table's keys, in
/// order), byte 3 the edit (0 new value, 1 new key, 2 removed, 3 a record added), and the rest
/// is the new value, or the new key (its first bytes, up to 8) followed by the value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStoreRecords(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 4 else { return 0 }
    let fixture = RecordsFixture.shared
    let table = RecordsFixture.tables[Int(data[0]) % RecordsFixture.tables.count]
    let keys = fixture.keys[table] ?? []
    let rest = Array(UnsafeBufferPointer(start: data + 4, count: size - 4))
    let chosen = keys.isEmpty ? nil : keys[(Int(data[1]) << 8 | Int(data[2])) % keys.count]
    let keyLength = table == "keys" ? min(rest.count, 8) : (rest.count >= 8 && rest[0] & 1 == 1 ? 8 : 4)
    var edits: [(key: [UInt8], value: [UInt8]?)] = []
    switch data[3] % 4 {
    case 0: if let chosen { edits = [(chosen, rest)] }
    case 1:
        if let chosen, rest.count >= keyLength {
            edits = [(chosen, nil), (Array(rest.prefix(keyLength)), fixture.value(table, chosen) ?? [])]
        }
    case 2: if let chosen { edits = [(chosen, nil)] }
    default: if rest.count >= keyLength { edits = [(Array(rest.prefix(keyLength)), Array(rest.dropFirst(keyLength)))] }
    }
    guard !edits.isEmpty, let undo = fixture.apply(edits, in: table) else { return 0 }
    defer { fixture.restore(undo, in: table) }
    fixture.exercise()
    return 0
}

/// A PDQ store in memory-backed storage, made once per process: 60 small images (so every
/// table has records: codes, thumbnails, PDQ margins as refinements), some replaced and some
/// removed, and a 32-table index over them (8-bit substrings: verifying walks 256 buckets a
/// table, where 16-bit ones would walk 65,536). Commits skip `fsync`.
final class RecordsFixture: @unchecked Sendable {
    static let tables = ["keys", "items", "codes", "segment", "moved", "thumbnails", "refinements"]
    /// The tables as the store made them (docs/on-disk-format.md): all but `keys` integer-keyed.
    static let specs = tables.map { TableSpec($0, flags: $0 == "keys" ? [] : .integerKey) }
    static let shared = RecordsFixture()

    static var storeOptions: StoreOptions {
        var options = StoreOptions()
        options.syncMode = .noSync
        options.initialMapSize = 64 << 20
        return options
    }
    static var environmentOptions: EnvironmentOptions {
        var options = EnvironmentOptions()
        options.syncMode = .noSync
        options.createsTables = false
        return options
    }

    let path: String
    let exportPath: String
    /// Each table's keys, in order, as made.
    var keys: [String: [[UInt8]]] = [:]
    private var values: [String: [[UInt8]: [UInt8]]] = [:]
    private let query: BinaryCode
    private let image: PixelBuffer

    private init() {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = "\(base)/bganstore-fuzz-records-\(getpid())"
        exportPath = path + ".ndjson"
        try? FileManager.default.removeItem(atPath: path)
        var generator = SystemRandomNumberGenerator()
        func picture(_ seed: Int) -> PixelBuffer {
            let bytes = (0..<(24 * 24)).map { i in UInt8(truncatingIfNeeded: (i * (seed % 7 + 1) + seed * 31 + Int.random(in: 0..<40, using: &generator))) }
            return try! PixelBuffer(width: 24, height: 24, format: .gray, bytes: bytes)
        }
        image = picture(5)
        do {
            let store = try Store.create(at: path, encoder: PDQEncoder(), thumbnailSide: 16, options: Self.storeOptions)
            _ = try store.write(images: (0..<60).map { ImageItem(key: "item \($0)", image: picture($0), payload: Array("p\($0)".utf8)) })
            _ = try store.write(images: (0..<6).map { ImageItem(key: "item \($0 * 7)", image: picture($0 + 1000)) }, mode: .upsert)
            _ = try store.remove(keys: (0..<5).map { "item \($0 * 11 + 3)" })
            try store.rebuildIndex(substrings: .fixed(32))
            query = try store.codes(of: [image])[0]
            store.close()
            let environment = try Environment(path: path, options: Self.environmentOptions, tables: Self.specs)
            try environment.read { txn in
                for name in Self.tables {
                    let table = try environment.table(name)
                    var tableKeys: [[UInt8]] = [], tableValues: [[UInt8]: [UInt8]] = [:]
                    try txn.withCursor(table) { cursor in
                        var entry = try cursor.first()
                        while let (key, value) = entry {
                            tableKeys.append(Array(key))
                            tableValues[Array(key)] = Array(value)
                            entry = try cursor.nextKey()
                        }
                    }
                    keys[name] = tableKeys
                    values[name] = tableValues
                }
            }
            environment.close()
        } catch {
            fatalError("cannot make the fuzzing store at \(path): \(error)")
        }
        atexit {
            try? FileManager.default.removeItem(atPath: RecordsFixture.shared.path)
            try? FileManager.default.removeItem(atPath: RecordsFixture.shared.exportPath)
        }
    }

    func value(_ table: String, _ key: [UInt8]) -> [UInt8]? { values[table]?[key] }

    /// Writes `edits` (nil: remove) into table `name`; returns what undoes them, or nil when
    /// LMDB refused an edit (a key its table cannot hold), in which case nothing was written.
    func apply(_ edits: [(key: [UInt8], value: [UInt8]?)], in name: String) -> [(key: [UInt8], value: [UInt8]?)]? {
        var undo: [(key: [UInt8], value: [UInt8]?)] = []
        do {
            try write(name) { txn, table in
                undo = []
                for edit in edits {
                    undo.append((edit.key, try txn.get(table, key: edit.key).map { Array($0) }))
                    try Self.set(edit, table, txn)
                }
            }
        } catch {
            return nil
        }
        return undo.reversed()
    }

    /// Puts back what ``apply(_:in:)`` changed.
    func restore(_ undo: [(key: [UInt8], value: [UInt8]?)], in name: String) {
        do {
            try write(name) { txn, table in
                for edit in undo { try Self.set(edit, table, txn) }
            }
        } catch {
            fatalError("cannot restore the \(name) table: \(error)")
        }
    }

    private static func set(_ edit: (key: [UInt8], value: [UInt8]?), _ table: Table, _ txn: borrowing Transaction) throws {
        if let value = edit.value { try txn.put(table, key: edit.key, value: value) } else { _ = try txn.delete(table, key: edit.key) }
    }

    /// One write transaction on table `name` of the store's environment, opened for it alone.
    private func write(_ name: String, _ body: (borrowing Transaction, Table) throws -> Void) throws {
        let environment: Environment
        do {
            environment = try Environment(path: path, options: Self.environmentOptions, tables: Self.specs)
        } catch {
            fatalError("cannot open the fuzzing store: \(error)")
        }
        defer { environment.close() }
        let table = try environment.table(name)
        try environment.write { txn in try body(txn, table) }
    }

    /// Everything a user or a tool does with a store, each error swallowed: only a trap fails.
    func exercise() {
        guard let store = try? Store(openingAt: path, options: Self.storeOptions) else { return }
        defer { store.close() }
        _ = try? store.count()
        _ = try? store.statistics()
        _ = try? store.verify()
        for method in SearchMethod.allCases {
            _ = try? store.search(code: query, k: 5, method: method)
            _ = try? store.search(code: query, radius: 40, method: method)
        }
        _ = try? store.search(image: image, k: 5)
        _ = try? store.items(fromID: 0, limit: 20)
        _ = try? store.items(fromID: 50, limit: 20)
        _ = try? store.item(forKey: "item 42")
        _ = try? store.holds(keys: ["item 1", "item 59", "nothing"])
        _ = try? store.thumbnail(id: 5)
        _ = try? store.thumbnail(forKey: "item 8")
        _ = try? store.forEachItem { _ in }
        _ = try? store.export(to: exportPath, format: .ndjson)
    }
}
