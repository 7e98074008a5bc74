import BGAN
import Foundation
import HammingSearch
import LMDBStorage
import PixelIO

/// An image to store: its pixels, key and payload.
public struct ImageItem: Sendable {
    public var key: String
    public var image: PixelBuffer
    public var payload: [UInt8]
    /// What the thumbnail is made from when ``image`` is not the picture in colour (a colour
    /// JPEG's luma plane, for an encoder that reads only luminance: `DecodedImage`); nil: ``image``.
    public var thumbnailSource: PixelBuffer?

    public init(key: String, image: PixelBuffer, payload: [UInt8] = [], thumbnailSource: PixelBuffer? = nil) {
        self.key = key
        self.image = image
        self.payload = payload
        self.thumbnailSource = thumbnailSource
    }

    /// An item of an image decoded for the store (`Store.imageDecoder()`).
    public init(key: String, decoded: DecodedImage, payload: [UInt8] = []) {
        self.init(key: key, image: decoded.image, payload: payload, thumbnailSource: decoded.thumbnailSource)
    }
}

/// An image made ready for the store's encoder by ``Store/prepare(_:)``: what the encoder's
/// ``ImageCodeEncoder/prepare(_:)`` made of it and the thumbnail, computed on any thread so that
/// the writer only encodes and writes.
public struct PreparedImage: Sendable {
    public let key: String
    public let payload: [UInt8]
    /// The encoder's prepared values (a model's input, a hash's margins).
    let input: [Float]
    /// PNG bytes, when the store keeps thumbnails.
    let thumbnail: [UInt8]?
    /// The encoder it was prepared for: a prepared image is refused by a store of another encoder.
    let encoder: EncoderIdentity
}

/// What an item's image leaves in the store beside its code.
struct ImageExtras {
    /// PNG bytes, when the store keeps thumbnails.
    var thumbnail: [UInt8]?
    /// The encoder's real-valued output, quantised (`Refinement.quantize(_:)`).
    var refinement: [Int8]?
}

/// What images need from the store, read once: its encoder and thumbnail side.
struct ImageSettings: Sendable {
    let encoder: any ImageCodeEncoder
    let thumbnailSide: Int
    /// nil: colour JPEGs are decoded as RGB for the encoder; else as their luma, decoded at 1/4
    /// scale thus (``Store/imageDecoder(maximumPixels:)``).
    let lumaDecoding: ImageDecoder.QuarterScaleLuma?
}

extension Store {
    /// Default longest side of the thumbnails kept with images, in pixels.
    public static let defaultThumbnailSide = 64
    /// Largest thumbnail side a store accepts.
    public static let maximumThumbnailSide = 1024
    /// The fewest pixels a side of a decoded image needs for this store: enough for its
    /// encoder's input and for its thumbnails (512 for PDQ); nil when the encoder wants full-size
    /// images (its `minimumInputSide` is nil).
    /// Large JPEGs are then decoded at a DCT scale instead of whole. ``imageDecoder(maximumPixels:)``
    /// gives a decoder set up with it — and, for an encoder that reads only luminance (PDQ), with
    /// the luma decoding the store records — which is what to decode the store's files with.
    public func decodingSide() throws -> Int? {
        let settings = try imageSettings()
        return Self.decodingSide(for: settings.encoder, thumbnailSide: settings.thumbnailSide)
    }

    /// The decoder of images for this store: JPEGs at ``decodingSide()`` and, in a store made for
    /// an encoder that reads only luminance (PDQ; its `image-decoding` meta record), colour JPEGs
    /// as their luma plane with the colour kept at thumbnail size
    /// (`ImageDecoder.decodeForEncoding(_:source:)`; PDQ stores made before the record existed
    /// decode them as RGB, as they were filled). Decode files with it —
    /// `decodeForEncoding`, then ``ImageItem/init(key:decoded:payload:)`` — to store them, and to
    /// search with them, so that a stored file queried again is decoded as it was stored.
    public func imageDecoder(maximumPixels: Int = ImageDecoder().maximumPixels) throws -> ImageDecoder {
        let settings = try imageSettings()
        return Self.imageDecoder(minimumSide: Self.decodingSide(for: settings.encoder, thumbnailSide: settings.thumbnailSide),
                                 lumaDecoding: settings.lumaDecoding, thumbnailSide: settings.thumbnailSide, maximumPixels: maximumPixels)
    }

