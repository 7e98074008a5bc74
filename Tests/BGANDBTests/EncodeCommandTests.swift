import BGAN
import BGANStore
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
        let stored = try CLI.run(["get", store, "photo"]).stdout.split(separator: "\t")
        try #require(stored.count >= 2, "get prints KEY, CODE, PAYLOAD")

        let encoded = try CLI.run(["encode", "--bits", "64", path])
        #expect(encoded.status == 0, "\(encoded.stderr)")
        #expect(code(in: encoded) == String(stored[1]), "the code the store holds")

        // Codes rarely tell decodings apart; the real-valued outputs (printed exactly) always do.
        var readOnly = StoreOptions()
        readOnly.readOnly = true
        let side = try Store(openingAt: store, options: readOnly).decodingSide()
        let encoder = try ImageEncoder(model: try DefaultModel.load(path: nil, bits: 64))
        func outputs(_ decoder: ImageDecoder) throws -> String {
            try encoder.realValuedOutputs(of: [try decoder.decode(contentsOf: path)]).map { "\($0)" }.joined(separator: "\t")
        }
        let asTheStore = try outputs(ImageDecoder(minimumSide: side)), whole = try outputs(ImageDecoder())
        #expect(side == 64 && asTheStore != whole, "decoded at ¼ scale (160×120), so the test sees which decoding ran")
        let values = try CLI.run(["encode", "--bits", "64", "--real-valued", path])
        #expect(values.stdout == "\(asTheStore)\t\(path)\n", "decoded as the store decodes")
        let full = try CLI.run(["encode", "--bits", "64", "--real-valued", "--full-size", path])
        #expect(full.status == 0 && full.stdout == "\(whole)\t\(path)\n", "\(full.stderr)")
        let pdq = try CLI.run(["encode", "--encoder", "pdq", "--full-size", path])
        #expect(pdq.status == 64 && pdq.stderr.contains("always decodes at full size"), "\(pdq.stderr)")
    }

    @Test func limitCutsEachFolderShort() throws {
        let folder = directory.sub("folder"), photo = try photo()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["a.jpg", "b.jpg", "c.jpg"] { try FileManager.default.copyItem(atPath: photo, toPath: folder + "/" + name) }
        let all = try CLI.run(["encode", "--bits", "32", folder])
        let two = try CLI.run(["encode", "--bits", "32", "--limit", "2", folder])
        let allLines = all.stdout.split(separator: "\n"), twoLines = two.stdout.split(separator: "\n")
        #expect(allLines.count == 3 && twoLines.count == 2 && Array(allLines.prefix(2)) == twoLines, "\(two.stderr)")
    }
}
