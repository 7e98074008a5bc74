import CTrainingKernels

/// The arithmetic of ``BatchNormalization`` on `(N, C, area)` values, fast and exactly as the
/// plain per-channel loops: a channel's sums run over its values in order (item by item, each
/// plane in order), as one scalar chain would, but eight channels at a time in the lanes of one
/// vector, so eight chains advance together instead of each addition waiting for the last. The
/// per-value formulas run a plane at a time in `CTrainingKernels` (``TrainingKernel``); no
/// multiply-add is fused. So the results,
/// and every model trained through them, are the same bit for bit as the scalar loops'.
struct BatchNormalizationKernels {
    let x: UnsafePointer<Float>
    let items: Int
    let channels: Int
    let area: Int
    let kernel: TrainingKernel

    typealias Doubles = SIMD8<Double>
    typealias Floats = SIMD8<Float>
    static let group = Doubles.scalarCount

    /// Offsets of a group's channels from its first; lanes past `count` repeat the last channel
    /// (their results are not used).
    private func laneOffsets(count: Int) -> SIMD8<Int> {
        var offsets = SIMD8<Int>()
        for lane in 0..<Self.group { offsets[lane] = min(lane, count - 1) * area }
        return offsets
    }

    /// Values `i` of the planes of `item` for the group of channels at `first`.
    @inline(__always)
    private func gather(_ values: UnsafePointer<Float>, item: Int, first: Int, offsets: SIMD8<Int>, _ i: Int) -> Floats {
        let base = values + (item * channels + first) * area + i
        return Floats(base[offsets[0]], base[offsets[1]], base[offsets[2]], base[offsets[3]],
                      base[offsets[4]], base[offsets[5]], base[offsets[6]], base[offsets[7]])
    }

    /// Each channel's Σx and Σ(x − mean)², the mean being Σx / m, in Double, for the `count` (≤ 8)
    /// channels from `first`.
    func sums(first: Int, count: Int) -> (sum: Doubles, squares: Doubles) {
        let offsets = laneOffsets(count: count)
        let m = Double(items * area)
        var sum = Doubles()
        for item in 0..<items {
            for i in 0..<area { sum += Doubles(gather(x, item: item, first: first, offsets: offsets, i)) }
        }
        let mean = sum / m
        var squares = Doubles()
        for item in 0..<items {
            for i in 0..<area {
                let d = Doubles(gather(x, item: item, first: first, offsets: offsets, i)) - mean
                squares += d * d
            }
        }
        return (sum, squares)
    }

    /// Each channel's Σ∂y and Σ∂y·x̂ in Float, for the `count` (≤ 8) channels from `first`.
    func gradientSums(_ gy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, first: Int, count: Int) -> (gradient: Floats, timesNormalized: Floats) {
        let offsets = laneOffsets(count: count)
        var gradient = Floats(), timesNormalized = Floats()
        for item in 0..<items {
            for i in 0..<area {
                let g = gather(gy, item: item, first: first, offsets: offsets, i)
                gradient += g
                timesNormalized += g * gather(xhat, item: item, first: first, offsets: offsets, i)
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
