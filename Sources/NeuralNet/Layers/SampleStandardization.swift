/// Each sample brought to mean 0 and standard deviation 1 over all of its values:
/// `y = (x − μ) / √(σ² + ε)`, with `μ` and `σ²` the mean and variance of the sample's values.
///
/// No parameters, and the same in training and inference. As an encoder's first layer it makes
/// the codes ignore a change of an image's brightness (values multiplied by a factor) or contrast
/// (differences from a value scaled by a factor) wherever nothing clips: both are affine maps of
/// every value, which the standardisation undoes. `ε` keeps a flat image (σ ≈ 0) from being
/// amplified: one of a single value gives zeros.
public final class SampleStandardization: Layer {
    /// Used in error messages (the layer has no parameters to name).
    public let name: String
    /// Added to each sample's variance: 10⁻⁴ is a standard deviation of 0.01, ~2.5 of 255 in
    /// [0, 1] pixel values.
    public let epsilon: Float
    /// Per sample: the standardised values and 1 / √(σ² + ε), for the backward pass.
    private var cache = ForwardCache<(output: Tensor, inverseDeviations: [Float])>()

    /// A standardisation named `name`, adding `epsilon` (positive) to each sample's variance.
    public init(_ name: String, epsilon: Float = 1e-4) {
        precondition(epsilon > 0, "ε must be positive")
        self.name = name
        self.epsilon = epsilon
    }

    /// Each sample of `input` (`N × …`) standardised; the same in training and inference, but
    /// only a training pass keeps what ``backward(_:)`` needs.
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        var inverseDeviations = [Float](repeating: 0, count: input.batch)
        let output = try standardizingEachSample(of: input, layer: name) { n, x, y in
            var sum: Double = 0
            for value in x { sum += Double(value) }
            let mean = sum / Double(x.count)
            var squares: Double = 0
            for value in x {
                let d = Double(value) - mean
                squares += d * d
            }
            let inverse = Float(1 / (squares / Double(x.count) + Double(epsilon)).squareRoot())
            let centre = Float(mean)
            for i in x.indices { y[i] = (x[i] - centre) * inverse }
            inverseDeviations[n] = inverse
        }
        if training { cache.store((output, inverseDeviations)) }
        return output
    }

    /// `∂x = (∂y − mean(∂y) − y · mean(∂y · y)) / √(σ² + ε)`, sample by sample.
    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (output, inverseDeviations) = try cache.get(name)
        guard outputGradient.shape == output.shape else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe(output.shape), got: outputGradient.shape)
        }
        let (samples, size) = (output.batch, output.itemSize)
        var inputGradient = outputGradient
        output.storage.withUnsafeBufferPointer { y in
            outputGradient.storage.withUnsafeBufferPointer { g in
                inputGradient.storage.withUnsafeMutableBufferPointer { dx in
                    for n in 0..<samples {
                        let start = n * size
                        let (sum, projected) = outputGradientSums(g, y, start..<(start + size))
                        let meanGradient = Float(sum / Double(size)), meanProjected = Float(projected / Double(size))
                        let inverse = inverseDeviations[n]
                        for i in start..<(start + size) { dx[i] = (g[i] - meanGradient - y[i] * meanProjected) * inverse }
                    }
                }
            }
        }
        return inputGradient
    }
}
