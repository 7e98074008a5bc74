import CTurboJPEG

/// Colour JPEGs for an encoder that reads only luminance (PDQ): TurboJPEG's YUV planes at the
/// store's DCT scale instead of RGB pixels. The luma plane is what the encoder reads — a JPEG
/// stores the BT.601 luma of its pixels, which is what PDQ computes from RGB, up to the rounding
/// of RGB and its clipping in saturated colours — and a colour image for the thumbnail is made
/// from block means of the planes, so the chroma is never converted or upsampled at full size.
/// TurboJPEG alone into YUV planes
/// decodes 2-MP photographs 1.1× as fast as into RGB at 1/2 scale (`bgan-bench ingest`), and
/// the luminance and thumbnail work after it shrinks (docs/benchmarks.md).
///
/// Takes YCbCr JPEGs with 4:2:0 or 4:4:4 chroma (nearly every camera and web JPEG), whatever
/// the thumbnail side, so that whether a file is hashed from its luma depends on the file alone;
/// where the chroma plane is smaller than the colour side, the colour image is the file decoded
/// as RGB. Returns nil for anything else (gray, CMYK, other subsamplings, 1/8 scale, where
/// ``JPEGEighthScaleDecoder`` is faster), which the caller then decodes as
/// ``ImageDecoder/decode(_:source:)`` does. The luma comes without row padding.
///
/// At 1/4 scale with ``ImageDecoder/QuarterScaleLuma/lowestFrequencies`` the luma comes from
/// ``JPEGEighthScaleDecoder`` instead (each block's four lowest-frequency coefficients), with its
/// 1/8-scale RGB as the colour image (its 4:2:0 chroma from each block's DC coefficient alone:
/// it only makes the thumbnail); files it does not take are decoded as above.
enum JPEGLuminanceDecoder {
    static func decode(_ bytes: [UInt8], source: String, maximumPixels: Int, minimumSide: Int?, colourSide: Int,
                       quarterScaleLuma: ImageDecoder.QuarterScaleLuma = .exact) throws -> DecodedImage? {
        guard let handle = tjInitDecompress() else { return nil }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0, colorspace == Int32(TJCS_YCbCr.rawValue) else { return nil }
        let chromaRatio: Int
        switch subsampling {
        case Int32(TJSAMP_420.rawValue): chromaRatio = 2
        case Int32(TJSAMP_444.rawValue): chromaRatio = 1
        default: return nil
        }
        try ImageDecoder(maximumPixels: maximumPixels).checkSize(width: Int(width), height: Int(height), source: source, format: .jpeg)
        let scale = minimumSide.map { JPEGDecoder.smallestScale(width: Int(width), height: Int(height), keeping: $0) } ?? (1, 1)
        let (scaledWidth, scaledHeight) = (JPEGDecoder.scaled(Int(width), scale), JPEGDecoder.scaled(Int(height), scale))
        if scale == (1, 8) { return nil }
        let orientation = ExifOrientation.of(jpeg: bytes)
        if scale == (1, 4), quarterScaleLuma == .lowestFrequencies,
           let decoded = try lowestFrequencies(bytes, width: scaledWidth, height: scaledHeight, orientation: orientation, source: source,
                                               maximumPixels: maximumPixels, minimumSide: minimumSide, colourSide: colourSide) {
            return decoded
        }
        let (chromaWidth, chromaHeight) = ((scaledWidth + chromaRatio - 1) / chromaRatio, (scaledHeight + chromaRatio - 1) / chromaRatio)

        func planeSize(_ component: Int32) -> (stride: Int, rows: Int) {
            (Int(tjPlaneWidth(component, Int32(scaledWidth), subsampling)), Int(tjPlaneHeight(component, Int32(scaledHeight), subsampling)))
        }
        let (lumaPlane, chromaPlane) = (planeSize(0), planeSize(1))
        var status: Int32 = 0
        var cb = [UInt8](), cr = [UInt8]()
        // TurboJPEG writes every byte of the planes, padding included.
        let luma = [UInt8](unsafeUninitializedCapacity: lumaPlane.stride * lumaPlane.rows) { lumaBytes, lumaCount in
            cb = [UInt8](unsafeUninitializedCapacity: chromaPlane.stride * chromaPlane.rows) { cbBytes, cbCount in
                cr = [UInt8](unsafeUninitializedCapacity: chromaPlane.stride * chromaPlane.rows) { crBytes, crCount in
                    var planes: [UnsafeMutablePointer<UInt8>?] = [lumaBytes.baseAddress, cbBytes.baseAddress, crBytes.baseAddress]
                    var strides = [Int32(lumaPlane.stride), Int32(chromaPlane.stride), Int32(chromaPlane.stride)]
                    status = bytes.withUnsafeBufferPointer {
                        tjDecompressToYUVPlanes(handle, $0.baseAddress, UInt(bytes.count), &planes, Int32(scaledWidth), &strides, Int32(scaledHeight),
                                                TJFLAG_ACCURATEDCT)
                    }
                    crCount = chromaPlane.stride * chromaPlane.rows
                }
                cbCount = chromaPlane.stride * chromaPlane.rows
            }
            lumaCount = lumaPlane.stride * lumaPlane.rows
        }
        guard status == 0 else {
            throw DatasetError(.malformed, "\(source) is a damaged or truncated JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        // Without TurboJPEG's padding (a 4:2:0 plane has an even width and height): `width` bytes
        // a row, like every other decoded image.
        let lumaImage = try PixelBuffer(width: scaledWidth, height: scaledHeight, format: .gray, rowStride: lumaPlane.stride, bytes: luma)
            .converted(to: .gray)
        // Chroma too small for the colour side: the file's RGB decode (already upright) instead.
        func decodedAsRGB() throws -> DecodedImage {
            let colour = try JPEGDecoder.decode(bytes, source: source, maximumPixels: maximumPixels, minimumSide: minimumSide)
            return DecodedImage(image: lumaImage.oriented(orientation), thumbnailSource: colour)
        }
        guard min(chromaWidth, chromaHeight) >= max(colourSide, 1) else { return try decodedAsRGB() }
        // Block means of the planes over the same areas (a chroma sample covers chromaRatio² luma
        // samples), to two to four times the colour side (or the chroma plane itself when smaller),
        // then libjpeg-turbo's colour conversion. Power-of-two blocks take blockAveraged's vector path.
        let reduction = max(1, min(chromaWidth, chromaHeight) / (2 * max(colourSide, 1)))
        let chromaFactor = min(1 << (Int.bitWidth - 1 - reduction.leadingZeroBitCount), 64)
        let small = lumaImage.blockAveraged(by: chromaFactor * chromaRatio)
        let smallCb = try PixelBuffer(width: chromaWidth, height: chromaHeight, format: .gray, rowStride: chromaPlane.stride, bytes: cb).blockAveraged(by: chromaFactor)
        let smallCr = try PixelBuffer(width: chromaWidth, height: chromaHeight, format: .gray, rowStride: chromaPlane.stride, bytes: cr).blockAveraged(by: chromaFactor)
        // ⌈⌈w/2⌉/f⌉ = ⌈w/2f⌉: the grids always line up; were they not to, the RGB decode serves.
        guard small.width == smallCb.width, small.height == smallCb.height else { return try decodedAsRGB() }
        let colour = try PixelBuffer(width: small.width, height: small.height, format: .rgb,
                                     bytes: YCbCrTables.shared.rgb(y: small.bytes, cb: smallCb.bytes, cr: smallCr.bytes, count: small.width * small.height))
        return DecodedImage(image: lumaImage.oriented(orientation), thumbnailSource: colour.oriented(orientation))
    }

    /// ``ImageDecoder/QuarterScaleLuma/lowestFrequencies``: the luma at 1/4 scale (`width` ×
    /// `height`) from ``JPEGEighthScaleDecoder``, and its 1/8-scale colour image for the thumbnail
    /// (the file's RGB decode where that is smaller than `colourSide`); nil for a file that
    /// decoder does not take, which is then decoded exactly.
    static func lowestFrequencies(_ bytes: [UInt8], width: Int, height: Int, orientation: ExifOrientation, source: String,
                                  maximumPixels: Int, minimumSide: Int?, colourSide: Int) throws -> DecodedImage? {
        guard let decoded = bytes.withUnsafeBufferPointer({ JPEGEighthScaleDecoder.decode($0, quarterLumaThrough: JPEGEighthScaleDecoder.lowestFrequenciesLastPosition, chromaFromDC: true) }),
              let quarter = decoded.quarterLuma, quarter.count == width * height,
              decoded.pixels.count == decoded.width * decoded.height * 3 else { return nil }
        let luma = try PixelBuffer(width: width, height: height, format: .gray, bytes: quarter).oriented(orientation)
        guard min(decoded.width, decoded.height) >= max(colourSide, 1) else {
            return DecodedImage(image: luma, thumbnailSource: try JPEGDecoder.decode(bytes, source: source, maximumPixels: maximumPixels, minimumSide: minimumSide))
        }
        let colour = try PixelBuffer(width: decoded.width, height: decoded.height, format: .rgb, bytes: decoded.pixels)
        return DecodedImage(image: luma, thumbnailSource: colour.oriented(orientation))
    }
}
