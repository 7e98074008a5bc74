/// A binary code of 8 to 1024 bits (a multiple of 8), packed into 64-bit words.
///
/// **Bit order.** A code is first of all a sequence of `bitCount / 8` bytes — the layout of NumPy's
/// `packbits`, faiss's binary indexes, Milvus `BINARY_VECTOR` and Elasticsearch `bit` vectors:
/// bit `i` is in byte `i / 8`, most significant bit first (`bit 0 = 0x80` of byte 0). The words are
/// the bytes read as little-endian `UInt64`s, zero-padded at the end; since Hamming distance counts
/// differing bits, grouping bytes into words does not change it. The hex form writes the bytes in order.
///
/// ```swift
/// let a = try BinaryCode(hex: "f0f0")
/// let b = BinaryCode(signsOf: [0.3, -1, 2, 5, -0.1, -2, -3, -4, 1, 1, 1, 1, -1, -1, -1, -1])
/// a.distance(to: b)   // 1
/// ```
public struct BinaryCode: Hashable, Sendable, CustomStringConvertible {
    /// Number of bits: a multiple of 8 from 8 to 1024.
    public let bitCount: Int
    /// The bytes as little-endian words; bits past `bitCount` are zero.
    public private(set) var words: [UInt64]

    /// Shortest and longest supported codes.
    public static let bitCountRange = 8...1024

    /// Number of 64-bit words a code of `bitCount` bits occupies.
    public static func wordCount(forBits bitCount: Int) -> Int { (bitCount + 63) / 64 }

    /// Checks that `bitCount` is a supported code length.
    public static func validate(bitCount: Int) throws {
        guard bitCountRange.contains(bitCount), bitCount % 8 == 0 else {
            throw HammingError(.invalidLength, "\(bitCount) bits is not a supported code length; use a multiple of 8 from 8 to 1024")
        }
    }

    /// A code from its words. Bits past `bitCount` must be zero.
    public init(bitCount: Int, words: [UInt64]) throws {
        try Self.validate(bitCount: bitCount)
        guard words.count == Self.wordCount(forBits: bitCount) else {
            throw HammingError(.lengthMismatch, "a \(bitCount)-bit code takes \(Self.wordCount(forBits: bitCount)) words, not \(words.count)")
        }
        if bitCount % 64 != 0, words[words.count - 1] >> UInt64(bitCount % 64) != 0 {
            throw HammingError(.invalidArgument, "bits past the \(bitCount)th are set in the last word")
        }
        self.bitCount = bitCount
        self.words = words
    }

    /// A code from its packed bytes (`bytes.count * 8` bits).
    public init<Bytes: Collection>(bytes: Bytes) throws where Bytes.Element == UInt8 {
        let bitCount = bytes.count * 8
        try Self.validate(bitCount: bitCount)
        let wordCount = Self.wordCount(forBits: bitCount)
        let packed = bytes.withContiguousStorageIfAvailable { Self.pack(UnsafeRawBufferPointer($0), wordCount: wordCount) }
        self.bitCount = bitCount
        self.words = packed ?? Array(bytes).withUnsafeBytes { Self.pack($0, wordCount: wordCount) }
    }

    /// A code from the raw bytes at `bytes` (`bytes.count * 8` bits), without intermediate copies.
    public init(rawBytes bytes: UnsafeRawBufferPointer) throws {
        try Self.validate(bitCount: bytes.count * 8)
        bitCount = bytes.count * 8
        words = Self.pack(bytes, wordCount: Self.wordCount(forBits: bitCount))
    }

    /// Little-endian words of `bytes`, zero-padded.
    private static func pack(_ bytes: UnsafeRawBufferPointer, wordCount: Int) -> [UInt64] {
        [UInt64](unsafeUninitializedCapacity: wordCount) { words, initialized in
            for w in 0..<wordCount {
                let start = w * 8
                if start + 8 <= bytes.count {
                    words[w] = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self))
                } else {
                    var word: UInt64 = 0
                    for i in start..<bytes.count { word |= UInt64(bytes[i]) << UInt64((i - start) * 8) }
                    words[w] = word
                }
            }
            initialized = wordCount
        }
    }

    /// A code from hexadecimal text, two digits per byte, in byte order (case-insensitive).
    public init(hex: String) throws {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else {
            throw HammingError(.invalidHex, "'\(hex.prefix(40))' has an odd number of hex digits; a code is whole bytes, two digits each")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.hexValue(digits[pair]), let low = Self.hexValue(digits[pair + 1]) else {
                throw HammingError(.invalidHex, "'\(hex.prefix(40))' holds a character that is not a hex digit at position \(pair)")
            }
            bytes.append(high << 4 | low)
        }
        try self.init(bytes: bytes)
    }

    /// The code whose bit `i` is set where `bits[i]` is true.
    public init(bits: [Bool]) throws {
        try Self.validate(bitCount: bits.count)
        var bytes = [UInt8](repeating: 0, count: bits.count / 8)
        for (i, bit) in bits.enumerated() where bit {
            bytes[i >> 3] |= 0x80 >> UInt8(i & 7)
        }
        try self.init(bytes: bytes)
    }

    /// The code of the signs of `values`: bit `i` is set where `values[i] > 0` (the convention
    /// of hashing networks, where `sign(h)` is mapped to {0, 1}). Lengths must be valid code lengths.
    public init(signsOf values: [Float]) {
        precondition(Self.bitCountRange.contains(values.count) && values.count % 8 == 0,
                     "\(values.count) values are not a valid code length")
        var bytes = [UInt8](repeating: 0, count: values.count / 8)
        for (i, value) in values.enumerated() where value > 0 {
            bytes[i >> 3] |= 0x80 >> UInt8(i & 7)
        }
        try! self.init(bytes: bytes)
    }

    /// The code's bytes, in order.
    public var bytes: [UInt8] {
        (0..<bitCount / 8).map { UInt8(truncatingIfNeeded: words[$0 >> 3] >> UInt64(($0 & 7) * 8)) }
    }

    /// Bit `index` (0-based, in the documented order).
    public func bit(_ index: Int) -> Bool {
        precondition(index >= 0 && index < bitCount, "bit \(index) of a \(bitCount)-bit code")
        let byte = UInt8(truncatingIfNeeded: words[index >> 6] >> UInt64(((index >> 3) & 7) * 8))
        return byte & (0x80 >> UInt8(index & 7)) != 0
    }

    /// Number of differing bits. Both codes must have the same length.
    public func distance(to other: BinaryCode) -> Int {
        precondition(bitCount == other.bitCount, "distance between a \(bitCount)-bit and a \(other.bitCount)-bit code")
        var total = 0
        for i in words.indices { total += (words[i] ^ other.words[i]).nonzeroBitCount }
        return total
    }

    /// Lower-case hex, two digits per byte.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bitCount / 4)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A code is encoded as its hex string (bytes in order, most significant bit first), which also
/// carries its length: `"00ff00ff00ff00ff"` is a 64-bit code.
extension BinaryCode: Codable {
    public init(from decoder: Decoder) throws {
        let hex = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(hex: hex)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(hex.prefix(80))' is not a code in hex", underlyingError: error))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
