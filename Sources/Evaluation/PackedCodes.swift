import HammingSearch

/// Many binary codes of one length, packed as `words` 64-bit words each, in ``BinaryCode``'s
/// bit order: the form retrieval is evaluated on.
public struct PackedCodes: Sendable {
    public let bitCount: Int
    public let count: Int
    public var words: [UInt64]

    public var wordsPerCode: Int { BinaryCode.wordCount(forBits: bitCount) }

    /// Codes of the signs of `values` (`count × bitCount`, row-major), each as
    /// ``BinaryCode/init(signsOf:)`` makes it: bit `i` of code `r` is set where
    /// `values[r · bitCount + i] > 0`.
    public init(signsOf values: [Float], bitCount: Int) {
        precondition(bitCount % 8 == 0 && values.count % bitCount == 0, "\(values.count) values are not whole \(bitCount)-bit codes")
        self.bitCount = bitCount
        count = values.count / bitCount
        var words: [UInt64] = []
        words.reserveCapacity(count * BinaryCode.wordCount(forBits: bitCount))
        for row in 0..<count {
            words += BinaryCode(signsOf: Array(values[(row * bitCount)..<((row + 1) * bitCount)])).words
        }
        self.words = words
    }

    /// Code `index` as a ``BinaryCode``.
    public func code(_ index: Int) -> BinaryCode {
        try! BinaryCode(bitCount: bitCount, words: Array(words[(index * wordsPerCode)..<((index + 1) * wordsPerCode)]))
    }
}
