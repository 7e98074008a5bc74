import Basics

extension Loss {
    /// The normalised-temperature cross-entropy of SimCLR (Chen et al. 2020, "NT-Xent") over
    /// `2N` embeddings whose rows `i` and `i + N` are two views of one image.
    ///
    /// Each row is scaled to unit length; for row `i` with partner `p(i)` the loss is
    /// `−log( exp(uᵢ·u_p/τ) / Σ_{k≠i} exp(uᵢ·u_k/τ) )`, averaged over all `2N` rows: each
    /// view must pick out its partner among every other view of the batch.
    /// - Parameters:
    ///   - z: `(2N, D)` embeddings, `N ≥ 1`.
    ///   - temperature: τ > 0; smaller values weigh the hardest negatives more.
    public static func normalizedTemperatureCrossEntropy(embeddings z: Tensor, temperature: Float) throws -> (value: Float, gradient: Tensor) {
        guard z.shape.count == 2, z.shape[0] >= 2, z.shape[0] % 2 == 0 else {
            throw NeuralNetError.shape("contrastive loss", expected: "embeddings (2N, D) with two views of each of N images", got: z.shape)
        }
        guard temperature > 0, temperature.isFinite else {
            throw NeuralNetError(.invalidArgument, "the contrastive loss needs a positive temperature, not \(temperature)")
        }
        let rows = z.shape[0], width = z.shape[1], half = rows / 2
        // u = z / |z|; a zero row stays zero (its gradient is then zero too).
        var lengths = [Float](repeating: 0, count: rows)
        var u = z.storage
        for i in 0..<rows {
            var sum: Float = 0
            for k in 0..<width { sum += z.storage[i * width + k] * z.storage[i * width + k] }
            lengths[i] = sum.squareRoot()
            let scale = lengths[i] > 0 ? 1 / lengths[i] : 0
            for k in 0..<width { u[i * width + k] *= scale }
        }
        // Logits uᵢ·u_k / τ, then each row's softmax over k ≠ i.
        var logits = [Float](repeating: 0, count: rows * rows)
        u.withUnsafeBufferPointer { up in
            logits.withUnsafeMutableBufferPointer { lp in
                BLAS.gemm(transposeB: true, m: rows, n: rows, k: width, alpha: 1 / temperature, a: up.baseAddress!, lda: width,
                          b: up.baseAddress!, ldb: width, c: lp.baseAddress!, ldc: rows)
            }
        }
        var total: Double = 0
        // From here on `logits` holds ∂loss/∂logits = (softmax − one-hot partner) / 2N.
        for i in 0..<rows {
            let partner = i < half ? i + half : i - half
            let partnerLogit = logits[i * rows + partner]
            var largest = -Float.infinity
            for k in 0..<rows where k != i { largest = max(largest, logits[i * rows + k]) }
            var sum: Float = 0
            for k in 0..<rows where k != i {
                let e = expf(logits[i * rows + k] - largest)
                logits[i * rows + k] = e
                sum += e
            }
            total += Double(largest + logf(sum) - partnerLogit)
            for k in 0..<rows { logits[i * rows + k] = k == i ? 0 : logits[i * rows + k] / sum / Float(rows) }
            logits[i * rows + partner] -= 1 / Float(rows)
        }
        // ∂u = (G + Gᵀ)·u / τ
        var symmetric = logits
        for i in 0..<rows { for k in 0..<rows { symmetric[i * rows + k] = logits[i * rows + k] + logits[k * rows + i] } }
        var unitGradient = [Float](repeating: 0, count: rows * width)
        symmetric.withUnsafeBufferPointer { gp in
            u.withUnsafeBufferPointer { up in
                unitGradient.withUnsafeMutableBufferPointer { dp in
                    BLAS.gemm(m: rows, n: width, k: rows, alpha: 1 / temperature, a: gp.baseAddress!, lda: rows,
                              b: up.baseAddress!, ldb: width, c: dp.baseAddress!, ldc: width)
                }
            }
        }
        // Back through the normalisation: ∂z = (∂u − u·(u·∂u)) / |z|.
        var gradient = Tensor(zeros: z.shape)
        for i in 0..<rows where lengths[i] > 0 {
            var along: Float = 0
            for k in 0..<width { along += u[i * width + k] * unitGradient[i * width + k] }
            for k in 0..<width {
                gradient.storage[i * width + k] = (unitGradient[i * width + k] - u[i * width + k] * along) / lengths[i]
            }
        }
        return (Float(total / Double(rows)), gradient)
    }
}
