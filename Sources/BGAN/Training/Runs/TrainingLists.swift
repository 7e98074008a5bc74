import NeuralNet

/// The neighbour lists training builds — S and the spectral targets in the BGAN stage, partners
/// in stage 1 — from one rule: exact and
/// in memory up to ``NearestNeighborLists/exactLimit`` images (every bundled recipe), beyond it
/// approximate and kept in a temporary file, with S and the targets built from that file in
/// files of their own. Either way the set-up's memory is bounded: beyond the limit it holds
/// about ``NeighborhoodStructure/trainingWorkingBytes`` at a time and a few bytes an image.
enum TrainingLists {
    case memory(NearestNeighborLists)
    case file(NeighborListFile)

    /// The `k` nearest of every row of `features` (`inFile`: approximate and in a file, as beyond the exact lists' limit).
    /// - Throws: what reading the rows throws; ``FileError`` when `TMPDIR` has no room.
    init(_ features: FeatureRows, k: Int, inFile: Bool? = nil) throws {
        if inFile ?? (features.count > NearestNeighborLists.exactLimit) {
            self = .file(try NeighborListFile(rows: features, k: k, invertedFile: .recommended(count: features.count),
                                              workingBytes: NeighborhoodStructure.trainingWorkingBytes))
        } else {
            self = .memory(try NearestNeighborLists.searching(features, k: k))
        }
    }

    /// The lists, read one at a time wherever they are kept.
    var reading: any NeighborListReading {
        switch self {
        case .memory(let lists): lists
        case .file(let lists): lists
        }
    }

    var isKeptInFile: Bool {
        if case .file = self { return true }
        return false
    }

    /// S from the first `k1` of every list.
    func structure(k1: Int, k2: Int) throws -> NeighborhoodStructure {
        switch self {
        case .memory(let lists): NeighborhoodStructure(neighbors: lists.prefix(k1), k2: k2)
        case .file(let lists): try NeighborhoodStructure(neighbors: lists.prefix(k1), k2: k2, scratchWorkingBytes: NeighborhoodStructure.trainingWorkingBytes)
        }
    }

    /// The spectral embedding of the graph of the first ``FeatureSpace/smoothingNeighbors`` of every list.
    func spectralEmbedding(dimensions: Int, seed: UInt64) throws -> SimilarityEmbedding {
        switch self {
        case .memory(let lists):
            try SimilarityEmbedding(values: try SpectralEmbedding.embed(lists.prefix(FeatureSpace.smoothingNeighbors), dimensions: dimensions, seed: seed),
                                    dimension: dimensions)
        case .file(let lists):
            try SpectralEmbedding.embed(lists.prefix(FeatureSpace.smoothingNeighbors), dimensions: dimensions, seed: seed,
                                        workingBytes: NeighborhoodStructure.trainingWorkingBytes)
        }
    }
}
