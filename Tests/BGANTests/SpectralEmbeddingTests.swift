@testable import BGAN
import NeuralNet
import Testing

@Suite struct SpectralEmbeddingTests {
    /// `clusters` groups of `perCluster` points around distinct centres, with noise.
    func blobs(clusters: Int, perCluster: Int, dimension: Int, seed: UInt64 = 60) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        let centers = (0..<(clusters * dimension)).map { _ in 12 * rng.normal() }
        return (0..<(clusters * perCluster)).flatMap { i in
            (0..<dimension).map { d in centers[(i / perCluster) * dimension + d] + rng.normal() }
        }
    }

    func cosine(_ e: [Float], _ i: Int, _ j: Int, _ dimension: Int) -> Float {
        (0..<dimension).map { e[i * dimension + $0] * e[j * dimension + $0] }.reduce(0, +)
    }

    @Test func theGraphIsSymmetricWithoutLoopsOrRepeats() {
        let lists = NearestNeighborLists(features: blobs(clusters: 2, perCluster: 30, dimension: 3), dimension: 3, k: 5)
        let graph = SymmetricGraph(lists)
        var edges = Set<[Int]>()
        for i in 0..<lists.count {
            let row = graph.targets[graph.offsets[i]..<graph.offsets[i + 1]].map(Int.init)
            // Each image is its own nearest: the other four of its five are edges.
            #expect(!row.contains(i) && Set(row).count == row.count && row.count >= 4)
            #expect(graph.degrees[i] == Float(row.count))
            for j in row { edges.insert([i, j]) }
            for j in lists.of(i) where Int(j) != i { #expect(row.contains(Int(j))) }
        }
        #expect(edges.allSatisfy { edges.contains([$0[1], $0[0]]) })
    }

    @Test func clustersCollapseToTheirOwnDirections() throws {
        let (clusters, perCluster) = (3, 80)
        let lists = NearestNeighborLists(features: blobs(clusters: clusters, perCluster: perCluster, dimension: 4), dimension: 4, k: 8)
        let e = try SpectralEmbedding.embed(lists, dimensions: 2, iterations: 300)
        #expect(e.count == clusters * perCluster * 2)
        for i in 0..<(clusters * perCluster) { #expect(abs(cosine(e, i, i, 2) - 1) < 1e-4, "unit rows") }
        var within: Float = 1, between: Float = -1
        for i in stride(from: 0, to: clusters * perCluster, by: 7) {
            for j in stride(from: 3, to: clusters * perCluster, by: 11) where i != j {
                if i / perCluster == j / perCluster { within = min(within, cosine(e, i, j, 2)) } else { between = max(between, cosine(e, i, j, 2)) }
            }
        }
        #expect(within > 0.95 && between < 0.2, "least cosine within a cluster \(within), largest between clusters \(between)")
    }

    @Test func itAgreesWithADenseEigendecomposition() throws {
        // One noisy cloud: no cluster structure, distinct eigenvalues.
        let n = 70, dimensions = 3
        let lists = NearestNeighborLists(features: blobs(clusters: 1, perCluster: n, dimension: 2, seed: 61), dimension: 2, k: 6)
        let graph = SymmetricGraph(lists)
        var a = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            for edge in graph.offsets[i]..<graph.offsets[i + 1] {
                let j = Int(graph.targets[edge])
                a[i * n + j] = 1 / (graph.degrees[i] * graph.degrees[j]).squareRoot()
            }
        }
        let (_, vectors) = try BLAS.symmetricEigen(a, n: n)
        var dense = [Float](repeating: 0, count: n * dimensions)
        for i in 0..<n {
            for d in 0..<dimensions { dense[i * dimensions + d] = vectors[(n - 2 - d) * n + i] / graph.degrees[i].squareRoot() }
            let length = (0..<dimensions).map { dense[i * dimensions + $0] * dense[i * dimensions + $0] }.reduce(0, +).squareRoot()
            for d in 0..<dimensions { dense[i * dimensions + d] /= length }
        }
        let ours = try SpectralEmbedding.embed(lists, dimensions: dimensions, iterations: 3000)
        // Eigenvectors are defined up to sign: compare the cosines between images, which are not.
        var worst: Float = 0
        for i in 0..<n { for j in 0..<n { worst = max(worst, abs(cosine(ours, i, j, dimensions) - cosine(dense, i, j, dimensions))) } }
        #expect(worst < 1e-2, "largest cosine difference \(worst)")
    }

    /// Out of core — graph, vectors and result in files, blocks of 7 rows, one column or all of
    /// them per pass over the graph — the embedding is the one computed in memory, to rounding.
    @Test(arguments: [4 * 430, 1 << 24])
    func theEmbeddingComputedInFilesIsTheOneComputedInMemory(workingBytes: Int) throws {
        let n = 430, dimensions = 3
        let lists = NearestNeighborLists(features: blobs(clusters: 1, perCluster: n, dimension: 2, seed: 62), dimension: 2, k: 10)
        let memory = try SpectralEmbedding.embed(lists, dimensions: dimensions, iterations: 200)
        let kept = try SpectralEmbedding.embed(try NeighborListFile(lists), dimensions: dimensions, iterations: 200,
                                               workingBytes: workingBytes, rowsPerBlock: 7)
        #expect(kept.count == n && kept.dimension == dimensions)
        guard case .file = kept.storage else { Issue.record("the embedding should be kept in a file"); return }
        let values = try kept.values
        #expect(values.count == memory.count)
        // A coordinate's sign is the eigensolver's choice: align each column's before comparing.
        var worst: Float = 0
        for d in 0..<dimensions {
            let agreement = (0..<n).reduce(Float(0)) { $0 + values[$1 * dimensions + d] * memory[$1 * dimensions + d] }
            let sign: Float = agreement < 0 ? -1 : 1
            for i in 0..<n { worst = max(worst, abs(sign * values[i * dimensions + d] - memory[i * dimensions + d])) }
        }
        #expect(worst < 1e-3, "largest coordinate difference \(worst)")
        let graph = SymmetricGraph(lists)
        #expect(graph.degrees.contains { $0 != graph.degrees[0] }, "degrees differ, so the D^{-1/2} scalings are checked")
    }

    @Test func tooFewImagesAreRefused() {
        let lists = NearestNeighborLists(features: blobs(clusters: 1, perCluster: 8, dimension: 2), dimension: 2, k: 3)
        #expect(throws: BGANError.self) { try SpectralEmbedding.embed(lists, dimensions: 4) }
        #expect(throws: BGANError.self) { try SpectralEmbedding.embed(try NeighborListFile(lists), dimensions: 4, workingBytes: 1 << 20) }
    }
}

