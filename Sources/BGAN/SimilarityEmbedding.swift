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
            throw NeuralNetError(.invalidArgument, "\(values.count) values are not whole rows of \(dimension)")
        }
        self.values = values
        self.dimension = dimension
    }

    public var count: Int { values.count / dimension }

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
