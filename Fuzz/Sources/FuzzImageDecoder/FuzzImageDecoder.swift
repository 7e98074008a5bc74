import PixelIO

/// libFuzzer entry: any bytes through the image decoders (chosen by magic bytes, as for files).
/// A decoded image must have the geometry it claims; everything else must be a thrown error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let image = try? ImageDecoder(maximumPixels: 1 << 20).decode(bytes, source: "fuzz input") else { return 0 }
    precondition(image.width > 0 && image.height > 0 && image.width * image.height <= 1 << 20)
    precondition(image.bytes.count >= image.rowStride * image.height)
    // What the store does next with a decoded image must not fail either.
    _ = image.converted(to: .gray).areaResized(width: 7, height: 5)
    _ = image.fitted(within: 16)
    return 0
}
