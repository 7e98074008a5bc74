/// PGM and PPM (Netpbm): `P5`/`P6` binary and `P2`/`P3` plain text, with `#` comments, any
/// maximum value up to 65535 (scaled to 8 bits).
enum NetpbmDecoder {
    static func decode(_ bytes: [UInt8], source: String, maximumPixels: Int) throws -> PixelBuffer {
        var position = 2
        let kind = bytes[1]
        let isColor = kind == UInt8(ascii: "3") || kind == UInt8(ascii: "6")
        let isBinary = kind == UInt8(ascii: "5") || kind == UInt8(ascii: "6")
        let name = isColor ? "PPM" : "PGM"

        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        /// The next decimal number, skipping white space and comments.
        func number(_ what: String) throws -> Int {
            while position < bytes.count {
                if isSpace(bytes[position]) {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count, bytes[position] != 0x0A { position += 1 }
                } else {
                    break
                }
            }
            var value = 0, digits = 0
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                digits += 1
                position += 1
                guard value <= 1 << 30 else { throw DatasetError(.malformed, "\(source): the \(what) of this \(name) file is absurdly large") }
            }
            guard digits > 0 else { throw DatasetError(.malformed, "\(source) is a damaged \(name) file: its \(what) is missing") }
            return value
        }

        let width = try number("width"), height = try number("height"), maximum = try number("maximum value")
        guard maximum >= 1, maximum <= 65535 else {
            throw DatasetError(.malformed, "\(source) declares a maximum value of \(maximum); \(name) allows 1 to 65535")
        }
        try ImageDecoder(maximumPixels: maximumPixels).checkSize(width: width, height: height, source: source, format: .netpbm)
        let channels = isColor ? 3 : 1
        let count = width * height * channels
        func scaled(_ value: Int) throws -> UInt8 {
            guard value <= maximum else { throw DatasetError(.malformed, "\(source) holds the value \(value), above its maximum \(maximum)") }
            return UInt8((value * 255 + maximum / 2) / maximum)
        }
        // The file must be able to hold what the header claims before anything is allocated for
        // it: a header alone may claim 7000×7000 pixels.
        if isBinary { position += 1 }  // exactly one white-space byte ends a binary header
        let sampleSize = maximum < 256 ? 1 : 2
        let needed = isBinary ? count * sampleSize : 2 * count - 1  // plain text: a digit and a separator per sample
        guard bytes.count - position >= needed else {
            throw DatasetError(.malformed, "\(source) is a truncated \(name) file: \(width)×\(height) needs \(isBinary ? "" : "at least ")\(needed) bytes of pixels, \(max(0, bytes.count - position)) follow")
        }
        var pixels = [UInt8](repeating: 0, count: count)
        if isBinary {
            for i in 0..<count {
                let value = sampleSize == 1 ? Int(bytes[position + i]) : Int(bytes[position + 2 * i]) << 8 | Int(bytes[position + 2 * i + 1])
                pixels[i] = try scaled(value)
            }
        } else {
            for i in 0..<count { pixels[i] = try scaled(try number("pixel \(i / channels)")) }
        }
        return try PixelBuffer(width: width, height: height, format: isColor ? .rgb : .gray, bytes: pixels)
    }
}
