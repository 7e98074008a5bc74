/// Batch normalisation over channels: input `(N, C)` or `(N, C, H, W)`. Training normalises with
/// the batch's mean and variance and updates running statistics (saved with the parameters as
/// non-trainable entries); inference uses the running statistics.
public final class BatchNormalization: Layer {
    public let name: String
    public let channels: Int
    public let epsilon: Float
    /// Weight of the newest batch in the running statistics.
    public let momentum: Float
    let store: ParameterStore
    let scale: Int
    let shift: Int
    let runningMean: Int
    let runningVariance: Int
    /// The kernel of the per-value formulas (the best the CPU has; tests compare both).
    var kernel = TrainingKernel.best
    private var cache = ForwardCache<(normalized: [Float], inverseDeviation: [Float], shape: [Int], training: Bool)>()

    public init(_ name: String, channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, parameters: ParameterStore) {
        self.name = name
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        store = parameters
        scale = parameters.add("\(name).scale", shape: [channels]) { _ in 1 }
        shift = parameters.add("\(name).shift", shape: [channels]) { _ in 0 }
        runningMean = parameters.add("\(name).running_mean", shape: [channels], trainable: false) { _ in 0 }
        runningVariance = parameters.add("\(name).running_variance", shape: [channels], trainable: false) { _ in 1 }
    }

    /// (batch, area) of a valid input shape.
    private func layout(_ shape: [Int]) throws -> (batch: Int, area: Int) {
        guard (shape.count == 2 || shape.count == 4), shape[1] == channels else {
            throw NeuralNetError.shape(name, expected: "(N, \(channels)) or (N, \(channels), H, W)", got: shape)
        }
        return (shape[0], shape.count == 4 ? shape[2] * shape[3] : 1)
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        let (n, area) = try layout(input.shape)
        let m = Double(n * area)
        // Every value of the output and of the normalised input (kept for the backward pass
        // only) is written: no zero-filling first.
        let count = input.count, kept = training ? input.count : 0
        var normalized: [Float] = []
        var inverseDeviation = [Float](repeating: 0, count: channels)
        var means = [Float](repeating: 0, count: channels)
        let (channels, epsilon, momentum) = (self.channels, self.epsilon, self.momentum)
        let (scale, shift, runningMean, runningVariance) = (self.scale, self.shift, self.runningMean, self.runningVariance)
        let outputStorage = [Float](unsafeUninitializedCapacity: count) { y, initialized in
            normalized = [Float](unsafeUninitializedCapacity: kept) { xhat, initializedNormalized in
                input.storage.withUnsafeBufferPointer { x in
                    inverseDeviation.withUnsafeMutableBufferPointer { inverse in
                        means.withUnsafeMutableBufferPointer { means in
                            store.values.withUnsafeMutableBufferPointer { values in
                                let (x, y, xhat, inverse, means, values) = (x.baseAddress!, y.baseAddress!, xhat.baseAddress, inverse.baseAddress!,
                                                                            means.baseAddress!, values.baseAddress!)
                                let kernels = BatchNormalizationKernels(items: n, channels: channels, area: area, kernel: kernel)
                                // Channels are independent: each task owns a range of them, their sums eight at a time.
                                parallelRanges(channels, tasks: BLAS.threads) { range in
                                    for first in stride(from: range.lowerBound, to: range.upperBound, by: BatchNormalizationKernels.group) {
                                        let count = min(BatchNormalizationKernels.group, range.upperBound - first)
                                        let sums = training ? kernels.sums(of: x, first: first, count: count) : nil
                                        for lane in 0..<count {
                                            let c = first + lane
                                            let variance: Float
                                            if let sums {
                                                means[c] = Float(sums.sum[lane] / m)
                                                variance = Float(sums.squares[lane] / m)
                                                let unbiased = m > 1 ? Float(sums.squares[lane] / (m - 1)) : variance
                                                values[runningMean + c] = (1 - momentum) * values[runningMean + c] + momentum * means[c]
                                                values[runningVariance + c] = (1 - momentum) * values[runningVariance + c] + momentum * unbiased
                                            } else {
                                                means[c] = values[runningMean + c]
                                                variance = values[runningVariance + c]
                                            }
                                            inverse[c] = 1 / (variance + epsilon).squareRoot()
                                        }
                                    }
                                    kernels.normalize(x, channels: range, mean: means, inverse: inverse, gamma: values + scale, beta: values + shift,
                                                      into: y, keeping: training ? xhat : nil)
                                }
                            }
                        }
                    }
                }
                initializedNormalized = kept
            }
            initialized = count
        }
        if training { cache.store((normalized, inverseDeviation, input.shape, true)) }
        return Tensor(shape: input.shape, storage: outputStorage)
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (normalized, inverseDeviation, shape, _) = try cache.get(name)
        guard outputGradient.shape == shape else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe(shape), got: outputGradient.shape)
        }
        let (n, area) = try layout(shape)
        let m = Float(n * area)
        let (channels, scale, shift, accumulates) = (self.channels, self.scale, self.shift, store.accumulatesGradients)
        let count = outputGradient.count
        // Every value of the input gradient is written: no zero-filling first.
        let inputGradient = [Float](unsafeUninitializedCapacity: count) { gx, initialized in
            outputGradient.storage.withUnsafeBufferPointer { gy in
                normalized.withUnsafeBufferPointer { xhat in
                    store.values.withUnsafeBufferPointer { values in
                        store.gradients.withUnsafeMutableBufferPointer { gradients in
                            let (gy, xhat, gx, values, gradients) = (gy.baseAddress!, xhat.baseAddress!, gx.baseAddress!, values.baseAddress!, gradients.baseAddress!)
                            let kernels = BatchNormalizationKernels(items: n, channels: channels, area: area, kernel: kernel)
                            // Per channel: the factor γ/σ/m and the two sums of the gradient.
                            var constants = [Float](repeating: 0, count: 3 * channels)
                            constants.withUnsafeMutableBufferPointer { constants in
                                let factors = constants.baseAddress!, sumsOfGradient = factors + channels, sumsTimesNormalized = factors + 2 * channels
                                parallelRanges(channels, tasks: BLAS.threads) { range in
                                    for first in stride(from: range.lowerBound, to: range.upperBound, by: BatchNormalizationKernels.group) {
                                        let count = min(BatchNormalizationKernels.group, range.upperBound - first)
                                        let sums = kernels.gradientSums(gy, xhat, first: first, count: count)
                                        for lane in 0..<count {
                                            let c = first + lane
                                            if accumulates {
                                                gradients[scale + c] += sums.timesNormalized[lane]
                                                gradients[shift + c] += sums.gradient[lane]
                                            }
                                            factors[c] = values[scale + c] * inverseDeviation[c] / m
                                            sumsOfGradient[c] = sums.gradient[lane]
                                            sumsTimesNormalized[c] = sums.timesNormalized[lane]
                                        }
                                    }
                                    // ∂x = γ/σ · (∂y − mean(∂y) − x̂ · mean(∂y · x̂))
                                    kernels.inputGradient(channels: range, gy, xhat, factor: factors, sumGradient: sumsOfGradient,
                                                          sumTimesNormalized: sumsTimesNormalized, into: gx)
                                }
                            }
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: shape, storage: inputGradient)
    }
}
