import Basics
import CPDQKernels
import Foundation
import PixelIO
import Testing
@testable import PerceptualHash

/// PDQ's vectorised kernels (`CPDQKernels`), their fastest version here and the portable one,
/// against the reference's arithmetic written out one value at a time: the same floats, bit for
/// bit — the Jarosz box filter (`box1DFloat`, transcribed below as the oracle) whatever the
/// image's shape and the window, including windows as wide as the line and fewer rows than a
/// vector holds; the luminance for gray, RGB and RGBA rows of any width, padded or not.
@Suite struct PDQKernelTests {
    /// The reference's `box1DFloat` on one line of `count` values `stride` apart.
    static func referenceBox(_ input: [Float], _ output: inout [Float], start: Int, count: Int, stride: Int, window: Int) {
        let half = (window + 2) / 2
        var sum: Float = 0, size = 0
        var left = start, right = start, out = start
        for _ in 0..<max(0, half - 1) {
            sum += input[right]; size += 1; right += stride
        }
        for _ in 0..<max(0, window - half + 1) {
            sum += input[right]; size += 1; output[out] = sum / Float(size); right += stride; out += stride
        }
        for _ in 0..<max(0, count - window) {
            sum += input[right]; sum -= input[left]; output[out] = sum / Float(size); left += stride; right += stride; out += stride
        }
        for _ in 0..<max(0, half - 1) {
            sum -= input[left]; size -= 1; output[out] = sum / Float(size); left += stride; out += stride
        }
    }

    @Test(arguments: [(1, 1), (1, 37), (37, 1), (15, 16), (16, 17), (33, 70), (64, 64), (70, 129), (255, 40)])
    func bothDirectionsEqualTheReferenceBitForBit(rows: Int, columns: Int) {
        var generator = SeededGenerator(seed: UInt64(rows * 1000 + columns))
        let image = (0..<(rows * columns)).map { _ in Float(generator.next() % 25_600) / 100 }
        let windows = Set([1, 2, 3, JaroszFilter.window(old: columns, new: 64), JaroszFilter.window(old: rows, new: 64), min(rows, columns)])
        for window in windows where window <= min(rows, columns) {
            var expected = image, actual: [Float] = []
            for row in 0..<rows { Self.referenceBox(image, &expected, start: row * columns, count: columns, stride: 1, window: window) }
            for version in [BGAN_PDQ_BEST, BGAN_PDQ_PORTABLE] {
                actual = [Float](repeating: -1, count: image.count)
                JaroszFilter.alongRows(image, into: &actual, rows: rows, columns: columns, window: window, version: version)
                #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern), "rows \(rows)×\(columns), window \(window), \(version)")
            }

            expected = image
            for column in 0..<columns { Self.referenceBox(image, &expected, start: column, count: rows, stride: columns, window: window) }
            for version in [BGAN_PDQ_BEST, BGAN_PDQ_PORTABLE] {
                actual = [Float](repeating: -1, count: image.count)
                JaroszFilter.alongColumns(image, into: &actual, rows: rows, columns: columns, window: window, version: version)
                #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern), "columns \(rows)×\(columns), window \(window), \(version)")
            }
        }
    }

    /// The sampled filters keep exactly the reference's values at the kept positions: the
    /// cell centres PDQ reads (repeated along sides shorter than 64), and a few ragged sets.
    @Test(arguments: [(1, 1), (5, 37), (37, 5), (33, 70), (64, 64), (70, 129), (255, 40), (612, 816)])
    func sampledFiltersKeepTheReferenceValuesBitForBit(rows: Int, columns: Int) {
        var generator = SeededGenerator(seed: UInt64(rows * 7 + columns))
        let image = (0..<(rows * columns)).map { _ in Float(generator.next() % 25_600) / 100 }
        let (rowWindow, columnWindow) = (JaroszFilter.window(old: columns, new: 64), JaroszFilter.window(old: rows, new: 64))
        var alongRows = image, alongColumns = image
        for row in 0..<rows { Self.referenceBox(image, &alongRows, start: row * columns, count: columns, stride: 1, window: rowWindow) }
        for column in 0..<columns { Self.referenceBox(image, &alongColumns, start: column, count: rows, stride: columns, window: columnWindow) }
        let keptColumns = [PDQ.cellCentres(columns), [0], [columns - 1], Array(Set([0, columns / 2, columns / 2, columns - 1])).sorted()]
        let keptRows = [PDQ.cellCentres(rows), [rows - 1], [0, 0, rows - 1]]
        for version in [BGAN_PDQ_BEST, BGAN_PDQ_PORTABLE] {
            for kept in keptColumns {
                let expected = (0..<rows).flatMap { row in kept.map { alongRows[row * columns + $0] } }
                let actual = JaroszFilter.alongRows(image, rows: rows, columns: columns, window: rowWindow, keeping: kept, version: version)
                #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern), "rows \(rows)×\(columns) keeping \(kept.count), \(version)")
            }
            for kept in keptRows {
                let expected = kept.flatMap { row in (0..<columns).map { alongColumns[row * columns + $0] } }
                let actual = JaroszFilter.alongColumns(image, rows: rows, columns: columns, window: columnWindow, keeping: kept, version: version)
                #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern), "columns \(rows)×\(columns) keeping \(kept.count), \(version)")
            }
        }
    }