@Suite struct SimilarityBlendTests {
    @Test func blendedDotProductsAreTheWeightedSumOfBoth() throws {
        var rng = SeededGenerator(seed: 3)
        let a = try SimilarityEmbedding.cosines(of: (0..<(5 * 3)).map { _ in rng.normal() }, dimension: 3)
        let b = try SimilarityEmbedding.cosines(of: (0..<(5 * 4)).map { _ in rng.normal() }, dimension: 4)
        let blended = try SimilarityEmbedding.blend(a, b, weightOfSecond: 0.3)
        #expect(blended.dimension == 7 && blended.count == 5)
        func dot(_ e: SimilarityEmbedding, _ i: Int, _ j: Int) throws -> Float {
            let values = try e.values
            return (0..<e.dimension).reduce(0) { $0 + values[i * e.dimension + $1] * values[j * e.dimension + $1] }
        }
        for i in 0..<5 {
            #expect(try abs(dot(a, i, i) - 1) < 1e-5 && abs(dot(blended, i, i) - 1) < 1e-5, "rows stay of unit length")
            for j in 0..<5 { #expect(try abs(dot(blended, i, j) - (0.7 * dot(a, i, j) + 0.3 * dot(b, i, j))) < 1e-5) }
        }
        #expect(throws: (any Error).self) { try SimilarityEmbedding.blend(a, b, weightOfSecond: 1.5) }
    }
}
