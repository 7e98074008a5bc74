import ArgumentParser
import CTurboJPEG
import Foundation
import PixelIO

/// TurboJPEG alone, at the DCT scale a PDQ store decodes at, into three outputs: RGB (what
/// `ImageDecoder.decode` and PDQ stores made before the luma path take), gray (the luma alone:
/// the bound no colour thumbnail could beat) and YUV planes (luma plus the chroma at its own
/// resolution: what a PDQ store decodes at 1/2 scale, and at 1/4 in stores of the thirty-third
/// session, `JPEGLuminanceDecoder`). Files are read first, so only decoding is timed; one core.
enum TurboJPEGOutputs {
    static func measure(files: [String], side: Int, printRate: (String, Int, Double, String) -> Void) throws {
        let contents = try files.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))) }
        guard let handle = tjInitDecompress() else { return }
        defer { tjDestroy(handle) }
        var output = [UInt8]()
        let decoder = ImageDecoder(minimumSide: side)
        for (label, decode) in [("RGB", decodeRGB), ("gray", decodeGray), ("YUV planes", decodeYUV)] as [(String, Decode)] {
            let started = Date()
            for bytes in contents {
                var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
                guard tjDecompressHeader3(handle, bytes, UInt(bytes.count), &width, &height, &subsampling, &colorspace) == 0 else {
                    throw ValidationError("TurboJPEG cannot read a header: \(String(cString: tjGetErrorStr2(handle)))")
                }
                let (scaledWidth, scaledHeight) = decoder.jpegDecodingSize(width: Int(width), height: Int(height))
                // The larger of RGB and YUV planes padded to rows of 4 bytes.
                let needed = max(scaledWidth * scaledHeight * 3, Int(tjBufSizeYUV2(Int32(scaledWidth), 4, Int32(scaledHeight), subsampling)))
                if output.count < needed { output = [UInt8](repeating: 0, count: needed) }
                let status = output.withUnsafeMutableBufferPointer { decode(handle, bytes, $0.baseAddress!, Int32(scaledWidth), Int32(scaledHeight)) }
                guard status == 0 else { throw ValidationError("TurboJPEG failed: \(String(cString: tjGetErrorStr2(handle)))") }
            }
            printRate("  TurboJPEG alone at that scale, one core, into \(label)", contents.count, Date().timeIntervalSince(started), "")
        }
    }

    private typealias Decode = (tjhandle, [UInt8], UnsafeMutablePointer<UInt8>, Int32, Int32) -> Int32

    private static func decodeRGB(_ handle: tjhandle, _ bytes: [UInt8], _ out: UnsafeMutablePointer<UInt8>, _ width: Int32, _ height: Int32) -> Int32 {
        tjDecompress2(handle, bytes, UInt(bytes.count), out, width, 0, height, Int32(TJPF_RGB.rawValue), 0)
    }

    private static func decodeGray(_ handle: tjhandle, _ bytes: [UInt8], _ out: UnsafeMutablePointer<UInt8>, _ width: Int32, _ height: Int32) -> Int32 {
        tjDecompress2(handle, bytes, UInt(bytes.count), out, width, 0, height, Int32(TJPF_GRAY.rawValue), 0)
    }

    private static func decodeYUV(_ handle: tjhandle, _ bytes: [UInt8], _ out: UnsafeMutablePointer<UInt8>, _ width: Int32, _ height: Int32) -> Int32 {
        tjDecompressToYUV2(handle, bytes, UInt(bytes.count), out, width, 4, height, 0)
    }
}
