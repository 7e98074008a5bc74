import Basics

/// Lloyd's k-means over the rows of a feature matrix: the centroids, and the nearest centroids of
/// any rows (squared Euclidean distances through ``nearestRows(of:in:databaseNorms:dimension:k:blockRows:)``,
/// never N × clusters of them at once).
///
/// The one k-means of the package: the evaluation's cluster-id baseline (`ClusterCodes`) and
/// the inverted file behind approximate neighbour lists both train one.
public struct KMeans: Sendable {
    /// How the first centroids are chosen.
    public enum Seeding: Sendable {
        /// k-means++ on up to 10,000 sampled rows: each new centre drawn with probability ∝
        /// its squared distance to the nearest centre so far. Costs clusters × sample ×
        /// dimension; the better start for a few dozen clusters.
        case plusPlus
        /// Distinct rows drawn at random: costs nothing, and is what thousands of clusters
        /// (an inverted file's cells) can afford.
        case randomRows
    }

    public let dimension: Int
    /// `clusters × dimension` centroids, row-major.
    public let centroids: [Float]

    public var clusterCount: Int { centroids.count / dimension }

    /// Trains `clusters` centroids on `features` (`N × dimension`, row-major, N ≥ clusters) with
    /// `iterations` Lloyd steps. A cluster left empty by a step keeps its centroid.
    public init(training features: [Float], dimension: Int, clusters: Int, iterations: Int = 20,
                seeding: Seeding = .plusPlus, seed: UInt64) {
        let n = features.count / dimension
        precondition(n >= clusters && clusters >= 1, "k-means needs at least as many rows as clusters")
        self.dimension = dimension
        var rng = SeededGenerator(seed: seed)
        var centers: [Float]
        switch seeding {
        case .plusPlus: centers = Self.plusPlusCentres(features, dimension: dimension, clusters: clusters, rng: &rng)
        case .randomRows: centers = gatherRows(rng.distinctIndices(clusters, below: n), of: features, dimension: dimension)
        }
        Self.lloydSteps(&centers, dimension: dimension, iterations: iterations) { visit in visit(features) }
        centroids = centers
    }

    /// The centroids ``init(training:dimension:clusters:iterations:seeding:seed:)`` trains with
    /// ``Seeding/randomRows`` on `count` rows, the same values, read through `rows` (row
    /// indices → their values, row after row) a block of `rowsPerBlock` at a time in every
    /// step instead of held: an inverted file's k-means over 100,000 rows of 784 pixels would
    /// otherwise hold 314 MB.
    public init(trainingRows count: Int, dimension: Int, clusters: Int, iterations: Int = 20, seed: UInt64, rowsPerBlock: Int = 16_384,
                rows: ([Int]) throws -> [Float]) rethrows {
        precondition(count >= clusters && clusters >= 1, "k-means needs at least as many rows as clusters")
        // Whole multiples of the nearest-centroid search's own blocks, so that each row's distances come from the same products.
        precondition(rowsPerBlock > 0 && rowsPerBlock % 512 == 0, "blocks are whole multiples of 512 rows")
        self.dimension = dimension
        var rng = SeededGenerator(seed: seed)
        var centers = try rows(rng.distinctIndices(clusters, below: count))
        try Self.lloydSteps(&centers, dimension: dimension, iterations: iterations) { visit in
            for first in stride(from: 0, to: count, by: rowsPerBlock) { visit(try rows(Array(first..<min(count, first + rowsPerBlock)))) }
        }
        centroids = centers
    }

    /// `iterations` Lloyd steps from `centers`: each assigns every row (handed over by
    /// `forEachBlock` a block at a time, in the same order every step) to its nearest centre,
    /// then moves each centre to its rows' mean; a centre left without rows stays.
    private static func lloydSteps(_ centers: inout [Float], dimension: Int, iterations: Int,
                                   forEachBlock: (_ visit: ([Float]) -> Void) throws -> Void) rethrows {
        let clusters = centers.count / dimension
        for _ in 0..<iterations {
            var sums = [Float](repeating: 0, count: clusters * dimension)
            var counts = [Int](repeating: 0, count: clusters)
            try forEachBlock { block in
                for (row, cluster) in nearest(block, centroids: centers, dimension: dimension, count: 1).enumerated() {
                    let cluster = Int(cluster)
                    counts[cluster] += 1
                    for t in 0..<dimension { sums[cluster * dimension + t] += block[row * dimension + t] }
                }
            }
            for cluster in 0..<clusters where counts[cluster] > 0 {
                for t in 0..<dimension { centers[cluster * dimension + t] = sums[cluster * dimension + t] / Float(counts[cluster]) }
            }
        }
    }

    /// The nearest centroid of every row of `features`.
    public func assignment(of features: [Float]) -> [Int32] {
        Self.nearest(features, centroids: centroids, dimension: dimension, count: 1)
    }

    /// The `count` nearest centroids of every row of `features`, nearest first: row `i` is
    /// `result[i·count ..< (i+1)·count]`. Ties go to the lower centroid index.
    public func nearest(_ features: [Float], count: Int) -> [Int32] {
        Self.nearest(features, centroids: centroids, dimension: dimension, count: min(count, clusterCount))
    }

    static func nearest(_ features: [Float], centroids: [Float], dimension: Int, count: Int) -> [Int32] {
        nearestRows(of: features, in: centroids, databaseNorms: squaredNorms(centroids, dimension: dimension), dimension: dimension, k: count)
    }

    private static func plusPlusCentres(_ features: [Float], dimension: Int, clusters: Int, rng: inout SeededGenerator) -> [Float] {
        let n = features.count / dimension
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
        return centers
    }
}
