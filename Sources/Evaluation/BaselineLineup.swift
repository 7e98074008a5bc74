/// The hashing methods a learned code is compared with in one run (what `bgan-db eval` puts
/// beside a model): at each code length, LSH and ITQ on pixels, ITQ on a feature network's
/// real-valued outputs, and k-means cluster ids — a code that only says which cluster an image
/// falls in, so that a metric on which it scores like a learned hash is seen to measure
/// clustering.
public struct BaselineLineup {
    /// Code lengths in bits.
    public var lengths: [Int]
    /// Clusters of the k-means cluster-id code (0: none).
    public var clusters = 16
    /// Seed of LSH's hyperplanes, ITQ's first rotation and k-means.
    public var seed: UInt64 = 2026
    /// A feature network (e.g. a pre-training model) for ITQ-on-features and for k-means, which
    /// then clusters features instead of pixels; nil: neither uses features.
    public var features: FeatureOutputs?

    public init(lengths: [Int], clusters: Int = 16, seed: UInt64 = 2026, features: FeatureOutputs? = nil) {
        self.lengths = lengths
        self.clusters = clusters
        self.seed = seed
        self.features = features
    }

    /// The methods, fitted on `pixels` (`N × dimension` values scaled to [0, 1]: the database
    /// of the run), in report order: per length LSH, ITQ, ITQ-features (when the features have
    /// at least that many dimensions), k-means.
    public func methods(training pixels: [Float], dimension: Int) throws -> [HashingMethod] {
        let trainingFeatures = try features.map { try $0.outputs(of: pixels) }
        var methods: [HashingMethod] = []
        for length in lengths {
            methods.append(HashingMethod(name: "LSH", bitCount: length,
                                         encode: LinearHash.lsh(training: pixels, dimension: dimension, bits: length, seed: seed).encode))
            methods.append(HashingMethod(name: "ITQ", bitCount: length,
                                         encode: try LinearHash.itq(training: pixels, dimension: dimension, bits: length, seed: seed).encode))
            if let features, let trainingFeatures, features.dimension >= length {
                let itq = try LinearHash.itq(training: trainingFeatures, dimension: features.dimension, bits: length, seed: seed)
                methods.append(HashingMethod(name: "ITQ-features", bitCount: length, encode: { itq.encode(try features.outputs(of: $0)) }))
            }
            guard clusters > 0 else { continue }
            if let features, let trainingFeatures {
                let kmeans = ClusterCodes(training: trainingFeatures, dimension: features.dimension, clusters: clusters, bits: length, seed: seed)
                methods.append(HashingMethod(name: "k-means-\(clusters)", bitCount: length, encode: { kmeans.encode(try features.outputs(of: $0)) }))
            } else {
                let kmeans = ClusterCodes(training: pixels, dimension: dimension, clusters: clusters, bits: length, seed: seed)
                methods.append(HashingMethod(name: "k-means-\(clusters)", bitCount: length, encode: kmeans.encode))
            }
        }
        return methods
    }
}

/// A feature network's real-valued outputs, remembered for the image sets of a run: the
/// ITQ-on-features and k-means baselines at every code length encode the same database,
/// queries and edited copies, so each set passes through the network once.
public final class FeatureOutputs {
    /// Values per image.
    public let dimension: Int
    private let compute: ([Float]) throws -> [Float]
    private var remembered: [(pixels: [Float], outputs: [Float])] = []

    /// - Parameters:
    ///   - dimension: values the network gives per image.
    ///   - outputs: the network's outputs for `N × valuesPerImage` scaled pixels (`N × dimension`).
    public init(dimension: Int, outputs: @escaping ([Float]) throws -> [Float]) {
        self.dimension = dimension
        compute = outputs
    }

    public func outputs(of pixels: [Float]) throws -> [Float] {
        if let known = remembered.first(where: { $0.pixels == pixels }) { return known.outputs }
        let outputs = try compute(pixels)
        remembered.append((pixels, outputs))
        return outputs
    }
}
