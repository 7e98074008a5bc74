/// Decodes image files into ``PixelBuffer``s: PNG (libpng), JPEG (TurboJPEG), WebP (libwebp),
/// BMP, PGM and PPM,
/// chosen by the file's first bytes, never by its name. The declared size is checked against
/// ``maximumPixels`` before any pixel is decoded, so a small file that claims to be huge (a
/// decompression bomb) costs nothing.
public struct ImageDecoder: Sendable {
    /// The largest width × height decoded; larger images are refused before decoding.
    public var maximumPixels: Int
    /// When set, JPEGs are decoded at the smallest of TurboJPEG's DCT scales (1/8, 1/4, 3/8,
    /// 1/2, 5/8, 3/4, 7/8, 1) that keeps both sides at least this many pixels: an encoder that
    /// looks at 28×28 pixels, or a 64-pixel thumbnail, does not need a 12-megapixel decode, and
    /// a 1/8 decode does a fraction of the work in an eighth of the memory. Other formats, and
    /// JPEGs already small, decode at full size. nil (the default): always full size.
    public var minimumSide: Int?
    /// When a JPEG is decoded at 1/8 scale (one pixel per 8×8 block), whether a baseline JPEG is
    /// decoded by BGANStore's own decoder, which skips the AC coefficients that scale does not
    /// use — same pixels as TurboJPEG, 2–3× faster on camera-sized photos (docs/benchmarks.md,
    /// "Camera-sized JPEGs") — with TurboJPEG taking every file it does not (progressive,
    /// damaged…). true by default; false decodes every JPEG with TurboJPEG alone, except the luma
    /// that ``QuarterScaleLuma/lowestFrequencies`` asks for, which only the own decoder gives.
    public var skipsUnusedJPEGCoefficients: Bool
    /// For an encoder that reads only an image's luminance (PDQ), the side of the colour image
    /// kept for the thumbnail: ``decodeForEncoding(_:source:)`` then gives a colour JPEG as its
    /// luma plane (gray, at ``minimumSide``) and a colour image of at least this side, skipping
    /// TurboJPEG's colour conversion and the full-size chroma. nil (the default): it gives
    /// ``decode(_:source:)``'s image. Stores set it from their encoder (`Store.imageDecoder()`).
    public var colourSide: Int?
    /// With ``colourSide`` set, how a colour JPEG's luma is decoded where ``minimumSide`` asks
    /// for 1/4 scale (for PDQ's 512 pixels: a shorter side of 2,045 to 4,088, about 6 to 22
    /// megapixels at 4:3). ``QuarterScaleLuma/exact``
    /// (the default) or ``QuarterScaleLuma/lowestFrequencies``; stores set it from their
    /// `image-decoding` record, so that a file is decoded as it was stored.
    public var quarterScaleLuma: QuarterScaleLuma

    /// How a colour JPEG's luma is decoded at 1/4 scale for an encoder that reads only luminance.
    public enum QuarterScaleLuma: String, Sendable {
        /// TurboJPEG's decode at 1/4 scale: each 8×8 block's 2×2 samples from every coefficient
        /// its `jpeg_idct_2x2` reads.
        case exact
        /// BGANStore's own decoder: each block's 2×2 samples from its four lowest-frequency
        /// coefficients (rows and columns 0 and 1) through the same IDCT, the others passed over
        /// as the 1/8-scale decoder passes them — the detail a 2×2 sample of an 8×8 block largely
        /// averages away. Measured on 300 12-MP photographs: they ingest into a PDQ store ~1.5×
        /// as fast, and their PDQ hashes are those of the exact decode for 90 %, at most 2 bits
        /// of 256 apart (docs/benchmarks.md, "PDQ stores: 12-MP JPEGs' luma from the lowest
        /// frequencies"). Files the own decoder does not take (progressive, damaged, a value
        /// beyond the IDCT's range…) are decoded exactly.
        case lowestFrequencies
    }

    /// The formats recognised, by their magic bytes.
    public enum Format: String, Sendable {
        case png = "PNG"
        case jpeg = "JPEG"
        case netpbm = "PGM/PPM"
        case webp = "WebP"
        case bmp = "BMP"
    }

    public init(maximumPixels: Int = 50_000_000, minimumSide: Int? = nil, skipsUnusedJPEGCoefficients: Bool = true, colourSide: Int? = nil,
                quarterScaleLuma: QuarterScaleLuma = .exact) {
        self.maximumPixels = maximumPixels
        self.minimumSide = minimumSide
        self.skipsUnusedJPEGCoefficients = skipsUnusedJPEGCoefficients
        self.colourSide = colourSide
        self.quarterScaleLuma = quarterScaleLuma
    }

