import CTurboJPEG

/// JPEG through TurboJPEG: gray JPEGs stay gray, colour ones become RGB, turned upright as their
/// EXIF orientation says; CMYK and YCCK JPEGs (print workflows) are refused with a way out.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8], source: String, maximumPixels: Int) throws -> PixelBuffer {
        guard let handle = tjInitDecompress() else {
            throw DatasetError(.unreadable, "TurboJPEG could not start a decompressor for \(source)")
        }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else {
            throw DatasetError(.malformed, "\(source) is not a readable JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
            throw DatasetError(.unsupported, "\(source) is a CMYK JPEG, which is not supported; convert it to RGB first (for example: convert IN.jpg -colorspace sRGB OUT.jpg)")
        }
        try ImageDecoder(maximumPixels: maximumPixels).checkSize(width: Int(width), height: Int(height), source: source, format: .jpeg)
        let format: PixelFormat = colorspace == Int32(TJCS_GRAY.rawValue) ? .gray : .rgb
        let stride = Int(width) * format.channels
        var pixels = [UInt8](repeating: 0, count: stride * Int(height))
        let pixelFormat = Int32(format == .gray ? TJPF_GRAY.rawValue : TJPF_RGB.rawValue)
        let status = pixels.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer {
                tjDecompress2(handle, $0.baseAddress, UInt(bytes.count), out.baseAddress, width, Int32(stride), height, pixelFormat, TJFLAG_ACCURATEDCT)
            }
        }
        // TurboJPEG reports truncated data as a warning after filling what it could: a damaged file is refused whole.
        guard status == 0 else {
            throw DatasetError(.malformed, "\(source) is a damaged or truncated JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        // Upright, as the EXIF orientation says (phones store portraits on their side).
        return try PixelBuffer(width: Int(width), height: Int(height), format: format, bytes: pixels).oriented(ExifOrientation.of(jpeg: bytes))
    }
}
