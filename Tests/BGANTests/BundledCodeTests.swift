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
            /// The vectors its stores keep, for a model whose stores keep another than the outputs.
            let refinementVectors: [[Double]]?
        }
        let images: String
        let indices: [Int]
        let models: [Model]
        /// The photo model's, on the same images made into 32×32 colour ones (``photoImage(_:)``).
        let photoModel: Model
    }

    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/nn/bundled-codes.json")

    @Test(arguments: [32, 64])
    func outputsAndCodesMatchTheIndependentForwardPass(bits: Int) throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.fixture))
        let expected = try #require(golden.models.first { $0.bits == bits })
        let set = try ImageSet(contentsOf: golden.images)
        try compare(try DefaultModel.load(bits: bits), expected, golden.indices, images: golden.indices.map { set.pixelBuffer($0) })
    }

    /// The photo model (a standardised RGB input, mirror averaging) on the same test images made
    /// into colour ones.
    @Test func thePhotoModelMatchesTheIndependentForwardPass() throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.fixture))
        let set = try ImageSet(contentsOf: golden.images)
        let model = try DefaultModel.loadPhotoModel()
        #expect(model.header.architecture.standardizesInput && model.header.preprocessing.channels == 3)
        let images = try golden.indices.map { try Self.photoImage(set.image($0)) }
        try compare(model, golden.photoModel, golden.indices, images: images)
        // Its stores keep its hidden layer (and pixels): that vector too is the independent pass's.
        #expect(model.header.refinementVectors == .hiddenLayer)
        let expected = try #require(golden.photoModel.refinementVectors)
        let encoder = try ImageEncoder(model: model)
        let width = try #require(encoder.refinementWidth), bits = encoder.bits
        let rows = try encoder.outputsAndRefinementVectors(of: images.flatMap(model.header.preprocessing.input(from:)))
        try #require(rows.count == expected.count * (bits + width) && expected.allSatisfy { $0.count == width })
        var largest = 0.0
        for (row, values) in expected.enumerated() {
            for (unit, reference) in values.enumerated() {
                let value = Double(rows[row * (bits + width) + bits + unit])
                largest = max(largest, abs(value - reference) / max(1, abs(reference)))
            }
        }
        #expect(largest < 1e-3, "largest relative difference of the refinement vectors: \(largest)")
    }

    /// A 32×32 RGB image from a 28×28 gray one, as make_bundled_codes.py's `photo_image`: padded
    /// by 2 pixels of 0, red the image, green its negative, blue half of it (rounded down).
    static func photoImage(_ gray: ArraySlice<UInt8>) throws -> PixelBuffer {
        let gray = Array(gray)
        var padded = [UInt8](repeating: 0, count: 32 * 32)
        for y in 0..<28 {
            for x in 0..<28 { padded[(y + 2) * 32 + x + 2] = gray[y * 28 + x] }
        }
        return try PixelBuffer(planes: padded + padded.map { 255 - $0 } + padded.map { $0 / 2 }, width: 32, height: 32)
    }

    func compare(_ model: ModelFile, _ expected: Golden.Model, _ indices: [Int], images: [PixelBuffer]) throws {
        let bits = expected.bits
        try #require(model.digest == expected.digest,
                     "the bundled \(bits)-bit model changed (\(model.digest.prefix(16))…): run python3 Fixtures/nn/make_bundled_codes.py")
        #expect(model.header.averagesMirrorImages == expected.mirrorAveraging)
        let encoder = try ImageEncoder(model: model)
        let outputs = try encoder.realValuedOutputs(of: images)
        #expect(outputs.count == indices.count * bits)
        var largest = 0.0
        var decided = 0
        for (row, index) in indices.enumerated() {
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
        #expect(decided > indices.count * bits * 9 / 10, "too few bits far enough from 0 to compare: \(decided)")
    }
}
