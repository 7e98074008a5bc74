import BGAN

/// libFuzzer entry: any bytes as the body of a model file, sealed with their SHA-256 digest as
/// a model file is (so that mutations reach the header and parameter parsing instead of all
/// stopping at the digest check). A file that parses must give an encoder that encodes an
/// image; everything else must be a thrown error, before any large allocation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    let bytes = body + SHA256.hash(body)
    guard let model = try? ModelFile(bytes: bytes, source: "fuzz input") else { return 0 }
    precondition(model.encoded() == bytes, "a parsed model keeps the bytes it was read from")
    guard let encoder = try? ImageEncoder(model: model) else { return 0 }
    let signs = try? encoder.signs(of: [Float](repeating: 0.5, count: encoder.valuesPerImage))
    precondition(signs == nil || signs!.allSatisfy { $0 == 1 || $0 == -1 })
    return 0
}
