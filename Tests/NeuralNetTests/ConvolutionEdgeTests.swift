import Testing
@testable import NeuralNet

/// Geometries at the edges: maps smaller than the kernel, inputs of one pixel, inference passes
/// between a training pass and its backward pass.
@Suite struct ConvolutionEdgeTests {
    @Test func validColumnsMatchAPixelByPixelCheck() {
        for width in 1...11 {
            for kernel in 1...7 {
                for stride in 1...4 {
                    for padding in 0...5 where width + 2 * padding >= kernel {
                        let g = ConvolutionGeometry(channels: 1, height: width, width: width, kernel: kernel, stride: stride, padding: padding)
                        for kx in 0..<kernel {
                            let expected = (0..<g.outputWidth).filter { ox in
                                let ix = ox * stride - padding + kx
                                return ix >= 0 && ix < width
                            }
                            #expect(Array(g.validColumns(kx)) == expected, "width \(width) kernel \(kernel) stride \(stride) padding \(padding) kx \(kx)")
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: [(size: 2, kernel: 4, stride: 2, padding: 1), (size: 1, kernel: 5, stride: 1, padding: 2), (size: 3, kernel: 7, stride: 1, padding: 3)])
    func convolutionsOfTinyMaps(size: Int, kernel: Int, stride: Int, padding: Int) throws {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 30)
        let layer = Conv2D("conv", inputChannels: 2, outputChannels: 3, kernel: kernel, stride: stride, padding: padding, parameters: store, rng: &rng)
        let check = try gradientCheck(layer, parameters: store, input: randomTensor([2, 2, size, size], seed: 31))
        #expect(check.worst < 1e-2, "\(check.where)")
    }

    @Test(arguments: [(size: 1, kernel: 4, stride: 2, padding: 1), (size: 1, kernel: 5, stride: 1, padding: 2)])
    func transposedConvolutionsOfTinyMaps(size: Int, kernel: Int, stride: Int, padding: Int) throws {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 32)
        let layer = ConvTranspose2D("deconv", inputChannels: 2, outputChannels: 2, kernel: kernel, stride: stride, padding: padding,
                                    parameters: store, rng: &rng)
        let check = try gradientCheck(layer, parameters: store, input: randomTensor([2, 2, size, size], seed: 33))
        #expect(check.worst < 1e-2, "\(check.where)")
    }

    /// Layers keep what backward needs out of the work buffers an inference pass reuses.
    @Test(arguments: ["convolution by small-patch kernels", "convolution by sgemm", "transposed convolution"])
    func anInferencePassDoesNotSpoilTheNextBackwardPass(layerKind: String) throws {
        func gradients(interleaveInference: Bool) throws -> [Float] {
            let store = ParameterStore()
            var rng = SeededGenerator(seed: 34)
            let layer: Layer
            switch layerKind {
            case "transposed convolution":
                layer = ConvTranspose2D("deconv", inputChannels: 1, outputChannels: 2, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng)
            default:
                let convolution = Conv2D("conv", inputChannels: 1, outputChannels: 2, kernel: 3, padding: 1, parameters: store, rng: &rng)
                convolution.smallPatchLimit = layerKind == "convolution by sgemm" ? 0 : 16
                layer = convolution
            }
            let input = randomTensor([4, 1, 5, 5], seed: 35)
            let output = try layer.forward(input, training: true)
            if interleaveInference { _ = try layer.forward(randomTensor([1, 1, 5, 5], seed: 36), training: false) }
            _ = try layer.backward(Tensor(shape: output.shape, storage: [Float](repeating: 1, count: output.count)))
            return store.gradients
        }
        #expect(try gradients(interleaveInference: true) == gradients(interleaveInference: false))
    }

    @Test func pairsWithZeroSimilarityAreIgnored() throws {
        let z = randomTensor([3, 4], seed: 37)
        var s = Tensor(shape: [3, 3], storage: [1, -1, 0, -1, 1, 0, 0, 0, 1])
        let value = try Loss.pairwiseSimilarity(codes: z, similarity: s).value
        var sum: Double = 0
        var pairs = 0
        for i in 0..<3 {
            for j in 0..<3 where s.storage[i * 3 + j] != 0 {
                var dot: Double = 0
                for k in 0..<4 { dot += Double(z.storage[i * 4 + k]) * Double(z.storage[j * 4 + k]) }
                let d = dot / 4 - Double(s.storage[i * 3 + j])
                sum += d * d
                pairs += 1
            }
        }
        #expect(abs(Double(value) - sum / Double(pairs)) < 1e-5)
        // The third code meets only itself: its gradient comes from (2, 2) alone.
        s.storage[8] = 0
        let gradient = try Loss.pairwiseSimilarity(codes: z, similarity: s).gradient
        #expect(gradient.storage[8..<12].allSatisfy { $0 == 0 })
    }

    @Test func adamRefusesAMismatchedState() {
        let adam = Adam()
        #expect(throws: NeuralNetError.self) { try adam.restore(steps: 3, first: [0, 0], second: [0]) }
        #expect(throws: NeuralNetError.self) { try adam.restore(steps: -1, first: [], second: []) }
    }
}
