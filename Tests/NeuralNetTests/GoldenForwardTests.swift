import Foundation
import Testing
@testable import NeuralNet

/// A small network's forward values against NumPy (`Fixtures/nn/make_golden.py`, plain loops in
/// float64), layer by layer, reporting the largest difference.
@Suite struct GoldenForwardTests {
    struct GoldenTensor: Decodable {
        let shape: [Int]
        let data: [Float]
        var tensor: Tensor { Tensor(shape: shape, storage: data) }
    }

    struct LayerOutput: Decodable {
        let layer: String
        let shape: [Int]
        let data: [Float]
    }

    struct Golden: Decodable {
        let input: GoldenTensor
        let parameters: [String: GoldenTensor]
        let outputs: [LayerOutput]
    }

    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/nn/golden.json")

    @Test func forwardMatchesNumPy() throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.fixture))
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 0)
        let layers: [Layer] = [
            Conv2D("conv", inputChannels: 1, outputChannels: 3, kernel: 3, stride: 2, padding: 1, parameters: store, rng: &rng),
            BatchNormalization("bn", channels: 3, parameters: store),
            LeakyReLU(slope: 0.2),
            ConvTranspose2D("deconv", inputChannels: 3, outputChannels: 2, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng),
            ELU(alpha: 1),
            Reshape(to: [72]),
            Linear("fc", inputs: 72, outputs: 5, parameters: store, rng: &rng),
            ScaledTanh(beta: 3),
        ]
        for entry in store.entries {
            let value = try #require(golden.parameters[entry.name], "golden.json lacks \(entry.name)")
            #expect(value.shape == entry.shape, "\(entry.name)")
            store.values.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: value.data)
        }
        #expect(golden.outputs.count == layers.count)
        var x = golden.input.tensor
        for (layer, expected) in zip(layers, golden.outputs) {
            x = try layer.forward(x, training: true)
            let difference = x.maximumDifference(to: Tensor(shape: expected.shape, storage: expected.data))
            #expect(difference < 1e-4, "\(expected.layer): largest difference \(difference)")
        }
    }
}
