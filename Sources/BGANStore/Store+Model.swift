import BGAN
import Foundation
import HammingSearch
import LMDBStorage
import PixelIO

/// The store's encoder, resolved once from its binding, and what images need from it: a store's
/// binding never changes.
final class BoundEncoder: @unchecked Sendable {
    private let lock = NSLock()
    private var cachedSettings: ImageSettings?
    /// Every `encode` call goes through it: one caller at a time, as ``ImageCodeEncoder``
    /// promises, with concurrent callers' images encoded together in one batch.
    let batcher = EncodeBatcher()

    func settings(load: () throws -> ImageSettings) throws -> ImageSettings {
        lock.lock()
        defer { lock.unlock() }
        if let cachedSettings { return cachedSettings }
        let loaded = try load()
        cachedSettings = loaded
        return loaded
    }
}

extension Store {
    /// Creates a store bound to `model`: codes of its length, the model's file kept inside the
    /// store and its digest stamped on it, all in the creating transaction (a store is created
    /// whole, or not at all).
    ///
    /// - Parameters:
    ///   - path: a new or empty directory.
    ///   - model: the encoder's model file; its code length is the store's.
    ///   - substrings: the number of multi-index tables `m`; nil follows the log₂ N rule.
    ///   - thumbnailSide: items inserted as images keep a PNG thumbnail of at most this
    ///     many pixels a side (for contact sheets and `bgan-db reencode`); 0 keeps none.
    ///   - options: map size, logging and the other settings of the open store.
    public static func create(at path: String, model: ModelFile, substrings: Int? = nil,
                              thumbnailSide: Int = Store.defaultThumbnailSide,
                              options: StoreOptions = StoreOptions()) throws -> Store {
        try create(at: path, encoder: ModelEncoder(model: model), substrings: substrings, thumbnailSide: thumbnailSide, options: options)
    }

