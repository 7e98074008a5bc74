/// The row numbers `0 ..< count`, as decimal text, in the byte order LMDB sorts keys in
/// ("0", "1", "10", "100", …, "11", …): a bulk load can then append keys without sorting them.
struct DecimalKeys {
    let count: Int

    /// Calls `body` with each row number of `0 ..< count` in byte order and its decimal text. A
    /// depth-first walk of the decimal trie over 1 ..< count after 0: down (×10) when possible,
    /// else to the next sibling, climbing past exhausted levels; the text follows the number (down
    /// appends a 0, a sibling counts up, a climb drops the last digit) instead of being formatted
    /// anew for every key.
    func forEach(_ body: (_ row: Int, _ text: UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard count > 0 else { return }
        var text = Self.digits(0)
        try text.withUnsafeBytes { try body(0, $0) }
        var current = 1
        text = Self.digits(1)
        for _ in 1..<count {
            try text.withUnsafeBytes { try body(current, $0) }
            if current * 10 < count {
                current *= 10
                text.append(UInt8(ascii: "0"))
            } else {
                if current >= count - 1 {
                    current /= 10
                    text.removeLast()
                }
                current += 1
                Self.countUp(&text)
                while current % 10 == 0 {
                    current /= 10
                    text.removeLast()
                }
            }
        }
    }

    /// Calls `body` with each row number of `0 ..< count` in numeric order and its decimal text,
    /// counted up in place.
    static func inRowOrder(count: Int, _ body: (_ row: Int, _ text: UnsafeRawBufferPointer) throws -> Void) rethrows {
        var text = digits(0)
        for row in 0..<count {
            if row > 0 { countUp(&text) }
            try text.withUnsafeBytes { try body(row, $0) }
        }
    }

    /// The ASCII digits of `value`.
    static func digits(_ value: Int) -> [UInt8] {
        var text = Array(String(value).utf8)
        text.reserveCapacity(20)
        return text
    }

    /// Adds one to the decimal number `text` holds, carrying.
    static func countUp(_ text: inout [UInt8]) {
        var position = text.count - 1
        while position >= 0 && text[position] == UInt8(ascii: "9") {
            text[position] = UInt8(ascii: "0")
            position -= 1
        }
        if position < 0 { text.insert(UInt8(ascii: "1"), at: 0) } else { text[position] += 1 }
    }
}
