/// The row numbers `0 ..< count`, as decimal text, in the byte order LMDB sorts keys in
/// ("0", "1", "10", "100", …, "11", …): a bulk load can then append keys without sorting them.
struct DecimalKeys: Sequence {
    let count: Int

    func makeIterator() -> Iterator { Iterator(last: count - 1) }

    struct Iterator: IteratorProtocol {
        let last: Int
        private var emitted = 0
        private var current = 1

        init(last: Int) {
            self.last = last
        }

        mutating func next() -> Int? {
            guard emitted <= last else { return nil }
            defer { emitted += 1 }
            if emitted == 0 { return 0 }
            // Depth-first walk of the decimal trie over 1...last: down (×10) when possible, else
            // to the next sibling, climbing past exhausted levels.
            let value = current
            if current * 10 <= last {
                current *= 10
            } else {
                if current >= last { current /= 10 }
                current += 1
                while current % 10 == 0 { current /= 10 }
            }
            return value
        }
    }

    /// Writes `value` in decimal into `buffer`; returns the number of digits.
    static func write(_ value: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var digits = 1
        var probe = value
        while probe >= 10 { probe /= 10; digits += 1 }
        var rest = value
        for position in stride(from: digits - 1, through: 0, by: -1) {
            buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        return digits
    }
}