    /// ``imageDecoder(maximumPixels:)`` of a store made now (`create(at:encoder:substrings:thumbnailSide:options:)`)
    /// bound to `encoder`, keeping thumbnails of `thumbnailSide` pixels (0: none).
    public static func imageDecoder(for encoder: any ImageCodeEncoder, thumbnailSide: Int, maximumPixels: Int = ImageDecoder().maximumPixels) -> ImageDecoder {
        imageDecoder(minimumSide: decodingSide(for: encoder, thumbnailSide: thumbnailSide),
                     lumaDecoding: encoder.readsLuminanceOnly ? LumaDecoding.current.quarterScale : nil,
                     thumbnailSide: thumbnailSide, maximumPixels: maximumPixels)
    }

    private static func imageDecoder(minimumSide: Int?, lumaDecoding: ImageDecoder.QuarterScaleLuma?, thumbnailSide: Int, maximumPixels: Int) -> ImageDecoder {
        ImageDecoder(maximumPixels: maximumPixels, minimumSide: minimumSide, colourSide: lumaDecoding == nil ? nil : max(thumbnailSide, 1),
                     quarterScaleLuma: lumaDecoding ?? .exact)
    }

    /// ``decodingSide()`` of a store bound to `encoder` that keeps thumbnails of `thumbnailSide`
    /// pixels (0: none): what tools that encode files as such a store would use.
    public static func decodingSide(for encoder: any ImageCodeEncoder, thumbnailSide: Int) -> Int? {
        encoder.minimumInputSide.map { max($0, thumbnailSide) }
    }

    /// Longest side of the thumbnails the store keeps with images; 0 when it keeps none.
    public func thumbnailSide() throws -> Int {
        try environment.read { txn in try thumbnailSide(txn) }
    }

    /// The values of the `image-decoding` meta key, each of which makes a store decode colour
    /// JPEGs as their luma: the record is written when a store is made for an encoder that reads
    /// only luminance, and read back so that a store's files are always decoded as when stored.
    enum LumaDecoding: String {
        /// Thirty-third session: TurboJPEG's luma wherever colour JPEGs are decoded as luma.
        case exact = "luma"
        /// Since the thirty-fourth session: at 1/4 scale from each block's lowest frequencies
        /// (`ImageDecoder.QuarterScaleLuma.lowestFrequencies`), else TurboJPEG's. What the own
        /// decoder accepts in that mode (its layouts, its checks, the thumbnail's chroma passed
        /// over) decides which a file gets, so a change to any of it changes stored hashes and
        /// needs a value of its own.
        case quarterFromLowestFrequencies = "luma quarter-lowest-frequencies"

        /// What stores made now record.
        static let current = LumaDecoding.quarterFromLowestFrequencies

        var quarterScale: ImageDecoder.QuarterScaleLuma {
            switch self {
            case .exact: .exact
            case .quarterFromLowestFrequencies: .lowestFrequencies
            }
        }
    }

    /// How the store decodes colour JPEGs for its encoder: nil as RGB (stores not bound to a
    /// luminance encoder, and PDQ stores made before the thirty-third session, as they were
    /// filled), else as their luma, at 1/4 scale thus.
    func lumaDecoding() throws -> ImageDecoder.QuarterScaleLuma? {
        try environment.read { txn in
            guard let bytes = try txn.get(tables.meta, key: StoreSchema.MetaKey.imageDecoding) else { return nil }
            let value = String(decoding: bytes, as: UTF8.self)
            guard let decoding = LumaDecoding(rawValue: value) else {
                throw StoreError(.corrupted, "the store's meta record '\(StoreSchema.MetaKey.imageDecoding)' holds '\(value.prefix(40))', which this build does not know; restore from a backup, or open it with the build that made it")
            }
            return decoding.quarterScale
        }
    }

