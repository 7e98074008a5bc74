import NeuralNet

/// A deliberately bad hash: k-means clusters of the features, each cluster one random code.
///
/// Every item of a cluster gets the same code, so these codes carry cluster membership and
/// nothing finer. A metric on which this baseline scores like a learned hash measures
/// clustering, not hashing: mAP@all rewards it; tie-aware P@10, distinct codes and
/// near-duplicate recall expose it.
public struct ClusterCodes: Sendable {
    public let bitCount: Int
    /// The clusters, trained on the features.
    public let clusters: KMeans
    /// One ±1 code (`bitCount` values) per cluster.
    let clusterSigns: [Float]

    public var dimension: Int { clusters.dimension }
    public var clusterCount: Int { clusters.clusterCount }

    /// k-means (k-means++ seeding on up to 10,000 sampled rows, then `iterations` Lloyd steps)
    /// over `features` (`N × dimension`), then a seeded random code per cluster.
    public init(training features: [Float], dimension: Int, clusters: Int, bits: Int, iterations: Int = 20, seed: UInt64) {
        bitCount = bits
        self.clusters = KMeans(training: features, dimension: dimension, clusters: clusters, iterations: iterations, seeding: .plusPlus, seed: seed)
        var rng = SeededGenerator(seed: seed &+ 1)
        clusterSigns = (0..<(clusters * bits)).map { _ in rng.next() & 1 == 0 ? -1 : 1 }
    }

    /// The code of each row of `features`: its nearest centroid's.
    public func encode(_ features: [Float]) -> PackedCodes {
        let assignment = clusters.assignment(of: features)
        var signs = [Float]()
        signs.reserveCapacity(assignment.count * bitCount)
        for cluster in assignment.map(Int.init) { signs += clusterSigns[(cluster * bitCount)..<((cluster + 1) * bitCount)] }
        return PackedCodes(signsOf: signs, bitCount: bitCount)
    }
}
