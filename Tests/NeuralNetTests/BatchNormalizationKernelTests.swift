import Testing
@testable import NeuralNet

/// ``BatchNormalization`` runs eight channels' sums in the lanes of one vector and its per-value
/// formulas in `CTrainingKernels`; these tests hold it, with either kernel, to the plain
/// per-channel loops, bit for bit.
@Suite struct BatchNormalizationKernelTests {
    /// The plain loops: each channel's sums in one scalar chain over its values in order.
    struct Reference {
        var output: [Float] = []
        var normalized: [Float] = []
        var runningMean: [Float] = []
        var runningVariance: [Float] = []
        var inputGradient: [Float] = []
        var scaleGradient: [Float] = []
        var shiftGradient: [Float] = []

        init(input: [Float], gradient: [Float], items n: Int, channels: Int, area: Int, gamma: [Float], beta: [Float],
             epsilon: Float = 1e-5, momentum: Float = 0.1) {
            let m = Double(n * area)
            output = [Float](repeating: 0, count: input.count)
            normalized = output
            inputGradient = output
            runningMean = [Float](repeating: 0, count: channels)
            runningVariance = [Float](repeating: 1, count: channels)
            scaleGradient = [Float](repeating: 0, count: channels)
            shiftGradient = scaleGradient
            for c in 0..<channels {
                let planes = (0..<n).map { ($0 * channels + c) * area }
                var sum: Double = 0, squares: Double = 0
                for base in planes { for i in 0..<area { sum += Double(input[base + i]) } }
                let batchMean = sum / m
                for base in planes { for i in 0..<area { let d = Double(input[base + i]) - batchMean; squares += d * d } }
                let mean = Float(batchMean), variance = Float(squares / m)
                let unbiased = m > 1 ? Float(squares / (m - 1)) : variance
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * unbiased
                let inv = 1 / (variance + epsilon).squareRoot()
                for base in planes {
                    for i in base..<(base + area) {
                        normalized[i] = (input[i] - mean) * inv
                        output[i] = gamma[c] * normalized[i] + beta[c]
                    }
                }
                var sumGradient: Float = 0, sumTimesNormalized: Float = 0
                for base in planes {
                    for i in base..<(base + area) {
                        sumGradient += gradient[i]
                        sumTimesNormalized += gradient[i] * normalized[i]
                    }
                }
                scaleGradient[c] = sumTimesNormalized
                shiftGradient[c] = sumGradient
                let factor = gamma[c] * inv / Float(m)
                for base in planes {
                    for i in base..<(base + area) {
                        inputGradient[i] = factor * (Float(m) * gradient[i] - sumGradient - normalized[i] * sumTimesNormalized)
                    }
                }
            }
        }
    }

    // Channel counts below, at and past a group of eight, split between threads (rows of whole
    // sixteen-lane vectors, ragged ends, unaligned starts); areas of one value (after a linear
    // layer), below eight (only single positions), of eight-value blocks with and without a ragged
    // end; inputs far from zero (large means). Each kernel the CPU has.
    @Test(arguments: TrainingKernel.available, [[64, 3, 1], [37, 13, 1], [3, 37, 1], [4, 100, 1], [6, 10, 4], [3, 11, 9], [5, 8, 49],
                                                [3, 21, 196], [2, 9, 17], [4, 17, 16], [1, 1, 1], [2, 512, 1]])
    func trainingStepsAreThePlainLoopsBitForBit(kernel: TrainingKernel, shape: [Int]) throws {
        let (n, channels, area) = (shape[0], shape[1], shape[2])
        var rng = SeededGenerator(seed: UInt64(n * 1000 + channels * 10 + area))
        let count = n * channels * area
        let input = (0..<count).map { i in 3 + Float(i % channels) + 2 * rng.normal() }
        let gradient = (0..<count).map { _ in rng.normal() }
        let gamma = (0..<channels).map { _ in 1 + 0.3 * rng.normal() }
        let beta = (0..<channels).map { _ in 0.5 * rng.normal() }
        let store = ParameterStore()
        let layer = BatchNormalization("bn", channels: channels, parameters: store)
        layer.kernel = kernel
        for c in 0..<channels {
            store.values[store.entry("bn.scale")!.offset + c] = gamma[c]
            store.values[store.entry("bn.shift")!.offset + c] = beta[c]
        }
        let inputShape = area == 1 ? [n, channels] : [n, channels, 1, area]
        let output = try layer.forward(Tensor(shape: inputShape, storage: input), training: true)
        let inputGradient = try layer.backward(Tensor(shape: inputShape, storage: gradient))
        let reference = Reference(input: input, gradient: gradient, items: n, channels: channels, area: area, gamma: gamma, beta: beta)
        func entry(_ name: String) -> [Float] {
            let e = store.entry("bn.\(name)")!
            return Array(store.values[e.offset..<(e.offset + e.count)])
        }
        func gradientOf(_ name: String) -> [Float] {
            let e = store.entry("bn.\(name)")!
            return Array(store.gradients[e.offset..<(e.offset + e.count)])
        }
        #expect(firstDifference(output.storage, reference.output) == nil)
        #expect(firstDifference(entry("running_mean"), reference.runningMean) == nil)
        #expect(firstDifference(entry("running_variance"), reference.runningVariance) == nil)
        #expect(firstDifference(inputGradient.storage, reference.inputGradient) == nil)
        #expect(firstDifference(gradientOf("scale"), reference.scaleGradient) == nil)
        #expect(firstDifference(gradientOf("shift"), reference.shiftGradient) == nil)
        // Inference normalises with the running statistics by the same formula.
        let inferred = try layer.forward(Tensor(shape: inputShape, storage: input), training: false)
        let expected = (0..<count).map { i -> Float in
            let c = (i / area) % channels
            let inv = 1 / (reference.runningVariance[c] + 1e-5).squareRoot()
            return gamma[c] * ((input[i] - reference.runningMean[c]) * inv) + beta[c]
        }
        #expect(firstDifference(inferred.storage, expected) == nil)
    }
}
