import Testing
@testable import NeuralNet

/// Every layer's backward pass against central finite differences, on odd sizes, stride 2,
/// padding and batch 1.
@Suite struct LayerGradientTests {
    @Test(arguments: [(1, 3, 5), (4, 7, 2), (3, 1, 1)])
    func linear(batch: Int, inputs: Int, outputs: Int) throws {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 1)
        let layer = Linear("fc", inputs: inputs, outputs: outputs, parameters: store, rng: &rng)
        let check = try gradientCheck(layer, parameters: store, input: randomTensor([batch, inputs], seed: 2))
        #expect(check.worst < 1e-2, "\(check.where)")
    }

    @Test(arguments: [
        (batch: 1, channels: 1, size: 5, filters: 2, kernel: 3, stride: 1, padding: 0),
        (batch: 2, channels: 3, size: 7, filters: 4, kernel: 3, stride: 2, padding: 1),
        (batch: 3, channels: 2, size: 6, filters: 3, kernel: 4, stride: 2, padding: 1),
        (batch: 1, channels: 2, size: 4, filters: 1, kernel: 1, stride: 1, padding: 0),
    ])
    func convolution(batch: Int, channels: Int, size: Int, filters: Int, kernel: Int, stride: Int, padding: Int) throws {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 3)
        let layer = Conv2D("conv", inputChannels: channels, outputChannels: filters, kernel: kernel, stride: stride, padding: padding,
                           parameters: store, rng: &rng)
        let check = try gradientCheck(layer, parameters: store, input: randomTensor([batch, channels, size, size + 1], seed: 4))
        #expect(check.worst < 1e-2, "\(check.where)")
    }

    /// A first layer skips its input gradient: the weight and bias gradients are the same to the
    /// last bit, and the input gradient it returns is zeros.
    @Test func convolutionWithoutItsInputGradientKeepsTheParameterGradients() throws {
        func gradients(needsInput: Bool) throws -> (parameters: [Float], input: [Float]) {
            let store = ParameterStore()
            var rng = SeededGenerator(seed: 8)
            let layer = Conv2D("conv", inputChannels: 2, outputChannels: 3, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng)
            layer.needsInputGradient = needsInput
            let output = try layer.forward(randomTensor([3, 2, 9, 8], seed: 9), training: true)
            let input = try layer.backward(randomTensor(output.shape, seed: 10))
            return (store.gradients, input.storage)
        }
        let full = try gradients(needsInput: true), skipped = try gradients(needsInput: false)
        #expect(skipped.parameters == full.parameters)
        #expect(skipped.input.count == full.input.count && skipped.input.allSatisfy { $0 == 0 })
        #expect(full.input.contains { $0 != 0 })
    }

    /// With the store's gradients off, every layer kind returns the same input gradient to the
    /// last bit and leaves the parameter gradients as they were: what the BGAN stage relies on
    /// when gradients only pass through the discriminator.
    @Test(arguments: [0, 16])
    func layersWithoutParameterGradientsPassTheSameInputGradient(smallPatchLimit: Int) throws {
        func backward(accumulating: Bool) throws -> (input: [Float], parameters: [Float]) {
            let store = ParameterStore()
            var rng = SeededGenerator(seed: 21)
            let first = Conv2D("c1", inputChannels: 1, outputChannels: 4, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng)
            let second = Conv2D("c2", inputChannels: 4, outputChannels: 3, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng)
            first.smallPatchLimit = smallPatchLimit
            second.smallPatchLimit = smallPatchLimit
            let network = Sequential("net", [
                first, BatchNormalization("bn1", channels: 4, parameters: store), LeakyReLU(slope: 0.2),
                second, Reshape(to: [3 * 2 * 2]),
                Linear("fc", inputs: 12, outputs: 12, parameters: store, rng: &rng), Reshape(to: [3, 2, 2]),
                ConvTranspose2D("d1", inputChannels: 3, outputChannels: 2, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng),
            ])
            let output = try network.forward(randomTensor([3, 1, 8, 8], seed: 22), training: true)
            for i in store.gradients.indices { store.gradients[i] = Float(i % 7) - 3 }
            let input = accumulating ? try network.backward(randomTensor(output.shape, seed: 23))
                                     : try store.withoutGradients { try network.backward(randomTensor(output.shape, seed: 23)) }
            #expect(store.accumulatesGradients)
            return (input.storage, store.gradients)
        }
        let full = try backward(accumulating: true), passing = try backward(accumulating: false)
        #expect(firstDifference(passing.input, full.input) == nil)
        #expect(full.input.contains { $0 != 0 })
        let sentinel = full.parameters.indices.map { Float($0 % 7) - 3 }
        #expect(firstDifference(passing.parameters, sentinel) == nil)
        #expect(firstDifference(full.parameters, sentinel) != nil)
    }

    @Test(arguments: [
        (batch: 1, channels: 2, size: 3, filters: 1, kernel: 3, stride: 1, padding: 0),
        (batch: 2, channels: 3, size: 4, filters: 2, kernel: 4, stride: 2, padding: 1),
        (batch: 3, channels: 1, size: 5, filters: 3, kernel: 3, stride: 2, padding: 1),
    ])
    func transposedConvolution(batch: Int, channels: Int, size: Int, filters: Int, kernel: Int, stride: Int, padding: Int) throws {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 5)
        let layer = ConvTranspose2D("deconv", inputChannels: channels, outputChannels: filters, kernel: kernel, stride: stride,
                                    padding: padding, parameters: store, rng: &rng)
        let check = try gradientCheck(layer, parameters: store, input: randomTensor([batch, channels, size, size + 2], seed: 6))
        #expect(check.worst < 1e-2, "\(check.where)")
    }

    @Test(arguments: [[4, 3], [3, 2, 3, 5], [1, 4, 2, 2]])
    func batchNormalization(shape: [Int]) throws {
        let store = ParameterStore()
        let layer = BatchNormalization("bn", channels: shape[1], parameters: store)
        store.values[store.entry("bn.scale")!.offset] = 1.7
        store.values[store.entry("bn.shift")!.offset + 1] = -0.4
        let check = try gradientCheck(layer, parameters: store, input: randomTensor(shape, seed: 7, scale: 2), step: 1e-2)
        #expect(check.worst < 2e-2, "\(check.where)")
    }

    @Test(arguments: [[3, 5], [2, 3, 4, 4], [1, 1, 6, 2]])
    func sampleStandardization(shape: [Int]) throws {
        let layer = SampleStandardization("standardise")
        let check = try gradientCheck(layer, parameters: ParameterStore(), input: randomTensor(shape, seed: 11, scale: 0.3), step: 1e-2)
        #expect(check.worst < 2e-2, "\(check.where)")
    }

    /// Each sample comes out at mean 0 and deviation ~1, and a brightness or contrast change of
    /// a sample (an affine map of its values) gives the same output.
    @Test func sampleStandardizationUndoesAffineChangesOfASample() throws {
        let layer = SampleStandardization("standardise")
        let input = randomTensor([2, 3, 4, 4], seed: 12, scale: 0.2)
        let output = try layer.forward(input, training: false)
        for n in 0..<2 {
            let values = output.storage[(n * 48)..<((n + 1) * 48)]
            let mean = values.reduce(0, +) / 48
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 48
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 0.01, "mean \(mean), variance \(variance)")
        }
        var changed = input
        for i in 0..<48 { changed.storage[i] = 1.2 * changed.storage[i] }            // brighter
        for i in 48..<96 { changed.storage[i] = 0.4 + 0.8 * (changed.storage[i] - 0.4) } // less contrast
        let again = try layer.forward(changed, training: false)
        // Equal but for ε's share of each variance (10⁻⁴ against ~0.04): within 0.5 %.
        #expect(zip(output.storage, again.storage).allSatisfy { abs($0 - $1) < 5e-3 })
        let flat = try layer.forward(Tensor(shape: [1, 4], storage: [0.5, 0.5, 0.5, 0.5]), training: false)
        #expect(flat.storage == [0, 0, 0, 0], "a flat sample gives zeros, not noise blown up")
    }

    /// Every input position's gradient against central differences, the two percentiles' included
    /// (a sampled check could miss those two per sample): values on a shuffled grid 0.05 apart, so
    /// a step of 10⁻³ never reorders them, two of them far enough out to be clipped.
    @Test func robustSampleStandardization() throws {
        let layer = RobustSampleStandardization("standardise")
        var rng = SeededGenerator(seed: 13)
        var values = (0..<2).flatMap { n in (0..<25).map { Float($0) * 0.05 + Float(n) * 0.013 }.shuffled(using: &rng) }
        values[3] = 9
        values[30] = -7
        let input = Tensor(shape: [2, 25], storage: values)
        let projection = (0..<50).map { _ in rng.normal() }
        func loss(_ x: Tensor) throws -> Double {
            zip(try layer.forward(x, training: true).storage, projection).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let output = try layer.forward(input, training: true)
        #expect(output.storage[3] == RobustSampleStandardization.clip && output.storage[30] == -RobustSampleStandardization.clip)
        let gradient = try layer.backward(Tensor(shape: [2, 25], storage: projection))
        let step: Float = 1e-3
        for i in 0..<50 {
            var plus = input, minus = input
            plus.storage[i] += step
            minus.storage[i] -= step
            let numeric = (try loss(plus) - loss(minus)) / Double(2 * step)
            #expect(abs(Double(gradient.storage[i]) - numeric) < 2e-2 * max(1, abs(numeric)), "input[\(i)]: analytic \(gradient.storage[i]), numeric \(numeric)")
        }
        #expect(gradient.storage[3] == 0 && gradient.storage[30] == 0, "clipped values pass no gradient")
    }

    /// A nearly flat sample (spread 0.02) with 2.5 % of its values black, as a photograph turned
    /// in place gets black corners. Standardised by mean and deviation, the black values swell
    /// the deviation and shrink the rest ~3.6 times, and come out at about −6; winsorised, the
    /// rest keeps its scale and the black values stop at −3, as in a textured sample. A brightness
    /// or contrast change of a textured sample still gives the same output (of a flat one nearly:
    /// ε is a deviation of 0.01).
    @Test func robustStandardizationKeepsAFewBlackValuesFromShrinkingAFlatSample() throws {
        var rng = SeededGenerator(seed: 5)
        let count = 1_000, black = 25
        let flat = (0..<count).map { _ in 0.5 + 0.02 * rng.normal() }
        var cornered = flat
        for i in 0..<black { cornered[i] = 0 }
        func standardised(_ layer: Layer, _ values: [Float]) throws -> [Float] {
            try layer.forward(Tensor(shape: [1, count], storage: values), training: false).storage
        }
        func spread(_ values: [Float]) -> Float {
            let rest = values[black...], mean = rest.reduce(0, +) / Float(rest.count)
            return (rest.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(rest.count)).squareRoot()
        }
        let moments = SampleStandardization("moments"), robust = RobustSampleStandardization("robust")
        let shrunk = spread(try standardised(moments, cornered)) / spread(try standardised(moments, flat))
        let kept = spread(try standardised(robust, cornered)) / spread(try standardised(robust, flat))
        #expect(shrunk < 0.35, "by mean and deviation the rest's spread shrinks to \(shrunk) of itself")
        #expect(kept > 0.95 && kept < 1.05, "winsorised it keeps \(kept) of itself")
        #expect(try standardised(moments, cornered)[0] < -5 && (try standardised(robust, cornered)[0]) == -RobustSampleStandardization.clip)
        let textured = cornered.map { 0.5 + 5 * ($0 - 0.5) }
        let retoned = try standardised(robust, textured.map { 0.1 + 1.3 * $0 })
        #expect(zip(retoned, try standardised(robust, textured)).allSatisfy { abs($0 - $1) < 1e-2 }, "an affine change is undone")
    }

    /// The robust standardisation's statistics, found by selection, against a sort of each
    /// sample: the same percentiles, positions (equal values taken in their order), counts, mean
    /// and divisor, bit for bit, on samples of 8-bit-like values full of ties and of distinct ones.
    @Test func robustStatisticsBySelectionMatchASort() {
        var rng = SeededGenerator(seed: 21)
        for trial in 0..<200 {
            let count = Int.random(in: 2...400, using: &rng)
            let levels = trial % 2 == 0 ? 4 : 256
            let values = (0..<count).map { _ in Float(Int.random(in: 0..<levels, using: &rng)) / 255 }
            var scratch = [Float](repeating: 0, count: count)
            let found = values.withUnsafeBufferPointer { RobustSampleStandardization.Statistics.of($0, scratch: &scratch) }
            let sorted = values.sorted()
            let share = RobustSampleStandardization.winsorisedShare
            let lowerRank = Int(share * Float(count - 1)), upperRank = Int((1 - share) * Float(count - 1))
            func position(_ rank: Int) -> Int {
                let before = rank - sorted.firstIndex(of: sorted[rank])!
                return values.indices.filter { values[$0] == sorted[rank] }[before]
            }
            let kept = values.map { Double(min(sorted[upperRank], max(sorted[lowerRank], $0))) }
            let mean = kept.reduce(0, +) / Double(count)
            let variance = max(0, kept.map { $0 * $0 }.reduce(0, +) / Double(count) - mean * mean)
            #expect(found.lower == sorted[lowerRank] && found.upper == sorted[upperRank], "trial \(trial)")
            #expect(found.lowerPosition == position(lowerRank) && found.upperPosition == position(upperRank), "trial \(trial)")
            #expect(found.atOrBelowLower == values.filter { $0 <= sorted[lowerRank] }.count
                    && found.atOrAboveUpper == values.filter { $0 >= sorted[upperRank] }.count, "trial \(trial)")
            #expect(found.mean == Float(mean), "trial \(trial)")
            #expect(found.inverseDivisor == Float(1 / (variance + RobustSampleStandardization.epsilon).squareRoot()), "trial \(trial)")
        }
    }

    @Test func batchNormalizationInferenceUsesRunningStatistics() throws {
        let store = ParameterStore()
        let layer = BatchNormalization("bn", channels: 2, momentum: 1, parameters: store)
        let input = Tensor(shape: [2, 2], storage: [1, 10, 3, 30])
        let trained = try layer.forward(input, training: true)
        #expect(abs(trained.storage[0] + 1) < 1e-3 && abs(trained.storage[2] - 1) < 1e-3)
        // With momentum 1 the running statistics are the last batch's (variance unbiased: 2 and 200).
        #expect(store.values[store.entry("bn.running_mean")!.offset] == 2)
        #expect(abs(store.values[store.entry("bn.running_variance")!.offset] - 2) < 1e-5)
        let inferred = try layer.forward(Tensor(shape: [1, 2], storage: [2, 20]), training: false)
        #expect(abs(inferred.storage[0]) < 1e-5 && abs(inferred.storage[1]) < 1e-5)
    }

    /// The activation the tests below name.
    func activation(_ kind: String) -> Activation {
        switch kind {
        case "relu": ReLU()
        case "leaky": LeakyReLU(slope: 0.1)
        case "elu": ELU(alpha: 0.7)
        case "tanh": Tanh()
        case "sigmoid": Sigmoid()
        default: ScaledTanh(beta: 5)
        }
    }

    @Test(arguments: ["relu", "leaky", "elu", "tanh", "sigmoid", "scaled-tanh"])
    func activations(kind: String) throws {
        let layer = activation(kind)
        // Keep inputs away from ReLU's kink, where finite differences are meaningless.
        var input = randomTensor([3, 7], seed: 8)
        for i in input.storage.indices where abs(input.storage[i]) < 0.05 { input.storage[i] = 0.3 }
        let check = try gradientCheck(layer, parameters: ParameterStore(), input: input, step: 1e-3)
        #expect(check.worst < 1e-2, "\(check.where)")
    }

    /// Activations write into new storage: the input and the output gradient they were given
    /// are left as they were, every value of the result is the formula's (leaky ReLU, both sides
    /// of 0), and an empty batch passes through.
    @Test(arguments: ["relu", "leaky", "elu", "tanh", "sigmoid", "scaled-tanh"])
    func activationsLeaveTheirArgumentsAndWriteEveryValue(kind: String) throws {
        let input = randomTensor([5, 999], seed: 11), outputGradient = randomTensor([5, 999], seed: 12)
        let (inputBefore, gradientBefore) = (input.storage, outputGradient.storage)
        let layer = activation(kind)
        let output = try layer.forward(input, training: true)
        let inputGradient = try layer.backward(outputGradient)
        #expect(input.storage == inputBefore && outputGradient.storage == gradientBefore)
        #expect(output.shape == input.shape && inputGradient.shape == input.shape)
        #expect(output.storage.allSatisfy(\.isFinite) && inputGradient.storage.allSatisfy(\.isFinite))
        if kind == "leaky" {
            for (i, x) in input.storage.enumerated() {
                let gy = outputGradient.storage[i]
                #expect(output.storage[i] == (x > 0 ? x : 0.1 * x) && inputGradient.storage[i] == (x > 0 ? gy : gy * 0.1), "value \(i)")
            }
        }
        let empty = activation(kind)
        #expect(try empty.forward(Tensor(zeros: [0, 4]), training: true).storage.isEmpty)
        #expect(try empty.backward(Tensor(zeros: [0, 4])).shape == [0, 4])
    }

    @Test func scaledTanhApproachesSign() throws {
        let layer = ScaledTanh(beta: 2)
        let input = Tensor(shape: [1, 4], storage: [-2, -0.1, 0.1, 2])
        layer.beta = 200
        let output = try layer.forward(input, training: false)
        #expect(output.storage.map { $0.rounded() } == [-1, -1, 1, 1])
        #expect(output.storage.allSatisfy { abs(abs($0) - 1) < 1e-4 })
    }

    @Test func dropoutKeepsExpectationAndRoutesGradients() throws {
        let layer = Dropout(rate: 0.25, seed: 9)
        let input = Tensor(shape: [1, 20_000], storage: [Float](repeating: 1, count: 20_000))
        let output = try layer.forward(input, training: true)
        let mean = output.storage.reduce(0, +) / 20_000
        #expect(abs(mean - 1) < 0.03)
        let dropped = output.storage.filter { $0 == 0 }.count
        #expect(abs(Float(dropped) / 20_000 - 0.25) < 0.02)
        let gradient = try layer.backward(input)
        #expect(gradient.storage == output.storage, "gradients pass where values passed, scaled alike")
        #expect(try layer.forward(input, training: false) == input)
    }

    @Test func reshapeIsItsOwnInverse() throws {
        let layer = Reshape(to: [12])
        let input = randomTensor([2, 3, 2, 2], seed: 11)
        let output = try layer.forward(input, training: true)
        #expect(output.shape == [2, 12] && output.storage == input.storage)
        #expect(try layer.backward(output) == input)
    }

    @Test func wholeNetworksBackpropagate() throws {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 12)
        let network = Sequential("net", [
            Conv2D("c1", inputChannels: 1, outputChannels: 3, kernel: 3, stride: 2, padding: 1, parameters: store, rng: &rng),
            BatchNormalization("bn1", channels: 3, parameters: store),
            LeakyReLU(slope: 0.2),
            Reshape(to: [3 * 4 * 4]),
            Linear("fc", inputs: 48, outputs: 5, parameters: store, rng: &rng),
            Tanh(),
        ])
        // A small step, so that few perturbations cross the leaky ReLU's kink. The price is float32
        // noise of ~5e-4 in each finite difference (it differs between OpenBLAS's Haswell and
        // SkylakeX kernels), so gradients below 0.05 are compared in absolute terms (to 1e-3).
        let check = try gradientCheck(network, parameters: store, input: randomTensor([2, 1, 8, 8], seed: 13), step: 1e-3, floor: 5e-2)
        #expect(check.worst < 2e-2, "\(check.where)")
    }
}

