import Testing
@testable import NeuralNet

@Suite struct LinearAlgebraTests {
    @Test func eigenvectorsOfASymmetricMatrixSatisfyTheirEquation() throws {
        let n = 5
        var rng = SeededGenerator(seed: 3)
        let b = (0..<(n * n)).map { _ in rng.normal() }
        var a = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { a[i * n + j] += b[i * n + k] * b[j * n + k] } } }
        let (values, vectors) = try BLAS.symmetricEigen(a, n: n)
        #expect(values == values.sorted())
        for e in 0..<n {
            // Unit length and orthogonal to the others: a zero vector satisfies A·v = λ·v too.
            for f in 0..<n {
                var dot: Float = 0
                for i in 0..<n { dot += vectors[e * n + i] * vectors[f * n + i] }
                #expect(abs(dot - (e == f ? 1 : 0)) < 1e-4, "vectors \(e) and \(f)")
            }
            for i in 0..<n {
                var av: Float = 0
                for j in 0..<n { av += a[i * n + j] * vectors[e * n + j] }
                #expect(abs(av - values[e] * vectors[e * n + i]) < 1e-3 * max(1, abs(values[e])))
            }
        }
    }

    @Test(arguments: [(3, 5), (5, 3), (4, 4)])
    func singularValueDecompositionReconstructs(m: Int, n: Int) throws {
        var rng = SeededGenerator(seed: 4)
        let a = (0..<(m * n)).map { _ in rng.normal() }
        let (u, s, vt) = try BLAS.singularValueDecomposition(a, m: m, n: n)
        #expect(u.count == m * m && vt.count == n * n && s.count == min(m, n))
        #expect(s == s.sorted(by: >) && s.allSatisfy { $0 > 0 }, "singular values of a random matrix: positive, in decreasing order")
        // U and Vᵀ are orthogonal: a decomposition into zeros would reconstruct nothing, but check it apart.
        for (matrix, size) in [(u, m), (vt, n)] {
            for i in 0..<size {
                for j in 0..<size {
                    var dot: Float = 0
                    for k in 0..<size { dot += matrix[i * size + k] * matrix[j * size + k] }
                    #expect(abs(dot - (i == j ? 1 : 0)) < 1e-4)
                }
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var value: Float = 0
                for k in 0..<min(m, n) { value += u[i * m + k] * s[k] * vt[k * n + j] }
                #expect(abs(value - a[i * n + j]) < 1e-4)
            }
        }
    }
}
