import HammingSearch

import Basics

/// How a set of codes spreads over the cube: the figures that expose a collapse (whole classes
/// on one code) that mAP alone hides, and what the multi-index tables of a store holding these
/// codes would look like.
public struct CodeStatistics: Sendable, Codable, Equatable {
    /// Codes measured.
    public var count: Int
    /// Different codes among them.
    public var distinctCodes: Int
    /// Shannon entropy of the distribution of codes, in bits (at most log₂ `count`).
    public var entropy: Double
    /// Fraction of codes with each bit set, bit `i` in ``BinaryCode``'s order.
    public var onesFraction: [Double]
    /// Largest `|fraction of ones − ½|` over the bits (0: every bit balanced; ½: a constant bit).
    public var worstBitImbalance: Double
    /// Mean `|fraction of ones − ½|` over the bits.
    public var meanBitImbalance: Double
    /// The multi-index tables a store of these codes would build.
    public var substrings: [SubstringBuckets]

    /// The buckets of one multi-index table: codes grouped by the value of one substring.
    public struct SubstringBuckets: Sendable, Codable, Equatable {
        /// Bits in the substring.
        public var bits: Int
        /// Non-empty buckets.
        public var occupiedBuckets: Int
        /// Codes in the fullest bucket: what one probe can cost at worst.
        public var largestBucket: Int
        /// The 99th percentile of the sizes of the non-empty buckets.
        public var percentile99Bucket: Int
    }

    /// Measures `codes`, with the tables split as a store of that many codes would split them
    /// (``SubstringLayout/recommendedSubstrings(bitCount:itemCount:)``) unless `substrings` says.
    public init(codes: PackedCodes, substrings: Int? = nil) throws {
        let words = codes.wordsPerCode
        count = codes.count
        var ones = [Int](repeating: 0, count: codes.bitCount)
        var frequencies: [ArraySlice<UInt64>: Int] = [:]
        frequencies.reserveCapacity(codes.count)
        for row in 0..<codes.count {
            let code = codes.words[(row * words)..<((row + 1) * words)]
            frequencies[code, default: 0] += 1
            for i in 0..<codes.bitCount {
                let byte = i / 8
                let mask = UInt64(0x80 >> (i % 8)) << UInt64((byte % 8) * 8)
                if code[code.startIndex + byte / 8] & mask != 0 { ones[i] += 1 }
            }
        }
        distinctCodes = frequencies.count
        let total = Double(max(codes.count, 1))
        entropy = frequencies.values.reduce(0.0) { sum, frequency in
            let p = Double(frequency) / total
            return sum - p * log2(p)
        }
        onesFraction = ones.map { Double($0) / total }
        let imbalance = onesFraction.map { abs($0 - 0.5) }
        worstBitImbalance = imbalance.max() ?? 0
        meanBitImbalance = imbalance.isEmpty ? 0 : imbalance.reduce(0, +) / Double(imbalance.count)

        let layout = try SubstringLayout(
            bitCount: codes.bitCount,
            substrings: substrings ?? SubstringLayout.recommendedSubstrings(bitCount: codes.bitCount, itemCount: codes.count))
        self.substrings = codes.words.withUnsafeBufferPointer { all in
            (0..<layout.count).map { table in
                var sizes: [UInt32: Int] = [:]
                for row in 0..<codes.count { sizes[layout.value(of: all.baseAddress! + row * words, table: table), default: 0] += 1 }
                let sorted = sizes.values.sorted()
                let percentile = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
                return SubstringBuckets(bits: layout.lengths[table], occupiedBuckets: sorted.count,
                                        largestBucket: sorted.last ?? 0, percentile99Bucket: percentile)
            }
        }
    }
}
