import CPDQKernels
import Foundation
import HammingSearch
import PixelIO

/// PDQ, Meta's 256-bit perceptual hash for photo matching (ThreatExchange, Hasher-Matcher-
/// Actioner), written here from its published description ("The TMK+PDQF and PDQ hashing
/// algorithms", facebook/ThreatExchange `pdq/README.md`, `hashing.pdf`) and checked bit for bit
/// against the reference implementation's Python binding (`Fixtures/pdq/make_pdq_vectors.py`).
///
/// The steps: the image's luminance (BT.601), blurred by two passes of a Jarosz box filter
/// whose window is about half of one output cell, sampled at 64×64 cell centres; the 16×16
/// lowest non-constant coefficients of its 2-D DCT; each bit says whether its coefficient lies
/// above their median, so exactly half the bits are set. Near-identical images (re-encoded,
/// resized, slightly brightened) have hashes a few bits apart; unrelated ones about 128.
public enum PDQ {
    /// Bits of a PDQ hash.
    public static let bitCount = 256

    /// A hash and how much the image had to say.
    public struct Hash: Sendable, Equatable {
        /// The 256 bits, as the reference prints them (hex of 16-bit words, the last word first)
        /// read most significant bit first.
        public var code: BinaryCode
        /// 0–100: the image's gradient energy at 64×64. Below 50 the reference advises against
        /// trusting a match (flat or nearly flat images hash alike).
        public var quality: Int
        /// Each coefficient's distance from the median, in the code's bit order: positive where the
        /// bit is set, and the larger its size, the surer the bit. Not part of the reference's
        /// output; a store bound to PDQ keeps them quantised and re-ranks a query's exact Hamming
        /// candidates by the cosine of their margins with the query's (``BinaryCode/init(signsOf:)``
        /// of them is ``code``).
        public var margins: [Float]
    }

    /// The PDQ hash of `image` (gray, RGB or RGBA, any size of at least 1×1).
    public static func hash(_ image: PixelBuffer) -> Hash {
        let (rows, columns) = (image.height, image.width)
        var luma = luminance(image)
        var scratch = [Float](unsafeUninitializedCapacity: luma.count) { $1 = luma.count }
        let alongRows = JaroszFilter.window(old: columns, new: 64), alongColumns = JaroszFilter.window(old: rows, new: 64)
        JaroszFilter.alongRows(luma, into: &scratch, rows: rows, columns: columns, window: alongRows)
        JaroszFilter.alongColumns(scratch, into: &luma, rows: rows, columns: columns, window: alongColumns)
        // The second pass kept only where the 64×64 cells are read: the same values, without the
        // divisions and stores of the rest (the running sums still pass every pixel).
        let (cellRows, cellColumns) = (cellCentres(rows), cellCentres(columns))
        let sampledColumns = JaroszFilter.alongRows(luma, rows: rows, columns: columns, window: alongRows, keeping: cellColumns)
        let cells = JaroszFilter.alongColumns(sampledColumns, rows: rows, columns: 64, window: alongColumns, keeping: cellRows)
        let coefficients = dct16(cells)
        let median = lowerMedian(coefficients)
        // Bit i·16 + j (of the reference's 16 words of 16 bits) is coefficient (i, j) > median.
        var words = [UInt16](repeating: 0, count: 16)
        for k in 0..<256 where coefficients[k] > median { words[k >> 4] |= 1 << UInt16(k & 15) }
        let bytes = words.reversed().flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
        // Coefficient k is bit 255 − k of the code (the last word first, each read from its top bit).
        var margins = [Float](repeating: 0, count: 256)
        for k in 0..<256 { margins[255 - k] = coefficients[k] - median }
        return Hash(code: try! BinaryCode(bytes: bytes), quality: quality(cells), margins: margins)
    }

    /// BT.601 luma in [0, 255] as floats, row-major (rows read at the image's `rowStride`): each
    /// (0.299 R + 0.587 G + 0.114 B) in single floats, as the reference computes it; alpha,
    /// where there is one, left out, as the reference takes RGB.
    static func luminance(_ image: PixelBuffer, version: bgan_pdq_version = BGAN_PDQ_BEST) -> [Float] {
        let (width, height) = (image.width, image.height)
        return [Float](unsafeUninitializedCapacity: width * height) { luma, count in
            image.bytes.withUnsafeBufferPointer { bytes in
                bgan_pdq_luminance(version, bytes.baseAddress, width, height, image.rowStride, image.format.channels, luma.baseAddress)
            }
            count = width * height
        }
    }

    /// Where the reference reads its 64 cells along a side of `length` pixels: the pixel at each
    /// cell's centre (ascending; repeated along sides shorter than 64).
    static func cellCentres(_ length: Int) -> [Int] {
        (0..<64).map { Int((Double($0) + 0.5) * Double(length) / 64) }
    }

    /// The reference's DCT rows: frequencies 1…16 (the constant one left out) over 64 samples.
    static let dctMatrix: [Float] = {
        var matrix = [Float](repeating: 0, count: 16 * 64)
        let scale = (2.0 / 64).squareRoot(), step = Double.pi / 2 / 64
        for i in 0..<16 {
            for j in 0..<64 {
                let angle = step * Double(i + 1) * Double(2 * j + 1)
                matrix[i * 64 + j] = Float(scale * cos(angle))
            }
        }
        return matrix
    }()

    /// `D · A · Dᵀ`: 16×16 coefficients of the 64×64 cells, row-major.
    static func dct16(_ cells: [Float]) -> [Float] {
        var half = [Float](repeating: 0, count: 16 * 64)
        for i in 0..<16 {
            for j in 0..<64 {
                var sum: Float = 0
                for k in 0..<64 { sum += dctMatrix[i * 64 + k] * cells[k * 64 + j] }
                half[i * 64 + j] = sum
            }
        }
        var result = [Float](repeating: 0, count: 256)
        for i in 0..<16 {
            for j in 0..<16 {
                var sum: Float = 0
                for k in 0..<64 { sum += half[i * 64 + k] * dctMatrix[j * 64 + k] }
                result[i * 16 + j] = sum
            }
        }
        return result
    }

    /// The ⌈n/2⌉-th smallest value (the reference's Torben median: the lower one for even n).
    static func lowerMedian(_ values: [Float]) -> Float {
        values.sorted()[(values.count + 1) / 2 - 1]
    }

    /// Gradient energy of the 64×64 cells, as the reference measures it: 0–100.
    static func quality(_ cells: [Float]) -> Int {
        var sum = 0
        for i in 0..<63 {
            for j in 0..<64 { sum += abs(Int((cells[i * 64 + j] - cells[(i + 1) * 64 + j]) * 100 / 255)) }
        }
        for i in 0..<64 {
            for j in 0..<63 { sum += abs(Int((cells[i * 64 + j] - cells[i * 64 + j + 1]) * 100 / 255)) }
        }
        return min(sum / 90, 100)
    }
}
