import CTurboJPEG
import Foundation
import PixelIO
import Testing

/// `ImageDecoder.decodeForEncoding` with a colour side (what stores bound to PDQ use): colour
/// JPEGs come as the luma plane TurboJPEG decodes, at the same DCT scale as `decode`, with a
/// colour image for the thumbnail; everything the shortcut does not take comes as `decode` gives it.
@Suite struct LuminanceDecodingTests {
    /// A smooth photograph-like picture of 1600×1200 with colour edges, as JPEG with the given chroma subsampling.
    static func photo(_ subsampling: TJSAMP, width: Int = 1600, height: Int = 1200) throws -> (image: PixelBuffer, jpeg: [UInt8]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let shade = 127.5 + 60 * sin(Double(x) / 70) * cos(Double(y) / 90)
                bytes += [UInt8(max(0, min(255, shade + Double((x / 200) % 2) * 50))), UInt8((x * 255) / width), UInt8((y * 255) / height)]
            }
        }
        let image = try PixelBuffer(width: width, height: height, format: .rgb, bytes: bytes)
        guard let handle = tjInitCompress() else { throw DatasetError(.unreadable, "no compressor") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = bytes.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue), &output, &size, Int32(subsampling.rawValue), 90, 0)
        }
        defer { tjFree(output) }
        guard status == 0, let output else { throw DatasetError(.malformed, "compression failed") }
        return (image, Array(UnsafeBufferPointer(start: output, count: Int(size))))
    }

    /// TurboJPEG's gray output of a colour JPEG at the decoder's scale: the Y component as decoded.
    static func lumaPlane(_ jpeg: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        guard let handle = tjInitDecompress() else { throw DatasetError(.unreadable, "no decompressor") }
        defer { tjDestroy(handle) }
        var pixels = [UInt8](repeating: 0, count: width * height)
        let status = pixels.withUnsafeMutableBufferPointer { out in
            jpeg.withUnsafeBufferPointer { tjDecompress2(handle, $0.baseAddress, UInt(jpeg.count), out.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_GRAY.rawValue), 0) }
        }
        guard status == 0 else { throw DatasetError(.malformed, "decompression failed") }
        return pixels
    }

    @Test(arguments: [TJSAMP_420, TJSAMP_444])
    func colourJPEGsComeAsTheirLumaAndAColourImage(subsampling: TJSAMP) throws {
        let (_, jpeg) = try Self.photo(subsampling)
        let decoder = ImageDecoder(minimumSide: 512, colourSide: 64)
        let decoded = try decoder.decodeForEncoding(jpeg)
        let rgb = try ImageDecoder(minimumSide: 512).decode(jpeg)
        #expect(rgb.width == 800 && rgb.height == 600)
        // The luma at decode's scale, TurboJPEG's own Y samples, and the BT.601 luma of decode's pixels up to their rounding.
        #expect(decoded.image.format == .gray && decoded.image.width == 800 && decoded.image.height == 600)
        let luma = (0..<600).flatMap { y in (0..<800).map { decoded.image[$0, y, 0] } }
        #expect(luma == (try Self.lumaPlane(jpeg, width: 800, height: 600)))
        var worst = 0.0
        for y in 0..<600 {
            for x in 0..<800 {
                let fromRGB = 0.299 * Double(rgb[x, y, 0]) + 0.587 * Double(rgb[x, y, 1]) + 0.114 * Double(rgb[x, y, 2])
                worst = max(worst, abs(fromRGB - Double(decoded.image[x, y, 0])))
            }
        }
        #expect(worst <= 1.5, "the luma plane is \(worst) levels from the luma of the RGB pixels")
        // The colour image: at least twice the colour side, its pixels block means of decode's.
        let colour = try #require(decoded.thumbnailSource)
        #expect(colour.format == .rgb && min(colour.width, colour.height) >= 128)
        let reference = rgb.areaResized(width: colour.width, height: colour.height)
        let total = zip(colour.bytes, reference.bytes).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        #expect(Double(total) / Double(colour.bytes.count) < 2.5, "mean difference from decode's pixels averaged alike")
        // The thumbnail a store makes from it has the size and nearly the pixels of one made from decode's image.
        let thumbnail = colour.fitted(within: 64), direct = rgb.fitted(within: 64)
        #expect(thumbnail.width == direct.width && thumbnail.height == direct.height)
        let thumbnailTotal = zip(thumbnail.bytes, direct.bytes).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        #expect(Double(thumbnailTotal) / Double(thumbnail.bytes.count) < 2, "mean thumbnail difference")
    }

    /// Odd sizes: TurboJPEG pads 4:2:0 planes to even sides, which the luma must not keep.
    @Test(arguments: [(1602, 1202, 801, 601), (401, 301, 401, 301), (1029, 1201, 515, 601), (1001, 601, 876, 526)])
    func oddSizesComeWithoutPadding(width: Int, height: Int, scaledWidth: Int, scaledHeight: Int) throws {
        let (_, jpeg) = try Self.photo(TJSAMP_420, width: width, height: height)
        let decoded = try ImageDecoder(minimumSide: 512, colourSide: 64).decodeForEncoding(jpeg)
        #expect(decoded.image.width == scaledWidth && decoded.image.height == scaledHeight)
        #expect(decoded.image.rowStride == scaledWidth && decoded.image.bytes.count == scaledWidth * scaledHeight)
        #expect(decoded.image.bytes == (try Self.lumaPlane(jpeg, width: scaledWidth, height: scaledHeight)))
        let colour = try #require(decoded.thumbnailSource)
        // The colour image covers the same picture: the aspect ratio within a block's rounding.
        let expectedWidth = Double(colour.height) * Double(scaledWidth) / Double(scaledHeight)
        #expect(abs(Double(colour.width) - expectedWidth) <= 1.5, "\(colour.width)×\(colour.height) for \(scaledWidth)×\(scaledHeight)")
    }

    /// Small colour JPEGs take the luma path too (whether a file is hashed from its luma must not
    /// depend on the thumbnail side); their colour image is the RGB decode when the chroma plane
    /// is smaller than the colour side.
    @Test func smallColourJPEGsComeAsLumaWithTheirRGBDecodeForColour() throws {
        let (image, _) = try Self.photo(TJSAMP_420)
        let small = try image.areaResized(width: 100, height: 90).jpegData()
        let decoded = try ImageDecoder(minimumSide: 512, colourSide: 64).decodeForEncoding(small)
        #expect(decoded.image.format == .gray && decoded.image.width == 100 && decoded.image.height == 90)
        #expect(decoded.image.bytes == (try Self.lumaPlane(small, width: 100, height: 90)))
        #expect(decoded.thumbnailSource == (try ImageDecoder().decode(small)))
        let withoutThumbnails = try ImageDecoder(minimumSide: 512, colourSide: 1).decodeForEncoding(small)
        #expect(withoutThumbnails.image == decoded.image, "the same luma whatever the colour side")
    }

    @Test func whatTheShortcutDoesNotTakeIsDecodedAsDecodeDoes() throws {
        let decoder = ImageDecoder(minimumSide: 512, colourSide: 64)
        let plain = ImageDecoder(minimumSide: 512)
        let (image, jpeg422) = try Self.photo(TJSAMP_422)
        let cases: [(String, [UInt8])] = [
            ("4:2:2 chroma", jpeg422),
            ("a gray JPEG", try image.converted(to: .gray).jpegData()),
            ("a PNG", try image.areaResized(width: 400, height: 300).pngData(fast: true)),
        ]
        for (name, bytes) in cases {
            let decoded = try decoder.decodeForEncoding(bytes)
            #expect(decoded.image == (try plain.decode(bytes)), "\(name)")
            #expect(decoded.thumbnailSource == nil, "\(name)")
        }
        let (_, jpeg) = try Self.photo(TJSAMP_420)
        #expect(try plain.decodeForEncoding(jpeg).image == (try plain.decode(jpeg)), "no colour side: decode's image")
    }

    @Test func aDamagedJPEGIsRefusedAsDecodeRefusesIt() throws {
        let (_, jpeg) = try Self.photo(TJSAMP_420)
        let truncated = Array(jpeg.prefix(jpeg.count / 2))
        let decoder = ImageDecoder(minimumSide: 512, colourSide: 64)
        #expect { try decoder.decodeForEncoding(truncated, source: "half.jpg") } throws: { error in
            guard let error = error as? DatasetError else { return false }
            return error.code == .malformed && error.message.contains("half.jpg") && error.message.contains("damaged or truncated")
        }
        #expect { try ImageDecoder(maximumPixels: 1000, minimumSide: 512, colourSide: 64).decodeForEncoding(jpeg) } throws: { error in
            (error as? DatasetError)?.code == .tooLarge
        }
    }

    @Test(arguments: 1...8)
    func bothImagesAreTurnedUprightAsTheExifOrientationSays(orientation: Int) throws {
        let exif = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/exif")
        let bytes = [UInt8](try Data(contentsOf: exif.appendingPathComponent("orientation-\(orientation).jpg")))
        let decoded = try ImageDecoder(colourSide: 1).decodeForEncoding(bytes)
        let upright = try ImageDecoder().decode(bytes)
        let colour = try #require(decoded.thumbnailSource, "the fixture is a 4:4:4 colour JPEG")
        #expect(decoded.image.width == upright.width && decoded.image.height == upright.height)
        // The colour image is turned alike: close to the upright RGB decode averaged to its size.
        let reference = upright.areaResized(width: colour.width, height: colour.height)
        let colourWorst = zip(colour.bytes, reference.bytes).map { abs(Int($0) - Int($1)) }.max() ?? 255
        #expect(colour.width * upright.height == colour.height * upright.width && colourWorst <= 12,
                "orientation \(orientation): the colour image is \(colourWorst) levels from the upright one")
        var worst = 0.0
        for y in 0..<upright.height {
            for x in 0..<upright.width {
                let fromRGB = 0.299 * Double(upright[x, y, 0]) + 0.587 * Double(upright[x, y, 1]) + 0.114 * Double(upright[x, y, 2])
                worst = max(worst, abs(fromRGB - Double(decoded.image[x, y, 0])))
            }
        }
        #expect(worst <= 2, "orientation \(orientation): the luma is \(worst) levels from the upright RGB's")
    }

    @Test func paddedRowsTurnUpright() throws {
        // 3×2 RGB with two bytes of padding per row: turned right, the padding must not leak in.
        let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0,
                              10, 11, 12, 13, 14, 15, 16, 17, 18, 0, 0]
        let image = try PixelBuffer(width: 3, height: 2, format: .rgb, rowStride: 11, bytes: bytes)
        let turned = image.oriented(.turnedRight)
        let compact = try PixelBuffer(width: 3, height: 2, format: .rgb, bytes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]).oriented(.turnedRight)
        #expect(turned == compact)
        #expect(turned.width == 2 && turned.height == 3)
    }
}
