import Basics
import Foundation
@testable import PixelIO
import Testing

@Suite struct PixelTransformTests {
    @Test func colorConversionsFollowLumaAndCompositing() throws {
        let rgb = try PixelBuffer(width: 2, height: 1, format: .rgb, bytes: [200, 100, 50, 0, 255, 0])
        let gray = rgb.converted(to: .gray)
        let first: Double = 0.299 * 200 + 0.587 * 100 + 0.114 * 50, second: Double = 0.587 * 255
        #expect(gray.bytes == [UInt8(first.rounded()), UInt8(second.rounded())])
        #expect(gray.converted(to: .rgb).bytes == [gray.bytes[0], gray.bytes[0], gray.bytes[0], gray.bytes[1], gray.bytes[1], gray.bytes[1]])
        let rgba = try PixelBuffer(width: 1, height: 1, format: .rgba, bytes: [200, 100, 0, 51])  // 20% opaque
        #expect(rgba.converted(to: .rgb).bytes == [40, 20, 0], "over black")
        #expect(rgba.converted(to: .rgb, background: 255).bytes == [244, 224, 204], "over white")
        #expect(rgb.converted(to: .rgba).bytes == [200, 100, 50, 255, 0, 255, 0, 255])
    }

    @Test(arguments: PixelFormat.allCases)
    func paddedRowsConvertToPackedOnesOfEveryFormat(format: PixelFormat) throws {
        let (width, height) = (5, 3)
        let stride = width * format.channels + 3
        let bytes = (0..<(stride * height)).map { UInt8(($0 * 37 + 11) % 256) }
        let padded = try PixelBuffer(width: width, height: height, format: format, rowStride: stride, bytes: bytes)
        let packedBytes = (0..<height).flatMap { y in bytes[(y * stride)..<(y * stride + width * format.channels)] }
        let packed = try PixelBuffer(width: width, height: height, format: format, bytes: Array(packedBytes))
        for target in PixelFormat.allCases {
            let converted = padded.converted(to: target)
            #expect(converted.rowStride == width * target.channels && converted.format == target)
            #expect(converted.bytes == packed.converted(to: target).bytes, "\(format) → \(target)")
        }
        #expect(padded.converted(to: format).bytes == packed.bytes)
        // Packed rows with bytes after the last (a decoder's padded plane) lose those bytes.
        let trailing = try PixelBuffer(width: width, height: height, format: format, bytes: Array(packedBytes) + [1, 2, 3])
        #expect(trailing.converted(to: format).bytes == packed.bytes)
        #expect(packed.converted(to: format).bytes == packed.bytes)
    }

    /// Colour is any pixel whose red, green and blue differ, in whatever row and whatever the
    /// row padding; grays stored as RGB or RGBA, and alpha alone, are not colour.
    @Test func colourIsAnyPixelWhoseChannelsDiffer() throws {
        let levels: [UInt8] = (0..<12).map { UInt8($0 * 20) }
        let grays: [UInt8] = levels.flatMap { [$0, $0, $0] }
        #expect(!(try PixelBuffer(width: 4, height: 3, format: .rgb, bytes: grays)).hasColour)
        #expect(!(try PixelBuffer(width: 4, height: 3, format: .gray, bytes: Array(grays.prefix(12)))).hasColour)
        var tinted = grays
        tinted[3 * 10 + 2] &+= 1
        #expect(try PixelBuffer(width: 4, height: 3, format: .rgb, bytes: tinted).hasColour, "one pixel of the last row")
        // Padding after each row (a crop's view) is not looked at, whatever it holds.
        var padded: [UInt8] = []
        for row in 0..<3 { padded += grays[(row * 12)..<(row * 12 + 12)] + [255, 0, 7] }
        #expect(!(try PixelBuffer(width: 4, height: 3, format: .rgb, rowStride: 15, bytes: padded)).hasColour)
        let translucent: [UInt8] = levels.flatMap { [$0, $0, $0, 255 - $0] }
        #expect(!(try PixelBuffer(width: 4, height: 3, format: .rgba, bytes: translucent)).hasColour)
    }

