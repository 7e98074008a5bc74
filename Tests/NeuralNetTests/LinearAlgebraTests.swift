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
        for i in 0..<m {
            for j in 0..<n {
                var value: Float = 0
                for k in 0..<min(m, n) { value += u[i * m + k] * s[k] * vt[k * n + j] }
                #expect(abs(value - a[i * n + j]) < 1e-4)
            }
        }
    }
}
