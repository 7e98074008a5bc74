/// Little-endian integers appended to a byte array: the one writer behind parameter files,
/// checkpoints and model-file containers.
public struct LittleEndianWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ value: Float) { append(value.bitPattern) }

    public mutating func append<S: Sequence>(contentsOf raw: S) where S.Element == UInt8 {
        bytes.append(contentsOf: raw)
    }
}

/// Bounds-checked little-endian reads from a byte array: the one reader behind parameter
/// files, checkpoints and model-file containers. Reading past the end throws the error the
/// owner supplies (which names the file and the record), never traps.
public struct LittleEndianReader {
    public let bytes: [UInt8]
    /// Offset of the next byte to read.
    public private(set) var offset = 0
    private let truncated: (_ offset: Int) -> any Error

    /// - Parameter truncated: the error to throw when a read would pass the end, given the offset of that read.
    public init(_ bytes: [UInt8], truncated: @escaping (_ offset: Int) -> any Error) {
        self.bytes = bytes
        self.truncated = truncated
    }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - offset }

    public mutating func read<T: FixedWidthInteger>(_ type: T.Type = T.self) throws -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw truncated(offset) }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }

    public mutating func readFloat() throws -> Float { Float(bitPattern: try read(UInt32.self)) }

    /// `count` Floats, refused (before allocating) when fewer bytes remain.
    public mutating func readFloats(_ count: Int) throws -> [Float] {
        guard count >= 0, count <= remaining / 4 else { throw truncated(offset) }
        return try (0..<count).map { _ in try readFloat() }
    }

    public mutating func readBytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw truncated(offset) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }
}

/// FNV-1a, 64 bits: a fast checksum for detecting accidental damage (not an adversary).
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
    }

    public mutating func combine(_ word: UInt32) {
        value = (value ^ UInt64(word)) &* 0x0000_0100_0000_01B3
    }

    public static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var hasher = FNV1a()
        hasher.combine(bytes)
        return hasher.value
    }
}
