import Testing
@testable import NeuralNet

/// Geometries at the edges: maps smaller than the kernel, inputs of one pixel, inference passes
/// between a training pass and its backward pass.
@Suite struct ConvolutionEdgeTests {
    /// im2col against its definition pixel by pixel, and col2im as its adjoint
    /// (⟨im2col x, y⟩ = ⟨x, col2im y⟩), over every small geometry with padding and strides.
    @Test func unfoldingMatchesItsDefinitionAndFoldingIsItsAdjoint() {
        var rng = SeededGenerator(seed: 60)
        for (height, width) in [(1, 1), (3, 5), (7, 4), (11, 11)] {
            for kernel in 1...5 {
                for stride in 1...3 {
                    for padding in 0...3 where height + 2 * padding >= kernel && width + 2 * padding >= kernel {
                        let g = ConvolutionGeometry(channels: 2, height: height, width: width, kernel: kernel, stride: stride, padding: padding)
                        let batch = 2, item = 1, wide = batch * g.outputArea
                        let image = (0..<g.imageSize).map { _ in rng.normal() }
                        var columns = [Float](repeating: .nan, count: g.patchSize * wide)
                        image.withUnsafeBufferPointer { x in
                            columns.withUnsafeMutableBufferPointer { g.im2col(x.baseAddress!, into: $0.baseAddress!, rowStride: wide, item: item) }
                        }
                        var worst: Float = 0
                        for c in 0..<2 {
                            for ky in 0..<kernel {
                                for kx in 0..<kernel {
                                    for oy in 0..<g.outputHeight {
                                        for ox in 0..<g.outputWidth {
                                            let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                                            let expected = iy >= 0 && iy < height && ix >= 0 && ix < width ? image[(c * height + iy) * width + ix] : 0
                                            let row = (c * kernel + ky) * kernel + kx
                                            worst = max(worst, abs(columns[row * wide + item * g.outputArea + oy * g.outputWidth + ox] - expected))
                                        }
                                    }
                                }
                            }
                        }
                        #expect(worst == 0, "\(height)×\(width) kernel \(kernel) stride \(stride) padding \(padding)")
                        let y = (0..<(g.patchSize * wide)).map { _ in rng.normal() }
                        var folded = [Float](repeating: 0, count: g.imageSize)
                        y.withUnsafeBufferPointer { ys in
                            folded.withUnsafeMutableBufferPointer { g.col2im(ys.baseAddress!, rowStride: wide, item: item, into: $0.baseAddress!) }
                        }
                        var left = 0.0, right = 0.0
                        for row in 0..<g.patchSize {
                            for t in 0..<g.outputArea {
                                let index = row * wide + item * g.outputArea + t
                                left += Double(columns[index]) * Double(y[index])
                            }
                        }
                        for i in 0..<g.imageSize { right += Double(image[i]) * Double(folded[i]) }
                        #expect(abs(left - right) <= 1e-4 * max(1, abs(left)), "adjoint: \(left) vs \(right)")
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
