/// How codes are stored by id: in chunks of ``capacity`` consecutive ids, each chunk one
/// contiguous block — the codes (`capacity × words` little-endian words, id order) followed by a
/// liveness bitmap (bit `slot % 8` of byte `slot / 8`; 1 = the id holds a live item).
///
/// A linear scan reads chunks front to back; a candidate's code is one address computation away.
public struct CodeChunkLayout: Hashable, Sendable {
    /// log₂ of the ids per chunk.
    public static let shift = 12
    /// Ids per chunk.
    public static let capacity = 1 << shift

    /// 64-bit words per code.
    public let words: Int

    public init(bitCount: Int) {
        words = BinaryCode.wordCount(forBits: bitCount)
    }

    /// Bytes of codes at the start of a chunk; the bitmap starts here.
    public var liveOffset: Int { Self.capacity * words * 8 }
    /// Bytes of one chunk.
    public var chunkBytes: Int { liveOffset + Self.capacity / 8 }

    /// The chunk holding `id`, and the id's slot in it.
    @inlinable
    public static func locate(_ id: UInt32) -> (chunk: Int, slot: Int) {
        (Int(id >> UInt32(shift)), Int(id & UInt32(capacity - 1)))
    }
}

/// A read-only view of all chunks of an index, by chunk number. The pointers are borrowed: valid
/// only as long as whatever owns the chunks (an LMDB read transaction, an ``InMemoryIndex``).
public struct CodeChunks {
    public let layout: CodeChunkLayout
    /// Start of each chunk; `nil` for a chunk never written.
    public let pointers: [UnsafePointer<UInt8>?]

    public init(layout: CodeChunkLayout, pointers: [UnsafePointer<UInt8>?]) {
        self.layout = layout
        self.pointers = pointers
    }

    /// The code words of `id`, or `nil` if its chunk does not exist.
    @inlinable
    public func code(of id: UInt32) -> UnsafePointer<UInt64>? {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        guard chunk < pointers.count, let base = pointers[chunk] else { return nil }
        return UnsafeRawPointer(base + slot * layout.words * 8).assumingMemoryBound(to: UInt64.self)
    }

    /// Whether `id` holds a live item.
    @inlinable
    public func isLive(_ id: UInt32) -> Bool {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        guard chunk < pointers.count, let base = pointers[chunk] else { return false }
        return base[layout.liveOffset + (slot >> 3)] & (1 << UInt8(slot & 7)) != 0
    }

    /// Calls `body` with every live id below `limit` and its code words, in id order.
    public func forEachLive(below limit: UInt32, _ body: (UInt32, UnsafePointer<UInt64>) throws -> Void) rethrows {
        for (chunk, pointer) in pointers.enumerated() {
            guard let base = pointer else { continue }
            let first = UInt32(chunk << CodeChunkLayout.shift)
            guard first < limit else { break }
            let codes = UnsafeRawPointer(base).assumingMemoryBound(to: UInt64.self)
            let live = base + layout.liveOffset
            for byteIndex in 0..<CodeChunkLayout.capacity / 8 {
                var bits = live[byteIndex]
                while bits != 0 {
                    let bit = bits.trailingZeroBitCount
                    bits &= bits - 1
                    let slot = byteIndex * 8 + bit
                    let id = first + UInt32(slot)
                    guard id < limit else { break }
                    try body(id, codes + slot * layout.words)
                }
            }
        }
    }
}
