import BGANStore
import Foundation
import HammingSearch
import LMDBStorage

/// libFuzzer entry: one of a store's `meta` records replaced by arbitrary bytes (the first input
/// byte picks the record), then the store opened, described, verified and searched. Every damage
/// must surface as a thrown error, never a crash, a hang or an out-of-bounds read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStoreMeta(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let fixture = MetaFixture.shared
    let field = MetaFixture.fields[Int(data[0]) % MetaFixture.fields.count]
    let value = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    fixture.put(field, value)
    defer { fixture.put(field, fixture.original[field] ?? nil) }
    guard let store = try? Store(openingAt: fixture.path, options: MetaFixture.storeOptions) else { return 0 }
    defer { store.close() }
    _ = try? store.count()
    _ = try? store.statistics()
    _ = try? store.verify()
    _ = try? store.thumbnailSide()
    _ = try? store.boundModel()
    _ = try? store.search(code: BinaryCode(signsOf: [Float](repeating: 1, count: store.bitCount)), k: 5)
    _ = try? store.items(fromID: 0, limit: 10)
    return 0
}

/// A small store in memory-backed storage, made once per process: 600 bare 64-bit codes with an
/// 8-table index (8-bit substrings: verifying walks 256 buckets a table), and the original value
/// of every meta record. Commits skip `fsync`.
final class MetaFixture: @unchecked Sendable {
    static let fields = ["format", "bits", "substrings", "id-limit", "live", "segment-substrings",
                         "segment-items", "segment-end", "stale", "model", "model-digest", "thumbnail-side"]
    static let shared = MetaFixture()

    static var storeOptions: StoreOptions {
        var options = StoreOptions()
        options.syncMode = .noSync
        return options
    }
    static var environmentOptions: EnvironmentOptions {
        var options = EnvironmentOptions()
        options.syncMode = .noSync
        options.createsTables = false
        return options
    }

    let path: String
    var original: [String: [UInt8]?] = [:]

    private init() {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = "\(base)/bganstore-fuzz-meta-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        var generator = SystemRandomNumberGenerator()
        do {
            let store = try Store.create(at: path, bitCount: 64, options: Self.storeOptions)
            let items = (0..<600).map { i in
                StoreItem(key: "item \(i)", code: BinaryCode(signsOf: (0..<64).map { _ in Bool.random(using: &generator) ? 1 : -1 }))
            }
            _ = try store.write(items)
            try store.rebuildIndex(substrings: .fixed(8))
            store.close()
            let environment = try Environment(path: path, options: Self.environmentOptions, tables: [TableSpec("meta")])
            let meta = try environment.table("meta")
            try environment.read { txn in
                for field in Self.fields { original[field] = try txn.get(meta, key: field).map { Array($0) } }
            }
            environment.close()
        } catch {
            fatalError("cannot make the fuzzing store at \(path): \(error)")
        }
        atexit { try? FileManager.default.removeItem(atPath: MetaFixture.shared.path) }
    }

    /// Writes (or, with nil, removes) one meta record.
    func put(_ field: String, _ value: [UInt8]?) {
        do {
            let environment = try Environment(path: path, options: Self.environmentOptions, tables: [TableSpec("meta")])
            defer { environment.close() }
            let meta = try environment.table("meta")
            try environment.write { txn in
                if let value { try txn.put(meta, key: field, value: value) } else { _ = try txn.delete(meta, key: field) }
            }
        } catch {
            fatalError("cannot write the meta record \(field): \(error)")
        }
    }
}