    /// Creates a store bound to `encoder`: codes of its length, its identity stamped on the
    /// store (a model encoder's file kept inside), all in the creating transaction. An
    /// application's own encoder is added to the returned store's ``StoreOptions/encoders``;
    /// pass it there again when reopening the store.
    ///
    /// - Parameters:
    ///   - path: a new or empty directory.
    ///   - encoder: what turns images into codes; its bit count is the store's code length.
    ///   - substrings: the number of multi-index tables `m`; nil follows the log₂ N rule.
    ///   - thumbnailSide: items inserted as images keep a PNG thumbnail of at most this
    ///     many pixels a side (for contact sheets and re-encoding); 0 keeps none.
    ///   - options: map size, logging and the other settings of the open store.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public static func create(at path: String, encoder: any ImageCodeEncoder, substrings: Int? = nil,
                              thumbnailSide: Int = Store.defaultThumbnailSide,
                              options: StoreOptions = StoreOptions()) throws -> Store {
        guard (0...Store.maximumThumbnailSide).contains(thumbnailSide) else {
            throw StoreError(.invalidArgument, "a thumbnail side of \(thumbnailSide) pixels is outside 0...\(Store.maximumThumbnailSide) (0 keeps no thumbnails)")
        }
        let model = (encoder as? ModelEncoder)?.model
        if model == nil && encoder.identity.name == ModelEncoder.identityName {
            throw StoreError(.invalidArgument, "the encoder '\(encoder.identity.name)' takes the name of BGAN model encoders; give the model as a `ModelEncoder`, or name the encoder otherwise")
        }
        var options = options
        if model == nil { options.encoders.append(encoder) }
        let modelBytes = model?.encoded() ?? []
        let identity = try JSONEncoder().encode(encoder.identity)
        return try create(at: path, bitCount: encoder.bitCount, substrings: substrings, options: options,
                          extraBytes: modelBytes.count) { txn, tables in
            if let model {
                try txn.put(tables.meta, key: StoreSchema.MetaKey.model, value: modelBytes)
                try txn.put(tables.meta, key: StoreSchema.MetaKey.modelDigest, value: Array(model.digest.utf8))
            } else {
                try txn.put(tables.meta, key: StoreSchema.MetaKey.encoder, value: Array(identity))
            }
            try txn.put(tables.meta, key: StoreSchema.MetaKey.thumbnailSide, value: UInt64(thumbnailSide).littleEndian)
            if encoder.readsLuminanceOnly {
                try txn.put(tables.meta, key: StoreSchema.MetaKey.imageDecoding, value: Array(Store.LumaDecoding.current.rawValue.utf8))
            }
        }
    }

    /// The identity of the encoder the store is bound to, or nil for a store of bare codes.
    /// - Throws: `StoreError` `.corrupted` when the stamp is damaged.
    public func encoderIdentity() throws -> EncoderIdentity? {
        let (digest, stamp) = try environment.read { txn -> (String?, [UInt8]?) in
            (try txn.get(tables.meta, key: StoreSchema.MetaKey.modelDigest).map { String(decoding: $0, as: UTF8.self) },
             try txn.get(tables.meta, key: StoreSchema.MetaKey.encoder).map { Array($0) })
        }
        if let digest { return EncoderIdentity(name: ModelEncoder.identityName, version: digest) }
        guard let stamp else { return nil }
        return try Self.decodeIdentity(stamp, path: path)
    }

    static func decodeIdentity(_ stamp: [UInt8], path: String) throws -> EncoderIdentity {
        do {
            return try JSONDecoder().decode(EncoderIdentity.self, from: Data(stamp))
        } catch {
            throw StoreError(.corrupted, "the encoder stamp of \(path) is damaged; restore from a backup", cause: error)
        }
    }

    /// The encoder the store is bound to: its model (read from the store), or the encoder of that
    /// identity in ``StoreOptions/encoders``, or for PDQ a default ``PDQEncoder``.
    /// - Throws: `StoreError` `.noModel` for a store of bare codes;
    ///   `StoreError` `.encoderUnavailable` when the store is bound to an application's
    ///   encoder that the options do not hold.
    public func encoder() throws -> any ImageCodeEncoder {
        try imageSettings().encoder
    }

    func resolveEncoder() throws -> any ImageCodeEncoder {
        guard let identity = try encoderIdentity() else {
            throw StoreError(.noModel, "\(path) holds bare \(bitCount)-bit codes and no model or other encoder, so it cannot encode images; create the store with one (`Store.create(at:encoder:)`; `DefaultModel.load(bits:)` is the bundled model) or insert codes")
        }
        let encoder: any ImageCodeEncoder
        if identity.name == ModelEncoder.identityName {
            encoder = ModelEncoder(model: try boundModel())
            observation.warnIfBLASIsSlow()
        } else if let given = options.encoders.first(where: { $0.identity == identity }) {
            encoder = given
        } else if identity == PDQEncoder.identity {
            encoder = PDQEncoder()
        } else {
            let offered = options.encoders.map { "\($0.identity)" }
            throw StoreError(.encoderUnavailable, "\(path) is bound to the encoder '\(identity)', which this process was not given\(offered.isEmpty ? "" : " (it has \(offered.joined(separator: ", ")))"); pass that encoder in `StoreOptions.encoders` when opening the store")
        }
        guard encoder.bitCount == bitCount else {
            throw StoreError(.codeLengthMismatch, "the encoder '\(identity)' makes \(encoder.bitCount)-bit codes, but \(path) holds \(bitCount)-bit codes")
        }
        return encoder
    }

    /// The digest of the bound model, or nil for a store of bare codes.
    public func modelDigest() throws -> String? {
        try environment.read { txn in
            try txn.get(tables.meta, key: StoreSchema.MetaKey.modelDigest).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The bound model, read from the store and checked against the stamped digest.
    /// - Throws: `StoreError` `.noModel` for a store of bare codes, `StoreError` `.corrupted`
    ///   when the stored model is damaged or does not match its stamp.
    public func boundModel() throws -> ModelFile {
        let (bytes, stamp) = try environment.read { txn -> ([UInt8]?, String?) in
            (try txn.get(tables.meta, key: StoreSchema.MetaKey.model).map { Array($0) },
             try txn.get(tables.meta, key: StoreSchema.MetaKey.modelDigest).map { String(decoding: $0, as: UTF8.self) })
        }
        guard let bytes, let stamp else {
            if let other = try encoderIdentity() {
                throw StoreError(.noModel, "\(path) is bound to the encoder '\(other)', not to a model file")
            }
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
            if let other = try encoderIdentity() {
                throw StoreError(.modelMismatch, "\(path) is bound to the encoder '\(other)', not to a model; the model given is \(model.digest.prefix(16))…; use the store's encoder, or move the store to the model (`Reencoding`)")
            }
            throw StoreError(.modelMismatch, "\(path) holds bare codes and is bound to no model; the model given is \(model.digest.prefix(16))…; insert codes, or create a store with this model")
        }
        guard stamp == model.digest else {
            throw StoreError(.modelMismatch, "\(path) is bound to model \(stamp.prefix(16))…, but the model given is \(model.digest.prefix(16))…: codes of different models cannot be compared. Use the store's model, or move the store to the new one (`Reencoding`)")
        }
    }
}