    func thumbnailSide(_ txn: borrowing Transaction) throws -> Int {
        guard let bytes = try txn.get(tables.meta, key: StoreSchema.MetaKey.thumbnailSide) else { return 0 }
        guard let value = bytes.uint64Value, UInt64(littleEndian: value) <= UInt64(Self.maximumThumbnailSide) else {
            throw StoreError(.corrupted, "the store's meta record '\(StoreSchema.MetaKey.thumbnailSide)' is damaged; restore from a backup")
        }
        return Int(UInt64(littleEndian: value))
    }

    /// Runs the bound encoder's per-image work on `item`'s image (for a model, bringing it to the
    /// model's input) and makes its thumbnail. Pure and safe to call from many threads at once:
    /// bulk loaders prepare on every core while the writer encodes and writes earlier batches
    /// with ``write(prepared:mode:)``.
    /// - Throws: `StoreError` `.noModel` for a store of bare codes,
    ///   `StoreError` `.encoderUnavailable` when its application encoder was not given.
    public func prepare(_ item: ImageItem) throws -> PreparedImage {
        let settings = try imageSettings()
        if item.thumbnailSource != nil && item.image.format == .gray && !settings.encoder.readsLuminanceOnly {
            throw StoreError(.invalidArgument, "'\(item.key.prefix(60))' comes as a luma plane with a separate colour image, as a store decodes for an encoder that reads only luminance; \(path)'s encoder '\(settings.encoder.identity)' reads colours: decode the file with this store's imageDecoder()")
        }
        let thumbnail = settings.thumbnailSide > 0 ? try Self.thumbnail(of: item, side: settings.thumbnailSide).pngData(fast: true) : nil
        return PreparedImage(key: item.key, payload: item.payload, input: try settings.encoder.prepare(item.image),
                             thumbnail: thumbnail, encoder: settings.encoder.identity)
    }

    /// The item's thumbnail: its image fitted within `side`, or the colour image beside a luma
    /// plane shrunk to that same size (so the size never depends on how the file was decoded).
    static func thumbnail(of item: ImageItem, side: Int) -> PixelBuffer {
        guard let source = item.thumbnailSource else { return item.image.fitted(within: side) }
        let (width, height) = PixelBuffer.fittedSize(width: item.image.width, height: item.image.height, within: side)
        guard source.width >= width, source.height >= height else { return source.fitted(within: side) }
        return source.shrunk(width: width, height: height)
    }

    /// Encodes prepared images through the bound encoder (a model: in batches through BLAS) and
    /// writes them, with their thumbnails, in one transaction.
    /// - Throws: `StoreError` `.modelMismatch` before any write if an image was prepared by a
    ///   store of another encoder; the errors of `write(_:mode:indexing:)`.
    public func write(prepared images: [PreparedImage], mode: WriteMode = .insert) throws -> WriteSummary {
        let settings = try imageSettings()
        if let foreign = images.first(where: { $0.encoder != settings.encoder.identity }) {
            throw StoreError(.modelMismatch, "'\(foreign.key.prefix(60))' was prepared for the encoder '\(foreign.encoder)', but \(path) is bound to '\(settings.encoder.identity)'; prepare it with this store")
        }
        let encodings = queryEncodings(fromRows: try encodeChecked(images.map(\.input), settings.encoder), settings.encoder)
        var items: [StoreItem] = [], extras: [ImageExtras] = []
        items.reserveCapacity(images.count)
        extras.reserveCapacity(images.count)
        for (image, encoding) in zip(images, encodings) {
            items.append(StoreItem(key: image.key, code: encoding.code, payload: image.payload))
            extras.append(ImageExtras(thumbnail: image.thumbnail, refinement: Refinement.quantize(encoding.refinementValues ?? encoding.codeValues)))
        }
        return try write(items, images: extras, mode: mode, indexing: .automatic)
    }

