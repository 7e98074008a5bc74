import HammingSearch

/// How well edited copies of stored images find their originals.
public struct NearDuplicateRecall: Sendable, Codable, Equatable {
    public var perturbation: Perturbation
    /// Share of copies whose original comes first, ties in random order (expected value).
    public var recallAt1: Double
    /// Share of copies whose original is among the first 10, ties in random order.
    public var recallAt10: Double
    /// The same after refinement (``Refinement``) of a 10-nearest query, when the method has
    /// real-valued outputs; refinement leaves no ties.
    public var refinedRecallAt1: Double?
    public var refinedRecallAt10: Double?
    /// The refined recall when each copy's mirror image is searched too, every item ranked by the
    /// nearer of the two (the store's `matchingMirrorImages`), when the method has real values.
    public var mirrorMatchedRecallAt1: Double?
    public var mirrorMatchedRecallAt10: Double?

    public init(perturbation: Perturbation, recallAt1: Double, recallAt10: Double, refinedRecallAt1: Double? = nil, refinedRecallAt10: Double? = nil,
                mirrorMatchedRecallAt1: Double? = nil, mirrorMatchedRecallAt10: Double? = nil) {
        self.perturbation = perturbation
        self.recallAt1 = recallAt1
        self.recallAt10 = recallAt10
        self.refinedRecallAt1 = refinedRecallAt1
        self.refinedRecallAt10 = refinedRecallAt10
        self.mirrorMatchedRecallAt1 = mirrorMatchedRecallAt1
        self.mirrorMatchedRecallAt10 = mirrorMatchedRecallAt10
    }
}

/// Real-valued outputs kept beside codes, as a store bound to an encoder keeps them: the
/// quantised vectors of the database (``Refinement/quantize(_:)``) and the full-precision
/// outputs of the queries.
public struct RefinementData: Sendable {
    /// Values per vector (the code length, for an encoder's outputs).
    public let dimension: Int
    /// `database count × dimension` quantised values.
    public let database: [Int8]
    /// `query count × dimension` values, each row scaled to unit length.
    public let queries: [Float]
    public let options: Refinement.Options

    /// - Parameters:
    ///   - databaseValues: `N × dimension` real values of the database items.
    ///   - queryValues: `Q × dimension` real values of the queries.
    public init(dimension: Int, databaseValues: [Float], queryValues: [Float], options: Refinement.Options = .init()) {
        precondition(dimension > 0 && databaseValues.count % dimension == 0 && queryValues.count % dimension == 0)
        self.dimension = dimension
        self.options = options
        var quantized: [Int8] = []
        quantized.reserveCapacity(databaseValues.count)
        for start in stride(from: 0, to: databaseValues.count, by: dimension) {
            quantized += Refinement.quantize(databaseValues[start..<(start + dimension)])
        }
        database = quantized
        queries = Self.normalizedRows(queryValues, dimension: dimension)
    }

    /// The same database with other queries (`Q × dimension` real values).
    public func replacingQueries(_ queryValues: [Float]) -> RefinementData {
        RefinementData(dimension: dimension, database: database, queryValues: queryValues, options: options)
    }

    private init(dimension: Int, database: [Int8], queryValues: [Float], options: Refinement.Options) {
        precondition(queryValues.count % dimension == 0)
        self.dimension = dimension
        self.database = database
        self.options = options
        queries = Self.normalizedRows(queryValues, dimension: dimension)
    }

    /// Cosine of query `q` with database item `item` (``Refinement/cosine(query:item:)``).
    func cosine(query q: Int, item: Int) -> Float {
        queries.withUnsafeBufferPointer { queries in
            database.withUnsafeBufferPointer { database in
                Refinement.cosine(query: UnsafeBufferPointer(rebasing: queries[(q * dimension)..<((q + 1) * dimension)]),
                                  item: UnsafeBufferPointer(rebasing: database[(item * dimension)..<((item + 1) * dimension)]))
            }
        }
    }

    private static func normalizedRows(_ values: [Float], dimension: Int) -> [Float] {
        var normalized: [Float] = []
        normalized.reserveCapacity(values.count)
        for start in stride(from: 0, to: values.count, by: dimension) {
            normalized += Refinement.normalizedQuery(Array(values[start..<(start + dimension)]))
        }
        return normalized
    }
}

