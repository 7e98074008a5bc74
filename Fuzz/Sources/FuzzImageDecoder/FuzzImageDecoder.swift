import Foundation
import PixelIO

/// The one decoder this run aims at, from `FUZZ_IMAGE_FORMAT` (png, jpeg, netpbm, webp, bmp);
/// unset: whichever decoder the input's magic bytes choose, as for files.
private let aimedFormat: ImageDecoder.Format? = {
    guard let name = ProcessInfo.processInfo.environment["FUZZ_IMAGE_FORMAT"], !name.isEmpty else { return nil }
    let formats: [String: ImageDecoder.Format] = ["png": .png, "jpeg": .jpeg, "netpbm": .netpbm, "webp": .webp, "bmp": .bmp]
    guard let format = formats[name] else { fatalError("FUZZ_IMAGE_FORMAT=\(name): expected one of \(formats.keys.sorted())") }
    return format
}()

/// The decoders' pixel limit: `FUZZ_MAXIMUM_PIXELS`, else `ImageDecoder`'s default (the
/// 50-megapixel guard a store ingests with).
private let maximumPixels = ProcessInfo.processInfo.environment["FUZZ_MAXIMUM_PIXELS"].flatMap { Int($0) }
    ?? ImageDecoder().maximumPixels

/// Input that does not start with the aimed format's magic bytes gets them put in front, so
/// that every execution reaches that decoder rather than stopping at format detection.
private func aimed(_ bytes: [UInt8]) -> [UInt8] {
    guard let format = aimedFormat, ImageDecoder.format(of: bytes) != format else { return bytes }
    switch format {
    case .png: return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + bytes
    case .jpeg: return [0xFF, 0xD8, 0xFF] + bytes
    case .netpbm: return Array("P5".utf8) + bytes
    case .webp:
        let size = UInt32(truncatingIfNeeded: bytes.count + 4)
        return Array("RIFF".utf8) + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) } + Array("WEBP".utf8) + bytes
    case .bmp: return Array("BM".utf8) + bytes + [UInt8](repeating: 0, count: max(0, 24 - bytes.count))
    }
}

/// Decoded images up to this many pixels also go through the store's transforms. Larger ones
/// are legitimate (a 31-byte lossless WebP may declare 13,574 × 67 pixels, all within the
/// 50-megapixel guard) but take seconds in the instrumented transforms, which would read as
/// libFuzzer timeouts; the transforms' arithmetic does not change with size.
private let transformedPixels = 1 << 18

/// libFuzzer entry: any bytes through the image decoders at their limits, at full size and
/// (JPEGs) at the 28-pixel side the bundled models decode them at. A decoded image must have the geometry it claims and survive what a
/// store does next with it; everything else must be a thrown error. And every JPEG is decoded at
/// 1/8 scale (a minimum side of 1) twice, through BGANStore's own coefficient-skipping decoder
/// and with TurboJPEG alone: both must give the same pixels, or both throw. JPEGs small enough
/// are also decoded as PDQ stores decode them at 1/4 scale, their luma from the lowest
/// frequencies and exactly: the first only where the second decodes too, at the same size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = aimed(Array(UnsafeBufferPointer(start: data, count: size)))
    // The DCT scale only changes how JPEGs decode.
    let sides: [Int?] = ImageDecoder.format(of: bytes) == .jpeg ? [nil, 28] : [nil]
    if sides.count > 1 {
        let fast = try? ImageDecoder(maximumPixels: maximumPixels, minimumSide: 1).decode(bytes, source: "fuzz input")
        let turbo = try? ImageDecoder(maximumPixels: maximumPixels, minimumSide: 1, skipsUnusedJPEGCoefficients: false)
            .decode(bytes, source: "fuzz input")
        precondition(fast == turbo, "the 1/8 decoder and TurboJPEG disagree")
    }
    if sides.count > 1, let whole = try? ImageDecoder(maximumPixels: maximumPixels).decode(bytes, source: "fuzz input"),
       whole.width * whole.height <= transformedPixels {
        // A minimum side that 1/4 scale keeps and 1/8 does not, for all but the tiniest images.
        let side = (min(whole.width, whole.height) + 3) / 4
        func luma(_ choice: ImageDecoder.QuarterScaleLuma) -> DecodedImage? {
            try? ImageDecoder(maximumPixels: maximumPixels, minimumSide: side, colourSide: 1, quarterScaleLuma: choice)
                .decodeForEncoding(bytes, source: "fuzz input")
        }
        if let lowest = luma(.lowestFrequencies) {
            guard let exact = luma(.exact) else { preconditionFailure("the lowest frequencies decode a file TurboJPEG refuses") }
            precondition(lowest.image.width == exact.image.width && lowest.image.height == exact.image.height
                         && lowest.image.format == exact.image.format, "the two luma decodings differ in size")
            precondition((lowest.thumbnailSource == nil) == (exact.thumbnailSource == nil), "one luma decoding has no colour image")
        }
    }
    for decoder in sides.map({ ImageDecoder(maximumPixels: maximumPixels, minimumSide: $0) }) {
        guard let image = try? decoder.decode(bytes, source: "fuzz input") else { continue }
        precondition(image.width > 0 && image.height > 0 && image.width * image.height <= decoder.maximumPixels)
        precondition(image.bytes.count >= image.rowStride * image.height)
        guard image.width * image.height <= transformedPixels else { continue }
        _ = image.converted(to: .gray).areaResized(width: 7, height: 5)
        _ = image.fitted(within: 16)
    }
    return 0
}
