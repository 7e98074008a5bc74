import HammingSearch
import NeuralNet
import PixelIO

/// A way to turn images into codes, evaluated by ``EvaluationRun``.
public struct HashingMethod {
    /// Name in reports ("ITQ", "BGAN", …).
    public var name: String
    public var bitCount: Int
    /// Codes of `N × valuesPerImage` pixel values scaled to [0, 1] (``ImageSet/scaledPixels(_:scale:)``).
    public var encode: ([Float]) throws -> PackedCodes
    /// The real values whose signs are the codes (`N × bitCount`), when the method has them: the
    /// store keeps them quantised to refine results (``Refinement``). A run then takes the codes
    /// from their signs instead of calling ``encode`` as well.
    public var realValues: (([Float]) throws -> [Float])?
    /// When set, ``realValues`` gives each image's `bitCount` code values followed by this many
    /// values of a separate refinement vector, which refinement compares instead (a model
    /// refining by its hidden layer, as a store bound to it does).
    public var refinementWidth: Int?

    public init(name: String, bitCount: Int, encode: @escaping ([Float]) throws -> PackedCodes,
                realValues: (([Float]) throws -> [Float])? = nil, refinementWidth: Int? = nil) {
        self.name = name
        self.bitCount = bitCount
        self.encode = encode
        self.realValues = realValues
        self.refinementWidth = refinementWidth
    }
}

/// What is measured and on which data.
public struct EvaluationProtocol: Sendable {
    public var database: ImageSet
    public var databaseLabels: [UInt8]
    public var queries: ImageSet
    public var queryLabels: [UInt8]
    /// Database images whose edited copies are queried (0: no near-duplicate figures).
    public var duplicateCount: Int
    /// Seed of the choice of those images and of the noise.
    public var seed: UInt64
    public var refinement: Refinement.Options
    public var topK = 1000
    public var precisionDepth = 100
    public var shortDepth = 10
    public var radius = 2

    public init(database: ImageSet, databaseLabels: [UInt8], queries: ImageSet, queryLabels: [UInt8], duplicateCount: Int = 1000,
                seed: UInt64 = 2026, refinement: Refinement.Options = .init()) {
        precondition(databaseLabels.count == database.count && queryLabels.count == queries.count, "one label per image")
        self.database = database
        self.databaseLabels = databaseLabels
        self.queries = queries
        self.queryLabels = queryLabels
        self.duplicateCount = min(duplicateCount, database.count)
        self.seed = seed
        self.refinement = refinement
    }

    /// The database images whose copies are queried: `duplicateCount` distinct indices drawn
    /// with `seed`, in increasing order.
    public var duplicateOriginals: [Int] {
        var rng = SeededGenerator(seed: seed ^ 0xD0B1_1CA7E)
        return rng.distinctIndices(duplicateCount, below: database.count).sorted()
    }
}

/// Everything measured about one method.
public struct MethodReport: Sendable, Codable {
    public var method: String
    public var bits: Int
    /// Ranking quality of the test queries, database order and tie-aware.
    public var retrieval: RetrievalReport
    /// P@`shortDepth` after refinement, when the method has real values.
    public var refinedPrecisionAtShortDepth: Double?
    /// How the database codes spread.
    public var codes: CodeStatistics
    /// Recall of edited copies of database images, one entry per ``Perturbation``.
    public var nearDuplicates: [NearDuplicateRecall]
}

