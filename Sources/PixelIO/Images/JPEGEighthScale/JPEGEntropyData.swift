import Glibc

/// A scan's entropy-coded data with the byte stuffing (0xFF 0x00 → 0xFF) removed and split at
/// its restart markers, followed by enough zero bytes that a bit reader may load eight bytes past
/// any point it reaches before the decoder checks where it is.
struct JPEGEntropyData {
    /// Zero bytes after the data: more than the most bits one MCU of six blocks can hold.
    static let padding = 4096

    private(set) var bytes: [UInt8]
    /// Where each restart interval starts in `bytes`, and one past the last one's end.
    private(set) var intervalStarts: [Int]

    var intervalCount: Int { intervalStarts.count - 1 }

    /// The scan's data from `start`; nil unless it ends at EOI with restart markers numbered in
    /// sequence (anything else: TurboJPEG decides, and reports what is wrong).
    init?(_ file: UnsafeBufferPointer<UInt8>, from start: Int) {
        var output = [UInt8]()
        output.reserveCapacity(file.count - start + Self.padding)
        var starts = [0]
        var position = start
        var nextRestart: UInt8 = 0
        while true {
            // Copy up to the next 0xFF in one go.
            let run = memchr(file.baseAddress! + position, 0xFF, file.count - position)
                .map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - file.baseAddress! } ?? file.count
            output.append(contentsOf: UnsafeBufferPointer(rebasing: file[position..<run]))
            guard run + 1 < file.count else { return nil }
            var marker = run + 1
            while marker < file.count, file[marker] == 0xFF { marker += 1 }
            guard marker < file.count else { return nil }
            let code = file[marker]
            if code == 0x00 && marker == run + 1 {
                output.append(0xFF)
            } else if code == 0xD0 + nextRestart {
                starts.append(output.count)
                nextRestart = (nextRestart + 1) & 7
            } else if code == 0xD9 {
                starts.append(output.count)
                break
            } else {
                return nil
            }
            position = marker + 1
        }
        output.append(contentsOf: repeatElement(0, count: Self.padding))
        bytes = output
        intervalStarts = starts
    }
}

/// Reads a left-aligned 64-bit window of a ``JPEGEntropyData``'s bytes: ``refill()`` keeps at
/// least 56 bits in ``window``; consuming shifts them out (F. Giesen's branch-free refill, which
/// loads eight bytes at a time — hence the data's padding). Shifts are masked (`&>>`): every
/// count is below 64 by construction.
struct JPEGBitReader {
    let base: UnsafePointer<UInt8>
    var nextByte: Int
    var window: UInt64 = 0
    var count = 0

    init(_ base: UnsafePointer<UInt8>, at byte: Int) {
        self.base = base
        nextByte = byte
    }

    /// Bits consumed so far, counted from the start of the buffer.
    var position: Int { nextByte * 8 - count }

    @inline(__always)
    mutating func refill() {
        let word = UInt64(bigEndian: UnsafeRawPointer(base + nextByte).loadUnaligned(as: UInt64.self))
        window |= word &>> UInt64(truncatingIfNeeded: count)
        nextByte &+= (63 &- count) &>> 3
        count |= 56
    }

    @inline(__always)
    mutating func consume(_ bits: Int) {
        window = window &<< UInt64(truncatingIfNeeded: bits)
        count &-= bits
    }

    /// The next `size` bits (0…15) as the signed value they encode (T.81, F.12), consumed.
    @inline(__always)
    mutating func signedValue(_ size: Int) -> Int32 {
        guard size != 0 else { return 0 }
        let raw = Int32(truncatingIfNeeded: window &>> UInt64(truncatingIfNeeded: 64 &- size))
        consume(size)
        return raw < Int32(1) &<< Int32(size &- 1) ? raw &- (Int32(1) &<< Int32(size)) &+ 1 : raw
    }
}
