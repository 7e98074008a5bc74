/// Principal component analysis through OpenBLAS: the mean of the rows and the `dimensions`
/// directions of largest variance.
public struct PrincipalComponents: Sendable {
    public let inputDimension: Int
    public let dimensions: Int
    public let mean: [Float]
    /// `inputDimension × dimensions`, row-major; column `l` is the l-th principal direction.
    public let basis: [Float]

    /// Fits the components of `features` (`n × dimension`, row-major).
    /// - Throws: when LAPACK's eigensolver fails, or `dimensions` is not in `1...dimension`.
    public init(features: [Float], dimension: Int, dimensions: Int) throws {
        guard dimension > 0, dimensions >= 1, dimensions <= dimension, features.count % dimension == 0 else {
            throw NeuralNetError(.invalidArgument, "cannot take \(dimensions) principal components of \(dimension)-dimensional features")
        }
        let n = features.count / dimension
        var mean = [Float](repeating: 0, count: dimension)
        for row in 0..<n { for j in 0..<dimension { mean[j] += features[row * dimension + j] } }
        for j in 0..<dimension { mean[j] /= Float(max(n, 1)) }
        let centered = Self.center(features, mean: mean)
        var covariance = [Float](repeating: 0, count: dimension * dimension)
        centered.withUnsafeBufferPointer { x in
            covariance.withUnsafeMutableBufferPointer { c in
                BLAS.gemm(transposeA: true, m: dimension, n: dimension, k: n, alpha: 1 / Float(max(n - 1, 1)),
                          a: x.baseAddress!, lda: dimension, b: x.baseAddress!, ldb: dimension, c: c.baseAddress!, ldc: dimension)
            }
        }
        let (_, eigenvectors) = try BLAS.symmetricEigen(covariance, n: dimension)
        // Eigenvalues ascend: the last rows are the principal directions.
        var basis = [Float](repeating: 0, count: dimension * dimensions)
        for l in 0..<dimensions {
            let vector = dimension - 1 - l
            for j in 0..<dimension { basis[j * dimensions + l] = eigenvectors[vector * dimension + j] }
        }
        inputDimension = dimension
        self.dimensions = dimensions
        self.mean = mean
        self.basis = basis
    }

    /// `features` (`n × inputDimension`) projected onto the components (`n × dimensions`).
    public func project(_ features: [Float]) -> [Float] {
        let centered = Self.center(features, mean: mean)
        let n = features.count / inputDimension
        var projected = [Float](repeating: 0, count: n * dimensions)
        centered.withUnsafeBufferPointer { x in
            basis.withUnsafeBufferPointer { p in
                projected.withUnsafeMutableBufferPointer { y in
                    BLAS.gemm(m: n, n: dimensions, k: inputDimension, a: x.baseAddress!, lda: inputDimension, b: p.baseAddress!,
                              ldb: dimensions, c: y.baseAddress!, ldc: dimensions)
                }
            }
        }
        return projected
    }

    private static func center(_ features: [Float], mean: [Float]) -> [Float] {
        var centered = features
        let dimension = mean.count
        for i in centered.indices { centered[i] -= mean[i % dimension] }
        return centered
    }
}
