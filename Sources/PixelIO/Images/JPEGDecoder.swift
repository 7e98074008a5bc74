import CTurboJPEG

/// JPEG through TurboJPEG: gray JPEGs stay gray, colour ones become RGB, turned upright as their
/// EXIF orientation says, at full size or at the smallest DCT scale that keeps both sides at least
/// `minimumSide`; CMYK and YCCK JPEGs (print workflows) become RGB as libjpeg-turbo's `djpeg`
/// makes them (``rgb(fromCMYK:)``). At 1/8 scale
/// baseline JPEGs go through ``JPEGEighthScaleDecoder`` (the same pixels, without decoding the
/// coefficients that scale does not use) and fall back to TurboJPEG for anything it does not take.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8], source: String, maximumPixels: Int, minimumSide: Int? = nil,
                       skippingUnusedCoefficients: Bool = true) throws -> PixelBuffer {
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
        try ImageDecoder(maximumPixels: maximumPixels).checkSize(width: Int(width), height: Int(height), source: source, format: .jpeg)
        let format: PixelFormat = colorspace == Int32(TJCS_GRAY.rawValue) ? .gray : .rgb
        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let scale = minimumSide.map { smallestScale(width: Int(width), height: Int(height), keeping: $0) } ?? (1, 1)
        let (fullWidth, fullHeight) = (Int(width), Int(height))
        width = Int32(scaled(Int(width), scale))
        height = Int32(scaled(Int(height), scale))
        if skippingUnusedCoefficients, scale == (1, 8), decodesAtOneEighth(width: Int(width), height: Int(height), fullWidth: fullWidth, fullHeight: fullHeight),
           colorspace == Int32(TJCS_GRAY.rawValue) || colorspace == Int32(TJCS_YCbCr.rawValue),
           let image = bytes.withUnsafeBufferPointer({ JPEGEighthScaleDecoder.decode($0) }),
           image.width == Int(width), image.height == Int(height), image.pixels.count == Int(width) * Int(height) * format.channels {
            return try PixelBuffer(width: image.width, height: image.height, format: format, bytes: image.pixels).oriented(ExifOrientation.of(jpeg: bytes))
        }
        let channels = isCMYK ? 4 : format.channels
        let stride = Int(width) * channels
        let pixelFormat = Int32(isCMYK ? TJPF_CMYK.rawValue : format == .gray ? TJPF_GRAY.rawValue : TJPF_RGB.rawValue)
        var status: Int32 = 0
        // TurboJPEG writes every pixel, so the buffer is not cleared first (a damaged file, where
        // it might not, is refused below).
        let pixels = [UInt8](unsafeUninitializedCapacity: stride * Int(height)) { out, count in
            status = bytes.withUnsafeBufferPointer {
                tjDecompress2(handle, $0.baseAddress, UInt(bytes.count), out.baseAddress, width, Int32(stride), height, pixelFormat, TJFLAG_ACCURATEDCT)
            }
            count = stride * Int(height)
        }
        // TurboJPEG reports truncated data as a warning after filling what it could: a damaged file is refused whole.
        guard status == 0 else {
            throw DatasetError(.malformed, "\(source) is a damaged or truncated JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        // Upright, as the EXIF orientation says (phones store portraits on their side).
        return try PixelBuffer(width: Int(width), height: Int(height), format: format, bytes: isCMYK ? rgb(fromCMYK: pixels) : pixels)
            .oriented(ExifOrientation.of(jpeg: bytes))
    }

    /// RGB from the C, M, Y, K samples TurboJPEG decodes, as libjpeg-turbo's `djpeg` converts
    /// them (its `cmyk_to_rgb`: R = C·K / 255 rounded, and so on): the samples follow Adobe's
    /// convention, 255 for no ink, as Photoshop writes them and as Pillow reads files that carry
    /// Adobe's marker. No colour profile is applied.
    static func rgb(fromCMYK samples: [UInt8]) -> [UInt8] {
        let count = samples.count / 4
        var rgb = [UInt8](repeating: 0, count: count * 3)
        for i in 0..<count {
            let k = Int(samples[4 * i + 3])
            for channel in 0..<3 {
                rgb[3 * i + channel] = UInt8((2 * Int(samples[4 * i + channel]) * k + 255) / 510)
            }
        }
        return rgb
    }

    /// The DCT scales TurboJPEG decodes at directly, as num/denom, smallest first.
    static let scales: [(num: Int, denom: Int)] = {
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count) else { return [(1, 1)] }
        return (0..<Int(count)).map { (Int(factors[$0].num), Int(factors[$0].denom)) }
            .filter { $0.num <= $0.denom }
            .sorted { $0.num * $1.denom < $1.num * $0.denom }
    }()

    /// A side at a scale, rounded up as TurboJPEG's `TJSCALED` does.
    static func scaled(_ side: Int, _ scale: (num: Int, denom: Int)) -> Int {
        (side * scale.num + scale.denom - 1) / scale.denom
    }

    /// Whether TurboJPEG decodes at 1/8 scale when asked for this scaled size: it takes the
    /// largest scale whose size fits, and for images of a few pixels a side a larger scale gives
    /// the same size (a 3×2 image is 1×1 at 1/4 and at 1/8).
    static func decodesAtOneEighth(width scaledWidth: Int, height scaledHeight: Int, fullWidth: Int, fullHeight: Int) -> Bool {
        !scales.contains { $0.num * 8 > $0.denom && scaled(fullWidth, $0) <= scaledWidth && scaled(fullHeight, $0) <= scaledHeight }
    }

    /// The smallest scale at which both sides stay at least `side` (full size if none does).
    static func smallestScale(width: Int, height: Int, keeping side: Int) -> (num: Int, denom: Int) {
        scales.first { scaled(width, $0) >= side && scaled(height, $0) >= side } ?? (1, 1)
    }
}
