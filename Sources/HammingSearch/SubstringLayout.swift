import Basics

/// How multi-index hashing splits a code into `m` disjoint substrings, one per hash table.
///
/// Substring `j` is a run of consecutive bits in *word order*: position `p` is bit `p % 64`
/// (least significant first) of word `p / 64`. Lengths differ by at most one; the first
/// `bitCount % m` substrings take the extra bit. Every substring has 1 to
/// ``maximumSubstringBits`` bits, so each table can be a direct-addressed array of
/// `2^length` buckets.
public struct SubstringLayout: Hashable, Sendable, CustomStringConvertible {
    /// Longest substring: a table has `2^24` buckets at most (64 MiB of offsets).
    public static let maximumSubstringBits = 24

    /// Length of the codes.
    public let bitCount: Int
    /// First bit (in word order) of each substring.
    public let starts: [Int]
    /// Length in bits of each substring.
    public let lengths: [Int]

    /// Number of substrings (tables), `m`.
    public var count: Int { lengths.count }

    /// Splits `bitCount` bits into `substrings` near-equal runs.
    public init(bitCount: Int, substrings: Int) throws {
        try BinaryCode.validate(bitCount: bitCount)
        let shortest = (bitCount + Self.maximumSubstringBits - 1) / Self.maximumSubstringBits
        guard substrings >= shortest, substrings <= bitCount else {
            throw HammingError(.invalidLayout, "\(substrings) substrings cannot split \(bitCount)-bit codes; use \(shortest) to \(bitCount) (each substring holds 1 to \(Self.maximumSubstringBits) bits)")
        }
        self.bitCount = bitCount
        let base = bitCount / substrings
        let extra = bitCount % substrings
        var starts: [Int] = []
        var lengths: [Int] = []
        var position = 0
        for j in 0..<substrings {
            let length = base + (j < extra ? 1 : 0)
            starts.append(position)
            lengths.append(length)
            position += length
        }
        self.starts = starts
        self.lengths = lengths
        fingerprintBits = bitCount <= 64 && substrings >= 2 ? min(32, bitCount - (lengths.max() ?? bitCount)) : 0
    }

    /// The paper's rule: substrings of about log₂ N bits, so a table's buckets hold about one
    /// item each. Returns the number of substrings for `itemCount` items of `bitCount` bits.
    public static func recommendedSubstrings(bitCount: Int, itemCount: Int) -> Int {
        let log2N = log2(Double(max(itemCount, 2)))
        let target = min(Double(maximumSubstringBits), max(4, log2N.rounded()))
        let shortest = (bitCount + maximumSubstringBits - 1) / maximumSubstringBits
        return min(bitCount, max(shortest, Int((Double(bitCount) / target).rounded())))
    }

    /// The value of substring `table` of the code at `words`.
    @inlinable
    public func value(of words: UnsafePointer<UInt64>, table: Int) -> UInt32 {
        let start = starts[table]
        let length = lengths[table]
        let word = start >> 6
        let offset = start & 63
        var bits = words[word] >> UInt64(offset)
        if offset + length > 64 { bits |= words[word + 1] << UInt64(64 - offset) }
        return UInt32(truncatingIfNeeded: bits & ((1 << UInt64(length)) - 1))
    }

    /// Bits in each table entry's fingerprint (0: tables carry none). A fingerprint is up to 32
    /// bits of the code from outside the table's substring; with the substring's own distance
    /// it bounds an item's distance from below, so a search drops most far candidates without
    /// reading their codes. Kept for codes of at most 64 bits only: for longer codes 32 bits are
    /// too few of the code to bound a useful distance, and would cost 4 bytes per item per table.
    public let fingerprintBits: Int

    /// The fingerprint of the code at `words` in table `table`: the `fingerprintBits` bits that
    /// follow the substring in word order, wrapping around from the code's last bit to its first.
    @inlinable
    public func fingerprint(of words: UnsafePointer<UInt64>, table: Int) -> UInt32 {
        let end = UInt64(starts[table] + lengths[table])
        let width = UInt64(bitCount)
        let code = words[0]
        let rotated = end == width ? code : (code >> end) | (code << (width - end))
        return UInt32(truncatingIfNeeded: rotated & ((1 << UInt64(fingerprintBits)) - 1))
    }

    /// The substring values of every table for `code`.
    public func values(of code: BinaryCode) -> [UInt32] {
        code.words.withUnsafeBufferPointer { words in
            (0..<count).map { value(of: words.baseAddress!, table: $0) }
        }
    }

    /// After searching tables `0...table` to radius `radius` and the others to `radius - 1`,
    /// every item within this distance of the query has been seen (the pigeonhole bound).
    public func guaranteedDistance(radius: Int, lastTable table: Int) -> Int {
        count * radius + table
    }

    public var description: String {
        "\(count) substrings of \(Set(lengths).sorted().map(String.init).joined(separator: "/")) bits"
    }
}
