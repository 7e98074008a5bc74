import HammingSearch
import PixelIO

/// What a store needs to turn images into codes: the one seam between a store and its encoder.
///
/// A store is bound to one encoder when it is created, by the encoder's ``identity``, and takes
/// codes of images only from an encoder with that identity: codes of different encoders cannot
/// be compared. Three kinds conform:
/// - ``ModelEncoder``: a BGAN model file (the bundled defaults, or one `bgan-db train` wrote),
///   kept inside the store, so reopening needs nothing;
/// - ``PDQEncoder``: Meta's PDQ photo hash (256 bits), known to every store by name;
/// - an application's own, which it passes again when it reopens the store
///   (``StoreOptions/encoders``):
///
/// ```swift
/// struct AverageHash: ImageCodeEncoder {
///     let identity = EncoderIdentity(name: "com.example.average-hash", version: "1")
///     let bitCount = 64
///     func prepare(_ image: PixelBuffer) throws -> [Float] {
///         let small = image.converted(to: .gray).areaResized(width: 8, height: 8)
///         let pixels = small.bytes.map(Float.init)
///         let mean = pixels.reduce(0, +) / 64
///         return pixels.map { $0 - mean }   // bit set: brighter than the average
///     }
///     func encode(_ prepared: [[Float]]) throws -> [Float] { prepared.flatMap { $0 } }
/// }
/// let store = try Store.create(at: path, encoder: AverageHash())
/// var options = StoreOptions()
/// options.encoders = [AverageHash()]
/// let again = try Store(openingAt: path, options: options)
/// ```
///
/// A new version of an encoder whose codes differ must change ``identity``; the store then
/// refuses it until it is re-encoded.
public protocol ImageCodeEncoder: Sendable {
    /// Who the encoder is, stamped in every store bound to it.
    var identity: EncoderIdentity { get }
    /// Length of the codes it makes: a multiple of 8 from 8 to 1024.
    var bitCount: Int { get }
    /// The per-image work done before an image reaches the store's writer: bulk ingestion calls
    /// it on every core at once, so it must be safe to call concurrently. What it returns is what
    /// ``encode(_:)`` takes (model inputs, or for a hash computed whole here, the result).
    func prepare(_ image: PixelBuffer) throws -> [Float]
    /// `prepared.count × bitCount` real values for a batch of prepared images, image after
    /// image: the sign of each value is a bit of the code (positive: 1), its size how sure the
    /// bit is. A store keeps them (one signed byte per bit): a search by image re-ranks its exact
    /// Hamming candidates by the cosine of these values with the query's. The store calls it from
    /// one thread at a time, with the images of concurrent searches and writes in one batch.
    func encode(_ prepared: [[Float]]) throws -> [Float]
    /// The fewest pixels a side of an image may have for ``prepare(_:)`` to see all it uses
    /// (a model's input side); decoders may shrink larger images to it. nil (the default): the
    /// encoder wants images at full size.
    var minimumInputSide: Int? { get }
    /// Whether ``prepare(_:)`` reads only the image's luminance (BT.601 luma), so that a store may
    /// hand it a colour JPEG's luma plane as a gray image and keep the colour only at thumbnail
    /// size (`ImageDecoder.colourSide`). false (the default): it gets the image's colours.
    var readsLuminanceOnly: Bool { get }
    /// Whether an image and its left-right mirror image get the same values (a BGAN model that
    /// averages mirror images, `ModelFile.Header.averagesMirrorImages`: exactly for inputs that
    /// are each other's mirror images after ``prepare(_:)``, to within rounding when preparing
    /// does not commute with mirroring, e.g. a centre crop with an odd margin): a search that
    /// matches mirror images then encodes and searches the image alone, as the mirror image
    /// would find the same items. false (the default): they may differ.
    var isMirrorInvariant: Bool { get }
    /// Values in each image's refinement vector when the store should keep another vector than
    /// the code's own real values (a BGAN model refining by its hidden layer or keeping pixels
    /// beside it, `ModelFile.Header.refinementVectors` and `refinementPixels`); nil (the default): the store keeps the values
    /// ``encode(_:)`` gives, one byte per bit. A store keeps one signed byte per value.
    var refinementWidth: Int? { get }
    /// For an encoder with a ``refinementWidth``: each image's `bitCount` values, exactly as
    /// ``encode(_:)`` gives them, followed by its `refinementWidth` refinement values, image after
    /// image. The store calls it instead of ``encode(_:)`` for such an encoder, under the same
    /// rules. The default (for encoders without one) is ``encode(_:)``.
    func encodeWithRefinement(_ prepared: [[Float]]) throws -> [Float]
}

/// An encoder's name and version, as a store bound to it is stamped: for a BGAN model,
/// `bgan-model` and the model file's SHA-256 digest; for PDQ, `pdq` and `1`.
public struct EncoderIdentity: Hashable, Codable, Sendable, CustomStringConvertible {
    /// A name no other encoder uses: a reverse-DNS name is safe for an application's own.
    public var name: String
    /// Changes whenever the codes of the same image would change.
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    /// `name version`, a digest cut to 16 digits.
    public var description: String { "\(name) \(version.count > 40 ? version.prefix(16) + "…" : version)" }
}

extension ImageCodeEncoder {
    public var minimumInputSide: Int? { nil }
    public var readsLuminanceOnly: Bool { false }
    public var isMirrorInvariant: Bool { false }
    public var refinementWidth: Int? { nil }
    public func encodeWithRefinement(_ prepared: [[Float]]) throws -> [Float] { try encode(prepared) }

    /// Values per image of ``encodeWithRefinement(_:)``: the code's, then the separate refinement vector's.
    var encodedWidth: Int { bitCount + (refinementWidth ?? 0) }

    /// The codes of `images`.
    public func codes(of images: [PixelBuffer]) throws -> [BinaryCode] {
        let values = try encode(try images.map(prepare))
        return stride(from: 0, to: values.count, by: bitCount).map { BinaryCode(signsOf: Array(values[$0..<($0 + bitCount)])) }
    }
}
