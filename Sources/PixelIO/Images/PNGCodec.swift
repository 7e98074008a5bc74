import CPNG

/// PNG through libpng's simplified API (`png_image_*`), which reports errors in the image
/// structure instead of jumping out of the caller. Every colour type and bit depth is read:
/// palettes are expanded, 16-bit samples reduced to 8, transparency kept as an alpha channel.
enum PNGCodec {
    static func decode(_ bytes: [UInt8], source: String, maximumPixels: Int) throws -> PixelBuffer {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else {
            throw DatasetError(.malformed, "\(source) is not a readable PNG: \(message(of: image))")
        }
        try ImageDecoder(maximumPixels: maximumPixels).checkSize(width: Int(image.width), height: Int(image.height), source: source, format: .png)
        let hasColor = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let sixteenBit = image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        let format: PixelFormat = hasAlpha ? .rgba : hasColor ? .rgb : .gray
        let width = Int(image.width), height = Int(image.height)
        let stride = width * format.channels  // libpng counts the stride in samples
        var pixels = [UInt8](repeating: 0, count: stride * height)
        if sixteenBit && !hasAlpha {
            // 16-bit samples as stored (libpng's 8-bit path would treat them as linear light and
            // gamma-encode them); keep the high byte, as image tools do.
            image.format = pngFormat(format) | UInt32(PNG_FORMAT_FLAG_LINEAR)
            var wide = [UInt16](repeating: 0, count: stride * height)
            let finished = wide.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(stride), nil) }
            guard finished != 0 else { throw DatasetError(.malformed, "\(source) is a damaged or truncated PNG: \(message(of: image))") }
            for i in pixels.indices { pixels[i] = UInt8(wide[i] >> 8) }
        } else {
            image.format = pngFormat(format)
            let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(stride), nil) }
            guard finished != 0 else { throw DatasetError(.malformed, "\(source) is a damaged or truncated PNG: \(message(of: image))") }
        }
        return try PixelBuffer(width: width, height: height, format: format, bytes: pixels)
    }

    /// A PNG file holding `buffer` (8-bit gray, RGB or RGBA); `fast` trades size for speed
    /// (libpng's `PNG_IMAGE_FLAG_FAST`: no filter search, fastest deflate).
    static func encode(_ buffer: PixelBuffer, fast: Bool) throws -> [UInt8] {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(buffer.width)
        image.height = png_uint_32(buffer.height)
        image.format = pngFormat(buffer.format)
        if fast { image.flags |= UInt32(PNG_IMAGE_FLAG_FAST) }
        defer { png_image_free(&image) }
        // One pass into a buffer of deflate's worst case for the pixels (stored blocks: 5 bytes
        // per 16 KiB, a filter byte per row) plus the chunks; libpng says if it needed more.
        let raw = buffer.height * (buffer.width * buffer.format.channels + 1)
        var capacity = raw + raw / 16_000 * 5 + 1_024
        var output = [UInt8](repeating: 0, count: capacity)
        var size = capacity
        for attempt in 0..<2 {
            size = capacity
            let written = output.withUnsafeMutableBytes { out in
                buffer.bytes.withUnsafeBytes { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, Int32(buffer.rowStride), nil) }
            }
            if written != 0 { return Array(output.prefix(size)) }
            guard attempt == 0, size > capacity else { break }
            capacity = size
            output = [UInt8](repeating: 0, count: capacity)
            image.warning_or_error = 0
        }
        throw DatasetError(.invalidImage, "the image cannot be written as PNG: \(message(of: image))")
    }

    /// libpng's format flags (its PNG_FORMAT_RGBA macro is a composite Swift does not import).
    private static func pngFormat(_ format: PixelFormat) -> UInt32 {
        switch format {
        case .gray: 0
        case .rgb: UInt32(PNG_FORMAT_FLAG_COLOR)
        case .rgba: UInt32(PNG_FORMAT_FLAG_COLOR) | UInt32(PNG_FORMAT_FLAG_ALPHA)
        }
    }

    private static func message(of image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension PixelBuffer {
    /// The image as a PNG file's bytes (for contact sheets and plots). `fast` compresses about
    /// as well as other fast PNG writers at a fraction of the time (thumbnails in bulk loads).
    public func pngData(fast: Bool = false) throws -> [UInt8] { try PNGCodec.encode(self, fast: fast) }
}
