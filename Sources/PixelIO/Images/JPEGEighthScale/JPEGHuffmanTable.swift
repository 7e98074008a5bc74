/// One Huffman table of a JPEG (ITU T.81, Annex C), with the lookup tables the 1/8 decoder reads:
/// ``symbols`` gives the symbol of every code of up to ``lookaheadBits`` bits in one lookup, and
/// ``skips`` — for AC tables whose coefficients are not needed — gives how many bits and how
/// many coefficient positions a run of several whole symbols (codes and their value bits) covers,
/// so a block's AC coefficients are passed over a few symbols per lookup.
struct JPEGHuffmanTable {
    static let lookaheadBits = 12

    /// Zigzag position → row-major position in the 8×8 block.
    static let naturalOrder: [Int] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ]

    /// Largest code of each length 1…16 (−1 when none), and the offset that turns a code of that
    /// length into an index of `values`.
    private(set) var maximumCode = [Int32](repeating: -1, count: 18)
    private(set) var valueOffset = [Int32](repeating: 0, count: 17)
    let values: [UInt8]
    /// By the next ``lookaheadBits`` bits: code length in bits 0–4 (0: longer code or none) and
    /// the symbol in bits 8–15.
    private(set) var symbols = [UInt16](repeating: 0, count: 1 << lookaheadBits)
    /// By the next ``lookaheadBits`` bits: bits covered in bits 0–4 (codes and value bits, up to
    /// 27; 0 when the first code is longer than the lookahead), coefficient positions advanced in
    /// bits 5–11, and bit 12 set when the run ends with an end-of-block. A run takes symbols while
    /// their codes lie inside the lookahead; their value bits may reach past it.
    private(set) var skips: [UInt16] = []

    /// The table of BITS `counts` (16 entries) and HUFFVAL `values`; nil when the counts do not
    /// make a prefix code or a DC symbol is beyond 15, as libjpeg-turbo refuses them.
    init?(counts: [UInt8], values: [UInt8], isDC: Bool) {
        guard counts.count == 16, values.count == counts.reduce(0, { $0 + Int($1) }) else { return nil }
        if isDC, values.contains(where: { $0 > 15 }) { return nil }
        self.values = values
        var code: Int32 = 0
        var index: Int32 = 0
        for length in 1...16 {
            let count = Int32(counts[length - 1])
            if count > 0 {
                valueOffset[length] = index - code
                code += count
                index += count
                maximumCode[length] = code - 1
                // As jpeg_make_d_derived_tbl: the all-ones code of a length is not a code.
                guard code < Int32(1) << Int32(length) else { return nil }
                if length <= Self.lookaheadBits {
                    let spread = Self.lookaheadBits - length
                    for symbolCode in (code - count)..<code {
                        let entry = UInt16(length) | UInt16(values[Int(symbolCode + valueOffset[length])]) << 8
                        let first = Int(symbolCode) << spread
                        for lookahead in first..<(first + (1 << spread)) { symbols[lookahead] = entry }
                    }
                }
            }
            code <<= 1
        }
        maximumCode[17] = Int32.max
        if !isDC { skips = makeSkips() }
    }

    /// The table's lookups copied to `memory` (``Lookup/byteCount`` bytes, 8-aligned), which
    /// must outlive the returned value.
    func lookup(in memory: UnsafeMutableRawPointer) -> Lookup {
        let entries = 1 << Self.lookaheadBits
        let symbolsAt = memory.bindMemory(to: UInt16.self, capacity: 2 * entries)
        symbols.withUnsafeBufferPointer { symbolsAt.initialize(from: $0.baseAddress!, count: entries) }
        let skipsAt = symbolsAt + entries
        if skips.isEmpty {
            skipsAt.initialize(repeating: 0, count: entries)
        } else {
            skips.withUnsafeBufferPointer { skipsAt.initialize(from: $0.baseAddress!, count: entries) }
        }
        let codesAt = (memory + 4 * entries).bindMemory(to: Int32.self, capacity: 35)
        maximumCode.withUnsafeBufferPointer { codesAt.initialize(from: $0.baseAddress!, count: 18) }
        valueOffset.withUnsafeBufferPointer { (codesAt + 18).initialize(from: $0.baseAddress!, count: 17) }
        let valuesAt = (memory + 4 * entries + 4 * 36).bindMemory(to: UInt8.self, capacity: 256)
        valuesAt.initialize(repeating: 0, count: 256)
        values.withUnsafeBufferPointer { valuesAt.initialize(from: $0.baseAddress!, count: values.count) }
        let coefficientsAt = (memory + 4 * entries + 4 * 36 + 256).bindMemory(to: UInt32.self, capacity: 1 << Self.coefficientBits)
        // AC tables only (those with skips): a DC table's symbols are sizes, not runs and sizes.
        for lookahead in 0..<(1 << Self.coefficientBits) { coefficientsAt[lookahead] = skips.isEmpty ? 0 : coefficient(lookahead) }
        return Lookup(symbols: symbolsAt, skips: skipsAt, maximumCode: codesAt, valueOffset: codesAt + 18,
                      values: valuesAt, valueCount: values.count, coefficients: coefficientsAt)
    }

    /// Bits of lookahead of ``Lookup/coefficients`` (its table stays small beside the others).
    static let coefficientBits = 10

    /// For AC decoding with values: the symbol whose code and value bits both lie in the
    /// ``coefficientBits`` bits `lookahead` — bits covered in bits 0–4 (0: they do not), the run
    /// in bits 5–8, bit 9 set for a size-0 symbol (end of block or sixteen zeros), and the value,
    /// extended as T.81 F.12 says, in bits 16–31.
    private func coefficient(_ lookahead: Int) -> UInt32 {
        let bits = Self.coefficientBits
        let entry = symbols[lookahead << (Self.lookaheadBits - bits)]
        let length = Int(entry & 31), symbol = Int(entry >> 8)
        let run = symbol >> 4, size = symbol & 15
        guard length != 0, length + size <= bits else { return 0 }
        var value = 0
        if size != 0 {
            let raw = (lookahead >> (bits - length - size)) & ((1 << size) - 1)
            value = raw < 1 << (size - 1) ? raw - (1 << size) + 1 : raw
        }
        return UInt32(length + size) | UInt32(run) << 5 | (size == 0 ? 1 << 9 : 0)
            | UInt32(UInt16(bitPattern: Int16(truncatingIfNeeded: value))) << 16
    }

    /// A table's lookups through plain pointers, for the decoder's inner loops (no reference
    /// counting, no bounds checks: every index is masked to the table's size).
    struct Lookup {
        static let byteCount = 4 * (1 << JPEGHuffmanTable.lookaheadBits) + 4 * 36 + 256 + 4 * (1 << JPEGHuffmanTable.coefficientBits)

        let symbols: UnsafePointer<UInt16>
        let skips: UnsafePointer<UInt16>
        let maximumCode: UnsafePointer<Int32>
        let valueOffset: UnsafePointer<Int32>
        let values: UnsafePointer<UInt8>
        let valueCount: Int
        /// By the next ``JPEGHuffmanTable/coefficientBits`` bits: a whole AC symbol with its
        /// value, as `coefficient(_:)` packs it.
        let coefficients: UnsafePointer<UInt32>

        /// The symbol and code length at the start of the left-aligned `window` (at least 16
        /// valid bits), or nil for a code the table does not have.
        @inline(__always)
        func decode(_ window: UInt64) -> (symbol: Int, length: Int)? {
            let entry = symbols[Int(truncatingIfNeeded: window &>> UInt64(64 - JPEGHuffmanTable.lookaheadBits))]
            if entry & 31 != 0 { return (Int(entry >> 8), Int(entry & 31)) }
            return decodeLong(window)
        }

        @inline(never)
        func decodeLong(_ window: UInt64) -> (symbol: Int, length: Int)? {
            var codeLength = JPEGHuffmanTable.lookaheadBits + 1
            while codeLength <= 16 {
                let code = Int32(truncatingIfNeeded: window >> UInt64(64 - codeLength))
                if code <= maximumCode[codeLength] {
                    let at = Int(code + valueOffset[codeLength])
                    return at >= 0 && at < valueCount ? (Int(values[at]), codeLength) : nil
                }
                codeLength += 1
            }
            return nil
        }
    }

    /// For each lookahead, the AC symbols whose codes it holds from its first bit: a symbol with run r
    /// and size s > 0 advances r + 1 positions, 0xF0 (sixteen zeros) advances 16, and any other
    /// size-0 symbol ends the block as libjpeg-turbo treats it.
    private func makeSkips() -> [UInt16] {
        let bits = Self.lookaheadBits
        var table = [UInt16](repeating: 0, count: 1 << bits)
        for lookahead in 0..<(1 << bits) {
            var used = 0, advance = 0, endsBlock = false
            while used < bits, advance < 64 {
                let entry = symbols[(lookahead << used) & ((1 << bits) - 1)]
                let length = Int(entry & 31)
                let symbol = Int(entry >> 8)
                let size = symbol & 15, run = symbol >> 4
                // Skipping needs only the code inside the lookahead, not its value bits: the run
                // stops after a symbol whose value bits reach past it.
                guard length != 0, used + length <= bits else { break }
                used += length + size
                if size != 0 {
                    advance += run + 1
                } else if run == 15 {
                    advance += 16
                } else {
                    endsBlock = true
                    break
                }
            }
            table[lookahead] = UInt16(used) | UInt16(min(advance, 127)) << 5 | (endsBlock ? 1 << 12 : 0)
        }
        return table
    }
}
