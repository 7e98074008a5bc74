import CTurboJPEG
import Foundation
@testable import PixelIO
import Testing

/// The 1/4-scale luma of `JPEGEighthScaleDecoder`: every coefficient read gives TurboJPEG's 1/4
/// decode byte for byte; a prefix of them gives TurboJPEG's decode of the same file with the
/// luma coefficients past that prefix zeroed (a lossless transform), so the shipped lowest
/// frequencies are checked exactly too; and the 1/8-scale image decoded beside it does not change.
@Suite struct JPEGQuarterLumaTests {
    typealias Eighth = JPEGEighthScaleTests

    /// TurboJPEG's luma at 1/4 scale: a colour JPEG decoded to gray is its Y plane.
    static func turboJPEGQuarterLuma(_ jpeg: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let handle = try #require(tjInitDecompress())
        defer { tjDestroy(handle) }
        let (scaledWidth, scaledHeight) = ((width + 3) / 4, (height + 3) / 4)
        var pixels = [UInt8](repeating: 0, count: scaledWidth * scaledHeight)
        let status = jpeg.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer {
                tjDecompress2(handle, source.baseAddress, UInt(jpeg.count), $0.baseAddress, Int32(scaledWidth), Int32(scaledWidth), Int32(scaledHeight),
                              Int32(TJPF_GRAY.rawValue), TJFLAG_ACCURATEDCT)
            }
        }
        #expect(status == 0)
        return pixels
    }

    static func ours(_ jpeg: [UInt8], through last: Int) -> JPEGEighthScaleDecoder.Image? {
        jpeg.withUnsafeBufferPointer { JPEGEighthScaleDecoder.decode($0, quarterLumaThrough: last) }
    }

    /// The decoder as PDQ stores made now use it (`JPEGLuminanceDecoder.lowestFrequencies`).
    static func shipped(_ jpeg: [UInt8]) -> JPEGEighthScaleDecoder.Image? {
        jpeg.withUnsafeBufferPointer {
            JPEGEighthScaleDecoder.decode($0, quarterLumaThrough: JPEGEighthScaleDecoder.lowestFrequenciesLastPosition, chromaFromDC: true)
        }
    }

    /// The hand-made hostile files of `JPEGEighthScaleTests`, as PDQ stores decode them: taken
    /// exactly where the 1/8-scale decode takes them (today it declines all three), and any taken
    /// must be TurboJPEG's decode of the truncated file (its helpers expect status 0).
    @Test(arguments: ["chroma420-dc-out-of-range.jpg", "skip-underflow.jpg", "allones.jpg"])
    func hostileFiles(name: String) throws {
        let jpeg = try [UInt8](Data(contentsOf: Eighth.fixtures.appendingPathComponent("jpeg/hostile/\(name)")))
        #expect((Self.shipped(jpeg) == nil) == (Eighth.ours(jpeg) == nil), "\(name): taken exactly where the 1/8-scale decode takes it")
        guard let shipped = Self.shipped(jpeg) else { return }
        let handle = try #require(tjInitDecompress())
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        #expect(tjDecompressHeader3(handle, jpeg, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) == 0)
        let reference = try Self.turboJPEGQuarterLuma(try Self.lumaTruncated(jpeg, after: JPEGEighthScaleDecoder.lowestFrequenciesLastPosition),
                                                      width: Int(width), height: Int(height))
        #expect(shipped.quarterLuma == reference, "\(name)")
    }

    /// `jpeg` losslessly rewritten by TurboJPEG (`tjTransform`) with every luma coefficient past
    /// zigzag position `last` set to zero; the chroma is left as it is.
    static func lumaTruncated(_ jpeg: [UInt8], after last: Int) throws -> [UInt8] {
        let handle = try #require(tjInitTransform())
        defer { tjDestroy(handle) }
        var keep = last
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        defer { if let output { tjFree(output) } }
        let status = withUnsafeMutablePointer(to: &keep) { keepPointer -> Int32 in
            var transform = tjtransform()
            transform.op = Int32(TJXOP_NONE.rawValue)
            transform.data = UnsafeMutableRawPointer(keepPointer)
            // Coefficients come a block of 64 at a time, each in natural (row-major) order.
            transform.customFilter = { coefficients, arrayRegion, _, component, _, transform in
                guard component == 0, let coefficients, let transform else { return 0 }
                let last = transform.pointee.data.assumingMemoryBound(to: Int.self).pointee
                let blocks = Int(arrayRegion.w) * Int(arrayRegion.h) / 64
                for block in 0..<blocks {
                    for position in (last + 1)..<64 { coefficients[block * 64 + JPEGHuffmanTable.naturalOrder[position]] = 0 }
                }
                return 0
            }
            return jpeg.withUnsafeBufferPointer { tjTransform(handle, $0.baseAddress, UInt(jpeg.count), 1, &output, &size, &transform, 0) }
        }
        #expect(status == 0, "tjTransform: \(String(cString: tjGetErrorStr2(handle)))")
        return Array(UnsafeBufferPointer(start: try #require(output), count: Int(size)))
    }

    /// A picture with flat stretches (blocks whose first nonzero AC coefficient comes late, after
    /// a run of zeros across the prefix's end) beside the textured one.
    static func picture(width: Int, height: Int, channels: Int, seed: UInt64) -> [UInt8] {
        var pixels = Eighth.picture(width: width, height: height, channels: channels, seed: seed)
        for y in 0..<height where (y / 8) % 3 == 1 {
            for x in 0..<(width / 2) {
                // A fine vertical stripe pattern: energy in column 7 only, nothing before it.
                let value: UInt8 = x % 2 == 0 ? 110 : 146
                for channel in 0..<channels { pixels[(y * width + x) * channels + channel] = value }
            }
        }
        return pixels
    }

    /// The shipped prefix (4) and others around it — the four-coefficient IDCT's range (≤ 5) and
    /// the general one — each against TurboJPEG's decode of the file with the rest zeroed.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 9, 20, 62])
    func aPrefixGivesTurboJPEGsDecodeOfTheTruncatedFile(last: Int) throws {
        for subsampling in [TJSAMP_444, TJSAMP_420, TJSAMP_422, TJSAMP_GRAY] {
            let channels = subsampling == TJSAMP_GRAY ? 1 : 3
            for (width, height, quality) in [(203, 131, 90), (320, 240, 100), (64, 48, 50)] {
                let label = "through \(last), subsampling \(subsampling.rawValue), \(width)×\(height), q\(quality)"
                let pixels = Self.picture(width: width, height: height, channels: channels, seed: UInt64(width + last))
                let jpeg = try Eighth.compress(pixels, width: width, height: height, subsampling: subsampling, quality: quality)
                let ours = try #require(Self.ours(jpeg, through: last)?.quarterLuma, "\(label): declined")
                let reference = try Self.turboJPEGQuarterLuma(try Self.lumaTruncated(jpeg, after: last), width: width, height: height)
                let differing = zip(ours, reference).filter { $0 != $1 }.count
                #expect(ours.count == reference.count && differing == 0, "\(label): \(differing) samples differ")
                if last <= 9 && quality >= 90 {
                    #expect(reference != (try Self.turboJPEGQuarterLuma(jpeg, width: width, height: height)), "\(label): the truncation changes the decode")
                }
            }
        }
    }

    /// Through `ImageDecoder`: the lowest frequencies are taken at 1/4 scale only, turned upright
    /// as the EXIF orientation says (the same size and nearly the same samples as the exact luma),
    /// with the 1/8-scale colour image — or the file's RGB decode where that is smaller than the
    /// colour side; files the own decoder declines (progressive) get the exact luma.
    @Test func theDecoderTakesTheLowestFrequenciesAtQuarterScaleOnly() throws {
        func decoders(minimumSide: Int, colourSide: Int) -> (ImageDecoder, ImageDecoder) {
            (ImageDecoder(minimumSide: minimumSide, colourSide: colourSide, quarterScaleLuma: .lowestFrequencies),
             ImageDecoder(minimumSide: minimumSide, colourSide: colourSide, quarterScaleLuma: .exact))
        }
        for orientation in 1...8 {
            let jpeg = try [UInt8](Data(contentsOf: Eighth.fixtures.appendingPathComponent("exif/orientation-\(orientation).jpg")))
            let handle = try #require(tjInitDecompress())
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            #expect(tjDecompressHeader3(handle, jpeg, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) == 0)
            tjDestroy(handle)
            // A minimum side that makes 1/4 the scale.
            let side = (Int(min(width, height)) + 3) / 4
            let (lowest, exact) = decoders(minimumSide: side, colourSide: 2)
            let fast = try lowest.decodeForEncoding(jpeg), reference = try exact.decodeForEncoding(jpeg)
            #expect(fast.image.width == reference.image.width && fast.image.height == reference.image.height, "orientation \(orientation)")
            let difference = zip(fast.image.bytes, reference.image.bytes).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
            #expect(Double(difference) / Double(max(reference.image.bytes.count, 1)) < 4, "orientation \(orientation): upright as the exact luma")
            let colour = try #require(fast.thumbnailSource)
            #expect(colour.width == (fast.image.width + 1) / 2 && colour.height == (fast.image.height + 1) / 2 && colour.format == .rgb,
                    "orientation \(orientation): the 1/8-scale colour image, upright")
            // A colour side above the 1/8-scale image: the RGB decode at the minimum side.
            let (wide, _) = decoders(minimumSide: side, colourSide: 4 * side)
            let wideColour = try #require(try wide.decodeForEncoding(jpeg).thumbnailSource)
            #expect(wideColour == (try ImageDecoder(minimumSide: side).decode(jpeg)), "orientation \(orientation)")
        }
        let progressive = try [UInt8](Data(contentsOf: Eighth.fixtures.appendingPathComponent("jpeg/progressive-420.jpg")))
        // 211×157: 1/4 scale keeps 40 pixels a side.
        let (lowest, exact) = decoders(minimumSide: 40, colourSide: 2)
        let luma = try lowest.decodeForEncoding(progressive).image
        #expect(luma.width == 53 && luma.height == 40 && luma.format == .gray)
        #expect(luma == (try exact.decodeForEncoding(progressive).image), "progressive: the exact luma")
    }

    /// Restart intervals (every few MCUs, every row) in four layouts.
    @Test(arguments: ["restart-420.jpg", "restart-422-rows.jpg", "restart-444.jpg", "restart-gray.jpg"])
    func restartIntervals(name: String) throws {
        let jpeg = try [UInt8](Data(contentsOf: Eighth.fixtures.appendingPathComponent("jpeg/\(name)")))
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let handle = try #require(tjInitDecompress())
        defer { tjDestroy(handle) }
        #expect(tjDecompressHeader3(handle, jpeg, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) == 0)
        for last in [JPEGEighthScaleDecoder.lowestFrequenciesLastPosition, 63] {
            let ours = try #require(Self.ours(jpeg, through: last)?.quarterLuma, "\(name) through \(last): declined")
            let truncated = last == 63 ? jpeg : try Self.lumaTruncated(jpeg, after: last)
            #expect(ours == (try Self.turboJPEGQuarterLuma(truncated, width: Int(width), height: Int(height))), "\(name) through \(last)")
        }
    }

    @Test(arguments: [TJSAMP_GRAY, TJSAMP_444, TJSAMP_422, TJSAMP_420, TJSAMP_440])
    func everyCoefficientGivesTurboJPEGsQuarterScaleLuma(subsampling: TJSAMP) throws {
        let channels = subsampling == TJSAMP_GRAY ? 1 : 3
        for (width, height) in [(17, 9), (64, 48), (203, 131), (320, 240)] {
            for quality in [3, 50, 90, 100] {
                let label = "subsampling \(subsampling.rawValue), \(width)×\(height), q\(quality)"
                let pixels = Eighth.picture(width: width, height: height, channels: channels, seed: UInt64(width * 1000 + quality))
                let jpeg = try Eighth.compress(pixels, width: width, height: height, subsampling: subsampling, quality: quality)
                let decoded = Self.ours(jpeg, through: 63)
                let quarter = try #require(decoded?.quarterLuma, "\(label): declined")
                let reference = try Self.turboJPEGQuarterLuma(jpeg, width: width, height: height)
                let differing = zip(quarter, reference).filter { $0 != $1 }.count
                #expect(quarter.count == reference.count && differing == 0, "\(label): \(differing) samples differ from TurboJPEG's")
                Eighth.expectSame(decoded, try Eighth.turboJPEG(jpeg), "\(label), the 1/8-scale image beside it")
            }
        }
    }

    /// On smooth content (waves, no noise or edges) the coefficients left out are small: the
    /// samples stay within a few levels of the exact decode. Were a coefficient put in the wrong
    /// place or the wrong block, whole blocks would be tens of levels off.
    @Test(arguments: [TJSAMP_444, TJSAMP_420])
    func theLowestFrequenciesStayCloseOnSmoothContent(subsampling: TJSAMP) throws {
        let (width, height) = (320, 240)
        let pixels = Self.smoothPicture(width: width, height: height)
        let jpeg = try Eighth.compress(pixels, width: width, height: height, subsampling: subsampling, quality: 90)
        let lowest = try #require(Self.ours(jpeg, through: JPEGEighthScaleDecoder.lowestFrequenciesLastPosition)?.quarterLuma)
        let exact = try Self.turboJPEGQuarterLuma(jpeg, width: width, height: height)
        let differences = zip(lowest, exact).map { abs(Int($0) - Int($1)) }
        let mean = Double(differences.reduce(0, +)) / Double(differences.count)
        #expect(lowest.count == exact.count && mean < 1 && differences.max()! <= 4, "mean \(mean), max \(differences.max()!)")
        #expect(Self.ours(jpeg, through: JPEGEighthScaleDecoder.lowestFrequenciesLastPosition)?.pixels == Self.ours(jpeg, through: 63)?.pixels,
                "the 1/8-scale image does not depend on the quarter luma")
    }

    /// Waves with no noise or edges, each channel its own, in RGB.
    static func smoothPicture(width: Int, height: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for channel in 0..<3 {
                    let value = 128 + 60 * sin(Double(x) / Double(23 + 9 * channel) + Double(y) / 41) + 30 * cos(Double(y) / Double(17 + 5 * channel))
                    pixels[(y * width + x) * 3 + channel] = UInt8(max(0, min(255, value)))
                }
            }
        }
        return pixels
    }

    /// 4:2:0 chroma from the DC coefficient alone (for thumbnails): a chroma block covers 2×2
    /// pixels at 1/8 scale, and the mean of `jpeg_idct_2x2`'s four samples is the DC's (its odd
    /// terms cancel), so the colours averaged over those 2×2 pixels stay within rounding of the
    /// IDCT's, while single pixels lose the block's inner gradient; no change at all for layouts
    /// whose chroma is one sample a block already, or none.
    @Test func chromaFromTheDCAloneIsNearTheIDCTsColours() throws {
        for subsampling in [TJSAMP_420, TJSAMP_444, TJSAMP_422, TJSAMP_GRAY] {
            let channels = subsampling == TJSAMP_GRAY ? 1 : 3
            let colour = Self.smoothPicture(width: 320, height: 240)
            let pixels = channels == 3 ? colour : (0..<(320 * 240)).map { colour[3 * $0] }
            let jpeg = try Eighth.compress(pixels, width: 320, height: 240, subsampling: subsampling, quality: 90)
            let fromDC = try #require(jpeg.withUnsafeBufferPointer { JPEGEighthScaleDecoder.decode($0, quarterLumaThrough: 4, chromaFromDC: true) })
            let exact = try #require(Self.ours(jpeg, through: 4))
            #expect(fromDC.quarterLuma == exact.quarterLuma, "subsampling \(subsampling.rawValue): the luma does not change")
            #expect(fromDC.width == exact.width && fromDC.height == exact.height && fromDC.pixels.count == exact.pixels.count)
            /// Each channel's means over 2×2 pixels (40 × 30 → 20 × 15).
            func means(_ image: JPEGEighthScaleDecoder.Image) -> [Double] {
                let channels = image.pixels.count / (image.width * image.height)
                func at(_ y: Int, _ x: Int, _ channel: Int) -> Double { Double(image.pixels[(y * image.width + x) * channels + channel]) }
                var result: [Double] = []
                for y in stride(from: 0, to: image.height - 1, by: 2) {
                    for x in stride(from: 0, to: image.width - 1, by: 2) {
                        for channel in 0..<channels {
                            let sum = at(y, x, channel) + at(y, x + 1, channel) + at(y + 1, x, channel) + at(y + 1, x + 1, channel)
                            result.append(sum / 4)
                        }
                    }
                }
                return result
            }
            let pixelDifference = zip(fromDC.pixels, exact.pixels).map { abs(Int($0) - Int($1)) }.max()!
            let meanDifference = zip(means(fromDC), means(exact)).map { abs($0 - $1) }.max()!
            if subsampling == TJSAMP_420 {
                #expect(pixelDifference > 0 && meanDifference <= 1.5, "4:2:0: pixels \(pixelDifference) apart at most, 2×2 means \(meanDifference)")
            } else {
                #expect(pixelDifference == 0, "subsampling \(subsampling.rawValue): unchanged")
            }
        }
    }

    /// The four-coefficient IDCT is `jpeg_idct_2x2` on blocks whose other coefficients are zero,
    /// up to the edges of the SIMD code's range, where both decline.
    @Test func theFourCoefficientIDCTIsTheFullOnesShortcut() {
        var state: UInt64 = 34
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        let block = UnsafeMutablePointer<Int16>.allocate(capacity: 64), quantization = UnsafeMutablePointer<Int16>.allocate(capacity: 64)
        defer { block.deallocate(); quantization.deallocate() }
        var samples = [UInt8](repeating: 0, count: 8)
        var declined = 0
        for trial in 0..<20_000 {
            block.initialize(repeating: 0, count: 64)
            quantization.initialize(repeating: 0, count: 64)
            for position in [0, 1, 8, 9] {
                // Mostly ordinary values, a few at the extremes of 11-bit coefficients and 8-bit steps.
                let extreme = trial % 7 == 0
                block[position] = next(4) == 0 ? 0 : Int16(next(extreme ? 4096 : 256) - (extreme ? 2048 : 128))
                quantization[position] = Int16(1 + next(extreme ? 255 : 40))
            }
            let full = samples.withUnsafeMutableBufferPointer {
                JPEGReducedIDCT.inverseDCT2x2(block, quantization, top: $0.baseAddress!, bottom: $0.baseAddress! + 2)
            }
            let shortcut = samples.withUnsafeMutableBufferPointer {
                JPEGReducedIDCT.inverseDCT2x2(lowest: block, quantization, top: $0.baseAddress! + 4, bottom: $0.baseAddress! + 6)
            }
            #expect(full == shortcut, "trial \(trial): one declines, the other not")
            if full && shortcut {
                #expect(Array(samples[0..<4]) == Array(samples[4..<8]), "trial \(trial)")
            } else {
                declined += 1
            }
        }
        #expect(declined > 0 && declined < 20_000, "both outcomes occur: \(declined) declined")
    }

    /// Damaged files: the quarter luma is only decoded where the 1/8-scale image is (it may
    /// decline more: a luma coefficient beyond the IDCT's range, a run past a block's end), with
    /// the same 1/8-scale image; read whole, it is TurboJPEG's, which takes the file too.
    @Test func damagedFilesAreNeverDecodedDifferently() throws {
        var state: UInt64 = 2027
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        let clean = try Eighth.compress(Eighth.picture(width: 80, height: 56, channels: 3, seed: 5), width: 80, height: 56, subsampling: TJSAMP_420, quality: 85)
        var accepted = [0, 0, 0]
        for trial in 0..<150 {
            var damaged = clean
            for _ in 0..<(1 + next(3)) { damaged[600 + next(clean.count - 602)] = UInt8(next(256)) }
            let eighth = Eighth.ours(damaged)
            for (index, last) in [JPEGEighthScaleDecoder.lowestFrequenciesLastPosition, 63].enumerated() {
                guard let quarter = Self.ours(damaged, through: last) else { continue }
                accepted[index] += 1
                #expect(quarter.pixels == eighth?.pixels, "trial \(trial), through \(last): the 1/8-scale image")
                // TurboJPEG takes every file we take (its helper expects status 0), and gives
                // the same luma when every coefficient is read.
                let reference = try Self.turboJPEGQuarterLuma(damaged, width: 80, height: 56)
                if last == 63 { #expect(quarter.quarterLuma == reference, "trial \(trial)") }
            }
            // As PDQ stores decode: the lowest frequencies with the chroma from the DC alone.
            if let shipped = Self.shipped(damaged) {
                accepted[2] += 1
                _ = try Self.turboJPEGQuarterLuma(damaged, width: 80, height: 56)
                if let withIDCT = Self.ours(damaged, through: JPEGEighthScaleDecoder.lowestFrequenciesLastPosition) {
                    #expect(shipped.quarterLuma == withIDCT.quarterLuma, "trial \(trial): the luma does not depend on the chroma")
                }
            }
        }
        #expect(accepted.allSatisfy { $0 >= 10 && $0 <= 140 }, "accepted \(accepted) of 150")
    }
}