    /// Encodes `items` through the bound encoder and writes them, with thumbnails, in one transaction.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func write(images items: [ImageItem], mode: WriteMode = .insert) throws -> WriteSummary {
        try write(prepared: try items.map(prepare), mode: mode)
    }

    /// Encodes `image` with the bound encoder and inserts it.
    /// - Returns: the new item's id.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func insert(image: PixelBuffer, key: String, payload: [UInt8] = []) throws -> UInt32 {
        try write(images: [ImageItem(key: key, image: image, payload: payload)]).insertedIDs[0]
    }

    /// Encodes an image decoded by ``imageDecoder(maximumPixels:)`` and inserts it, its thumbnail
    /// from the decoded colour image when the encoder got only the luma.
    /// - Returns: the new item's id.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func insert(decoded: DecodedImage, key: String, payload: [UInt8] = []) throws -> UInt32 {
        try write(images: [ImageItem(key: key, decoded: decoded, payload: payload)]).insertedIDs[0]
    }

    /// The codes the bound encoder gives `images`.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func codes(of images: [PixelBuffer]) throws -> [BinaryCode] {
        codes(fromValues: try realValuedOutputs(of: images))
    }

    /// `count × bitCount` encoder values as `count` codes (their signs).
    func codes(fromValues values: [Float]) -> [BinaryCode] {
        stride(from: 0, to: values.count, by: bitCount).map { BinaryCode(signsOf: Array(values[$0..<($0 + bitCount)])) }
    }

    /// The bound encoder's real-valued outputs for `images` (`images.count × bitCount`): the
    /// values whose signs are their codes, and what refined searches compare.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func realValuedOutputs(of images: [PixelBuffer]) throws -> [Float] {
        let encoder = try imageSettings().encoder
        return codeValues(ofRows: try encodeChecked(try images.map(encoder.prepare), encoder), encoder)
    }

    /// The encoder's rows for `images` as searches use them: the code's values, then the separate
    /// refinement vector's when the encoder keeps one (``ImageCodeEncoder/refinementWidth``),
    /// `images.count × (bitCount + refinementWidth)` values. ``search(realValues:k:method:refinement:)``
    /// takes one such row as a query, so a caller that encodes many images at once refines as a
    /// search by image does.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func queryRows(of images: [PixelBuffer]) throws -> [Float] {
        let encoder = try imageSettings().encoder
        return try encodeChecked(try images.map(encoder.prepare), encoder)
    }

    /// The code values of each of the encoder's `rows` (the separate refinement vectors dropped).
    func codeValues(ofRows rows: [Float], _ encoder: any ImageCodeEncoder) -> [Float] {
        guard encoder.refinementWidth != nil else { return rows }
        let width = encoder.encodedWidth, bitCount = bitCount
        return stride(from: 0, to: rows.count, by: width).flatMap { rows[$0..<($0 + bitCount)] }
    }

    /// The rows a blocking search by `image` encodes: its own, followed by its mirror image's
    /// when asked and the encoder may tell them apart (``queryImages(_:matchingMirrorImages:encoder:)``).
    func queryValues(of image: PixelBuffer, matchingMirrorImages: Bool) throws -> [Float] {
        let encoder = try imageSettings().encoder
        let images = Self.queryImages(image, matchingMirrorImages: matchingMirrorImages, encoder: encoder)
        return try encodeChecked(try images.map(encoder.prepare), encoder)
    }

    /// `realValuedOutputs(of:)` for async callers: images are prepared and encoded on the pool
    /// in one batch with those of every other task waiting (``EncodeBatcher``).
    func realValuedOutputsBatched(of images: [PixelBuffer]) async throws -> [Float] {
        try await encodedBatched(images) { store, rows in store.codeValues(ofRows: rows, try store.imageSettings().encoder) }
    }

    /// `then(self, values)` for the bound encoder's values of `images`, computed on the pool: the
    /// images are prepared and encoded in one batch with those of every other task waiting, and
    /// `then` runs with the other follow-ups of that batch (``EncodeBatcher``). With
    /// `addingMirrorImages`, each image is followed by its mirror image, made on the pool too
    /// (unless the encoder gives both one code: ``ImageCodeEncoder/isMirrorInvariant``).
    func encodedBatched<T: Sendable>(_ images: [PixelBuffer], addingMirrorImages: Bool = false,
                                     then: @escaping @Sendable (Store, [Float]) throws -> T) async throws -> T {
        try await boundEncoder.batcher.encode(
            valuesPerImage: try imageSettings().encoder.encodedWidth, on: options.pool,
            prepare: { [self] in
                let encoder = try imageSettings().encoder
                return try images.flatMap { Self.queryImages($0, matchingMirrorImages: addingMirrorImages, encoder: encoder) }.map(encoder.prepare)
            },
            encode: { [self] batch in try checkedEncode(try imageSettings().encoder)(batch) },
            then: { [self] values in try then(self, values) })
    }

    /// The encoder's values for `prepared`, encoded together with those of concurrent callers
    /// (``EncodeBatcher``).
    private func encodeChecked(_ prepared: [[Float]], _ encoder: any ImageCodeEncoder) throws -> [Float] {
        try boundEncoder.batcher.encode(prepared, valuesPerImage: encoder.encodedWidth, checkedEncode(encoder))
    }

    /// `encoder.encode` (or `encodeWithRefinement` for an encoder with a separate refinement
    /// vector), refused when its values are not one per bit (and refinement value) of each image:
    /// an application's encoder that breaks its promise must not write misaligned codes.
    private func checkedEncode(_ encoder: any ImageCodeEncoder) -> @Sendable ([[Float]]) throws -> [Float] {
        let bitCount = bitCount
        return { batch in
            guard let refinementWidth = encoder.refinementWidth else {
                let values = try encoder.encode(batch)
                guard values.count == batch.count * bitCount else {
                    throw StoreError(.invalidArgument, "the encoder '\(encoder.identity)' returned \(values.count) values for \(batch.count) images of \(bitCount) bits each; `ImageCodeEncoder.encode` must return one value per bit of every image")
                }
                return values
            }
            let values = try encoder.encodeWithRefinement(batch)
            guard refinementWidth > 0, values.count == batch.count * (bitCount + refinementWidth) else {
                throw StoreError(.invalidArgument, "the encoder '\(encoder.identity)' returned \(values.count) values for \(batch.count) images of \(bitCount) bits and \(refinementWidth) refinement values each; `ImageCodeEncoder.encodeWithRefinement` must return both for every image, and `refinementWidth` must be positive")
            }
            return values
        }
    }

    /// The thumbnail kept with item `id`, or nil when it has none (inserted as a code, or into a
    /// store that keeps no thumbnails).
    /// - Throws: `StoreError` `.corrupted` when the stored thumbnail does not decode.
    public func thumbnail(id: UInt32) throws -> PixelBuffer? {
        guard let table = tables.thumbnails else { return nil }
        guard let bytes = try environment.read({ txn in try txn.get(table, key: id).map { Array($0) } }) else { return nil }
        do {
            return try ImageDecoder().decode(bytes, source: "the thumbnail of item \(id)")
        } catch {
            throw StoreError(.corrupted, "the thumbnail of item \(id) does not decode; verify the store (`Store.verify()`)", cause: error)
        }
    }

    /// The thumbnail kept with the item stored under `key`, or nil.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func thumbnail(forKey key: String) throws -> PixelBuffer? {
        guard let id = try environment.read({ txn in try self.id(forKey: key, txn) }) else { return nil }
        return try thumbnail(id: id)
    }

    func imageSettings() throws -> ImageSettings {
        try boundEncoder.settings {
            let encoder = try resolveEncoder()
            let lumaDecoding = encoder.readsLuminanceOnly ? try lumaDecoding() : nil
            return ImageSettings(encoder: encoder, thumbnailSide: try thumbnailSide(), lumaDecoding: lumaDecoding)
        }
    }

    /// Stores, replaces or (with nil) removes item `id`'s thumbnail within a write.
    /// Stores (or, when `replacing`, clears) what an item's image left beside its code.
    func putImageExtras(_ extras: ImageExtras?, id: UInt32, replacing: Bool, _ txn: borrowing Transaction) throws {
        if let table = tables.thumbnails {
            if let png = extras?.thumbnail {
                try txn.put(table, key: id, value: png)
            } else if replacing {
                try txn.delete(table, key: id)
            }
        }
        if let table = tables.refinements {
            if let vector = extras?.refinement {
                try vector.withUnsafeBytes { bytes in try txn.put(table, key: id, value: Array(bytes)) }
            } else if replacing {
                try txn.delete(table, key: id)
            }
        }
    }
}
