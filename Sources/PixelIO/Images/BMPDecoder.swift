/// Windows bitmaps: uncompressed 1-, 4-, 8-bit (palette), 24- and 32-bit images, bottom-up or
/// top-down, as RGB (a 32-bit image's fourth byte is not alpha in the common BI_RGB files, so it is
/// dropped). Run-length and other compressed bitmaps are refused with a way out.
enum BMPDecoder {
    static func decode(_ bytes: [UInt8], source: String, maximumPixels: Int) throws -> PixelBuffer {
        let reader = Fields(bytes: bytes, source: source)
        let dataOffset = try reader.uint32(at: 10)
        let headerSize = try reader.uint32(at: 14)
        guard headerSize >= 40 else {
            throw DatasetError(.unsupported, "\(source) is an OS/2 bitmap (a \(headerSize)-byte header), which is not supported; convert it to PNG")
        }
        let width = Int(try reader.int32(at: 18)), signedHeight = Int(try reader.int32(at: 22))
        let bitCount = Int(try reader.uint16(at: 28)), compression = try reader.uint32(at: 30)
        let height = abs(signedHeight), topDown = signedHeight < 0
        try ImageDecoder(maximumPixels: maximumPixels).checkSize(width: width, height: height, source: source, format: .bmp)
        // BI_RGB, or BI_BITFIELDS with the usual 8-bit masks of a 32-bit image.
        let bitfields = compression == 3 && bitCount == 32
            && (try? [reader.uint32(at: 54), reader.uint32(at: 58), reader.uint32(at: 62)]) == [0x00FF_0000, 0x0000_FF00, 0x0000_00FF]
        guard compression == 0 || bitfields else {
            throw DatasetError(.unsupported, "\(source) is a compressed bitmap (compression \(compression)), which is not supported; convert it to PNG (for example: convert IN.bmp OUT.png)")
        }
        guard [1, 4, 8, 24, 32].contains(bitCount) else {
            throw DatasetError(.unsupported, "\(source) is a \(bitCount)-bit bitmap, which is not supported; convert it to PNG")
        }
        var palette: [(UInt8, UInt8, UInt8)] = []
        if bitCount <= 8 {
            let used = Int(try reader.uint32(at: 46))
            let entries = used == 0 ? 1 << bitCount : min(used, 1 << bitCount)
            let start = 14 + Int(headerSize)
            guard start + entries * 4 <= bytes.count else {
                throw DatasetError(.malformed, "\(source) is a truncated bitmap: its palette of \(entries) colours is cut short")
            }
            palette = (0..<entries).map { (bytes[start + $0 * 4 + 2], bytes[start + $0 * 4 + 1], bytes[start + $0 * 4]) }
        }
        let rowBytes = (width * bitCount + 31) / 32 * 4
        let (needed, overflow) = rowBytes.multipliedReportingOverflow(by: height)
        guard !overflow, Int(dataOffset) <= bytes.count, needed <= bytes.count - Int(dataOffset) else {
            throw DatasetError(.malformed, "\(source) is a truncated bitmap: \(width)×\(height) pixels at \(bitCount) bits need \(needed) bytes after offset \(dataOffset), the file has \(bytes.count)")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let row = Int(dataOffset) + (topDown ? y : height - 1 - y) * rowBytes
            for x in 0..<width {
                let (r, g, b): (UInt8, UInt8, UInt8)
                switch bitCount {
                case 24, 32:
                    let at = row + x * (bitCount / 8)
                    (r, g, b) = (bytes[at + 2], bytes[at + 1], bytes[at])
                default:
                    let bit = x * bitCount, byte = bytes[row + bit / 8]
                    let index = Int(byte >> UInt8(8 - bitCount - bit % 8)) & ((1 << bitCount) - 1)
                    guard index < palette.count else {
                        throw DatasetError(.malformed, "\(source) is a damaged bitmap: pixel (\(x), \(y)) names colour \(index) of a palette of \(palette.count)")
                    }
                    (r, g, b) = palette[index]
                }
                let out = (y * width + x) * 3
                (pixels[out], pixels[out + 1], pixels[out + 2]) = (r, g, b)
            }
        }
        return try PixelBuffer(width: width, height: height, format: .rgb, bytes: pixels)
    }

    /// Little-endian header fields, each checked against the file's length.
    private struct Fields {
        let bytes: [UInt8]
        let source: String

        func byte(_ offset: Int) throws -> UInt32 {
            guard offset < bytes.count else {
                throw DatasetError(.malformed, "\(source) is a truncated bitmap: its header ends at byte \(bytes.count)")
            }
            return UInt32(bytes[offset])
        }
        func uint16(at offset: Int) throws -> UInt16 { UInt16(try uint(at: offset, bytes: 2)) }
        func uint32(at offset: Int) throws -> UInt32 { try uint(at: offset, bytes: 4) }
        private func uint(at offset: Int, bytes count: Int) throws -> UInt32 {
            var value: UInt32 = 0
            for i in 0..<count { value |= try byte(offset + i) << (8 * UInt32(i)) }
            return value
        }
        func int32(at offset: Int) throws -> Int32 { Int32(bitPattern: try uint32(at: offset)) }
    }
}
