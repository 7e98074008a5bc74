import Basics

/// Losses: each returns the value and its gradient with respect to the prediction.
public enum Loss {
    /// Mean squared error, `mean((p − t)²)`.
    public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor) throws -> (value: Float, gradient: Tensor) {
        guard prediction.shape == target.shape else {
            throw NeuralNetError.shape("mean squared error", expected: "a target of shape \(Tensor.describe(prediction.shape))", got: target.shape)
        }
        let n = Float(max(prediction.count, 1))
        var sum: Double = 0
        var gradient = prediction
        for i in prediction.storage.indices {
            let d = prediction.storage[i] - target.storage[i]
            sum += Double(d * d)
            gradient.storage[i] = 2 * d / n
        }
        return (Float(sum / Double(n)), gradient)
    }

    /// Binary cross-entropy of sigmoid(logits) against targets in [0, 1], averaged, computed as
    /// `max(x, 0) − x·t + log(1 + e^{−|x|})` so large logits neither overflow nor lose precision.
    public static func binaryCrossEntropy(logits: Tensor, targets: Tensor) throws -> (value: Float, gradient: Tensor) {
        guard logits.shape == targets.shape else {
            throw NeuralNetError.shape("binary cross-entropy", expected: "targets of shape \(Tensor.describe(logits.shape))", got: targets.shape)
        }
        let n = Float(max(logits.count, 1))
        var sum: Double = 0
        var gradient = logits
        for i in logits.storage.indices {
            let x = logits.storage[i], t = targets.storage[i]
            sum += Double(max(x, 0) - x * t + log1pf(expf(-abs(x))))
            let sigmoid = x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
            gradient.storage[i] = (sigmoid - t) / n
        }
        return (Float(sum / Double(n)), gradient)
    }

    /// BGAN's neighbourhood-structure term, `mean(((1/L)·Z·Zᵀ − S)²)` over the pairs of a batch:
    /// `Z` is `(B, L)` (smoothed codes), `S` is `(B, B)` with ±1 similarities; a pair with S = 0 is
    /// ignored (left out of the sum and of the count the mean divides by). With `pairWeights`
    /// (`(B, B)`, non-negative) the mean is weighted: `Σ wᵢⱼ·dᵢⱼ² / Σ wᵢⱼ` over the pairs used.
    public static func pairwiseSimilarity(codes z: Tensor, similarity s: Tensor, pairWeights: Tensor? = nil) throws -> (value: Float, gradient: Tensor) {
        guard z.shape.count == 2 else { throw NeuralNetError.shape("pairwise similarity", expected: "codes (B, L)", got: z.shape) }
        let b = z.shape[0], l = z.shape[1]
        guard s.shape == [b, b] else { throw NeuralNetError.shape("pairwise similarity", expected: "similarities (\(b), \(b))", got: s.shape) }
        if let pairWeights, pairWeights.shape != [b, b] {
            throw NeuralNetError.shape("pairwise similarity", expected: "pair weights (\(b), \(b))", got: pairWeights.shape)
        }
        // D = (1/L)·Z·Zᵀ − S
        var d = [Float](repeating: 0, count: b * b)
        z.storage.withUnsafeBufferPointer { zp in
            d.withUnsafeMutableBufferPointer { dp in
                BLAS.gemm(transposeB: true, m: b, n: b, k: l, alpha: 1 / Float(l), a: zp.baseAddress!, lda: l,
                          b: zp.baseAddress!, ldb: l, c: dp.baseAddress!, ldc: b)
            }
        }
        // Pairs with S = 0 are ignored: no error, and not counted in the mean. From here on d
        // holds w·D, the weighted error.
        var sum: Double = 0
        var totalWeight: Double = 0
        for i in d.indices {
            let weight = s.storage[i] == 0 ? 0 : pairWeights?.storage[i] ?? 1
            let error = d[i] - s.storage[i]
            sum += Double(weight * error * error)
            totalWeight += Double(weight)
            d[i] = weight * error
        }
        let used = Float(totalWeight > 0 ? totalWeight : 1)
        // ∂Z = (2 / Σw) · (1/L) · (W∘D + (W∘D)ᵀ) · Z
        var symmetric = d
        for i in 0..<b { for j in 0..<b { symmetric[i * b + j] = d[i * b + j] + d[j * b + i] } }
        var gradient = Tensor(zeros: z.shape)
        symmetric.withUnsafeBufferPointer { dp in
            z.storage.withUnsafeBufferPointer { zp in
                gradient.storage.withUnsafeMutableBufferPointer { gp in
                    BLAS.gemm(m: b, n: l, k: b, alpha: 2 / (used * Float(l)), a: dp.baseAddress!, lda: b,
                              b: zp.baseAddress!, ldb: l, c: gp.baseAddress!, ldc: l)
                }
            }
        }
        return (Float(sum / Double(used)), gradient)
    }
}