public enum EvaluationRun {
    /// Measures `method` under `protocol`: codes of the database and the queries, retrieval
    /// figures, code statistics, and the near-duplicate figures of every ``Perturbation``.
    public static func evaluate(_ method: HashingMethod, under setup: EvaluationProtocol) throws -> MethodReport {
        let databasePixels = setup.database.scaledPixels()
        let queryPixels = setup.queries.scaledPixels()
        let (database, databaseValues) = try codesAndValues(method, databasePixels)
        let (queries, queryValues) = try codesAndValues(method, queryPixels)
        let retrieval = RetrievalEvaluation.evaluate(database: database, databaseLabels: setup.databaseLabels, queries: queries,
                                                     queryLabels: setup.queryLabels, topK: setup.topK, precisionDepth: setup.precisionDepth,
                                                     shortDepth: setup.shortDepth, radius: setup.radius)
        var refinement: RefinementData?
        var refinedPrecision: Double?
        if let databaseValues, let queryValues {
            let data = RefinementData(dimension: method.refinementWidth ?? method.bitCount, databaseValues: databaseValues, queryValues: queryValues, options: setup.refinement)
            refinement = data
            refinedPrecision = NearDuplicateEvaluation.refinedPrecision(
                at: setup.shortDepth, database: database, databaseLabels: setup.databaseLabels, queries: queries,
                queryLabels: setup.queryLabels, refinement: data)
        }
        var nearDuplicates: [NearDuplicateRecall] = []
        if setup.duplicateCount > 0 {
            let originals = setup.duplicateOriginals
            for perturbation in Perturbation.allCases {
                let copySet = try setup.database.perturbed(perturbation, indices: originals, seed: setup.seed)
                let (copyCodes, copyValues) = try codesAndValues(method, copySet.scaledPixels())
                let copyRefinement = copyValues.flatMap { values in refinement?.replacingQueries(values) }
                var recall = NearDuplicateEvaluation.evaluate(database: database, queries: copyCodes, originals: originals,
                                                              perturbation: perturbation, refinement: copyRefinement)
                if let copyRefinement, let refinement {
                    let mirrors = try copySet.perturbed(.flip, indices: Array(0..<copySet.count), seed: setup.seed)
                    let (mirrorCodes, mirrorValues) = try codesAndValues(method, mirrors.scaledPixels())
                    if let mirrorValues {
                        (recall.mirrorMatchedRecallAt1, recall.mirrorMatchedRecallAt10) = NearDuplicateEvaluation.mirrorMatchedRecall(
                            database: database, queries: copyCodes, mirrored: mirrorCodes, originals: originals,
                            refinement: copyRefinement, mirroredRefinement: refinement.replacingQueries(mirrorValues))
                    }
                }
                nearDuplicates.append(recall)
            }
        }
        return MethodReport(method: method.name, bits: method.bitCount, retrieval: retrieval, refinedPrecisionAtShortDepth: refinedPrecision,
                            codes: try CodeStatistics(codes: database), nearDuplicates: nearDuplicates)
    }
}

/// The codes of `pixels` and, when the method has them, the vectors refinement compares (the
/// real values the codes are the signs of, or the method's separate refinement vectors): one
/// pass of the method either way.
private func codesAndValues(_ method: HashingMethod, _ pixels: [Float]) throws -> (PackedCodes, [Float]?) {
    guard let realValues = method.realValues else { return (try method.encode(pixels), nil) }
    let values = try realValues(pixels)
    guard let width = method.refinementWidth else { return (PackedCodes(signsOf: values, bitCount: method.bitCount), values) }
    let row = method.bitCount + width
    var codeValues: [Float] = [], vectors: [Float] = []
    codeValues.reserveCapacity(values.count / row * method.bitCount)
    vectors.reserveCapacity(values.count / row * width)
    for start in stride(from: 0, to: values.count, by: row) {
        codeValues += values[start..<(start + method.bitCount)]
        vectors += values[(start + method.bitCount)..<(start + row)]
    }
    return (PackedCodes(signsOf: codeValues, bitCount: method.bitCount), vectors)
}

extension ImageSet {
    /// Images `range` (with their labels when the set has them).
    public func subset(_ range: Range<Int>) -> ImageSet {
        let size = valuesPerImage
        return ImageSet(count: range.count, channels: channels, height: height, width: width,
                        pixels: Array(pixels[(range.lowerBound * size)..<(range.upperBound * size)]),
                        labels: labels.map { Array($0[range]) })
    }
}
