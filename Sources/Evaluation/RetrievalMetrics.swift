import HammingSearch

/// One point of a precision–recall curve: everything within `radius` bits retrieved.
public struct PrecisionRecallPoint: Sendable, Codable, Equatable {
    public var radius: Int
    public var precision: Double
    public var recall: Double
}

/// Retrieval quality of hash codes on labelled data, with "relevant" meaning "same label".
///
/// The top-level figures rank by Hamming distance with ties broken by database order (an item
/// stored earlier ranks first), so they are deterministic but reward the order the data was
/// stored in; ``tieAware`` holds the same figures in expectation over random orders of ties,
/// which is what a user of coarse codes actually sees.
public struct RetrievalReport: Sendable, Codable {
    /// Mean average precision over the whole ranking.
    public var meanAveragePrecision: Double
    /// Mean average precision of the top `topK`: per query, the mean of precision at each relevant
    /// item within the top `topK`, over the relevant items found there (0 if none).
    public var meanAveragePrecisionAtK: Double
    public var topK: Int
    /// Mean precision of the first `precisionDepth` results.
    public var precisionAtDepth: Double
    public var precisionDepth: Int
    /// Mean precision of the first `shortDepth` results (what a results page shows).
    public var precisionAtShortDepth: Double
    public var shortDepth: Int
    /// Mean precision of everything within `radius` bits; a query that retrieves nothing counts 0.
    public var precisionWithinRadius: Double
    public var radius: Int
    /// Precision and recall at each radius from 0 to the code length, averaged over queries.
    public var curve: [PrecisionRecallPoint]
    /// mAP@all, mAP@`topK`, P@`shortDepth` and P@`precisionDepth` with ties in random order.
    public var tieAware: TieAwareFigures
}

/// Retrieval figures in expectation over uniformly random orders of tied items
/// (``TieAwareRanking``); the depths are those of the enclosing ``RetrievalReport``.
public struct TieAwareFigures: Sendable, Codable, Equatable {
    public var meanAveragePrecision = 0.0
    public var meanAveragePrecisionAtK = 0.0
    public var precisionAtShortDepth = 0.0
    public var precisionAtDepth = 0.0
}

