import NeuralNet

/// A linear hash: `code = sign((x − mean) · projection)`, with `projection` `D × L` row-major.
public struct LinearHash: Sendable {
    public let inputDimension: Int
    public let bitCount: Int
    public let mean: [Float]
    public let projection: [Float]

    /// Codes of the rows of `features` (`N × D`, row-major).
    public func encode(_ features: [Float]) -> PackedCodes {
        let n = features.count / inputDimension
        var centered = features
        for row in 0..<n { for j in 0..<inputDimension { centered[row * inputDimension + j] -= mean[j] } }
        var projected = [Float](repeating: 0, count: n * bitCount)
        centered.withUnsafeBufferPointer { x in
            projection.withUnsafeBufferPointer { w in
                projected.withUnsafeMutableBufferPointer { y in
                    BLAS.gemm(m: n, n: bitCount, k: inputDimension, a: x.baseAddress!, lda: inputDimension,
                              b: w.baseAddress!, ldb: bitCount, c: y.baseAddress!, ldc: bitCount)
                }
            }
        }
        return PackedCodes(signsOf: projected, bitCount: bitCount)
    }

    /// Column means of `features`.
    static func columnMeans(_ features: [Float], dimension: Int) -> [Float] {
        let n = features.count / dimension
        var sums = [Double](repeating: 0, count: dimension)
        for row in 0..<n { for j in 0..<dimension { sums[j] += Double(features[row * dimension + j]) } }
        return sums.map { Float($0 / Double(max(n, 1))) }
    }

    /// Locality-sensitive hashing (Charikar): random Gaussian hyperplanes through the data's mean.
    public static func lsh(training features: [Float], dimension: Int, bits: Int, seed: UInt64) -> LinearHash {
        var rng = SeededGenerator(seed: seed)
        let projection = (0..<(dimension * bits)).map { _ in rng.normal() }
        return LinearHash(inputDimension: dimension, bitCount: bits, mean: columnMeans(features, dimension: dimension), projection: projection)
    }

    /// Iterative quantisation (Gong & Lazebnik, CVPR 2011): PCA to `bits` dimensions, then the
    /// rotation that best aligns the projected data with the vertices of the hypercube,
    /// alternating `B = sign(V·R)` and the orthogonal Procrustes solution for `R`.
    public static func itq(training features: [Float], dimension: Int, bits: Int, iterations: Int = 50, seed: UInt64) throws -> LinearHash {
        let n = features.count / dimension
        let components = try PrincipalComponents(features: features, dimension: dimension, dimensions: bits)
        let (mean, pca) = (components.mean, components.basis)
        let v = components.project(features)
        // A random orthogonal start: the U of a Gaussian matrix's SVD.
        var rng = SeededGenerator(seed: seed)
        var rotation = try BLAS.singularValueDecomposition((0..<(bits * bits)).map { _ in rng.normal() }, m: bits, n: bits).u
        var projected = [Float](repeating: 0, count: n * bits)
        var b = [Float](repeating: 0, count: n * bits)
        for _ in 0..<iterations {
            multiply(v, rotation, into: &projected, n: n, bits: bits)
            for i in projected.indices { b[i] = projected[i] > 0 ? 1 : -1 }
            // Procrustes: C = Bᵀ·V = U·S·Wᵀ (L × L); R = W·Uᵀ.
            var c = [Float](repeating: 0, count: bits * bits)
            b.withUnsafeBufferPointer { bp in
                v.withUnsafeBufferPointer { vp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.gemm(transposeA: true, m: bits, n: bits, k: n, a: bp.baseAddress!, lda: bits, b: vp.baseAddress!, ldb: bits,
                                  c: cp.baseAddress!, ldc: bits)
                    }
                }
            }
            let (u, _, wt) = try BLAS.singularValueDecomposition(c, m: bits, n: bits)
            // R = W · Uᵀ = (Wᵀ)ᵀ · Uᵀ
            var r = [Float](repeating: 0, count: bits * bits)
            wt.withUnsafeBufferPointer { w in
                u.withUnsafeBufferPointer { up in
                    r.withUnsafeMutableBufferPointer { rp in
                        BLAS.gemm(transposeA: true, transposeB: true, m: bits, n: bits, k: bits, a: w.baseAddress!, lda: bits,
                                  b: up.baseAddress!, ldb: bits, c: rp.baseAddress!, ldc: bits)
                    }
                }
            }
            rotation = r
        }
        // The whole linear map: PCA (D × L) then the rotation (L × L).
        var combined = [Float](repeating: 0, count: dimension * bits)
        multiply(pca, rotation, into: &combined, n: dimension, bits: bits)
        return LinearHash(inputDimension: dimension, bitCount: bits, mean: mean, projection: combined)
    }

    /// `out = a (n × bits) · r (bits × bits)`.
    private static func multiply(_ a: [Float], _ r: [Float], into out: inout [Float], n: Int, bits: Int) {
        a.withUnsafeBufferPointer { ap in
            r.withUnsafeBufferPointer { rp in
                out.withUnsafeMutableBufferPointer { op in
                    BLAS.gemm(m: n, n: bits, k: bits, a: ap.baseAddress!, lda: bits, b: rp.baseAddress!, ldb: bits, c: op.baseAddress!, ldc: bits)
                }
            }
        }
    }
}