/// A batch that goes through the convolution in several chunks gives what one chunk gives.
@Suite struct ConvolutionChunkTests {
    @Test(arguments: [1, 2, 3])
    func chunkedBatchesMatchTheWholeBatch(itemsPerChunk: Int) throws {
        func run(chunkFloats: Int) throws -> (output: [Float], input: [Float], parameters: [Float]) {
            let store = ParameterStore()
            var rng = SeededGenerator(seed: 11)
            let layer = Conv2D("conv", inputChannels: 3, outputChannels: 4, kernel: 3, stride: 2, padding: 1, parameters: store, rng: &rng)
            layer.chunkFloats = chunkFloats
            let output = try layer.forward(randomTensor([5, 3, 9, 7], seed: 12), training: true)
            let input = try layer.backward(randomTensor(output.shape, seed: 13))
            return (output.storage, input.storage, store.gradients)
        }
        let patchTimesArea = 3 * 3 * 3 * 5 * 4  // patch 27, output 5×4
        let whole = try run(chunkFloats: 1 << 21), chunked = try run(chunkFloats: itemsPerChunk * patchTimesArea)
        for (a, b) in [(whole.output, chunked.output), (whole.input, chunked.input), (whole.parameters, chunked.parameters)] {
            #expect(a.count == b.count)
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5, "largest difference \(worst)")
        }
    }
}
