import BGAN
import NeuralNet
import Testing

@Suite struct GraphSmoothingTests {
    /// Two clusters of `perCluster` points around centres 0 and `separation` on every axis.
    func clusters(perCluster: Int, dimension: Int, separation: Float) -> [Float] {
        var rng = SeededGenerator(seed: 50)
        return (0..<(2 * perCluster)).flatMap { i in
            (0..<dimension).map { _ in (i < perCluster ? 0 : separation) + rng.normal() }
        }
    }

    func spread(_ x: [Float], rows: Range<Int>, dimension: Int) -> Float {
        var mean = [Float](repeating: 0, count: dimension)
        for i in rows { for d in 0..<dimension { mean[d] += x[i * dimension + d] / Float(rows.count) } }
        var sum: Float = 0
        for i in rows { for d in 0..<dimension { let v = x[i * dimension + d] - mean[d]; sum += v * v } }
        return sum / Float(rows.count)
    }

    @Test func stepsPullEachClusterTogetherAndKeepThemApart() {
        let (n, dimension) = (200, 3)
        let x = clusters(perCluster: n, dimension: dimension, separation: 20)
        let graph = NearestNeighborLists(features: x, dimension: dimension, k: 10)
        let smoothed = GraphSmoothing.smooth(x, dimension: dimension, neighbors: graph, steps: 8)
        for rows in [0..<n, n..<(2 * n)] {
            #expect(spread(smoothed, rows: rows, dimension: dimension) < 0.5 * spread(x, rows: rows, dimension: dimension))
        }
        // Neighbours never cross the gap, so every point stays on its side.
        for i in 0..<(2 * n) {
            let center: Float = i < n ? 0 : 20
            let mean = (0..<dimension).map { smoothed[i * dimension + $0] }.reduce(0, +) / Float(dimension)
            #expect(abs(mean - center) < 5, "row \(i): \(mean)")
        }
    }

    @Test func zeroStepsAndConstantFeaturesChangeNothing() {
        let x = clusters(perCluster: 30, dimension: 2, separation: 5)
        let graph = NearestNeighborLists(features: x, dimension: 2, k: 4)
        #expect(GraphSmoothing.smooth(x, dimension: 2, neighbors: graph, steps: 0) == x)
        let constant = [Float](repeating: 1.5, count: x.count)
        let smoothed = GraphSmoothing.smooth(constant, dimension: 2, neighbors: graph, steps: 5)
        #expect(smoothed.allSatisfy { abs($0 - 1.5) < 1e-6 })
    }

    /// One step is ½ of a row plus ½ of its neighbours' mean, by hand.
    @Test func oneStepIsHalfTheRowPlusHalfItsNeighborsMean() {
        let x: [Float] = [0, 1, 3, 10]
        let graph = NearestNeighborLists(features: x, dimension: 1, k: 2)
        let smoothed = GraphSmoothing.smooth(x, dimension: 1, neighbors: graph, steps: 1)
        for i in 0..<4 {
            let mean = graph.of(i).map { x[Int($0)] }.reduce(0, +) / 2
            #expect(abs(smoothed[i] - (0.5 * x[i] + 0.5 * mean)) < 1e-6)
        }
    }
}