public enum NearDuplicateEvaluation {
    /// Tie-aware recall@1 and @10 of `queries`, query `i` an edited copy of database item
    /// `originals[i]` (``TieAwareRanking/recall(at:closer:tied:)``); with `refinement`, also
    /// the recall of the refined first 10.
    public static func evaluate(database: PackedCodes, queries: PackedCodes, originals: [Int], perturbation: Perturbation,
                                refinement: RefinementData? = nil) -> NearDuplicateRecall {
        precondition(originals.count == queries.count, "one original per query")
        let sums = QueryLoop.sum(database: database, queries: queries, figures: 4) { q, distances, histogram, sums in
            let original = originals[q]
            let own = Int(distances[original])
            let closer = histogram[0..<own].reduce(0, +), tied = histogram[own]
            sums[0] += TieAwareRanking.recall(at: 1, closer: closer, tied: tied)
            sums[1] += TieAwareRanking.recall(at: 10, closer: closer, tied: tied)
            if let refinement {
                let top = refinedTop(10, query: q, distances: distances, histogram: histogram, refinement: refinement)
                sums[2] += top.first == original ? 1 : 0
                sums[3] += top.contains(original) ? 1 : 0
            }
        }
        let n = Double(max(queries.count, 1))
        return NearDuplicateRecall(perturbation: perturbation, recallAt1: sums[0] / n, recallAt10: sums[1] / n,
                                   refinedRecallAt1: refinement.map { _ in sums[2] / n }, refinedRecallAt10: refinement.map { _ in sums[3] / n })
    }

    /// Refined recall@1 and @10 of `queries` searched together with `mirrored` (query `i`'s
    /// mirror image, with its real values in `mirroredRefinement`): each variant contributes its
    /// own candidates, and every candidate ranks by its best cosine with either variant, then by
    /// its smaller distance, as a store's search with `matchingMirrorImages` ranks it.
    public static func mirrorMatchedRecall(database: PackedCodes, queries: PackedCodes, mirrored: PackedCodes, originals: [Int],
                                           refinement: RefinementData, mirroredRefinement: RefinementData) -> (at1: Double, at10: Double) {
        precondition(originals.count == queries.count && mirrored.count == queries.count, "one original and one mirror image per query")
        let words = database.wordsPerCode
        let sums = QueryLoop.sum(database: database, queries: queries, figures: 2) { q, distances, histogram, sums in
            var mirroredDistances = [UInt16](repeating: 0, count: distances.count)
            var mirroredHistogram = [Int](repeating: 0, count: histogram.count)
            database.words.withUnsafeBufferPointer { databaseWords in
                mirrored.words.withUnsafeBufferPointer { mirroredWords in
                    QueryLoop.measure(databaseWords.baseAddress!, count: distances.count, words: words, query: mirroredWords.baseAddress! + q * words,
                                      distances: &mirroredDistances, histogram: &mirroredHistogram)
                }
            }
            let options = refinement.options
            let pooled = Set(candidates(10, distances: distances, histogram: histogram, options: options))
                .union(candidates(10, distances: mirroredDistances, histogram: mirroredHistogram, options: options))
            let scored = pooled.map { index in
                Refinement.Scored(neighbor: Neighbor(id: UInt32(index), distance: Int(min(distances[index], mirroredDistances[index]))),
                                  score: max(refinement.cosine(query: q, item: index), mirroredRefinement.cosine(query: q, item: index)))
            }
            let top = Refinement.ranked(scored, k: 10).map { Int($0.neighbor.id) }
            sums[0] += top.first == originals[q] ? 1 : 0
            sums[1] += top.contains(originals[q]) ? 1 : 0
        }
        let n = Double(max(queries.count, 1))
        return (sums[0] / n, sums[1] / n)
    }

    /// Mean precision of the refined first `k` results of each query (same label = relevant).
    public static func refinedPrecision(at k: Int, database: PackedCodes, databaseLabels: [UInt8], queries: PackedCodes, queryLabels: [UInt8],
                                        refinement: RefinementData) -> Double {
        let sums = QueryLoop.sum(database: database, queries: queries, figures: 1) { q, distances, histogram, sums in
            let top = refinedTop(k, query: q, distances: distances, histogram: histogram, refinement: refinement)
            sums[0] += Double(top.filter { databaseLabels[$0] == queryLabels[q] }.count) / Double(max(1, min(k, distances.count)))
        }
        return sums[0] / Double(max(queries.count, 1))
    }

    /// Database indices of the refined first `k` results of query `q`: the candidates are every
    /// item within the distance of the `candidateCount(for: k)`-th nearest, ordered by cosine.
    static func refinedTop(_ k: Int, query q: Int, distances: [UInt16], histogram: [Int], refinement: RefinementData) -> [Int] {
        let scored = candidates(k, distances: distances, histogram: histogram, options: refinement.options).map { index in
            Refinement.Scored(neighbor: Neighbor(id: UInt32(index), distance: Int(distances[index])), score: refinement.cosine(query: q, item: index))
        }
        return Refinement.ranked(scored, k: k).map { Int($0.neighbor.id) }
    }

    /// The database indices refinement orders for `k` results: every item within the distance of
    /// the `candidateCount(for: k)`-th nearest (`k · candidateFactor`, at least `minimumCandidates`).
    static func candidates(_ k: Int, distances: [UInt16], histogram: [Int], options: Refinement.Options) -> [Int] {
        let wanted = min(options.candidateCount(for: k), distances.count)
        var reach = 0, covered = histogram[0]
        while covered < wanted { reach += 1; covered += histogram[reach] }
        return distances.indices.filter { Int(distances[$0]) <= reach }
    }
}
