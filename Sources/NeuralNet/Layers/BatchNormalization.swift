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
        let m = Float(n * area)
        var output = Tensor(zeros: input.shape)
        var normalized = [Float](repeating: 0, count: input.count)
        var inverseDeviation = [Float](repeating: 0, count: channels)
        let x = input.storage
        for c in 0..<channels {
            var mean: Float, variance: Float
            if training {
                var sum: Double = 0
                for item in 0..<n { for i in 0..<area { sum += Double(x[(item * channels + c) * area + i]) } }
                mean = Float(sum / Double(m))
                var squares: Double = 0
                for item in 0..<n { for i in 0..<area { let d = Double(x[(item * channels + c) * area + i] - mean); squares += d * d } }
                variance = Float(squares / Double(m))
                let unbiased = m > 1 ? variance * m / (m - 1) : variance
                store.values[runningMean + c] = (1 - momentum) * store.values[runningMean + c] + momentum * mean
                store.values[runningVariance + c] = (1 - momentum) * store.values[runningVariance + c] + momentum * unbiased
            } else {
                mean = store.values[runningMean + c]
                variance = store.values[runningVariance + c]
            }
            let inverse = 1 / (variance + epsilon).squareRoot()
            inverseDeviation[c] = inverse
            let gamma = store.values[scale + c], beta = store.values[shift + c]
            for item in 0..<n {
                for i in 0..<area {
                    let index = (item * channels + c) * area + i
                    let xhat = (x[index] - mean) * inverse
                    normalized[index] = xhat
                    output.storage[index] = gamma * xhat + beta
                }
            }
        }
        if training { cache.store((normalized, inverseDeviation, input.shape, true)) }
        return output
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (normalized, inverseDeviation, shape, _) = try cache.get(name)
        guard outputGradient.shape == shape else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe(shape), got: outputGradient.shape)
        }
        let (n, area) = try layout(shape)
        let m = Float(n * area)
        var inputGradient = Tensor(zeros: shape)
        let gy = outputGradient.storage
        for c in 0..<channels {
            var sumGradient: Float = 0, sumGradientTimesNormalized: Float = 0
            for item in 0..<n {
                for i in 0..<area {
                    let index = (item * channels + c) * area + i
                    sumGradient += gy[index]
                    sumGradientTimesNormalized += gy[index] * normalized[index]
                }
            }
            store.gradients[scale + c] += sumGradientTimesNormalized
            store.gradients[shift + c] += sumGradient
            let gamma = store.values[scale + c]
            let factor = gamma * inverseDeviation[c] / m
            for item in 0..<n {
                for i in 0..<area {
                    let index = (item * channels + c) * area + i
                    // ∂x = γ/σ · (∂y − mean(∂y) − x̂ · mean(∂y · x̂))
                    inputGradient.storage[index] = factor * (m * gy[index] - sumGradient - normalized[index] * sumGradientTimesNormalized)
                }
            }
        }
        return inputGradient
    }
}
