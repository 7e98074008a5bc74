import BGAN
import Foundation
import PixelIO
import Testing
import TestSupport

/// `bgan-db encode` of a photo-sized JPEG gives the code a store made with `create` holds for the
/// same file (both decode it at a DCT scale), and `--full-size` the code of the whole image.
@Suite struct EncodeCommandTests {
    let directory = TemporaryDirectory("encode-cli")

    /// A 640×480 colour JPEG with texture at every scale, so that decoding it at ¼ and in full differ.
    func photo() throws -> String {
        var rng = SeededGenerator(seed: 77)
        var bytes = [UInt8](repeating: 0, count: 640 * 480 * 3)
        for y in 0..<480 {
            for x in 0..<640 {
                let base = (y * 640 + x) * 3
                bytes[base] = UInt8((x * 255) / 639)
                bytes[base + 1] = UInt8(((x / 16 + y / 16) % 2) * 160 + Int(rng.next() % 60))
                bytes[base + 2] = UInt8((y * 255) / 479)
            }
        }
        let path = directory.sub("photo.jpg")
        try Data(try PixelBuffer(width: 640, height: 480, format: .rgb, bytes: bytes).jpegData(quality: 90)).write(to: URL(fileURLWithPath: path))
        return path
    }

    func code(in outcome: CLI.Outcome) -> String {
        String(outcome.stdout.split(separator: "\t").first ?? "")
    }

    @Test func aLargeJPEGIsEncodedAsAStoreEncodesIt() throws {
        let path = try photo()
        let store = directory.sub("store")
        #expect(try CLI.run(["create", store, "--bits", "64"]).status == 0)
        let put = try CLI.run(["put", store, "photo", "--image", path])
        #expect(put.status == 0, "\(put.stderr)")
        let stored = try CLI.run(["get", store, "photo"])
        let storedCode = String(stored.stdout.split(separator: "\t")[1])

        let encoded = try CLI.run(["encode", "--bits", "64", path])
        #expect(encoded.status == 0, "\(encoded.stderr)")
        #expect(code(in: encoded) == storedCode, "the code the store holds")

        // Codes rarely tell decodings apart; the real-valued outputs (printed exactly) always do.
        let encoder = try ImageEncoder(model: try DefaultModel.load(path: nil, bits: 64))
        func outputs(_ decoder: ImageDecoder) throws -> String {
            try encoder.realValuedOutputs(of: [try decoder.decode(contentsOf: path)]).map { "\($0)" }.joined(separator: "\t")
        }
        let quarter = try outputs(ImageDecoder(minimumSide: 64)), whole = try outputs(ImageDecoder())
        #expect(quarter != whole, "the photo tells the two decodings apart, so the test sees which one ran")
        let values = try CLI.run(["encode", "--bits", "64", "--real-valued", path])
        #expect(values.stdout == "\(quarter)\t\(path)\n", "decoded at ¼ scale (160×120: both sides ≥ 64), as the store did")
        let full = try CLI.run(["encode", "--bits", "64", "--real-valued", "--full-size", path])
        #expect(full.status == 0 && full.stdout == "\(whole)\t\(path)\n", "\(full.stderr)")
        let pdq = try CLI.run(["encode", "--encoder", "pdq", "--full-size", path])
        #expect(pdq.status == 64 && pdq.stderr.contains("always decodes at full size"), "\(pdq.stderr)")
    }
}
