@testable import BGAN
import NeuralNet
import PixelIO
import Testing

/// The hidden layer `encode --hidden-layer` prints is what the code layer projects: the code
/// layer applied to it gives the real-valued outputs whose signs are the codes.
@Suite struct HiddenFeaturesTests {
    @Test func theCodeLayerOfTheHiddenFeaturesGivesTheOutputs() throws {
        let encoder = try ImageEncoder(model: try DefaultModel.load(bits: 64))
        let set = try ImageSet(contentsOf: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
        let count = ImageEncoder.batchSize + 44  // more than one forward pass
        let images = (0..<count).map { set.pixelBuffer($0) }
        let hidden = try encoder.hiddenFeatures(of: images)
        #expect(encoder.hiddenUnits == encoder.model.header.architecture.hiddenUnits && encoder.hiddenUnits != encoder.bits)
        try #require(hidden.count == count * encoder.hiddenUnits)
        let codeLayer = encoder.encoder.layers[encoder.encoder.layers.count - 2]
        let projected = try codeLayer.forward(Tensor(shape: [count, encoder.hiddenUnits], storage: hidden), training: false).storage
        let outputs = try encoder.realValuedOutputs(of: images)
        try #require(projected.count == outputs.count)
        let largest = zip(projected, outputs).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(largest < 1e-4, "largest relative difference: \(largest)")
        // Images differ, and so do their hidden rows.
        #expect(hidden[0..<encoder.hiddenUnits] != hidden[encoder.hiddenUnits..<(2 * encoder.hiddenUnits)])
    }
}
