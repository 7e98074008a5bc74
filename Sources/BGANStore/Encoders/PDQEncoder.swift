import PerceptualHash
import PixelIO

/// PDQ (`PerceptualHash.PDQ`), Meta's 256-bit perceptual hash for matching photos, as a store's
/// encoder: re-saved, resized, brightened or lightly filtered copies of a photo land a few bits
/// from it; unrelated photos about 128 bits apart. It needs no model and no training, and every
/// store knows it by name. Its values are each DCT coefficient's margin from the median, so a
/// search by image re-ranks its exact Hamming candidates by how well their margins agree with
/// the query's (`Refinement`).
///
/// A store bound to PDQ uses a default `PDQEncoder()` unless ``StoreOptions/encoders`` holds one:
/// give a `PDQEncoder(minimumQuality:)` there when opening, as when creating, to keep refusing
/// flat images.
///
/// PDQ does not find mirror images, and loses a photo cropped by a quarter (docs/photos.md).
public struct PDQEncoder: ImageCodeEncoder {
    /// The identity stores bound to PDQ are stamped with.
    public static let identity = EncoderIdentity(name: "pdq", version: "1")
    public var identity: EncoderIdentity { Self.identity }
    public var bitCount: Int { PDQ.bitCount }

    /// Images whose PDQ quality (0–100, the image's gradient energy) is below this are refused
    /// when stored or searched: the reference advises against trusting matches below 50, as flat
    /// images all hash alike. 0 (the default) takes every image.
    public var minimumQuality: Int

    public init(minimumQuality: Int = 0) {
        self.minimumQuality = minimumQuality
    }

    /// 512: a store decodes a JPEG at the smallest DCT scale that keeps both sides at least 512
    /// pixels (a 12-megapixel photo at a quarter of its size), as Meta's PHP and other PDQ
    /// implementations downsample to 512 before hashing. PDQ's Jarosz filters average the image
    /// down to 64×64, so this changes few bits: 0 to 6 of 256 (3 on average) against a
    /// full-size decode on 18 photographs of 2560 to 5120 pixels (docs/photos.md) — less than a
    /// JPEG re-save changes, far below PDQ's match threshold of 31. JPEGs whose shorter side
    /// is under 585 pixels, and every other format, are decoded whole: PNGs, gray JPEGs and anything given as pixels
    /// hash bit for bit as the reference does; colour JPEGs a store decodes as their luma
    /// plane (``readsLuminanceOnly``), a few bits away on some photographs.
    public var minimumInputSide: Int? { 512 }

    /// true: PDQ hashes the BT.601 luma of the pixels. A store made for it decodes colour JPEGs
    /// as their luma plane, which the JPEG stores, instead of converting to RGB and back; that
    /// moves a hash by the rounding and clipping of RGB: on 2,000 2-MP photographs 76 % of hashes
    /// were identical, 6 bits apart at the 99th percentile and 12 at most; on 300 12-MP ones 97 %
    /// identical, 2 at most (docs/benchmarks.md). Stores made since the thirty-fourth session take
    /// the luma of JPEGs decoded at 1/4 scale from each block's four lowest-frequency coefficients
    /// (`ImageDecoder.QuarterScaleLuma.lowestFrequencies`, ~1.5× as fast): on those 12-MP
    /// photographs 90 % of hashes were the exact luma's, 2 bits apart at most. `bgan-db encode
    /// --encoder pdq` still hashes the RGB pixels whole, as the reference does.
    public var readsLuminanceOnly: Bool { true }

    public func prepare(_ image: PixelBuffer) throws -> [Float] {
        let hash = PDQ.hash(image)
        guard hash.quality >= minimumQuality else {
            throw DatasetError(.invalidImage, "the image's PDQ quality is \(hash.quality), below the minimum of \(minimumQuality): it is too flat to match reliably; lower `PDQEncoder.minimumQuality` to take it")
        }
        return hash.margins
    }

    public func encode(_ prepared: [[Float]]) throws -> [Float] {
        prepared.flatMap { $0 }
    }
}
