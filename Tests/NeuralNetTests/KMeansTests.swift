import NeuralNet
import Testing

@Suite struct KMeansTests {
    func bruteForceNearest(_ x: [Float], centroids: [Float], dimension: Int) -> [[Int32]] {
        let n = x.count / dimension, k = centroids.count / dimension
        return (0..<n).map { i in
            (0..<k).map { j -> (Double, Int) in
                var d = 0.0
                for t in 0..<dimension { let v = Double(x[i * dimension + t] - centroids[j * dimension + t]); d += v * v }
                return (d, j)
            }.sorted { $0 < $1 }.map { Int32($0.1) }
        }
    }

    @Test(arguments: [KMeans.Seeding.plusPlus, .randomRows])
    func nearestCentroidsAreInOrderOfDistance(seeding: KMeans.Seeding) {
        var rng = SeededGenerator(seed: 21)
        let x = (0..<(1_500 * 6)).map { _ in rng.normal() }
        let means = KMeans(training: x, dimension: 6, clusters: 17, iterations: 5, seeding: seeding, seed: 4)
        #expect(means.clusterCount == 17)
        let nearest = means.nearest(x, count: 3)
        let expected = bruteForceNearest(x, centroids: means.centroids, dimension: 6)
        var disagreements = 0
        for i in 0..<1_500 where Array(nearest[(i * 3)..<(i * 3 + 3)]) != Array(expected[i].prefix(3)) { disagreements += 1 }
        // Float products against Double distances may swap a near tie, nothing more.
        #expect(disagreements <= 3, "\(disagreements) rows differ")
        #expect(means.assignment(of: x) == (0..<1_500).map { nearest[$0 * 3] })
    }

    @Test func lloydStepsFindSeparatedBlobs() {
        var rng = SeededGenerator(seed: 2)
        let centres: [[Float]] = [[0, 0], [20, 0], [0, 20], [20, 20]]
        var x = [Float]()
        for i in 0..<400 { x += [centres[i % 4][0] + rng.normal(), centres[i % 4][1] + rng.normal()] }
        let means = KMeans(training: x, dimension: 2, clusters: 4, iterations: 20, seeding: .plusPlus, seed: 1)
        let found = (0..<4).map { [means.centroids[$0 * 2], means.centroids[$0 * 2 + 1]] }
        for centre in centres {
            let closest = found.map { ($0[0] - centre[0]) * ($0[0] - centre[0]) + ($0[1] - centre[1]) * ($0[1] - centre[1]) }.min()!
            #expect(closest < 0.2, "no centroid near \(centre)")
        }
        let assignment = means.assignment(of: x)
        for i in 0..<400 { #expect(assignment[i] == assignment[i % 4], "point \(i) left its blob") }
    }

    /// Rows read a block at a time in every step give the centroids of the rows held whole.
    @Test(arguments: [512, 1_024, 1 << 14])
    func rowsReadInBlocksTrainTheSameCentroids(rowsPerBlock: Int) {
        var rng = SeededGenerator(seed: 23)
        let n = 2_300, dimension = 5
        let x = (0..<(n * dimension)).map { _ in rng.normal() }
        let held = KMeans(training: x, dimension: dimension, clusters: 40, iterations: 6, seeding: .randomRows, seed: 8)
        var requested = 0
        let read = KMeans(trainingRows: n, dimension: dimension, clusters: 40, iterations: 6, seed: 8, rowsPerBlock: rowsPerBlock) { indices in
            requested = max(requested, indices.count)
            return indices.flatMap { x[($0 * dimension)..<(($0 + 1) * dimension)] }
        }
        #expect(read.centroids == held.centroids)
        #expect(requested <= max(rowsPerBlock, 40), "no read asks for more than a block of rows")
    }
}
