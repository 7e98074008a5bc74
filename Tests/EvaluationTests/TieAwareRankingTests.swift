import Evaluation
import NeuralNet
import Testing

@Suite struct TieAwareRankingTests {
    /// A ranking given as groups of tied items (n items, r relevant each), in distance order.
    struct Groups { var counts: [Int]; var relevant: [Int] }

    /// Every placement of each group's relevant items among the group's positions, all equally
    /// likely under a uniformly random order of ties: the expectation by enumeration.
    func enumerate(_ groups: Groups, _ visit: ([Bool]) -> Void) {
        func placements(n: Int, r: Int) -> [[Bool]] {
            if n == 0 { return [[]] }
            var out: [[Bool]] = []
            if r > 0 { out += placements(n: n - 1, r: r - 1).map { [true] + $0 } }
            if n > r { out += placements(n: n - 1, r: r).map { [false] + $0 } }
            return out
        }
        func recurse(_ g: Int, _ prefix: [Bool]) {
            if g == groups.counts.count { visit(prefix); return }
            for p in placements(n: groups.counts[g], r: groups.relevant[g]) { recurse(g + 1, prefix + p) }
        }
        recurse(0, [])
    }

    /// AP@all, AP@k (normalised by the relevant items found in the first k) and P@k of one
    /// fixed order, by definition.
    func figures(_ order: [Bool], k: Int) -> (ap: Double, apK: Double, p: Double) {
        var found = 0, foundTop = 0, sum = 0.0, sumTop = 0.0
        for (rank, relevant) in order.enumerated() where relevant {
            found += 1
            sum += Double(found) / Double(rank + 1)
            if rank < k { foundTop += 1; sumTop += Double(found) / Double(rank + 1) }
        }
        let depth = min(k, order.count)
        let p = depth == 0 ? 0 : Double(order.prefix(depth).filter { $0 }.count) / Double(depth)
        return (found > 0 ? sum / Double(found) : 0, foundTop > 0 ? sumTop / Double(foundTop) : 0, p)
    }

    @Test(arguments: 0..<40)
    func expectationsEqualTheAverageOverEveryOrderOfTies(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed))
        let groupCount = 1 + Int(rng.next() % 4)
        var counts: [Int] = [], relevant: [Int] = []
        for _ in 0..<groupCount {
            let n = Int(rng.next() % 6)   // empty distances happen in real histograms
            counts.append(n)
            relevant.append(n == 0 ? 0 : Int(rng.next() % UInt64(n + 1)))
        }
        let total = counts.reduce(0, +)
        let k = 1 + Int(rng.next() % UInt64(max(total + 2, 1)))
        var sums = (0.0, 0.0, 0.0), arrangements = 0.0
        enumerate(Groups(counts: counts, relevant: relevant)) { order in
            let f = figures(order, k: k)
            sums.0 += f.ap; sums.1 += f.apK; sums.2 += f.p
            arrangements += 1
        }
        let ranking = TieAwareRanking(databaseSize: total)
        #expect(abs(ranking.averagePrecision(counts: counts, relevant: relevant) - sums.0 / arrangements) < 1e-9, "AP, \(counts) \(relevant)")
        #expect(abs(ranking.averagePrecision(at: k, counts: counts, relevant: relevant) - sums.1 / arrangements) < 1e-9,
                "AP@\(k), \(counts) \(relevant)")
        #expect(abs(ranking.precision(at: k, counts: counts, relevant: relevant) - sums.2 / arrangements) < 1e-9, "P@\(k), \(counts) \(relevant)")
    }

    @Test func recallOfOneSoughtItem() {
        #expect(TieAwareRanking.recall(at: 1, closer: 0, tied: 1) == 1)
        #expect(TieAwareRanking.recall(at: 1, closer: 0, tied: 4) == 0.25)
        #expect(TieAwareRanking.recall(at: 10, closer: 8, tied: 4) == 0.5)
        #expect(TieAwareRanking.recall(at: 10, closer: 10, tied: 1) == 0)
        #expect(TieAwareRanking.recall(at: 10, closer: 2, tied: 3) == 1)
    }

    @Test func tieAwareFiguresOfRetrievalReportMatchTheRanking() {
        // All codes equal: the database-order figures depend on storage order, the tie-aware ones
        // are the share of relevant items.
        let labels: [UInt8] = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]   // relevant first in database order
        let database = PackedCodes(signsOf: [Float](repeating: 1, count: 10 * 8), bitCount: 8)
        let query = PackedCodes(signsOf: [Float](repeating: 1, count: 8), bitCount: 8)
        let report = RetrievalEvaluation.evaluate(database: database, databaseLabels: labels, queries: query, queryLabels: [0],
                                                  topK: 5, precisionDepth: 5, shortDepth: 2, radius: 0)
        #expect(report.precisionAtShortDepth == 1 && report.meanAveragePrecision == 1)
        #expect(abs(report.tieAware.precisionAtShortDepth - 0.3) < 1e-12)
        #expect(abs(report.tieAware.precisionAtDepth - 0.3) < 1e-12)
        #expect(report.tieAware.meanAveragePrecision < 0.6, "random order of one big tie is far from perfect")
    }
}
