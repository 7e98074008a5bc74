import CTurboJPEG

/// JPEG writing through TurboJPEG: gray images as gray JPEGs, colour ones as YCbCr 4:2:0 (the
/// common camera and web layout); transparency is dropped.
enum JPEGEncoder {
    static func encode(_ buffer: PixelBuffer, quality: Int) throws -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw DatasetError(.invalidImage, "JPEG quality \(quality) is outside 1...100")
        }
        guard let handle = tjInitCompress() else {
            throw DatasetError(.invalidImage, "TurboJPEG could not start a compressor")
        }
        defer { tjDestroy(handle) }
        let (pixelFormat, subsampling): (TJPF, TJSAMP) = switch buffer.format {
        case .gray: (TJPF_GRAY, TJSAMP_GRAY)
        case .rgb: (TJPF_RGB, TJSAMP_420)
        case .rgba: (TJPF_RGBA, TJSAMP_420)
        }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        defer { if let output { tjFree(output) } }
        let status = buffer.bytes.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(buffer.width), Int32(buffer.rowStride), Int32(buffer.height),
                        Int32(pixelFormat.rawValue), &output, &size, Int32(subsampling.rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        guard status == 0, let output else {
            throw DatasetError(.invalidImage, "the image cannot be written as JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}

extension PixelBuffer {
    /// The image as a JPEG file's bytes at `quality` (1–100).
    public func jpegData(quality: Int = 90) throws -> [UInt8] { try JPEGEncoder.encode(self, quality: quality) }
}
