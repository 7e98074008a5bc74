@testable import BGANStore
import BGAN
import Foundation
import HammingSearch
import TestSupport

/// New stores inside a test's temporary directory, removed with it: one line per store, the
/// defaults every suite wants, and the path kept for tests that reopen.
extension TemporaryDirectory {
    /// A bare store of `bits`-bit codes at `sub(name)`.
    func bareStore(_ name: String = "s", bits: Int, substrings: Int? = nil, options: StoreOptions = StoreOptions()) throws -> Store {
        try Store.create(at: sub(name), bitCount: bits, substrings: substrings, options: options)
    }

    /// A store bound to `model` at `sub(name)`.
    func boundStore(_ name: String = "s", model: ModelFile, thumbnailSide: Int = Store.defaultThumbnailSide,
                    options: StoreOptions = StoreOptions()) throws -> Store {
        try Store.create(at: sub(name), model: model, thumbnailSide: thumbnailSide, options: options)
    }
}

/// `codes` as the uint8 matrix `importCodes` reads, one row per code (one column when empty).
func codeMatrix(_ codes: [BinaryCode]) -> NumPyByteMatrix {
    NumPyByteMatrix(rows: codes.count, columns: codes.first.map { $0.bitCount / 8 } ?? 1, bytes: Data(codes.flatMap(\.bytes)))
}

extension Store {
    /// The on-disk format the store's `meta` records.
    func formatRecord() throws -> UInt64? {
        try environment.read { txn in try txn.get(tables.meta, key: "format")?.uint64Value }
    }
}
