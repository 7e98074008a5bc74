import CTrainingKernels

/// The arithmetic of ``BatchNormalization`` on `(N, C, area)` values, fast and exactly as the
/// plain per-channel loops, in `CTrainingKernels` (``TrainingKernel``): a channel's sums run over
/// its values in order (item by item, each plane in order), as one scalar chain would, but eight
/// channels at a time in the lanes of one vector, so eight chains advance together instead of
/// each addition waiting for the last; the per-value formulas run a plane at a time; no
/// multiply-add is fused. So the results, and every model trained through them, are the same
/// bit for bit as the scalar loops'.
struct BatchNormalizationKernels {
    let x: UnsafePointer<Float>
    let items: Int
    let channels: Int
    let area: Int
    let kernel: TrainingKernel

    typealias Doubles = SIMD8<Double>
    typealias Floats = SIMD8<Float>
    /// Channels whose sums one call runs.
    static let group = Doubles.scalarCount

    /// Each channel's Σx and Σ(x − mean)², the mean being Σx / m, in Double, for the `count` (≤ 8)
    /// channels from `first`.
    func sums(first: Int, count: Int) -> (sum: Doubles, squares: Doubles) {
        var sum = Doubles(), squares = Doubles()
        withUnsafeMutableBytes(of: &sum) { sum in
            withUnsafeMutableBytes(of: &squares) { squares in
                bgan_normalization_sums(kernel.c, x, items, channels, area, first, count,
                                        sum.baseAddress!.assumingMemoryBound(to: Double.self),
                                        squares.baseAddress!.assumingMemoryBound(to: Double.self))
            }
        }
        return (sum, squares)
    }

    /// Each channel's Σ∂y and Σ∂y·x̂ in Float, for the `count` (≤ 8) channels from `first`.
    func gradientSums(_ gy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, first: Int, count: Int) -> (gradient: Floats, timesNormalized: Floats) {
        var gradient = Floats(), timesNormalized = Floats()
        withUnsafeMutableBytes(of: &gradient) { gradient in
            withUnsafeMutableBytes(of: &timesNormalized) { timesNormalized in
                bgan_normalization_gradient_sums(kernel.c, gy, xhat, items, channels, area, first, count,
                                                 gradient.baseAddress!.assumingMemoryBound(to: Float.self),
                                                 timesNormalized.baseAddress!.assumingMemoryBound(to: Float.self))
            }
        }
        return (gradient, timesNormalized)
    }

    /// `y = γ·x̂ + β` with `x̂ = (x − mean)·inverse` for channel `channel`; `x̂` kept in `xhat` when given.
    func normalize(channel: Int, mean: Float, inverse: Float, gamma: Float, beta: Float,
                   into y: UnsafeMutablePointer<Float>, keeping xhat: UnsafeMutablePointer<Float>?) {
        for item in 0..<items {
            let base = (item * channels + channel) * area
            bgan_normalize(kernel.c, area, x + base, mean, inverse, gamma, beta, y + base, xhat.map { $0 + base })
        }
    }

    /// `∂x = factor·(m·∂y − Σ∂y − x̂·Σ∂y·x̂)` for channel `channel`.
    func inputGradient(channel: Int, _ gy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, factor: Float,
                       sumGradient: Float, sumTimesNormalized: Float, into gx: UnsafeMutablePointer<Float>) {
        let m = Float(items * area)
        for item in 0..<items {
            let base = (item * channels + channel) * area
            bgan_normalization_input_gradient(kernel.c, area, gy + base, xhat + base, factor, m, sumGradient, sumTimesNormalized, gx + base)
        }
    }
}
