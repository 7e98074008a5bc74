import CTrainingKernels

/// The arithmetic of ``BatchNormalization`` on `(N, C, area)` values, fast and exactly as the
/// plain per-channel loops, in `CTrainingKernels` (``TrainingKernel``): a channel's sums run over
/// its values in order (item by item, each plane in order), as one scalar chain would, but eight
/// channels at a time in the lanes of one vector, so eight chains advance together instead of
/// each addition waiting for the last; the per-value formulas run a plane (or a row of single
/// values) at a time; no multiply-add is fused. So the results, and every model trained through
/// them, are the same bit for bit as the scalar loops'.
struct BatchNormalizationKernels {
    /// The batch's shape: `items` × `channels` planes of `area` values.
    let items: Int
    let channels: Int
    let area: Int
    let kernel: TrainingKernel

    typealias Doubles = SIMD8<Double>
    typealias Floats = SIMD8<Float>
    /// Channels whose sums one call runs.
    static let group = Doubles.scalarCount

    /// Each channel's Σx and Σ(x − mean)² over `x`, the mean being Σx / m, in Double, for the
    /// `count` (≤ 8) channels from `first`.
    func sums(of x: UnsafePointer<Float>, first: Int, count: Int) -> (sum: Doubles, squares: Doubles) {
        var sum = Doubles(), squares = Doubles()
        Self.lanes(of: &sum) { sum in
            Self.lanes(of: &squares) { squares in
                bgan_normalization_sums(kernel.c, x, items, channels, area, first, count, sum, squares)
            }
        }
        return (sum, squares)
    }

    /// Each channel's Σ∂y and Σ∂y·x̂ in Float, for the `count` (≤ 8) channels from `first`.
    func gradientSums(_ gy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, first: Int, count: Int) -> (gradient: Floats, timesNormalized: Floats) {
        var gradient = Floats(), timesNormalized = Floats()
        Self.lanes(of: &gradient) { gradient in
            Self.lanes(of: &timesNormalized) { timesNormalized in
                bgan_normalization_gradient_sums(kernel.c, gy, xhat, items, channels, area, first, count, gradient, timesNormalized)
            }
        }
        return (gradient, timesNormalized)
    }

    /// `y = γ·x̂ + β` with `x̂ = (x − mean)·inverse` for the channels of `range`, each with its own
    /// constants (`mean[c]`, `inverse[c]`, `gamma[c]`, `beta[c]`); `x̂` kept in `xhat` when given.
    /// A plane at a time, or along each item's row when planes are single values.
    func normalize(_ x: UnsafePointer<Float>, channels range: Range<Int>, mean: UnsafePointer<Float>, inverse: UnsafePointer<Float>,
                   gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                   into y: UnsafeMutablePointer<Float>, keeping xhat: UnsafeMutablePointer<Float>?) {
        if area == 1 {
            let (first, count) = (range.lowerBound, range.count)
            for item in 0..<items {
                let base = item * channels + first
                bgan_normalize_row(kernel.c, count, x + base, mean + first, inverse + first, gamma + first, beta + first,
                                   y + base, xhat.map { $0 + base })
            }
            return
        }
        for c in range {
            for item in 0..<items {
                let base = (item * channels + c) * area
                bgan_normalize(kernel.c, area, x + base, mean[c], inverse[c], gamma[c], beta[c], y + base, xhat.map { $0 + base })
            }
        }
    }

    /// `∂x = factor·(m·∂y − Σ∂y − x̂·Σ∂y·x̂)` for the channels of `range`, each with its own
    /// `factor[c]`, `sumGradient[c]` and `sumTimesNormalized[c]`.
    func inputGradient(channels range: Range<Int>, _ gy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, factor: UnsafePointer<Float>,
                       sumGradient: UnsafePointer<Float>, sumTimesNormalized: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>) {
        let m = Float(items * area)
        if area == 1 {
            let (first, count) = (range.lowerBound, range.count)
            for item in 0..<items {
                let base = item * channels + first
                bgan_normalization_input_gradient_row(kernel.c, count, gy + base, xhat + base, factor + first, m,
                                                      sumGradient + first, sumTimesNormalized + first, gx + base)
            }
            return
        }
        for c in range {
            for item in 0..<items {
                let base = (item * channels + c) * area
                bgan_normalization_input_gradient(kernel.c, area, gy + base, xhat + base, factor[c], m, sumGradient[c],
                                                  sumTimesNormalized[c], gx + base)
            }
        }
    }

    /// The lanes of `vector` as a pointer to its scalars, for a C kernel to write.
    private static func lanes<Scalar: SIMDScalar>(of vector: inout SIMD8<Scalar>, _ body: (UnsafeMutablePointer<Scalar>) -> Void) {
        withUnsafeMutablePointer(to: &vector) { pointer in
            pointer.withMemoryRebound(to: Scalar.self, capacity: SIMD8<Scalar>.scalarCount, body)
        }
    }
}
