import Basics

/// Retrieval figures in expectation over a uniformly random order of tied items.
///
/// A Hamming ranking is a sequence of groups, one per distance, whose members are tied. Ranking
/// ties by database order rewards whatever order the data happened to be stored in; these
/// figures are the expected values when each group is shuffled uniformly at random (McFee &
/// Lanckriet 2010; He et al., "Hashing as tie-aware learning to rank", CVPR 2018). They depend
/// only on each group's size and number of relevant items, so they are computed from two
/// histograms over distances in time proportional to the code length (plus `k` for AP@k).
///
/// For a group of `n` items holding `r` relevant ones, preceded by `N` items of which `R` are
/// relevant, position `N + j` holds a relevant item with probability `r/n`; given that it does,
/// the expected number of relevant items before it within the group is `(j − 1)(r − 1)/(n − 1)`.
/// Linearity of expectation then gives the group's expected sum of precisions at its relevant
/// items: `(r/n)·Σⱼ (R + 1 + (j − 1)(r − 1)/(n − 1)) / (N + j)`, whose sums are differences of
/// harmonic numbers.
public struct TieAwareRanking: Sendable {
    /// `harmonic[i]` = 1 + 1/2 + … + 1/i.
    private let harmonic: [Double]

    /// Prepares for rankings of at most `databaseSize` items.
    public init(databaseSize: Int) {
        var table = [Double](repeating: 0, count: databaseSize + 1)
        var sum = 0.0
        for i in stride(from: 1, through: databaseSize, by: 1) {
            sum += 1 / Double(i)
            table[i] = sum
        }
        harmonic = table
    }

    /// Σ_{j=1…m} 1/(N + j) and Σ_{j=1…m} (j − 1)/(N + j).
    private func sums(before: Int, length: Int) -> (reciprocal: Double, weighted: Double) {
        let reciprocal = harmonic[before + length] - harmonic[before]
        return (reciprocal, Double(length) - Double(before + 1) * reciprocal)
    }

    /// Expected sum of precisions at the relevant items among the first `m` positions of a
    /// group, given that exactly `y` of those positions hold relevant items.
    private func expectedPrecisionSum(before: Int, relevantBefore: Int, positions m: Int, relevantAmongThem y: Int) -> Double {
        guard y > 0 else { return 0 }
        let (a, b) = sums(before: before, length: m)
        let pairs = m > 1 ? Double(y) * Double(y - 1) / (Double(m) * Double(m - 1)) : 0
        return Double(y) / Double(m) * Double(relevantBefore + 1) * a + pairs * b
    }

    /// Expected precision of the first `k` results (`k` is capped at the database size).
    /// - Parameters:
    ///   - counts: items at each distance.
    ///   - relevant: relevant items at each distance.
    public func precision(at k: Int, counts: [Int], relevant: [Int]) -> Double {
        let total = counts.reduce(0, +)
        let depth = min(k, total)
        guard depth > 0 else { return 0 }
        var before = 0, relevantBefore = 0
        for d in counts.indices {
            let n = counts[d]
            if before + n >= depth {
                let taken = depth - before
                return (Double(relevantBefore) + Double(taken) * Double(relevant[d]) / Double(n)) / Double(depth)
            }
            before += n
            relevantBefore += relevant[d]
        }
        return Double(relevantBefore) / Double(depth)
    }

    /// Expected average precision over the whole ranking: the expected sum of precisions at
    /// relevant items over `relevantTotal` (0 when nothing is relevant).
    public func averagePrecision(counts: [Int], relevant: [Int]) -> Double {
        let relevantTotal = relevant.reduce(0, +)
        guard relevantTotal > 0 else { return 0 }
        var before = 0, relevantBefore = 0, sum = 0.0
        for d in counts.indices where counts[d] > 0 {
            sum += expectedPrecisionSum(before: before, relevantBefore: relevantBefore, positions: counts[d], relevantAmongThem: relevant[d])
            before += counts[d]
            relevantBefore += relevant[d]
        }
        return sum / Double(relevantTotal)
    }

    /// Expected average precision of the first `k` results, normalised by the relevant items
    /// found there (0 when none is), as ``RetrievalReport/meanAveragePrecisionAtK``.
    ///
    /// The normaliser is random when a group straddles position `k`; the expectation
    /// conditions on how many relevant items of that group fall inside (hypergeometric).
    public func averagePrecision(at k: Int, counts: [Int], relevant: [Int]) -> Double {
        var before = 0, relevantBefore = 0, sum = 0.0
        for d in counts.indices where counts[d] > 0 {
            let n = counts[d], r = relevant[d]
            if before + n <= k {
                sum += expectedPrecisionSum(before: before, relevantBefore: relevantBefore, positions: n, relevantAmongThem: r)
                before += n
                relevantBefore += r
                continue
            }
            let m = k - before
            guard m > 0 else { break }
            var expected = 0.0
            let lowest = max(0, m - (n - r)), highest = min(r, m)
            for y in stride(from: lowest, through: highest, by: 1) where relevantBefore + y > 0 {
                let probability = Self.hypergeometric(population: n, successes: r, draws: m, hits: y)
                let inside = expectedPrecisionSum(before: before, relevantBefore: relevantBefore, positions: m, relevantAmongThem: y)
                expected += probability * (sum + inside) / Double(relevantBefore + y)
            }
            return expected
        }
        return relevantBefore > 0 ? sum / Double(relevantBefore) : 0
    }

    /// Expected recall at `k` of one sought item (a near-duplicate's original) that has
    /// `closer` items strictly nearer the query and `tied` items (itself included) at its own
    /// distance: 1 when it is surely in the first `k`, `(k − closer)/tied` when its group
    /// straddles position `k`, 0 when `closer ≥ k`.
    public static func recall(at k: Int, closer: Int, tied: Int) -> Double {
        precondition(tied >= 1, "the sought item is among the tied items")
        guard closer < k else { return 0 }
        return min(1, Double(k - closer) / Double(tied))
    }

    /// P(Y = hits) for Y hypergeometric: `draws` items taken without replacement from
    /// `population` of which `successes` count.
    static func hypergeometric(population: Int, successes: Int, draws: Int, hits: Int) -> Double {
        func logChoose(_ n: Int, _ k: Int) -> Double {
            lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
        }
        return exp(logChoose(successes, hits) + logChoose(population - successes, draws - hits) - logChoose(population, draws))
    }
}
