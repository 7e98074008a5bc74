import HammingSearch

/// Many binary codes of one length, packed as `words` 64-bit words each, in ``BinaryCode``'s
/// bit order: the form retrieval is evaluated on.
public struct PackedCodes: Sendable {
    public let bitCount: Int
    public let count: Int
    public var words: [UInt64]

    public var wordsPerCode: Int { BinaryCode.wordCount(forBits: bitCount) }

    /// Codes of the signs of `values` (`count × bitCount`, row-major): bit `i` of code `r` is set
    /// where `values[r · bitCount + i] > 0`.
    public init(signsOf values: [Float], bitCount: Int) {
        precondition(bitCount % 8 == 0 && values.count % bitCount == 0, "\(values.count) values are not whole \(bitCount)-bit codes")
        self.bitCount = bitCount
        count = values.count / bitCount
        let wordsPerCode = BinaryCode.wordCount(forBits: bitCount)
        var words = [UInt64](repeating: 0, count: count * wordsPerCode)
        for row in 0..<count {
            for i in 0..<bitCount where values[row * bitCount + i] > 0 {
                // Bit i is bit 7 − i % 8 of byte i / 8; byte j is bits 8·(j % 8)… of word j / 8.
                let byte = i / 8
                words[row * wordsPerCode + byte / 8] |= UInt64(0x80 >> (i % 8)) << UInt64((byte % 8) * 8)
            }
        }
        self.words = words
    }

    /// Code `index` as a ``BinaryCode``.
    public func code(_ index: Int) -> BinaryCode {
        try! BinaryCode(bitCount: bitCount, words: Array(words[(index * wordsPerCode)..<((index + 1) * wordsPerCode)]))
    }
}
