/// The EXIF orientation of a JPEG (tag 0x0112 of the first image directory in its APP1 "Exif"
/// segment): how the stored pixels must be turned to show the photo upright. Phones store the
/// sensor's pixels and set this tag instead of rotating, so without it portrait photos come out
/// lying on their side.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case upright = 1
    case mirrored = 2
    case upsideDown = 3
    case mirroredUpsideDown = 4
    /// Mirrored, then turned 90° anticlockwise (the transpose).
    case transposed = 5
    /// Stored turned 90° anticlockwise: turn 90° clockwise to show.
    case turnedLeft = 6
    /// Mirrored, then turned 90° clockwise (the transverse).
    case transversed = 7
    /// Stored turned 90° clockwise: turn 90° anticlockwise to show.
    case turnedRight = 8

    /// The orientation a JPEG's bytes declare; `.upright` when they declare none or it cannot be
    /// read (a damaged EXIF block never stops the image from decoding).
    public static func of(jpeg bytes: [UInt8]) -> ExifOrientation {
        var position = 2  // after SOI
        while position + 4 <= bytes.count, bytes[position] == 0xFF {
            let marker = bytes[position + 1]
            if marker == 0xDA || marker == 0xD9 { break }  // image data or end: no EXIF before it
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            guard length >= 2, position + 2 + length <= bytes.count else { break }
            if marker == 0xE1, let orientation = fromAPP1(bytes[(position + 4)..<(position + 2 + length)]) { return orientation }
            position += 2 + length
        }
        return .upright
    }

    /// Reads the tag from an APP1 segment's payload ("Exif\0\0", then a TIFF structure).
    private static func fromAPP1(_ segment: ArraySlice<UInt8>) -> ExifOrientation? {
        let base = segment.startIndex + 6
        guard segment.count >= 14, Array(segment.prefix(6)) == Array("Exif".utf8) + [0, 0] else { return nil }
        let littleEndian: Bool
        switch (segment[base], segment[base + 1]) {
        case (0x49, 0x49): littleEndian = true
        case (0x4D, 0x4D): littleEndian = false
        default: return nil
        }
        func read(_ offset: Int, _ size: Int) -> Int? {
            guard offset >= 0, base + offset + size <= segment.endIndex else { return nil }
            var value = 0
            for k in 0..<size {
                let byte = Int(segment[base + offset + (littleEndian ? size - 1 - k : k)])
                value = value << 8 | byte
            }
            return value
        }
        guard read(2, 2) == 42, let directory = read(4, 4), let entries = read(directory, 2) else { return nil }
        for entry in 0..<entries {
            let at = directory + 2 + 12 * entry
            guard let tag = read(at, 2) else { return nil }
            if tag == 0x0112 {
                guard read(at + 2, 2) == 3, let value = read(at + 8, 2) else { return nil }  // type SHORT
                return ExifOrientation(rawValue: value)
            }
        }
        return nil
    }
}

extension PixelBuffer {
    /// The image turned and mirrored as `orientation` says, so that it shows upright.
    public func oriented(_ orientation: ExifOrientation) -> PixelBuffer {
        if orientation == .upright { return self }
        let (h, w, channels) = (height, width, format.channels)
        let swaps = [.transposed, .turnedLeft, .transversed, .turnedRight].contains(orientation)
        let (newHeight, newWidth) = swaps ? (w, h) : (h, w)
        var out = [UInt8](repeating: 0, count: w * h * channels)
        for r in 0..<newHeight {
            for c in 0..<newWidth {
                let (sr, sc): (Int, Int)
                switch orientation {
                case .upright: (sr, sc) = (r, c)
                case .mirrored: (sr, sc) = (r, w - 1 - c)
                case .upsideDown: (sr, sc) = (h - 1 - r, w - 1 - c)
                case .mirroredUpsideDown: (sr, sc) = (h - 1 - r, c)
                case .transposed: (sr, sc) = (c, r)
                case .turnedLeft: (sr, sc) = (h - 1 - c, r)
                case .transversed: (sr, sc) = (h - 1 - c, w - 1 - r)
                case .turnedRight: (sr, sc) = (c, w - 1 - r)
                }
                let from = sr * rowStride + sc * channels, to = (r * newWidth + c) * channels
                for k in 0..<channels { out[to + k] = bytes[from + k] }
            }
        }
        return try! PixelBuffer(width: newWidth, height: newHeight, format: format, bytes: out)
    }
}
