import Basics
import Foundation
import NeuralNet

/// The spectral embedding of a nearest-neighbour graph (Ng, Jordan, Weiss; Shi, Malik): the
/// leading eigenvectors of the normalised adjacency `D^{-1/2}·W·D^{-1/2}` of the symmetrised
/// k-NN graph, scaled by `D^{-1/2}`, without the trivial first one (`D^{1/2}·1`, eigenvalue 1),
/// each row scaled to unit length.
///
/// Where the k-NN graph joins images by chains of near neighbours, these few coordinates place
/// whole groups of such images together, far from other groups: the global structure that
/// nearest-neighbour lists alone lack. Computed by subspace iteration on `(I + A)/2` (whose
/// eigenvalues lie in [0, 1], the wanted ones largest) with a Rayleigh–Ritz step at the end: only
/// the `N × k` neighbour lists and `N × (dimensions + extra)` vectors are held, never `N × N`.
public enum SpectralEmbedding {
    /// Vectors iterated beyond the wanted ones, to speed convergence of the last wanted ones.
    public static let extraVectors = 7

    /// `dimensions` coordinates per image of `neighbors`' graph, `count × dimensions` row-major.
    /// - Parameters:
    ///   - iterations: steps of subspace iteration (400 converge on 60,000 Fashion-MNIST images).
    ///   - seed: of the random start.
    public static func embed(_ neighbors: NearestNeighborLists, dimensions: Int, iterations: Int = 400, seed: UInt64 = 1) throws -> [Float] {
        let n = neighbors.count, m = dimensions + extraVectors
        guard dimensions >= 1, n > m else {
            throw BGANError(.invalidArgument, "a spectral embedding of \(dimensions) dimensions needs more than \(m) images; there are \(n)")
        }
        let graph = SymmetricGraph(neighbors)
        // The trivial eigenvector (eigenvalue 1) is known, `D^{1/2}·1`: keep it out of the
        // iteration, so that on a graph of several components the wanted vectors still tell them
        // apart instead of mixing an arbitrary part of the constant in.
        var trivial = graph.degrees.map { $0.squareRoot() }
        let trivialLength = trivial.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for i in 0..<n { trivial[i] /= trivialLength }
        func withoutTrivial(_ x: [Float]) -> [Float] {
            var x = x
            for c in 0..<m {
                var along: Float = 0
                for i in 0..<n { along += trivial[i] * x[i * m + c] }
                for i in 0..<n { x[i * m + c] -= along * trivial[i] }
            }
            return x
        }
        var rng = SeededGenerator(seed: seed)
        var q = try orthonormalized(withoutTrivial((0..<(n * m)).map { _ in rng.normal() }), rows: n, columns: m)
        for _ in 0..<iterations {
            q = try orthonormalized(withoutTrivial(graph.halfLazyProduct(q, columns: m)), rows: n, columns: m)
        }
        // Rayleigh–Ritz: the best vectors of span(q), by the eigenvalues of qᵀ·M·q.
        let mq = graph.halfLazyProduct(q, columns: m)
        let h = gram(q, mq, rows: n, columns: m)
        let (_, vectors) = try BLAS.symmetricEigen(h, n: m)
        var embedding = [Float](repeating: 0, count: n * dimensions)
        for i in 0..<n {
            embedRow(q[(i * m)..<((i + 1) * m)], degree: graph.degrees[i], ritzVectors: vectors, dimensions: dimensions,
                     into: &embedding[(i * dimensions)..<((i + 1) * dimensions)])
        }
        return embedding
    }

    /// An image's coordinates from its row of the iterated vectors (`m` wide): the `dimensions`
    /// leading Ritz vectors' values, scaled by `D^{-1/2}`, then to unit length.
    static func embedRow(_ q: ArraySlice<Float>, degree: Float, ritzVectors vectors: [Float], dimensions: Int, into row: inout ArraySlice<Float>) {
        let m = q.count, scale = 1 / degree.squareRoot()
        var length: Float = 0
        for d in 0..<dimensions {
            // Eigenvalues ascend: the largest come last.
            let vector = m - 1 - d
            var value: Float = 0
            for c in 0..<m { value += q[q.startIndex + c] * vectors[vector * m + c] }
            value *= scale
            row[row.startIndex + d] = value
            length += value * value
        }
        let inverse = length > 0 ? 1 / length.squareRoot() : 0
        for d in 0..<dimensions { row[row.startIndex + d] *= inverse }
    }

