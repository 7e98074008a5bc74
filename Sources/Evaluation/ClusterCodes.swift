import NeuralNet

/// A deliberately bad hash: k-means clusters of the features, each cluster one random code.
///
/// Every item of a cluster gets the same code, so these codes carry cluster membership and
/// nothing finer. A metric on which this baseline scores like a learned hash measures
/// clustering, not hashing: mAP@all rewards it; tie-aware P@10, distinct codes and
/// near-duplicate recall expose it.
public struct ClusterCodes: Sendable {
    public let dimension: Int
    public let bitCount: Int
    /// `clusters × dimension` centroids, row-major.
    public let centroids: [Float]
    /// One ±1 code (`bitCount` values) per cluster.
    let clusterSigns: [Float]

    public var clusterCount: Int { centroids.count / dimension }

    /// Lloyd's k-means with k-means++ seeding (on up to 10,000 sampled rows) over `features`
    /// (`N × dimension`), then a seeded random code per cluster.
    public init(training features: [Float], dimension: Int, clusters: Int, bits: Int, iterations: Int = 20, seed: UInt64) {
        let n = features.count / dimension
        precondition(n >= clusters && clusters >= 1, "k-means needs at least as many rows as clusters")
        self.dimension = dimension
        bitCount = bits
        var rng = SeededGenerator(seed: seed)
        // k-means++ on a sample: each new centre drawn with probability ∝ squared distance.
        let sample = n <= 10_000 ? Array(0..<n) : (0..<10_000).map { _ in Int(rng.next() % UInt64(n)) }
        var centers = Array(features[(sample[0] * dimension)..<((sample[0] + 1) * dimension)])
        var nearest = [Float](repeating: .infinity, count: sample.count)
        for chosen in 1..<clusters {
            let last = centers[((chosen - 1) * dimension)..<(chosen * dimension)]
            for (j, row) in sample.enumerated() {
                var d: Float = 0
                for (t, c) in zip(0..<dimension, last) { let e = features[row * dimension + t] - c; d += e * e }
                nearest[j] = min(nearest[j], d)
            }
            let total = nearest.reduce(0, +)
            var target = Float(rng.unit()) * total, pick = sample.count - 1
            for (j, d) in nearest.enumerated() {
                target -= d
                if target <= 0 { pick = j; break }
            }
            centers += features[(sample[pick] * dimension)..<((sample[pick] + 1) * dimension)]
        }
        for _ in 0..<iterations {
            let assignment = Self.assign(features, centroids: centers, dimension: dimension)
            var sums = [Float](repeating: 0, count: clusters * dimension)
            var counts = [Int](repeating: 0, count: clusters)
            for (row, cluster) in assignment.enumerated() {
                counts[cluster] += 1
                for t in 0..<dimension { sums[cluster * dimension + t] += features[row * dimension + t] }
            }
            for cluster in 0..<clusters where counts[cluster] > 0 {
                for t in 0..<dimension { centers[cluster * dimension + t] = sums[cluster * dimension + t] / Float(counts[cluster]) }
            }
        }
        centroids = centers
        clusterSigns = (0..<(clusters * bits)).map { _ in rng.next() & 1 == 0 ? -1 : 1 }
    }

    /// The code of each row of `features`: its nearest centroid's.
    public func encode(_ features: [Float]) -> PackedCodes {
        let assignment = Self.assign(features, centroids: centroids, dimension: dimension)
        var signs = [Float]()
        signs.reserveCapacity(assignment.count * bitCount)
        for cluster in assignment { signs += clusterSigns[(cluster * bitCount)..<((cluster + 1) * bitCount)] }
        return PackedCodes(signsOf: signs, bitCount: bitCount)
    }

    /// Index of the nearest centroid of every row (squared Euclidean distance through one
    /// matrix product: ‖x − c‖² = ‖x‖² − 2·x·c + ‖c‖², the ‖x‖² being the same for every c).
    static func assign(_ features: [Float], centroids: [Float], dimension: Int) -> [Int] {
        let n = features.count / dimension, k = centroids.count / dimension
        var products = [Float](repeating: 0, count: n * k)
        features.withUnsafeBufferPointer { x in
            centroids.withUnsafeBufferPointer { c in
                products.withUnsafeMutableBufferPointer { p in
                    BLAS.gemm(transposeB: true, m: n, n: k, k: dimension, a: x.baseAddress!, lda: dimension,
                              b: c.baseAddress!, ldb: dimension, c: p.baseAddress!, ldc: k)
                }
            }
        }
        let norms = (0..<k).map { j in centroids[(j * dimension)..<((j + 1) * dimension)].reduce(Float(0)) { $0 + $1 * $1 } }
        return (0..<n).map { row in
            var best = 0, bestValue = Float.infinity
            for j in 0..<k {
                let value = norms[j] - 2 * products[row * k + j]
                if value < bestValue { bestValue = value; best = j }
            }
            return best
        }
    }
}
