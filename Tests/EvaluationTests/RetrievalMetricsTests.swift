import Evaluation
import HammingSearch
import NeuralNet
import Testing

@Suite struct RetrievalMetricsTests {
    /// The definitions, computed the slow, obvious way.
    func oracle(database: PackedCodes, labels: [UInt8], queries: PackedCodes, queryLabels: [UInt8], topK: Int, depth: Int, radius: Int)
        -> (ap: Double, apK: Double, pDepth: Double, pRadius: Double) {
        var sums = (0.0, 0.0, 0.0, 0.0)
        for q in 0..<queries.count {
            let query = queries.code(q)
            let ranking = (0..<database.count).map { (database.code($0).distance(to: query), $0) }.sorted { $0 < $1 }
            let relevantTotal = labels.filter { $0 == queryLabels[q] }.count
            var found = 0, foundTop = 0, precisions = 0.0, precisionsTop = 0.0
            for (rank, (_, index)) in ranking.enumerated() where labels[index] == queryLabels[q] {
                found += 1
                precisions += Double(found) / Double(rank + 1)
                if rank < topK { foundTop += 1; precisionsTop += Double(found) / Double(rank + 1) }
            }
            sums.0 += relevantTotal > 0 ? precisions / Double(relevantTotal) : 0
            sums.1 += foundTop > 0 ? precisionsTop / Double(foundTop) : 0
            sums.2 += Double(ranking.prefix(depth).filter { labels[$0.1] == queryLabels[q] }.count) / Double(min(depth, database.count))
            let within = ranking.filter { $0.0 <= radius }
            sums.3 += within.isEmpty ? 0 : Double(within.filter { labels[$0.1] == queryLabels[q] }.count) / Double(within.count)
        }
        let n = Double(queries.count)
        return (sums.0 / n, sums.1 / n, sums.2 / n, sums.3 / n)
    }

    @Test(arguments: [8, 16, 72])
    func metricsEqualTheirDefinitions(bits: Int) {
        var rng = SeededGenerator(seed: UInt64(bits))
        // Few bits, so that many ties test the database-order rule.
        let database = PackedCodes(signsOf: (0..<(300 * bits)).map { _ in rng.normal() }, bitCount: bits)
        let queries = PackedCodes(signsOf: (0..<(20 * bits)).map { _ in rng.normal() }, bitCount: bits)
        let labels = (0..<300).map { _ in UInt8(rng.next() % 4) }
        let queryLabels = (0..<20).map { _ in UInt8(rng.next() % 4) }
        let report = RetrievalEvaluation.evaluate(database: database, databaseLabels: labels, queries: queries, queryLabels: queryLabels,
                                                  topK: 50, precisionDepth: 30, radius: 2)
        let expected = oracle(database: database, labels: labels, queries: queries, queryLabels: queryLabels, topK: 50, depth: 30, radius: 2)
        #expect(abs(report.meanAveragePrecision - expected.ap) < 1e-9)
        #expect(abs(report.meanAveragePrecisionAtK - expected.apK) < 1e-9)
        #expect(abs(report.precisionAtDepth - expected.pDepth) < 1e-9)
        #expect(abs(report.precisionWithinRadius - expected.pRadius) < 1e-9)
        #expect(report.curve.count == bits + 1)
        #expect(abs(report.curve[bits].recall - 1) < 1e-9, "everything is within the code length")
        #expect(zip(report.curve, report.curve.dropFirst()).allSatisfy { $0.recall <= $1.recall })
    }

    @Test func perfectCodesScorePerfectly() {
        // Each class one code: every query ranks its class first.
        let classes: [[Float]] = [[1, 1, 1, 1, 1, 1, 1, 1], [-1, -1, -1, -1, 1, 1, 1, 1], [1, 1, 1, 1, -1, -1, -1, -1]]
        let labels = (0..<30).map { UInt8($0 % 3) }
        let database = PackedCodes(signsOf: labels.flatMap { classes[Int($0)] }, bitCount: 8)
        let report = RetrievalEvaluation.evaluate(database: database, databaseLabels: labels, queries: database, queryLabels: labels,
                                                  topK: 5, precisionDepth: 10, radius: 0)
        #expect(report.meanAveragePrecision == 1 && report.meanAveragePrecisionAtK == 1)
        #expect(report.precisionAtDepth == 1 && report.precisionWithinRadius == 1)
    }
}

@Suite struct HashingBaselineTests {
    /// Two Gaussian blobs in 20 dimensions: any sensible hash keeps them apart.
    func blobs(_ count: Int, seed: UInt64) -> (features: [Float], labels: [UInt8]) {
        var rng = SeededGenerator(seed: seed)
        var features: [Float] = [], labels: [UInt8] = []
        for i in 0..<count {
            let label = UInt8(i % 2)
            labels.append(label)
            for d in 0..<20 { features.append(rng.normal() * 0.5 + (label == 0 ? 1 : -1) * (d < 10 ? 1 : 0)) }
        }
        return (features, labels)
    }

    @Test func itqFindsStructureAndBeatsRandomHyperplanes() throws {
        let (train, trainLabels) = blobs(600, seed: 1)
        let (test, testLabels) = blobs(100, seed: 2)
        let itq = try LinearHash.itq(training: train, dimension: 20, bits: 8, seed: 3)
        let lsh = LinearHash.lsh(training: train, dimension: 20, bits: 8, seed: 3)
        let itqReport = RetrievalEvaluation.evaluate(database: itq.encode(train), databaseLabels: trainLabels, queries: itq.encode(test), queryLabels: testLabels)
        let lshReport = RetrievalEvaluation.evaluate(database: lsh.encode(train), databaseLabels: trainLabels, queries: lsh.encode(test), queryLabels: testLabels)
        #expect(itqReport.meanAveragePrecision > 0.9)
        #expect(itqReport.meanAveragePrecision > lshReport.meanAveragePrecision)
        // The ITQ map is PCA followed by a rotation: its columns are orthonormal.
        for a in 0..<8 {
            for b in 0..<8 {
                var dot: Float = 0
                for d in 0..<20 { dot += itq.projection[d * 8 + a] * itq.projection[d * 8 + b] }
                #expect(abs(dot - (a == b ? 1 : 0)) < 1e-3)
            }
        }
    }
}