public enum RetrievalEvaluation {
    /// Evaluates `queries` against `database`. Labels give relevance. Runs on every core.
    public static func evaluate(database: PackedCodes, databaseLabels: [UInt8], queries: PackedCodes, queryLabels: [UInt8],
                                topK: Int = 1000, precisionDepth: Int = 100, shortDepth: Int = 10, radius: Int = 2) -> RetrievalReport {
        precondition(database.bitCount == queries.bitCount, "database and queries have different code lengths")
        precondition(databaseLabels.count == database.count && queryLabels.count == queries.count, "one label per code")
        let bits = database.bitCount
        let n = database.count
        var counting = [Int](repeating: 0, count: 256)
        for label in databaseLabels { counting[Int(label)] += 1 }
        let labelCounts = counting
        let tieAwareRanking = TieAwareRanking(databaseSize: n)

        struct Partial {
            var ap = 0.0, apAtK = 0.0, precisionAtDepth = 0.0, precisionAtShortDepth = 0.0, precisionWithinRadius = 0.0
            var tieAware = TieAwareFigures()
            var curvePrecision: [Double]
            var curveRecall: [Double]
            /// Scratch: database indices in ranked order.
            var order: [Int32] = []
        }
        let emptyPartial = Partial(curvePrecision: .init(repeating: 0, count: bits + 1), curveRecall: .init(repeating: 0, count: bits + 1))
        let partials = QueryLoop.accumulate(database: database, queries: queries, start: { emptyPartial }) { q, distances, counts, partial in
            // Stable counting sort by distance: ties keep database order.
            var bucketStart = [Int](repeating: 0, count: bits + 2)
            for d in 0...bits { bucketStart[d + 1] = bucketStart[d] + counts[d] }
            var relevantWithin = [Int](repeating: 0, count: bits + 1)
            let label = queryLabels[q]
            for i in 0..<n where databaseLabels[i] == label { relevantWithin[Int(distances[i])] += 1 }
            if partial.order.count != n { partial.order = [Int32](repeating: 0, count: n) }
            var cursor = bucketStart
            for i in 0..<n {
                let d = Int(distances[i])
                partial.order[cursor[d]] = Int32(i)
                cursor[d] += 1
            }
            let relevantTotal = labelCounts[Int(label)]
            var found = 0, foundInTop = 0
            var sumPrecision = 0.0, sumPrecisionTop = 0.0
            var relevantInDepth = 0, relevantInShortDepth = 0
            for rank in 0..<n where databaseLabels[Int(partial.order[rank])] == label {
                found += 1
                let precision = Double(found) / Double(rank + 1)
                sumPrecision += precision
                if rank < topK {
                    foundInTop += 1
                    sumPrecisionTop += precision
                }
                if rank < precisionDepth { relevantInDepth += 1 }
                if rank < shortDepth { relevantInShortDepth += 1 }
            }
            partial.ap += relevantTotal > 0 ? sumPrecision / Double(relevantTotal) : 0
            partial.apAtK += foundInTop > 0 ? sumPrecisionTop / Double(foundInTop) : 0
            partial.precisionAtDepth += Double(relevantInDepth) / Double(min(precisionDepth, n))
            partial.precisionAtShortDepth += Double(relevantInShortDepth) / Double(min(shortDepth, n))
            partial.tieAware.meanAveragePrecision += tieAwareRanking.averagePrecision(counts: counts, relevant: relevantWithin)
            partial.tieAware.meanAveragePrecisionAtK += tieAwareRanking.averagePrecision(at: topK, counts: counts, relevant: relevantWithin)
            partial.tieAware.precisionAtShortDepth += tieAwareRanking.precision(at: shortDepth, counts: counts, relevant: relevantWithin)
            partial.tieAware.precisionAtDepth += tieAwareRanking.precision(at: precisionDepth, counts: counts, relevant: relevantWithin)
            var retrieved = 0, relevant = 0
            for r in 0...bits {
                retrieved += counts[r]
                relevant += relevantWithin[r]
                partial.curvePrecision[r] += retrieved > 0 ? Double(relevant) / Double(retrieved) : 0
                partial.curveRecall[r] += relevantTotal > 0 ? Double(relevant) / Double(relevantTotal) : 0
                if r == radius { partial.precisionWithinRadius += retrieved > 0 ? Double(relevant) / Double(retrieved) : 0 }
            }
        }
        let count = Double(max(queries.count, 1))
        var total = Partial(curvePrecision: .init(repeating: 0, count: bits + 1), curveRecall: .init(repeating: 0, count: bits + 1))
        for partial in partials {
            total.ap += partial.ap
            total.apAtK += partial.apAtK
            total.precisionAtDepth += partial.precisionAtDepth
            total.precisionAtShortDepth += partial.precisionAtShortDepth
            total.tieAware.meanAveragePrecision += partial.tieAware.meanAveragePrecision
            total.tieAware.meanAveragePrecisionAtK += partial.tieAware.meanAveragePrecisionAtK
            total.tieAware.precisionAtShortDepth += partial.tieAware.precisionAtShortDepth
            total.tieAware.precisionAtDepth += partial.tieAware.precisionAtDepth
            total.precisionWithinRadius += partial.precisionWithinRadius
            for r in 0...bits {
                total.curvePrecision[r] += partial.curvePrecision[r]
                total.curveRecall[r] += partial.curveRecall[r]
            }
        }
        return RetrievalReport(
            meanAveragePrecision: total.ap / count, meanAveragePrecisionAtK: total.apAtK / count, topK: topK,
            precisionAtDepth: total.precisionAtDepth / count, precisionDepth: precisionDepth,
            precisionAtShortDepth: total.precisionAtShortDepth / count, shortDepth: shortDepth,
            precisionWithinRadius: total.precisionWithinRadius / count, radius: radius,
            curve: (0...bits).map { PrecisionRecallPoint(radius: $0, precision: total.curvePrecision[$0] / count, recall: total.curveRecall[$0] / count) },
            tieAware: TieAwareFigures(meanAveragePrecision: total.tieAware.meanAveragePrecision / count,
                                      meanAveragePrecisionAtK: total.tieAware.meanAveragePrecisionAtK / count,
                                      precisionAtShortDepth: total.tieAware.precisionAtShortDepth / count,
                                      precisionAtDepth: total.tieAware.precisionAtDepth / count))
    }
}