    /// `aᵀ·b` of two `rows × columns` row-major matrices, `columns × columns`.
    static func gram(_ a: [Float], _ b: [Float], rows: Int, columns: Int) -> [Float] {
        var result = [Float](repeating: 0, count: columns * columns)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                result.withUnsafeMutableBufferPointer { rp in
                    BLAS.gemm(transposeA: true, m: columns, n: columns, k: rows, a: ap.baseAddress!, lda: columns,
                              b: bp.baseAddress!, ldb: columns, c: rp.baseAddress!, ldc: columns)
                }
            }
        }
        return result
    }

    /// The columns of `x` made orthonormal (`x·V·Λ^{-1/2}` from the eigenvectors of `xᵀx`).
    static func orthonormalized(_ x: [Float], rows: Int, columns: Int) throws -> [Float] {
        let transform = try orthonormalizing(gram: gram(x, x, rows: rows, columns: columns), columns: columns)
        var result = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            transform.withUnsafeBufferPointer { tp in
                result.withUnsafeMutableBufferPointer { rp in
                    BLAS.gemm(m: rows, n: columns, k: columns, a: xp.baseAddress!, lda: columns,
                              b: tp.baseAddress!, ldb: columns, c: rp.baseAddress!, ldc: columns)
                }
            }
        }
        return result
    }
}

extension SpectralEmbedding {
    /// `V·Λ^{-1/2}` (`columns × columns`, row-major) from the eigenvectors of the Gram matrix
    /// `xᵀx`: what makes the columns of `x` orthonormal when `x` is multiplied by it.
    static func orthonormalizing(gram: [Float], columns: Int) throws -> [Float] {
        let (values, vectors) = try BLAS.symmetricEigen(gram, n: columns)
        var transform = [Float](repeating: 0, count: columns * columns)
        let floor = (values.last ?? 1) * 1e-6
        for c in 0..<columns {
            let scale = 1 / max(values[c], floor).squareRoot()
            for r in 0..<columns { transform[r * columns + c] = vectors[c * columns + r] * scale }
        }
        return transform
    }
}

/// A k-NN graph made symmetric (an edge where either image lists the other), unweighted, as
/// compressed rows.
struct SymmetricGraph {
    let offsets: [Int]
    let targets: [Int32]
    /// Edges per image.
    let degrees: [Float]

    init(_ lists: NearestNeighborLists) {
        let n = lists.count
        var rows = [[Int32]](repeating: [], count: n)
        for i in 0..<n {
            for j in lists.of(i) where Int(j) != i {
                rows[i].append(j)
                rows[Int(j)].append(Int32(i))
            }
        }
        var offsets = [0], targets: [Int32] = []
        targets.reserveCapacity(2 * n * lists.k)
        for i in 0..<n {
            let unique = Set(rows[i]).sorted()
            targets += unique
            offsets.append(targets.count)
        }
        self.offsets = offsets
        self.targets = targets
        degrees = (0..<n).map { Float(max(offsets[$0 + 1] - offsets[$0], 1)) }
    }

    /// `(I + D^{-1/2}·W·D^{-1/2})/2 · x` for `x` of `count × columns`.
    func halfLazyProduct(_ x: [Float], columns: Int) -> [Float] {
        let n = degrees.count
        var result = [Float](repeating: 0, count: x.count)
        let scales = degrees.map { 1 / $0.squareRoot() }
        x.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                parallelRanges(n, tasks: ProcessInfo.processInfo.activeProcessorCount, minimumPerTask: 1024) { (rows: Range<Int>) in
                    for i in rows {
                        let row = target.baseAddress! + i * columns
                        for c in 0..<columns { row[c] = 0.5 * source[i * columns + c] }
                        for edge in offsets[i]..<offsets[i + 1] {
                            let j = Int(targets[edge])
                            let weight = 0.5 * scales[i] * scales[j]
                            for c in 0..<columns { row[c] += weight * source[j * columns + c] }
                        }
                    }
                }
            }
        }
        return result
    }
}
