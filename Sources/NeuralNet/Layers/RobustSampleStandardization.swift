import Basics

/// Each sample brought to mean 0 and deviation 1 by statistics that a few extreme values do not
/// move, then clipped: `y = clamp((x − m) / √(s² + ε), −c, c)`, with `m` and `s²` the mean and
/// variance of the sample's values **winsorised** at its 5th and 95th percentiles (each value
/// below the lower one counted as it, each above the upper one as that; the percentiles are
/// order statistics, `v[⌊p · (n − 1)⌋]` of the sorted values, no interpolation).
///
/// Like ``SampleStandardization`` it undoes a brightness or contrast change of a sample (an
/// affine map of its values, order kept) wherever nothing clips, and has no parameters. Unlike
/// it, a small share of extreme values — the black corners of a photograph turned in place, the
/// strokes of a caption — hardly moves the mean and the deviation, and comes out at most `c` from
/// the mean: a nearly flat photo keeps its own shading at the scale a textured one has instead
/// of being shrunk to make room for them, and those values look alike whatever the photo's
/// contrast. Winsorised statistics still use every value (two percentiles alone would be moved
/// by a JPEG's ringing in a flat photo).
public final class RobustSampleStandardization: Layer {
    /// Used in error messages (the layer has no parameters to name).
    public let name: String
    /// Added to the winsorised variance: 10⁻⁴, a deviation of 0.01 (~2.5 of 255 in [0, 1]
    /// values), so a flat sample gives zeros instead of amplified noise.
    public static let epsilon: Double = 1e-4
    /// Outputs are clipped to [−c, c]: 3 deviations.
    public static let clip: Float = 3
    /// The share of values counted at each percentile instead of their own value, at either end.
    public static let winsorisedShare: Float = 0.05

    /// What a training pass keeps for ``backward(_:)``: its input and output, and each sample's statistics.
    private var cache = ForwardCache<(input: Tensor, output: Tensor, statistics: [Statistics])>()

    /// One sample's statistics: the positions (within the sample) of its lower and upper
    /// percentiles and their values, how many values sit at or beyond each, the winsorised mean
    /// and 1 / √(s² + ε).
    struct Statistics {
        let lowerPosition: Int, upperPosition: Int
        let lower: Float, upper: Float
        let atOrBelowLower: Int, atOrAboveUpper: Int
        let mean: Float, inverseDivisor: Float
    }

    public init(_ name: String) {
        self.name = name
    }

    /// Each sample of `input` (`N × …`) standardised; the same in training and inference, but
    /// only a training pass keeps what ``backward(_:)`` needs.
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        var statistics: [Statistics] = []
        statistics.reserveCapacity(input.batch)
        var scratch = [Float](repeating: 0, count: input.itemSize)
        let output = try standardizingEachSample(of: input, layer: name) { _, x, y in
            let sample = Statistics.of(x, scratch: &scratch)
            for i in x.indices { y[i] = min(Self.clip, max(-Self.clip, (x[i] - sample.mean) * sample.inverseDivisor)) }
            statistics.append(sample)
        }
        if training { cache.store((input, output, statistics)) }
        return output
    }

    /// With `d` the divisor, `z = (x − m) / d`, `G` the sum of the unclipped outputs' gradients
    /// and `P` the sum of those times `z`: `∂xⱼ = ∂yⱼ / d` (j unclipped) `− (G / d) ∂m/∂xⱼ −
    /// (P / 2d²) ∂s²/∂xⱼ`, where a value between the percentiles moves the winsorised mean by
    /// `1/n` and the variance by `2 (xⱼ − m) / n`, and a percentile's own value moves them as
    /// often as values are counted at it. Clipped outputs pass nothing.
    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (input, output, statistics) = try cache.get(name)
        guard outputGradient.shape == output.shape else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe(output.shape), got: outputGradient.shape)
        }
        let (samples, size) = (output.batch, output.itemSize)
        var inputGradient = outputGradient
        input.storage.withUnsafeBufferPointer { x in
            output.storage.withUnsafeBufferPointer { y in
                outputGradient.storage.withUnsafeBufferPointer { g in
                    inputGradient.storage.withUnsafeMutableBufferPointer { dx in
                        for n in 0..<samples {
                            let start = n * size, sample = statistics[n]
                            let d = 1 / Double(sample.inverseDivisor), m = Double(sample.mean), count = Double(size)
                            let (sum, projected) = outputGradientSums(g, y, start..<(start + size), within: Self.clip)
                            let meanShare = sum / d, varianceShare = projected / (2 * d * d)
                            for i in start..<(start + size) {
                                let own = abs(y[i]) < Self.clip ? Double(g[i]) / d : 0
                                let inside = x[i] > sample.lower && x[i] < sample.upper
                                let (meanMove, varianceMove) = inside ? (1 / count, 2 * (Double(x[i]) - m) / count) : (0, 0)
                                dx[i] = Float(own - meanShare * meanMove - varianceShare * varianceMove)
                            }
                            for (position, value, counted) in [(sample.lowerPosition, sample.lower, sample.atOrBelowLower),
                                                               (sample.upperPosition, sample.upper, sample.atOrAboveUpper)] {
                                let share = Double(counted) / count
                                dx[start + position] -= Float(meanShare * share + varianceShare * 2 * (Double(value) - m) * share)
                            }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

extension RobustSampleStandardization.Statistics {
    /// The statistics of `values`, selecting their percentiles in a copy of them in `scratch`
    /// (as many as the values; Hoare's selection, not a sort: a 32×32 RGB photo's 3,072 values
    /// are standardised for every image a store encodes).
    static func of(_ values: UnsafeBufferPointer<Float>, scratch: inout [Float]) -> Self {
        let count = values.count
        for i in 0..<count { scratch[i] = values[i] }
        let share = RobustSampleStandardization.winsorisedShare
        let lowerRank = Int(share * Float(count - 1)), upperRank = Int((1 - share) * Float(count - 1))
        scratch.partitionSmallest(count: lowerRank + 1)
        let lower = scratch[lowerRank]
        scratch.partitionSmallest(count: upperRank + 1)
        let upper = scratch[upperRank]
        let lowerPosition = position(ofRank: lowerRank, value: lower, in: values)
        let upperPosition = position(ofRank: upperRank, value: upper, in: values)
        var sum: Double = 0, squares: Double = 0, atOrBelow = 0, atOrAbove = 0
        for value in values {
            let kept = Double(min(upper, max(lower, value)))
            sum += kept
            squares += kept * kept
            if value <= lower { atOrBelow += 1 }
            if value >= upper { atOrAbove += 1 }
        }
        let mean = sum / Double(count), variance = max(0, squares / Double(count) - mean * mean)
        return Self(lowerPosition: lowerPosition, upperPosition: upperPosition, lower: lower, upper: upper,
                    atOrBelowLower: atOrBelow, atOrAboveUpper: atOrAbove, mean: Float(mean),
                    inverseDivisor: Float(1 / (variance + RobustSampleStandardization.epsilon).squareRoot()))
    }

    /// Where in `values` the entry of rank `rank` of their sorted copy (`value`) sits, equal
    /// values ranked in the order they come in `values`.
    private static func position(ofRank rank: Int, value: Float, in values: UnsafeBufferPointer<Float>) -> Int {
        var left = rank - values.reduce(0) { $1 < value ? $0 + 1 : $0 }
        for (i, v) in values.enumerated() where v == value {
            if left == 0 { return i }
            left -= 1
        }
        preconditionFailure("rank \(rank) of a sorted copy has no place in its values")
    }
}