    @Test func planesBecomeInterleavedPixels() throws {
        // Red plane 1…6, green 11…16, blue 21…26 of a 3×2 image.
        let planes: [UInt8] = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 21, 22, 23, 24, 25, 26]
        let rgb = try PixelBuffer(planes: planes, width: 3, height: 2)
        #expect(rgb.format == .rgb && rgb.width == 3 && rgb.height == 2)
        #expect(rgb.bytes == [1, 11, 21, 2, 12, 22, 3, 13, 23, 4, 14, 24, 5, 15, 25, 6, 16, 26])
        let gray = try PixelBuffer(planes: planes[6..<12], width: 3, height: 2)
        #expect(gray.format == .gray && gray.bytes == [11, 12, 13, 14, 15, 16] && gray[1, 1, 0] == 15)
        let two = #expect(throws: DatasetError.self) { try PixelBuffer(planes: planes.prefix(12), width: 3, height: 2) }
        #expect(two?.message.contains("not one or three 3×2 planes") == true, "\(two?.message ?? "")")
    }

    @Test func centerCropKeepsTheMiddle() throws {
        let image = try PixelBuffer(width: 8, height: 6, format: .gray, bytes: (0..<48).map { UInt8($0) })
        let square = image.centerCropped(aspectWidth: 1, aspectHeight: 1)
        #expect(square.width == 6 && square.height == 6)
        #expect(square[0, 0, 0] == 1 && square[5, 5, 0] == 46)
        let wide = image.centerCropped(aspectWidth: 4, aspectHeight: 1)
        #expect(wide.width == 8 && wide.height == 2 && wide[0, 0, 0] == 16)
    }

    @Test func areaResizeAveragesWhatEachPixelCovers() throws {
        let blocks = try PixelBuffer(width: 4, height: 4, format: .gray, bytes: [0, 10, 100, 100, 20, 30, 100, 100, 7, 7, 0, 0, 7, 7, 0, 255])
        #expect(blocks.areaResized(width: 2, height: 2).bytes == [15, 100, 7, 64])
        // 3 → 2: each output covers 1.5 inputs.
        let three = try PixelBuffer(width: 3, height: 1, format: .gray, bytes: [90, 30, 0])
        #expect(three.areaResized(width: 2, height: 1).bytes == [70, 10])
        // Growing replicates; RGB channels stay apart; strided rows are read correctly.
        let two = try PixelBuffer(width: 2, height: 1, format: .rgb, rowStride: 8, bytes: [1, 2, 3, 4, 5, 6, 99, 99])
        #expect(two.areaResized(width: 4, height: 2).bytes == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        // The mean is kept when shrinking an arbitrary image.
        let noisy = try PixelBuffer(width: 30, height: 20, format: .gray, bytes: (0..<600).map { UInt8(($0 * 37) % 256) })
        let small = noisy.areaResized(width: 7, height: 3)
        let mean = { (b: [UInt8]) in Double(b.reduce(0) { $0 + Int($1) }) / Double(b.count) }
        #expect(abs(mean(small.bytes) - mean(noisy.bytes)) < 1.5)
    }

    /// RGB and gray have loops of their own; RGBA takes the general
    /// one. The same arithmetic in each: an RGB image resized equals its RGBA copy resized, alpha
    /// dropped, and each gray channel alone, byte for byte — odd and even output widths, shrinking
    /// and growing.
    @Test(arguments: [(7, 5), (8, 3), (1, 1), (45, 31), (120, 90)])
    func everyChannelCountResizesAlike(newWidth: Int, newHeight: Int) throws {
        let (width, height) = (97, 61)
        let rgb = try PixelBuffer(width: width, height: height, format: .rgb, bytes: (0..<(width * height * 3)).map { UInt8(($0 * 7919 + $0 / 5) % 256) })
        let rgba = rgb.converted(to: .rgba)
        let resized = rgb.areaResized(width: newWidth, height: newHeight)
        #expect(rgba.areaResized(width: newWidth, height: newHeight).converted(to: .rgb).bytes == resized.bytes)
        for channel in 0..<3 {
            let plane = try PixelBuffer(width: width, height: height, format: .gray, bytes: stride(from: channel, to: rgb.bytes.count, by: 3).map { rgb.bytes[$0] })
            let expected = stride(from: channel, to: resized.bytes.count, by: 3).map { resized.bytes[$0] }
            #expect(plane.areaResized(width: newWidth, height: newHeight).bytes == expected, "channel \(channel)")
        }
    }

    @Test func blockAveragesAreRoundedMeansWithPartialEdgeBlocks() throws {
        // 5×3 gray, blocks of 2: the last column and the last row form partial blocks.
        let image = try PixelBuffer(width: 5, height: 3, format: .gray, bytes: [0, 2, 10, 20, 255,
                                                                                4, 6, 30, 41, 100,
                                                                                9, 9, 1, 2, 7])
        let averaged = image.blockAveraged(by: 2)
        #expect(averaged.width == 3 && averaged.height == 2)
        // (0+2+4+6)/4 = 3, (10+20+30+41)/4 = 25.25 → 25, (255+100)/2 = 177.5 → 178, (9+9)/2, (1+2)/2 = 1.5 → 2, 7.
        #expect(averaged.bytes == [3, 25, 178, 9, 2, 7])
        let rgb = try PixelBuffer(width: 2, height: 1, format: .rgb, rowStride: 7, bytes: [10, 20, 30, 11, 21, 32, 99])
        #expect(rgb.blockAveraged(by: 2).bytes == [11, 21, 31], "channels stay apart; 10.5 rounds up; the padding is not read")
    }

    @Test func thumbnailsOfLargeImagesStayCloseToTheDirectAreaAverage() throws {
        // A smooth photograph-like image much larger than the thumbnail takes the block path.
        let (width, height) = (900, 700)
        var bytes: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let shade = 127.5 + 60 * sin(Double(x) / 40) * cos(Double(y) / 55) + 0.07 * Double(x - y)
                bytes += [UInt8(max(0, min(255, shade))), UInt8((x * 255) / width), UInt8((y * 255) / height)]
            }
        }
        let photo = try PixelBuffer(width: width, height: height, format: .rgb, bytes: bytes)
        let thumbnail = photo.fitted(within: 64), direct = photo.areaResized(width: 64, height: 50)
        #expect(thumbnail.width == 64 && thumbnail.height == 50)
        let largest = zip(thumbnail.bytes, direct.bytes).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(largest <= 2, "a thumbnail pixel differs from the direct area average by \(largest) levels")
    }

    /// On an image that is constant over each block the block path loses nothing: the thumbnail
    /// equals the direct area average (up to a float rounding), ragged edge blocks included.
    /// 301×151 into 21 pixels: 21×11, reductions 14 and 13, so blocks of 6 (301 = 6 · 50 + 1,
    /// 151 = 6 · 25 + 1); neighbouring blocks differ a lot, so a misweighted block would show.
    @Test func blockPathEqualsTheDirectAverageOnBlockConstantImages() throws {
        let (width, height, factor) = (301, 151, 6)
        var bytes: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width { bytes += [UInt8((x / factor * 37) % 256), UInt8((y / factor * 53) % 256), UInt8((x / factor + y / factor) % 256)] }
        }
        let image = try PixelBuffer(width: width, height: height, format: .rgb, bytes: bytes)
        let thumbnail = image.fitted(within: 21)
        #expect(thumbnail.width == 21 && thumbnail.height == 11)
        let direct = image.areaResized(width: thumbnail.width, height: thumbnail.height)
        let largest = zip(thumbnail.bytes, direct.bytes).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(largest <= 1, "a pixel differs by \(largest) levels")
    }

    /// Against the integer definition — (sum + pixels / 2) / pixels over each block, partial edge
    /// blocks included — on random images, every channel count and factors up to the largest.
    /// (2, 4, 8 and 16 take a vector path for gray images: rows wide enough for it, and ragged.)
    @Test(arguments: [1, 2, 3, 4, 5, 6, 8, 12, 16, 40, PixelBuffer.largestBlockFactor])
    func blockAveragesEqualTheIntegerDefinition(factor: Int) throws {
        var random = SeededGenerator(seed: UInt64(factor))
        for format in [PixelFormat.gray, .rgb, .rgba] {
            let blocksAcross = factor <= 16 ? 37 : 2
            let width = factor * blocksAcross + Int.random(in: 0..<factor, using: &random) + 1, height = factor + Int.random(in: 0...factor, using: &random)
            let channels = format.channels
            // Mostly extreme levels, so that sums sit near their largest and halves round up.
            let bytes = (0..<(width * height * channels)).map { _ in [0, 255, 254, 1, UInt8.random(in: 0...255, using: &random)][Int.random(in: 0..<5, using: &random)] }
            let image = try PixelBuffer(width: width, height: height, format: format, bytes: bytes)
            let averaged = image.blockAveraged(by: factor)
            var expected: [UInt8] = []
            for blockRow in stride(from: 0, to: height, by: factor) {
                for blockColumn in stride(from: 0, to: width, by: factor) {
                    let rows = blockRow..<min(blockRow + factor, height), columns = blockColumn..<min(blockColumn + factor, width)
                    let pixels = rows.count * columns.count
                    for c in 0..<channels {
                        let sum = rows.reduce(0) { total, y in columns.reduce(total) { $0 + Int(bytes[(y * width + $1) * channels + c]) } }
                        expected.append(UInt8((sum + pixels / 2) / pixels))
                    }
                }
            }
            #expect(averaged.bytes == expected, "\(format), \(width)×\(height)")
        }
    }

    /// The division by multiplication is exact for every block size up to the largest and every
    /// sum a block can reach, at the values where a quotient steps (n = k·d − 1 and k·d).
    @Test func blockMeansDivideExactlyByMultiplication() {
        let largest = UInt64(PixelBuffer.largestBlockFactor * PixelBuffer.largestBlockFactor)
        var wrong: [(UInt64, UInt64)] = []
        for divisor in 1...largest {
            let reciprocal = PixelBuffer.reciprocal(of: divisor), top = divisor * 255 + divisor / 2
            for n in [0, 1, divisor - 1, divisor, divisor + 1, top / 2, top - divisor, top - 1, top] {
                if PixelBuffer.quotient(n, divisor, reciprocal) != n / divisor { wrong.append((n, divisor)) }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    @Test func theLargestBlockFactorSumsWithoutOverflow() throws {
        let side = PixelBuffer.largestBlockFactor
        let white = try PixelBuffer(width: side, height: side, format: .gray, bytes: [UInt8](repeating: 255, count: side * side))
        #expect(white.blockAveraged(by: side).bytes == [255])
    }
}
