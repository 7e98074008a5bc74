/// How the bytes of a pixel are laid out.
public enum PixelFormat: String, Sendable, CaseIterable {
    case gray
    case rgb
    case rgba

    /// Bytes per pixel.
    public var channels: Int {
        switch self {
        case .gray: 1
        case .rgb: 3
        case .rgba: 4
        }
    }
}

/// An 8-bit image in memory, rows top to bottom, each `rowStride` bytes of which the first
/// `width × channels` are pixels (interleaved: RGBRGB…). Services fill one from their own
/// decoders; ``ImageDecoder`` fills one from PNG, JPEG, WebP, BMP, PGM and PPM files.
public struct PixelBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    /// Bytes from the start of one row to the start of the next (at least `width × channels`).
    public let rowStride: Int
    public let bytes: [UInt8]

    /// Checks the geometry against the bytes.
    /// - Throws: ``DatasetError`` when a size is not positive, the stride is shorter than a row
    ///   or the bytes do not hold every row.
    public init(width: Int, height: Int, format: PixelFormat, rowStride: Int? = nil, bytes: [UInt8]) throws {
        let stride = rowStride ?? width * format.channels
        guard width > 0, height > 0 else {
            throw DatasetError(.invalidImage, "a \(width)×\(height) pixel buffer has no pixels; width and height must be positive")
        }
        guard stride >= width * format.channels else {
            throw DatasetError(.invalidImage, "a row stride of \(stride) bytes is shorter than a row of \(width) \(format.rawValue) pixels (\(width * format.channels) bytes)")
        }
        let (last, overflow) = stride.multipliedReportingOverflow(by: height - 1)
        guard !overflow, bytes.count >= last + width * format.channels else {
            throw DatasetError(.invalidImage, "\(bytes.count) bytes do not hold \(height) rows of \(stride) bytes for a \(width)×\(height) \(format.rawValue) image")
        }
        self.width = width
        self.height = height
        self.format = format
        self.rowStride = stride
        self.bytes = bytes
    }

    /// A gray (one plane) or RGB (three planes) image from its planes, one after the other,
    /// each `width × height` row-major bytes — the layout of data sets (``ImageSet``) and
    /// network inputs — interleaved into pixels.
    /// - Throws: ``DatasetError`` when there are not one or three planes of that size.
    public init(planes: some Collection<UInt8>, width: Int, height: Int) throws {
        let plane = width * height
        guard plane > 0, planes.count == plane || planes.count == 3 * plane else {
            throw DatasetError(.invalidImage, "\(planes.count) bytes are not one or three \(width)×\(height) planes")
        }
        let channels = planes.count / plane
        let source = Array(planes)
        guard channels > 1 else {
            try self.init(width: width, height: height, format: .gray, bytes: source)
            return
        }
        var bytes = [UInt8](repeating: 0, count: source.count)
        for i in 0..<plane { for c in 0..<channels { bytes[i * channels + c] = source[c * plane + i] } }
        try self.init(width: width, height: height, format: .rgb, bytes: bytes)
    }

    /// The value of `channel` at column `x`, row `y`.
    public subscript(x: Int, y: Int, channel: Int) -> UInt8 {
        bytes[y * rowStride + x * format.channels + channel]
    }

    public var pixelCount: Int { width * height }

    /// Whether any pixel's red, green and blue differ: false for gray images, and for colour
    /// formats that hold only grays (a gray photo saved as RGB). Alpha is not looked at.
    public var hasColour: Bool {
        guard format != .gray else { return false }
        let channels = format.channels
        return bytes.withUnsafeBufferPointer { bytes in
            (0..<height).contains { y in
                let row = y * rowStride
                return (0..<width).contains { x in
                    let at = row + x * channels
                    return bytes[at] != bytes[at + 1] || bytes[at + 1] != bytes[at + 2]
                }
            }
        }
    }
}
