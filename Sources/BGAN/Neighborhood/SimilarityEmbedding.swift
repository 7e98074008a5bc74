import NeuralNet

/// Features of every training image whose dot products are the similarity targets of the
/// neighbourhood loss, in place of S's ±1. Rows are meant to have unit length (as a
/// ``SpectralEmbedding``'s do), so that the targets are cosines in [−1, 1]; they are used as given,
/// so that a checkpoint restores them bit for bit.
public struct SimilarityEmbedding: Sendable, Equatable {
    /// `count × dimension`, row-major, rows of unit length.
    public let values: [Float]
    public let dimension: Int

    /// - Throws: when `values` are not whole rows of `dimension`.
    public init(values: [Float], dimension: Int) throws {
        guard dimension >= 1, values.count % dimension == 0 else {
            throw BGANError(.invalidArgument, "\(values.count) values are not whole rows of \(dimension)")
        }
        self.values = values
        self.dimension = dimension
    }

    public var count: Int { values.count / dimension }

    /// Rows of `features` (`N × dimension`) scaled to unit length (an all-zero row stays zero):
    /// targets that are the features' cosines.
    public static func cosines(of features: [Float], dimension: Int) throws -> SimilarityEmbedding {
        var rows = features
        for start in stride(from: 0, to: rows.count, by: dimension) {
            let norm = rows[start..<(start + dimension)].reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for i in start..<(start + dimension) { rows[i] /= norm } }
        }
        return try SimilarityEmbedding(values: rows, dimension: dimension)
    }

    /// Rows `[√(1 − w)·aᵢ, √w·bᵢ]`, whose dot products are `(1 − w)·aᵢ·aⱼ + w·bᵢ·bⱼ`: targets
    /// that keep `a`'s coarse structure (a spectral embedding's clusters) and `b`'s finer one
    /// (learned features' local similarities) at once, still cosines when both are.
    /// - Throws: when the two do not describe the same images or `w` is outside [0, 1].
    public static func blend(_ a: SimilarityEmbedding, _ b: SimilarityEmbedding, weightOfSecond w: Float) throws -> SimilarityEmbedding {
        guard a.count == b.count else {
            throw BGANError(.invalidArgument, "cannot blend targets of \(a.count) and \(b.count) images")
        }
        guard (0...1).contains(w) else { throw BGANError(.invalidArgument, "a blend weight is between 0 and 1, not \(w)") }
        let scaleA = (1 - w).squareRoot(), scaleB = w.squareRoot()
        var values: [Float] = []
        values.reserveCapacity(a.values.count + b.values.count)
        for row in 0..<a.count {
            values += a.values[(row * a.dimension)..<((row + 1) * a.dimension)].map { $0 * scaleA }
            values += b.values[(row * b.dimension)..<((row + 1) * b.dimension)].map { $0 * scaleB }
        }
        return try SimilarityEmbedding(values: values, dimension: a.dimension + b.dimension)
    }

    /// The dot products (cosines) of the rows `batch`, `batch.count × batch.count`. (A cosine of exactly 0
    /// leaves its pair out of the loss, as S = 0 does: only an all-zero row gives one.)
    func cosines(_ batch: [Int]) -> [Float] {
        let rows = batch.flatMap { values[($0 * dimension)..<(($0 + 1) * dimension)] }
        var result = [Float](repeating: 0, count: batch.count * batch.count)
        rows.withUnsafeBufferPointer { rp in
            result.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(transposeB: true, m: batch.count, n: batch.count, k: dimension, a: rp.baseAddress!, lda: dimension,
                          b: rp.baseAddress!, ldb: dimension, c: cp.baseAddress!, ldc: batch.count)
            }
        }
        return result
    }
}