    /// The format `bytes` start with, or nil.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return .webp }
        if bytes.count >= 26, bytes.starts(with: Array("BM".utf8)) { return .bmp }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), [UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "5"), UInt8(ascii: "6")].contains(bytes[1]) {
            return .netpbm
        }
        return nil
    }

    /// Decodes an image file's bytes; `source` names it in errors.
    /// - Throws: ``DatasetError``: `unsupported` for an unknown format or colour model,
    ///   `malformed` for damaged or truncated data, `tooLarge` beyond ``maximumPixels``.
    public func decode(_ bytes: [UInt8], source: String = "the image") throws -> PixelBuffer {
        guard !bytes.isEmpty else {
            throw DatasetError(.malformed, "\(source) is empty (0 bytes)")
        }
        switch Self.format(of: bytes) {
        case .png: return try PNGCodec.decode(bytes, source: source, maximumPixels: maximumPixels)
        case .jpeg: return try JPEGDecoder.decode(bytes, source: source, maximumPixels: maximumPixels, minimumSide: minimumSide,
                                                skippingUnusedCoefficients: skipsUnusedJPEGCoefficients)
        case .netpbm: return try NetpbmDecoder.decode(bytes, source: source, maximumPixels: maximumPixels)
        case .webp: return try WebPDecoder.decode(bytes, source: source, maximumPixels: maximumPixels)
        case .bmp: return try BMPDecoder.decode(bytes, source: source, maximumPixels: maximumPixels)
        case nil:
            if let other = Self.unsupportedFormat(of: bytes) {
                throw DatasetError(.unsupported, "\(source) is \(Self.refusal(of: other)) (for example: convert IN OUT.png)")
            }
            let start = bytes.prefix(4).map { String($0, radix: 16, uppercase: true).count == 1 ? "0" + String($0, radix: 16, uppercase: true) : String($0, radix: 16, uppercase: true) }
            throw DatasetError(.unsupported, "\(source) is not a PNG, JPEG, WebP, BMP, PGM or PPM image (it starts with bytes \(start.joined(separator: " ")))")
        }
    }

    /// The name of a well-known image format that `bytes` start with but that is not decoded
    /// here, so that a refusal can say what the file is.
    public static func unsupportedFormat(of bytes: [UInt8]) -> String? {
        func at(_ offset: Int, _ text: String) -> Bool {
            let expected = Array(text.utf8)
            return bytes.count >= offset + expected.count && Array(bytes[offset..<(offset + expected.count)]) == expected
        }
        if at(0, "GIF87a") || at(0, "GIF89a") { return "GIF" }
        if bytes.starts(with: [0x49, 0x49, 0x2A, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if at(4, "ftyp") {
            if at(8, "avif") || at(8, "avis") { return "AVIF" }
            if at(8, "heic") || at(8, "heix") || at(8, "hevc") || at(8, "heim") || at(8, "heis") || at(8, "mif1") || at(8, "msf1") { return "HEIC/HEIF" }
        }
        if bytes.starts(with: [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || bytes.starts(with: [0xFF, 0x4F, 0xFF, 0x51]) { return "JPEG 2000" }
        if bytes.starts(with: [0xFF, 0x0A]) || bytes.starts(with: [0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { return "JPEG XL" }
        return nil
    }

    /// Why a file of the well-known format `name` (``unsupportedFormat(of:)``) is not decoded,
    /// and what to do: "an AVIF image, which is not supported; convert it to PNG or JPEG".
    static func refusal(of name: String) -> String {
        "\(name.hasPrefix("A") ? "an" : "a") \(name) image, which is not supported; convert it to PNG or JPEG"
    }

    /// Reads and decodes the image file at `path`.
    public func decode(contentsOf path: String) throws -> PixelBuffer {
        try decode(try CompressedFile.readPlain(path), source: path)
    }

    /// Decodes an image for a store's encoder: with ``colourSide`` set, colour JPEGs come as their
    /// luma and a smaller colour image for the thumbnail (``DecodedImage``); everything else, and
    /// every image when ``colourSide`` is nil, as ``decode(_:source:)`` gives it.
    /// - Throws: the errors of ``decode(_:source:)``.
    public func decodeForEncoding(_ bytes: [UInt8], source: String = "the image") throws -> DecodedImage {
        if let colourSide, Self.format(of: bytes) == .jpeg,
           let decoded = try JPEGLuminanceDecoder.decode(bytes, source: source, maximumPixels: maximumPixels, minimumSide: minimumSide,
                                                         colourSide: colourSide, quarterScaleLuma: quarterScaleLuma) {
            return decoded
        }
        return DecodedImage(image: try decode(bytes, source: source), thumbnailSource: nil)
    }

    /// The size a JPEG of `width` × `height` pixels is decoded at: the smallest of TurboJPEG's DCT
    /// scales keeping both sides at least ``minimumSide`` (full size without one).
    public func jpegDecodingSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let scale = minimumSide.map { JPEGDecoder.smallestScale(width: width, height: height, keeping: $0) } ?? (1, 1)
        return (JPEGDecoder.scaled(width, scale), JPEGDecoder.scaled(height, scale))
    }

    /// Reads the image file at `path` and decodes it for a store's encoder (``decodeForEncoding(_:source:)``).
    public func decodeForEncoding(contentsOf path: String) throws -> DecodedImage {
        try decodeForEncoding(try CompressedFile.readPlain(path), source: path)
    }

    func checkSize(width: Int, height: Int, source: String, format: Format) throws {
        guard width > 0, height > 0 else {
            throw DatasetError(.malformed, "\(source) declares a \(width)×\(height) \(format.rawValue) image: the file is damaged or truncated")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maximumPixels else {
            throw DatasetError(.tooLarge, "\(source) declares \(width)×\(height) pixels, more than the limit of \(maximumPixels); it was not decoded. Raise the limit if the image is genuine")
        }
    }
}

/// An image as a store's encoder reads it (``ImageDecoder/decodeForEncoding(_:source:)``).
public struct DecodedImage: Sendable {
    /// What the encoder reads: the image, or for an encoder that reads only luminance, possibly
    /// a colour JPEG's luma plane alone (gray).
    public let image: PixelBuffer
    /// The image in colour for the thumbnail when ``image`` holds only the luma (smaller, at
    /// least the decoder's ``ImageDecoder/colourSide``); nil when ``image`` serves for both.
    public let thumbnailSource: PixelBuffer?

    public init(image: PixelBuffer, thumbnailSource: PixelBuffer? = nil) {
        self.image = image
        self.thumbnailSource = thumbnailSource
    }
}
