import CWebP

/// WebP through libwebp: lossy and lossless, with alpha as RGBA and without as RGB. Animated
/// WebPs are refused (a store keeps one picture per item; take a frame out first).
enum WebPDecoder {
    static func decode(_ bytes: [UInt8], source: String, maximumPixels: Int) throws -> PixelBuffer {
        var features = WebPBitstreamFeatures()
        let status = bytes.withUnsafeBufferPointer { WebPGetFeatures($0.baseAddress, $0.count, &features) }
        guard status == VP8_STATUS_OK else {
            throw DatasetError(.malformed, "\(source) is not a readable WebP image (libwebp status \(status.rawValue)): the file is damaged or truncated")
        }
        guard features.has_animation == 0 else {
            throw DatasetError(.unsupported, "\(source) is an animated WebP, which is not supported; take one frame out first (for example: webpmux -get frame 1 IN.webp -o OUT.webp)")
        }
        try ImageDecoder(maximumPixels: maximumPixels).checkSize(width: Int(features.width), height: Int(features.height), source: source, format: .webp)
        let format: PixelFormat = features.has_alpha != 0 ? .rgba : .rgb
        let (width, height) = (Int(features.width), Int(features.height))
        let stride = width * format.channels
        var pixels = [UInt8](repeating: 0, count: stride * height)
        let decoded = pixels.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                format == .rgba
                    ? WebPDecodeRGBAInto(input.baseAddress, input.count, out.baseAddress, out.count, Int32(stride))
                    : WebPDecodeRGBInto(input.baseAddress, input.count, out.baseAddress, out.count, Int32(stride))
            }
        }
        guard decoded != nil else {
            throw DatasetError(.malformed, "\(source) is a damaged or truncated WebP image: libwebp could not decode its \(width)×\(height) pixels")
        }
        return try PixelBuffer(width: width, height: height, format: format, bytes: pixels)
    }
}