    /// The hash's blur with its second pass sampled gives the cells the whole two passes and the
    /// reference's decimation give, on photograph-like sizes and tiny ones.
    @Test(arguments: [(1, 1), (20, 90), (64, 64), (153, 204), (612, 816)])
    func theSampledSecondPassGivesTheCellsOfTheWholeOne(rows: Int, columns: Int) throws {
        var generator = SeededGenerator(seed: UInt64(rows + columns))
        var bytes: [UInt8] = []
        for index in 0..<(rows * columns * 3) {
            let ramp = UInt64((index / 3) % columns / 8)
            bytes.append(UInt8(truncatingIfNeeded: generator.next() % 200 + ramp))
        }
        let image = try PixelBuffer(width: columns, height: rows, format: .rgb, bytes: bytes)
        var luma = PDQ.luminance(image), scratch = luma
        let (rowWindow, columnWindow) = (JaroszFilter.window(old: columns, new: 64), JaroszFilter.window(old: rows, new: 64))
        for _ in 0..<2 {
            for row in 0..<rows { Self.referenceBox(luma, &scratch, start: row * columns, count: columns, stride: 1, window: rowWindow) }
            for column in 0..<columns { Self.referenceBox(scratch, &luma, start: column, count: rows, stride: columns, window: columnWindow) }
        }
        // The reference's decimation, written out: the value at each cell's centre.
        var cells: [Float] = []
        for i in 0..<64 {
            let row: Int = Int((Double(i) + 0.5) * Double(rows) / 64)
            for j in 0..<64 {
                let column: Int = Int((Double(j) + 0.5) * Double(columns) / 64)
                cells.append(luma[row * columns + column])
            }
        }
        let coefficients = PDQ.dct16(cells), median = PDQ.lowerMedian(coefficients)
        let hash = PDQ.hash(image)
        #expect(hash.margins == (0..<256).map { coefficients[255 - $0] - median })
        #expect(hash.quality == PDQ.quality(cells))
    }

    @Test(arguments: [PixelFormat.gray, .rgb, .rgba], [1, 15, 16, 17, 50])
    func luminanceEqualsTheReferenceFormulaBitForBit(format: PixelFormat, width: Int) throws {
        var generator = SeededGenerator(seed: UInt64(width * 10 + format.channels))
        let (height, padding) = (3, 5)
        let stride = width * format.channels + padding
        let bytes = (0..<(stride * height)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let image = try PixelBuffer(width: width, height: height, format: format, rowStride: stride, bytes: bytes)
        var expected: [Float] = []
        for y in 0..<height {
            for x in 0..<width {
                let p = y * stride + x * format.channels
                let (r, g, b) = (Float(bytes[p]), Float(bytes[p + (format == .gray ? 0 : 1)]), Float(bytes[p + (format == .gray ? 0 : 2)]))
                let luma: Float = 0.299 * r + 0.587 * g + 0.114 * b
                expected.append(format == .gray ? r : luma)
            }
        }
        for version in [BGAN_PDQ_BEST, BGAN_PDQ_PORTABLE] {
            #expect(PDQ.luminance(image, version: version).map(\.bitPattern) == expected.map(\.bitPattern), "\(format) \(width) px, \(version)")
        }
    }

    /// Where the CPU has AVX-512, the tests above compared the AVX-512 kernels (`BGAN_PDQ_BEST`)
    /// with the reference, not the portable ones twice.
    @Test func theBestVersionIsTheVectorOneWhereTheCPUHasIt() throws {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(cpuinfo.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        #expect((bgan_pdq_best_is_avx512() == 1) == flags.contains("avx512f"), "AVX-512F in /proc/cpuinfo: \(flags.contains("avx512f"))")
    }
}
