import CTurboJPEG
import Foundation
@testable import PixelIO
import Testing

/// The 1/4-scale luma of `JPEGEighthScaleDecoder`: every coefficient read gives TurboJPEG's 1/4
/// decode byte for byte, so the machinery is exact; the lowest frequencies alone stay close to it
/// on smooth content; and the 1/8-scale image decoded beside it does not change.
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
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let value = 128 + 60 * sin(Double(x) / 23 + Double(y) / 41) + 30 * cos(Double(y) / 17)
                for channel in 0..<3 { pixels[(y * width + x) * 3 + channel] = UInt8(max(0, min(255, value + Double(channel * 10)))) }
            }
        }
        let jpeg = try Eighth.compress(pixels, width: width, height: height, subsampling: subsampling, quality: 90)
        let lowest = try #require(Self.ours(jpeg, through: JPEGEighthScaleDecoder.lowestFrequencies)?.quarterLuma)
        let exact = try Self.turboJPEGQuarterLuma(jpeg, width: width, height: height)
        let differences = zip(lowest, exact).map { abs(Int($0) - Int($1)) }
        let mean = Double(differences.reduce(0, +)) / Double(differences.count)
        #expect(lowest.count == exact.count && mean < 1 && differences.max()! <= 4, "mean \(mean), max \(differences.max()!)")
        #expect(Self.ours(jpeg, through: JPEGEighthScaleDecoder.lowestFrequencies)?.pixels == Self.ours(jpeg, through: 63)?.pixels,
                "the 1/8-scale image does not depend on the quarter luma")
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
        var accepted = [0, 0]
        for trial in 0..<150 {
            var damaged = clean
            for _ in 0..<(1 + next(3)) { damaged[600 + next(clean.count - 602)] = UInt8(next(256)) }
            let eighth = Eighth.ours(damaged)
            for (index, last) in [JPEGEighthScaleDecoder.lowestFrequencies, 63].enumerated() {
                guard let quarter = Self.ours(damaged, through: last) else { continue }
                accepted[index] += 1
                #expect(quarter.pixels == eighth?.pixels, "trial \(trial), through \(last): the 1/8-scale image")
                if last == 63 {
                    #expect(quarter.quarterLuma == (try Self.turboJPEGQuarterLuma(damaged, width: 80, height: 56)), "trial \(trial)")
                }
            }
        }
        #expect(accepted.allSatisfy { $0 >= 10 && $0 <= 140 }, "accepted \(accepted) of 150")
    }
}
