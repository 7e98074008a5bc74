@testable import BGANStore
import BGAN
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
