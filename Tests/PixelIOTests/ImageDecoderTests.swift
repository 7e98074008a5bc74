import Foundation
import PixelIO
import Testing

/// The decoders against `Fixtures/images/make_fixtures.py`, which writes one 8×6 pattern in every
/// format and colour type, independently of libpng and our code.
@Suite struct ImageDecoderTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/images")
    let decoder = ImageDecoder()

    func decode(_ name: String) throws -> PixelBuffer {
        try decoder.decode(contentsOf: Self.folder.appendingPathComponent(name).path)
    }

    static func gray(_ x: Int, _ y: Int) -> Int { 15 * x + 20 * y }
    static func rgb(_ x: Int, _ y: Int) -> [Int] { [15 * x + 20 * y, 255 - 30 * x, 40 * y] }
    static func alpha(_ x: Int, _ y: Int) -> Int { 255 - 10 * (x + y) }

    /// The largest difference between `image` and the pattern, over every pixel and channel.
    func largestDifference(_ image: PixelBuffer, gray expectGray: Bool) -> Int {
        var worst = 0
        for y in 0..<6 {
            for x in 0..<8 {
                let expected = expectGray ? [Self.gray(x, y)] : Self.rgb(x, y)
                for (channel, value) in expected.enumerated() { worst = max(worst, abs(Int(image[x, y, channel]) - value)) }
                if image.format == .rgba { worst = max(worst, abs(Int(image[x, y, 3]) - Self.alpha(x, y))) }
            }
        }
        return worst
    }

    @Test(arguments: [("gray8.png", PixelFormat.gray), ("gray16.png", .gray), ("gray.pgm", .gray), ("gray-plain.pgm", .gray),
                      ("gray16.pgm", .gray), ("rgb8.png", .rgb), ("rgb16.png", .rgb), ("palette.png", .rgb), ("rgba8.png", .rgba),
                      ("rgb.ppm", .rgb), ("rgb-plain.ppm", .rgb)])
    func losslessFormatsDecodeExactly(name: String, format: PixelFormat) throws {
        let image = try decode(name)
        #expect(image.width == 8 && image.height == 6 && image.format == format, "\(name): \(image.width)×\(image.height) \(image.format)")
        #expect(largestDifference(image, gray: format == .gray) == 0, "\(name)")
    }

    @Test func grayWithAlphaBecomesRGBAWithEqualChannels() throws {
        let image = try decode("gray-alpha.png")
        #expect(image.format == .rgba)
        for y in 0..<6 {
            for x in 0..<8 {
                #expect(Int(image[x, y, 0]) == Self.gray(x, y) && image[x, y, 1] == image[x, y, 0] && image[x, y, 2] == image[x, y, 0])
                #expect(Int(image[x, y, 3]) == Self.alpha(x, y))
            }
        }
    }

    @Test func jpegsDecodeCloseToThePattern() throws {
        let gray = try decode("gray.jpg"), color = try decode("rgb.jpg")
        #expect(gray.format == .gray && color.format == .rgb)
        #expect(largestDifference(gray, gray: true) <= 3, "quality-100 gray JPEG")
        #expect(largestDifference(color, gray: false) <= 12, "quality-100 4:4:4 colour JPEG")
    }

    @Test(arguments: [
        ("broken-truncated.png", "damaged or truncated PNG"), ("broken-zero.png", "empty"),
        ("broken-not-an-image.png", "not a PNG, JPEG, WebP, BMP, PGM or PPM"), ("broken-huge.png", "more than the limit"),
        ("broken-truncated.jpg", "damaged or truncated JPEG"), ("broken-header.jpg", "damaged or truncated"), ("broken-truncated.pgm", "truncated PGM"),
        ("broken-huge.pgm", "more than the limit"), ("broken-header.ppm", "height"),
    ])
    func badFilesAreRefusedWithTheReason(name: String, reason: String) throws {
        let error = #expect(throws: DatasetError.self) { try decode(name) }
        #expect(error?.message.contains(reason) == true, "\(name): \(error?.message ?? "no error")")
        #expect(error?.message.contains(name) == true, "the message names the file")
    }

    /// A header that claims millions of pixels over a few bytes is refused before the pixels are
    /// allocated (a 7000×7000 P6 would take 147 MB): binary and plain text alike.
    @Test func aHeaderClaimingMorePixelsThanTheFileHoldsIsRefusedUpFront() throws {
        let binary = decoder
        let huge = try #require(#expect(throws: DatasetError.self) { try binary.decode(Array("P6\n7000 7000\n255\n".utf8) + [1, 2, 3], source: "huge.ppm") })
        #expect(huge.message.contains("huge.ppm is a truncated PPM file: 7000×7000 needs 147000000 bytes of pixels, 3 follow"), "\(huge.message)")
        let plain = try #require(#expect(throws: DatasetError.self) { try binary.decode(Array("P2\n4000 4000\n255\n1 2 3".utf8), source: "plain.pgm") })
        #expect(plain.message.contains("needs at least 31999999 bytes"), "\(plain.message)")
        let exact = try binary.decode(Array("P2\n2 1\n255\n1 2".utf8), source: "tiny.pgm")
        #expect(exact.width == 2 && exact.bytes == [1, 2])
    }

    /// Every EXIF orientation (`Fixtures/exif/make_exif_fixtures.py`): decoded upright as Pillow's
    /// `exif_transpose` shows it, blocks in the same places, within JPEG's few levels.
    @Test(arguments: 1...8)
    func jpegsAreTurnedUprightAsTheirExifOrientationSays(orientation: Int) throws {
        let exif = Self.folder.deletingLastPathComponent().appendingPathComponent("exif")
        let bytes = [UInt8](try Data(contentsOf: exif.appendingPathComponent("orientation-\(orientation).jpg")))
        #expect(ExifOrientation.of(jpeg: bytes).rawValue == orientation)
        let decoded = try decoder.decode(bytes, source: "orientation-\(orientation).jpg")
        let expected = try decoder.decode(contentsOf: exif.appendingPathComponent("orientation-\(orientation)-upright.png").path)
        #expect(decoded.width == expected.width && decoded.height == expected.height)
        #expect(decoded.width == ([5, 6, 7, 8].contains(orientation) ? 16 : 24), "turned a quarter: 16 wide")
        let worst = zip(decoded.bytes, expected.bytes).map { abs(Int($0) - Int($1)) }.max() ?? 255
        #expect(worst <= 6, "orientation \(orientation): off by \(worst)")
    }

    /// The first bytes of other image formats, by name.
    static let otherFormats: [String: [UInt8]] = {
        var starts: [String: [UInt8]] = [:]
        let ftyp: [UInt8] = [0, 0, 0, 0x1C] + Array("ftyp".utf8)
        starts["GIF"] = Array("GIF89a".utf8) + [1, 0, 1, 0]
        starts["TIFF"] = [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]
        starts["HEIC/HEIF"] = ftyp + Array("heic".utf8) + [0, 0, 0, 0]
        starts["AVIF"] = ftyp + Array("avif".utf8) + [0, 0, 0, 0]
        return starts
    }()

    /// Other image formats are refused by name, not as unknown bytes.
    @Test(arguments: ["GIF", "TIFF", "HEIC/HEIF", "AVIF"])
    func otherFormatsAreRefusedByName(name: String) throws {
        let bytes = try #require(Self.otherFormats[name])
        let error = #expect(throws: DatasetError.self) { try decoder.decode(bytes, source: "photo.x") }
        #expect(error?.code == .unsupported && error?.message.contains("photo.x is \(name == "AVIF" ? "an" : "a") \(name) image, which is not supported") == true, "\(error?.message ?? "")")
    }

    static let formats = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fixtures/formats").standardized

    func formatFixture(_ name: String) throws -> PixelBuffer {
        try decoder.decode(contentsOf: Self.formats.appendingPathComponent(name).path)
    }

    /// WebP and BMP against PNGs of the same pixels, written by Pillow (`Fixtures/formats/make_format_fixtures.py`).
    @Test(arguments: [("rgb-lossless.webp", "rgb.png", 0), ("rgba-lossless.webp", "rgba.png", 0), ("rgb-lossy.webp", "rgb.png", 6),
                      ("rgb24.bmp", "rgb.png", 0), ("rgb24-top-down.bmp", "rgb.png", 0), ("palette8.bmp", "palette.png", 0),
                      ("gray8.bmp", "gray.png", 0), ("bilevel1.bmp", "bilevel.png", 0), ("palette4.bmp", "palette4.png", 0),
                      ("rgb32.bmp", "rgb.png", 0), ("rgb32-bitfields.bmp", "rgb.png", 0)])
    func webpAndBMPDecodeToTheirPixels(file: String, reference: String, tolerance: Int) throws {
        let decoded = try formatFixture(file)
        #expect(ImageDecoder.format(of: [UInt8](try Data(contentsOf: Self.formats.appendingPathComponent(file)))) == (file.hasSuffix(".webp") ? .webp : .bmp))
        let expected = try formatFixture(reference)
        #expect(decoded.width == 37 && decoded.height == 23)
        let channels = expected.format == .rgba ? 4 : 3
        #expect(decoded.format == (channels == 4 ? .rgba : .rgb), "\(file): \(decoded.format)")
        var worst = 0, total = 0
        for y in 0..<23 {
            for x in 0..<37 {
                for c in 0..<channels {
                    let e = expected.format == .gray ? Int(expected[x, y, 0]) : Int(expected[x, y, c])
                    let d = abs(Int(decoded[x, y, c]) - e)
                    worst = max(worst, d)
                    total += d
                }
            }
        }
        if tolerance == 0 {
            #expect(worst == 0, "\(file): lossless, yet off by \(worst)")
        } else {
            // Lossy: close on average (its edges ring on this busy pattern).
            #expect(Double(total) / Double(37 * 23 * channels) < Double(tolerance), "\(file): mean difference \(Double(total) / Double(37 * 23 * channels))")
        }
    }

    /// Files of every format the decoder refuses, each refused with what it is (GIF, TIFF, JPEG
    /// 2000 and AVIF written by Pillow; the opening boxes of a HEIC and a JPEG XL file).
    @Test(arguments: [("picture.gif", "a GIF image"), ("picture.tiff", "a TIFF image"), ("picture.jp2", "a JPEG 2000 image"),
                      ("picture.avif", "an AVIF image"), ("picture-header.heic", "a HEIC/HEIF image"), ("picture-header.jxl", "a JPEG XL image"),
                      ("rgb16.bmp", "a 16-bit bitmap"), ("rle8.bmp", "a compressed bitmap (compression 1)"), ("os2.bmp", "an OS/2 bitmap")])
    func filesOfUnsupportedFormatsAreRefusedByName(file: String, what: String) throws {
        let error = #expect(throws: DatasetError.self) { try formatFixture(file) }
        #expect(error?.code == .unsupported && error?.message.contains("\(file) is \(what)") == true, "\(error?.message ?? "")")
    }

    /// CMYK and YCCK JPEGs (print workflows) become exactly the RGB libjpeg-turbo's djpeg makes
    /// of them (Pillow's too: the fixture script checks); the YCCK one's black channel varies.
    @Test(arguments: ["cmyk", "ycck", "ycck-420"])
    func cmykJPEGsDecodeToDjpegsRGB(name: String) throws {
        let decoded = try formatFixture(name + ".jpg"), expected = try formatFixture(name + "-djpeg.png")
        #expect(decoded.format == .rgb && expected.format == .rgb && decoded.width == 37 && decoded.height == 23)
        #expect(decoded.bytes == expected.bytes, "\(name).jpg differs from djpeg's RGB")
    }

    /// Adobe's convention (255 = no ink) is the one read: the CMYK copy of the RGB picture comes
    /// back close to it, not as its negative. At a reduced DCT scale, djpeg's pixels at that scale.
    @Test func aCMYKJPEGComesBackAsItsPicture() throws {
        let decoded = try formatFixture("cmyk.jpg"), picture = try formatFixture("rgb.png")
        let meanDifference = Double(zip(decoded.bytes, picture.bytes).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(picture.bytes.count)
        #expect(meanDifference < 4, "mean difference \(meanDifference) from the picture it was made of")
        let halved = try ImageDecoder(minimumSide: 12).decode(contentsOf: Self.formats.appendingPathComponent("cmyk.jpg").path)
        let djpegHalved = try formatFixture("cmyk-djpeg-half.png")
        #expect(halved.format == .rgb && halved.width == 19 && halved.height == 12, "\(halved.width)×\(halved.height)")
        #expect(halved.bytes == djpegHalved.bytes, "decoded at 1/2 scale as djpeg -scale 1/2 decodes it")
        // At 1/8 scale too, where baseline YCbCr files take our own decoder and CMYK ones TurboJPEG.
        let eighth = try ImageDecoder(minimumSide: 1).decode(contentsOf: Self.formats.appendingPathComponent("cmyk.jpg").path)
        let djpegEighth = try formatFixture("cmyk-djpeg-eighth.png")
        #expect(eighth.width == 5 && eighth.height == 3 && eighth.bytes == djpegEighth.bytes, "decoded at 1/8 scale as djpeg -scale 1/8 decodes it")
    }

    @Test(arguments: [("truncated.webp", DatasetError.Code.malformed, "damaged or truncated"), ("truncated.bmp", .malformed, "truncated bitmap"),
                      ("animated.webp", .unsupported, "animated WebP")])
    func badWebPAndBMPFilesAreRefused(file: String, code: DatasetError.Code, words: String) throws {
        let error = #expect(throws: DatasetError.self) { try formatFixture(file) }
        #expect(error?.code == code && error?.message.contains(words) == true, "\(error?.message ?? "")")
    }

    @Test func aBitmapClaimingAHugeCanvasIsRefusedBeforeDecoding() throws {
        var header = [UInt8](repeating: 0, count: 54)
        header[0] = UInt8(ascii: "B"); header[1] = UInt8(ascii: "M")
        func put(_ value: UInt32, at offset: Int) { for i in 0..<4 { header[offset + i] = UInt8((value >> (8 * UInt32(i))) & 0xFF) } }
        put(54, at: 10); put(40, at: 14); put(100_000, at: 18); put(100_000, at: 22); header[26] = 1; header[28] = 24
        let error = #expect(throws: DatasetError.self) { try decoder.decode(header, source: "bomb.bmp") }
        #expect(error?.code == .tooLarge)
        put(1, at: 30)
        let rle = #expect(throws: DatasetError.self) { try ImageDecoder(maximumPixels: .max).decode(header, source: "rle.bmp") }
        #expect(rle?.code == .unsupported && rle?.message.contains("compressed bitmap") == true)
    }

    /// A few bytes of lossless WebP may declare any canvas up to 16,384 a side (found by the
    /// fuzzer: 31 bytes declaring 13,574 × 67): within the limit it decodes, beyond it is refused
    /// from the declared size before anything is allocated.
    @Test func aLosslessWebPClaimingAHugeCanvasIsRefusedBeforeDecoding() throws {
        func webp(width: Int, height: Int) -> [UInt8] {
            let bits = UInt32(width - 1) | UInt32(height - 1) << 14
            let payload: [UInt8] = [0x2F] + (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) } + [UInt8](repeating: 0, count: 11)
            func little(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
            return Array("RIFF".utf8) + little(12 + payload.count) + Array("WEBP".utf8) + Array("VP8L".utf8) + little(payload.count) + payload
        }
        let huge = try #require(#expect(throws: DatasetError.self) { try decoder.decode(webp(width: 16_384, height: 16_384), source: "bomb.webp") })
        #expect(huge.code == .tooLarge && huge.message.contains("16384×16384"), "\(huge.message)")
        let limited = #expect(throws: DatasetError.self) {
            try ImageDecoder(maximumPixels: 1 << 22).decode(webp(width: 13_574, height: 67 * 10), source: "wide.webp")
        }
        #expect(limited?.code == .tooLarge)
        let allowed = try? ImageDecoder(maximumPixels: 1 << 22).decode(webp(width: 300, height: 200), source: "small.webp")
        #expect(allowed == nil || (allowed?.width == 300 && allowed?.height == 200))
    }

    @Test func aJPEGWithoutOrDamagedExifStaysAsStored() throws {
        let plain = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("rgb.jpg")))
        #expect(ExifOrientation.of(jpeg: plain) == .upright)
        // An APP1 "Exif" segment whose TIFF header is cut short, before the image data.
        let damaged = [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0A] + Array("Exif".utf8) + [0, 0, 0x49, 0x49] + Array(plain.dropFirst(2))
        #expect(ExifOrientation.of(jpeg: damaged) == .upright)
        #expect(try decoder.decode(damaged, source: "damaged-exif.jpg").width == 8)
    }

    @Test func theFormatComesFromTheBytesNotTheName() throws {
        let renamed = FileManager.default.temporaryDirectory.appendingPathComponent("really-a-png-\(UUID().uuidString).jpg")
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("rgb8.png"), to: renamed)
        defer { try? FileManager.default.removeItem(at: renamed) }
        #expect(largestDifference(try decoder.decode(contentsOf: renamed.path), gray: false) == 0)
        #expect(throws: DatasetError.self) { try decoder.decode(contentsOf: Self.folder.path) }
        #expect(throws: DatasetError.self) { try decoder.decode(contentsOf: Self.folder.appendingPathComponent("missing.png").path) }
    }

    @Test func aSmallLimitRefusesBeforeDecoding() throws {
        let tight = ImageDecoder(maximumPixels: 47)
        let error = #expect(throws: DatasetError.self) { try tight.decode(contentsOf: Self.folder.appendingPathComponent("rgb8.png").path) }
        #expect(error?.code == .tooLarge)
        #expect(try ImageDecoder(maximumPixels: 48).decode(contentsOf: Self.folder.appendingPathComponent("rgb8.png").path).pixelCount == 48)
    }

    @Test(arguments: PixelFormat.allCases, [false, true])
    func pngWritingRoundTrips(format: PixelFormat, fast: Bool) throws {
        var bytes: [UInt8] = []
        let stride = 5 * format.channels + 3  // padded rows
        for y in 0..<4 { for i in 0..<stride { bytes.append(UInt8((y * 37 + i * 11) % 256)) } }
        let image = try PixelBuffer(width: 5, height: 4, format: format, rowStride: stride, bytes: bytes)
        let decoded = try decoder.decode(try image.pngData(fast: fast), source: "written")
        #expect(decoded.format == format && decoded.width == 5 && decoded.height == 4)
        for y in 0..<4 { for x in 0..<5 { for c in 0..<format.channels { #expect(decoded[x, y, c] == image[x, y, c]) } } }
    }

    @Test(arguments: [(PixelFormat.gray, PixelFormat.gray), (.rgb, .rgb), (.rgba, .rgb)])
    func jpegWritingKeepsASmoothImageClose(format: PixelFormat, decodedAs: PixelFormat) throws {
        let width = 48, height = 32, stride = width * format.channels + 5
        var bytes = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            for x in 0..<width {
                let values = [3 * x + 2 * y, 255 - 4 * y, 2 * x + 40, 255]
                for c in 0..<format.channels { bytes[y * stride + x * format.channels + c] = UInt8(values[c]) }
            }
        }
        let image = try PixelBuffer(width: width, height: height, format: format, rowStride: stride, bytes: bytes)
        let jpeg = try image.jpegData(quality: 95)
        #expect(ImageDecoder.format(of: jpeg) == .jpeg)
        let decoded = try decoder.decode(jpeg, source: "written")
        #expect(decoded.format == decodedAs && decoded.width == width && decoded.height == height)
        var worst = 0
        for y in 0..<height { for x in 0..<width { for c in 0..<decodedAs.channels { worst = max(worst, abs(Int(decoded[x, y, c]) - Int(image[x, y, c]))) } } }
        #expect(worst <= 8, "largest difference \(worst) on a smooth image at quality 95")
        #expect(throws: DatasetError.self) { try image.jpegData(quality: 0) }
    }

    /// A smooth 1600×1200 colour picture as a JPEG: a camera-sized photo stand-in.
    static let cameraSizedJPEG: (image: PixelBuffer, jpeg: [UInt8]) = {
        let width = 1600, height = 1200
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let values = [x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height) + 64]
                for c in 0..<3 { bytes[(y * width + x) * 3 + c] = UInt8(values[c]) }
            }
        }
        let image = try! PixelBuffer(width: width, height: height, format: .rgb, bytes: bytes)
        return (image, try! image.jpegData(quality: 90))
    }()

    @Test(arguments: [(Int?.none, 1600, 1200), (64, 200, 150), (150, 200, 150), (151, 400, 300), (600, 800, 600), (1199, 1600, 1200), (5000, 1600, 1200)])
    func largeJPEGsDecodeAtTheSmallestScaleThatKeepsTheSide(minimumSide: Int?, width: Int, height: Int) throws {
        let decoded = try ImageDecoder(minimumSide: minimumSide).decode(Self.cameraSizedJPEG.jpeg)
        #expect(decoded.width == width && decoded.height == height && decoded.format == .rgb)
        // Whatever the scale, the pixels are the picture's: close to an area-averaged full decode.
        let reference = try ImageDecoder().decode(Self.cameraSizedJPEG.jpeg).areaResized(width: width, height: height)
        var total = 0
        for y in 0..<height { for x in 0..<width { for c in 0..<3 { total += abs(Int(decoded[x, y, c]) - Int(reference[x, y, c])) } } }
        #expect(Double(total) / Double(width * height * 3) < 2, "mean difference from the area-averaged full decode")
    }

    @Test func scaledDecodingLeavesOtherFormatsAndSmallJPEGsWhole() throws {
        let png = try Self.cameraSizedJPEG.image.areaResized(width: 160, height: 120).pngData()
        #expect(try ImageDecoder(minimumSide: 16).decode(png).width == 160, "PNG has no DCT scales")
        let small = try Self.cameraSizedJPEG.image.areaResized(width: 40, height: 30).jpegData(quality: 90)
        #expect(try ImageDecoder(minimumSide: 64).decode(small).width == 40, "never enlarged")
    }

    @Test func pixelBuffersCheckTheirGeometry() {
        #expect(throws: DatasetError.self) { try PixelBuffer(width: 0, height: 3, format: .gray, bytes: []) }
        #expect(throws: DatasetError.self) { try PixelBuffer(width: 4, height: 2, format: .rgb, rowStride: 11, bytes: [UInt8](repeating: 0, count: 24)) }
        #expect(throws: DatasetError.self) { try PixelBuffer(width: 4, height: 2, format: .rgb, bytes: [UInt8](repeating: 0, count: 23)) }
        #expect((try? PixelBuffer(width: 4, height: 2, format: .rgb, rowStride: 14, bytes: [UInt8](repeating: 0, count: 26))) != nil, "the last row needs no padding")
    }
}
