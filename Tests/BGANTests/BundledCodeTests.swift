import BGAN
import Foundation
import HammingSearch
import PixelIO
import Testing

/// The bundled encoders against an independent forward pass: `Fixtures/nn/make_bundled_codes.py`
/// reads the model files byte by byte and runs the encoder in inference mode in NumPy float64.
/// Every image goes through the public path an application uses (a `PixelBuffer`, the model's
/// preprocessing, `ImageEncoder`), mirror averaging included when the model has it.
@Suite struct BundledCodeTests {
    struct Golden: Decodable {
        struct Model: Decodable {
            let bits: Int
            let digest: String
            let mirrorAveraging: Bool
            let outputs: [[Double]]
            let codes: [String]
        }
        let images: String
        let indices: [Int]
        let models: [Model]
    }

    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/nn/bundled-codes.json")

    @Test(arguments: [32, 64])
    func outputsAndCodesMatchTheIndependentForwardPass(bits: Int) throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.fixture))
        let expected = try #require(golden.models.first { $0.bits == bits })
        let model = try DefaultModel.load(bits: bits)
        try #require(model.digest == expected.digest,
                     "the bundled \(bits)-bit model changed (\(model.digest.prefix(16))…): run python3 Fixtures/nn/make_bundled_codes.py")
        #expect(model.header.averagesMirrorImages == expected.mirrorAveraging)
        let set = try ImageSet(contentsOf: golden.images)
        let encoder = try ImageEncoder(model: model)
        let outputs = try encoder.realValuedOutputs(of: golden.indices.map { set.pixelBuffer($0) })
        #expect(outputs.count == golden.indices.count * bits)
        var largest = 0.0
        var decided = 0
        for (row, index) in golden.indices.enumerated() {
            let h = Array(outputs[(row * bits)..<((row + 1) * bits)])
            for (value, reference) in zip(h, expected.outputs[row]) {
                largest = max(largest, abs(Double(value) - reference) / max(1, abs(reference)))
            }
            // Bits whose output is this close to 0 may fall either way in float32; the rest must agree.
            let code = BinaryCode(signsOf: h)
            let reference = try BinaryCode(hex: expected.codes[row])
            for bit in 0..<bits where abs(expected.outputs[row][bit]) > 1e-3 {
                decided += 1
                #expect(code.bit(bit) == reference.bit(bit), "image \(index), bit \(bit): h \(h[bit]), NumPy \(expected.outputs[row][bit])")
            }
        }
        #expect(largest < 1e-3, "largest relative difference of h: \(largest)")
        #expect(decided > golden.indices.count * bits * 9 / 10, "too few bits far enough from 0 to compare: \(decided)")
    }
}
