import BGAN
import Foundation
import HammingSearch
import LMDBStorage
import PixelIO

/// The store's encoder, built once from the bound model and used under a lock (the network's
/// layers keep per-call work buffers), and the model's image settings.
final class BoundEncoder: @unchecked Sendable {
    private let lock = NSLock()
    private var encoder: ImageEncoder?
    private let settingsLock = NSLock()
    private var cachedSettings: ImageSettings?

    /// What images need from the model, loaded once (a store's binding never changes).
    func settings(load: () throws -> ImageSettings) throws -> ImageSettings {
        settingsLock.lock()
        defer { settingsLock.unlock() }
        if let cachedSettings { return cachedSettings }
        let loaded = try load()
        cachedSettings = loaded
        return loaded
    }

    func withEncoder<R>(load: () throws -> ModelFile, _ body: (ImageEncoder) throws -> R) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        if encoder == nil { encoder = try ImageEncoder(model: try load()) }
        return try body(encoder!)
    }
}

extension Store {
    /// The bound model, for the encoder loaded once per store: the moment to warn about slow
    /// OpenBLAS kernels, since encoding is what they slow down.
    func encoderModel() throws -> ModelFile {
        let model = try boundModel()
        observation.warnIfBLASIsSlow()
        return model
    }

    /// Creates a store bound to `model`: codes of its length, the model's file kept inside the
    /// store and its digest stamped on it, all in the creating transaction (a store is created
    /// whole, or not at all).
    ///
    /// - Parameter thumbnailSide: items inserted as images keep a PNG thumbnail of at most this
    ///   many pixels a side (for contact sheets and `bgan-db reencode`); 0 keeps none.
    public static func create(at path: String, model: ModelFile, substrings: Int? = nil,
                              thumbnailSide: Int = Store.defaultThumbnailSide,
                              options: StoreOptions = StoreOptions()) throws -> Store {
        guard (0...Store.maximumThumbnailSide).contains(thumbnailSide) else {
            throw StoreError(.invalidArgument, "a thumbnail side of \(thumbnailSide) pixels is outside 0...\(Store.maximumThumbnailSide) (0 keeps no thumbnails)")
        }
        let bytes = model.encoded()
        return try create(at: path, bitCount: model.header.architecture.bits, substrings: substrings, options: options,
                          extraBytes: bytes.count) { txn, tables in
            try txn.put(tables.meta, key: StoreSchema.MetaKey.model, value: bytes)
            try txn.put(tables.meta, key: StoreSchema.MetaKey.modelDigest, value: Array(model.digest.utf8))
            try txn.put(tables.meta, key: StoreSchema.MetaKey.thumbnailSide, value: UInt64(thumbnailSide).littleEndian)
        }
    }

    /// The digest of the bound model, or nil for a store of bare codes.
    public func modelDigest() throws -> String? {
        try environment.read { txn in
            try txn.get(tables.meta, key: StoreSchema.MetaKey.modelDigest).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The bound model, read from the store and checked against the stamped digest.
    /// - Throws: ``StoreError/Code/noModel`` for a store of bare codes, ``StoreError/Code/corrupted``
    ///   when the stored model is damaged or does not match its stamp.
    public func boundModel() throws -> ModelFile {
        let (bytes, stamp) = try environment.read { txn -> ([UInt8]?, String?) in
            (try txn.get(tables.meta, key: StoreSchema.MetaKey.model).map { Array($0) },
             try txn.get(tables.meta, key: StoreSchema.MetaKey.modelDigest).map { String(decoding: $0, as: UTF8.self) })
        }
        guard let bytes, let stamp else {
            throw StoreError(.noModel, "\(path) holds bare \(bitCount)-bit codes and no model, so it cannot encode images; create the store with a model (`Store.create(at:model:)`; `DefaultModel.load(bits:)` is the bundled one) or insert codes")
        }
        let model: ModelFile
        do {
            model = try ModelFile(bytes: bytes, source: "the model stored in \(path)")
        } catch {
            throw StoreError(.corrupted, "the model stored in \(path) cannot be read; restore the store from a backup", cause: error)
        }
        guard model.digest == stamp else {
            throw StoreError(.corrupted, "the model stored in \(path) has digest \(model.digest.prefix(16))… but the store is stamped \(stamp.prefix(16))…; restore from a backup")
        }
        return model
    }

    /// Refuses `model` unless it is the store's own (same digest), before anything is written.
    public func requireModel(_ model: ModelFile) throws {
        guard let stamp = try modelDigest() else {
            throw StoreError(.modelMismatch, "\(path) holds bare codes and is bound to no model; the model given is \(model.digest.prefix(16))…; insert codes, or create a store with this model")
        }
        guard stamp == model.digest else {
            throw StoreError(.modelMismatch, "\(path) is bound to model \(stamp.prefix(16))…, but the model given is \(model.digest.prefix(16))…: codes of different models cannot be compared. Use the store's model, or move the store to the new one (`Reencoding`)")
        }
    }
}
