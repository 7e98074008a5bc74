import Foundation
import Evaluation
import HammingSearch
import NeuralNet
import PixelIO
import Testing

@Suite struct CodeStatisticsTests {
    @Test func countsDistinctCodesEntropyAndBalance() throws {
        // 4 codes of 16 bits: two equal, two others; bit 0 set in all, bit 15 in none.
        var rows: [[Float]] = []
        for pattern in [0b1000_0000_0000_0001, 0b1000_0000_0000_0001, 0b1000_0000_1111_0000, 0b1111_1111_0000_0000] as [Int] {
            rows.append((0..<16).map { i in (pattern >> (15 - i)) & 1 == 1 ? 1 : -1 })
        }
        let statistics = try CodeStatistics(codes: PackedCodes(signsOf: rows.flatMap { $0 }, bitCount: 16), substrings: 2)
        #expect(statistics.count == 4 && statistics.distinctCodes == 3)
        #expect(abs(statistics.entropy - 1.5) < 1e-12, "probabilities ½, ¼, ¼")
        #expect(statistics.onesFraction[0] == 1 && statistics.onesFraction[15] == 0.5 && statistics.onesFraction[14] == 0)
        #expect(statistics.worstBitImbalance == 0.5)
        #expect(statistics.substrings.count == 2 && statistics.substrings.allSatisfy { $0.bits == 8 })
        // First bytes 80 80 80 ff (largest bucket 3, two buckets); second bytes 01 01 f0 00.
        #expect(statistics.substrings.map(\.largestBucket) == [3, 2])
        #expect(statistics.substrings.map(\.occupiedBuckets) == [2, 3])
    }

    @Test func aCollapsedSetHasOneCodeAndOneFullBucket() throws {
        let codes = PackedCodes(signsOf: [Float](repeating: -1, count: 500 * 32), bitCount: 32)
        let statistics = try CodeStatistics(codes: codes)
        #expect(statistics.distinctCodes == 1 && statistics.entropy == 0)
        #expect(statistics.substrings.allSatisfy { $0.largestBucket == 500 && $0.occupiedBuckets == 1 && $0.percentile99Bucket == 500 })
    }
}

@Suite struct PerturbationTests {
    func image() throws -> PixelBuffer {
        var rng = SeededGenerator(seed: 7)
        return try PixelBuffer(width: 28, height: 28, format: .gray, bytes: (0..<784).map { _ in UInt8(rng.next() % 256) })
    }

    @Test func everyEditKeepsSizeAndFormat() throws {
        let original = try image()
        for perturbation in Perturbation.allCases {
            let edited = try perturbation.apply(to: original, seed: 1)
            #expect(edited.width == 28 && edited.height == 28 && edited.format == .gray, "\(perturbation)")
            #expect((edited == original) == (perturbation == .identity), "\(perturbation) changes the image, identity does not")
        }
    }

    @Test func editsDoWhatTheySay() throws {
        let original = try image()
        let flipped = try Perturbation.flip.apply(to: original, seed: 0)
        #expect(flipped[0, 3, 0] == original[27, 3, 0])
        #expect(try Perturbation.flip.apply(to: flipped, seed: 0) == original)
        let shifted = try Perturbation.shift.apply(to: original, seed: 0)
        #expect(shifted[5, 9, 0] == original[4, 9, 0])
        let darker = try Perturbation.brightness.apply(to: original, seed: 0)
        #expect(darker[1, 1, 0] == UInt8((Float(original[1, 1, 0]) * 0.85).rounded()))
        let noisy = try Perturbation.noise.apply(to: original, seed: 3)
        #expect(noisy == (try Perturbation.noise.apply(to: original, seed: 3)), "noise is seeded")
        #expect(noisy != (try Perturbation.noise.apply(to: original, seed: 4)))
    }

    @Test func perturbedSetsKeepPlanesAndLabels() throws {
        let set = ImageSet(count: 3, channels: 3, height: 2, width: 2, pixels: (0..<36).map { UInt8($0) }, labels: [5, 6, 7])
        let copies = try set.perturbed(.identity, indices: [2, 0], seed: 0)
        #expect(copies.pixels == Array(set.image(2)) + Array(set.image(0)))
        #expect(copies.labels == [7, 5])
        let flipped = try set.perturbed(.flip, indices: [1], seed: 0)
        // Plane 0 of image 1 is 12, 13 / 14, 15; flipped 13, 12 / 15, 14.
        #expect(Array(flipped.pixels.prefix(4)) == [13, 12, 15, 14])
    }
}

@Suite struct NearDuplicateTests {
    @Test func recallIsTieAware() {
        // Database: 4 copies of code A, then 6 distinct codes far from A.
        var rows: [[Float]] = Array(repeating: [Float](repeating: 1, count: 16), count: 4)
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<6 { rows.append((0..<16).map { _ in rng.next() & 1 == 0 ? -1 : 1 }) }
        rows[4] = [Float](repeating: -1, count: 16)
        let database = PackedCodes(signsOf: rows.flatMap { $0 }, bitCount: 16)
        // Query 0: the code A, original item 2 (tied with 3 others). Query 1: item 4's own code.
        let queries = PackedCodes(signsOf: rows[2] + rows[4], bitCount: 16)
        let recall = NearDuplicateEvaluation.evaluate(database: database, queries: queries, originals: [2, 4], perturbation: .identity)
        #expect(abs(recall.recallAt1 - (0.25 + 1) / 2) < 1e-12)
        #expect(recall.recallAt10 == 1)
        #expect(recall.refinedRecallAt1 == nil)
    }

    @Test func refinementFindsTheOriginalAmongTies() {
        // Every code equal; the real values tell the items apart.
        let n = 50, dimension = 16
        var rng = SeededGenerator(seed: 5)
        let values = (0..<(n * dimension)).map { _ in rng.normal() }
        let database = PackedCodes(signsOf: [Float](repeating: 1, count: n * dimension), bitCount: dimension)
        let originals = [3, 17, 42]
        let queryValues = originals.flatMap { Array(values[($0 * dimension)..<(($0 + 1) * dimension)]) }
        let queries = PackedCodes(signsOf: [Float](repeating: 1, count: originals.count * dimension), bitCount: dimension)
        let refinement = RefinementData(dimension: dimension, databaseValues: values, queryValues: queryValues)
        let recall = NearDuplicateEvaluation.evaluate(database: database, queries: queries, originals: originals, perturbation: .identity,
                                                      refinement: refinement)
        #expect(abs(recall.recallAt1 - 1.0 / Double(n)) < 1e-12)
        #expect(recall.refinedRecallAt1 == 1 && recall.refinedRecallAt10 == 1)
    }
}

extension NearDuplicateTests {
    /// Random real values: `rows × dimension`.
    static func randomValues(_ rows: Int, _ dimension: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<(rows * dimension)).map { _ in rng.normal() }
    }

    @Test func mirrorMatchingFindsOriginalsThroughTheMirrorImage() {
        let n = 40, dimension = 16
        let values = Self.randomValues(n, dimension, seed: 21)
        let database = PackedCodes(signsOf: values, bitCount: dimension)
        let originals = [3, 17, 29]
        // The copies look like nothing stored; their mirror images are the originals themselves.
        let copyValues = Self.randomValues(originals.count, dimension, seed: 22)
        let mirrorValues = originals.flatMap { Array(values[($0 * dimension)..<(($0 + 1) * dimension)]) }
        let refinement = RefinementData(dimension: dimension, databaseValues: values, queryValues: copyValues)
        let copies = PackedCodes(signsOf: copyValues, bitCount: dimension)
        let plain = NearDuplicateEvaluation.evaluate(database: database, queries: copies, originals: originals, perturbation: .flip,
                                                     refinement: refinement)
        let matched = NearDuplicateEvaluation.mirrorMatchedRecall(
            database: database, queries: copies, mirrored: PackedCodes(signsOf: mirrorValues, bitCount: dimension), originals: originals,
            refinement: refinement, mirroredRefinement: refinement.replacingQueries(mirrorValues))
        #expect(plain.refinedRecallAt1! < 1)
        #expect(matched.at1 == 1 && matched.at10 == 1)
    }

    @Test func mirrorMatchingWithTheQueryItselfChangesNothing() {
        let n = 60, dimension = 16
        let values = Self.randomValues(n, dimension, seed: 23)
        let database = PackedCodes(signsOf: values, bitCount: dimension)
        let originals = Array(0..<20)
        let queryValues = Self.randomValues(originals.count, dimension, seed: 24)
        let queries = PackedCodes(signsOf: queryValues, bitCount: dimension)
        let refinement = RefinementData(dimension: dimension, databaseValues: values, queryValues: queryValues)
        let plain = NearDuplicateEvaluation.evaluate(database: database, queries: queries, originals: originals, perturbation: .identity,
                                                     refinement: refinement)
        let matched = NearDuplicateEvaluation.mirrorMatchedRecall(database: database, queries: queries, mirrored: queries, originals: originals,
                                                                  refinement: refinement, mirroredRefinement: refinement)
        #expect(matched.at1 == plain.refinedRecallAt1 && matched.at10 == plain.refinedRecallAt10)
        #expect(matched.at10 > 0, "some originals are among the refined first 10 of random queries against 60 items")
    }
}

@Suite struct ClusterCodesTests {
    @Test func clustersOfSeparatedBlobsShareOneCodeEach() {
        var rng = SeededGenerator(seed: 9)
        let centers: [[Float]] = [[0, 0], [10, 0], [0, 10]]
        var features: [Float] = [], blob: [Int] = []
        for i in 0..<300 {
            let c = i % 3
            features += [centers[c][0] + rng.normal() * 0.3, centers[c][1] + rng.normal() * 0.3]
            blob.append(c)
        }
        let hash = ClusterCodes(training: features, dimension: 2, clusters: 3, bits: 32, seed: 1)
        let codes = hash.encode(features)
        for i in 0..<300 {
            for j in 0..<3 where blob[i] == blob[j] { #expect(codes.code(i) == codes.code(j)) }
        }
        #expect(codes.code(0) != codes.code(1) && codes.code(1) != codes.code(2) && codes.code(0) != codes.code(2))
    }
}

@Suite struct RefinementTests {
    @Test func quantizationKeepsDirection() {
        let values: [Float] = [0.5, -2, 1, 0]
        let quantized = Refinement.quantize(values)
        #expect(quantized == [32, -127, 64, 0])
        #expect(Refinement.quantize([Float](repeating: 0, count: 3)) == [0, 0, 0])
        let query = Refinement.normalizedQuery(values)
        let cosine = query.withUnsafeBufferPointer { q in quantized.withUnsafeBufferPointer { Refinement.cosine(query: q, item: $0) } }
        #expect(abs(cosine - 1) < 1e-3)
    }

    @Test func candidatesAreKTimesTheFactorButNeverFewerThanTheFloor() {
        let defaults = Refinement.Options()
        #expect([1, 2, 3, 10].map(defaults.candidateCount(for:)) == [10, 10, 12, 40])
        #expect(Refinement.Options(candidateFactor: 4, minimumCandidates: 1).candidateCount(for: 1) == 4)
        #expect(Refinement.Options(candidateFactor: 1, minimumCandidates: 100).candidateCount(for: 99) == 100)
    }

    @Test func optionsDecodeWithoutTheFloorAndRefuseNonsense() throws {
        let decoder = JSONDecoder()
        let roundTrip = try decoder.decode(Refinement.Options.self,
                                           from: JSONEncoder().encode(Refinement.Options(candidateFactor: 2, minimumCandidates: 33)))
        #expect(roundTrip == Refinement.Options(candidateFactor: 2, minimumCandidates: 33))
        let older = try decoder.decode(Refinement.Options.self, from: Data(#"{"candidateFactor": 3}"#.utf8))
        #expect(older.candidateFactor == 3 && older.minimumCandidates == Refinement.Options.defaultMinimumCandidates)
        #expect(older.nearTieBand == Refinement.Options.defaultNearTieBand)
        #expect(older.nearTieCopyDistance == Refinement.Options.defaultNearTieCopyDistance)
        // No ceiling survives a round trip as no ceiling, not as the default one.
        let unbounded = Refinement.Options(nearTieBand: 0.003, nearTieCopyDistance: nil)
        #expect(try decoder.decode(Refinement.Options.self, from: JSONEncoder().encode(unbounded)) == unbounded)
        let bounded = Refinement.Options(nearTieBand: 0.003, nearTieCopyDistance: 0.25)
        #expect(try decoder.decode(Refinement.Options.self, from: JSONEncoder().encode(bounded)) == bounded)
        #expect(throws: DecodingError.self) {
            try decoder.decode(Refinement.Options.self, from: Data(#"{"candidateFactor": 2, "nearTieCopyDistance": -1}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try decoder.decode(Refinement.Options.self, from: Data(#"{"candidateFactor": 2, "nearTieBand": -0.5}"#.utf8))
        }
        #expect(throws: DecodingError.self) { try decoder.decode(Refinement.Options.self, from: Data(#"{"candidateFactor": 0}"#.utf8)) }
        #expect(throws: DecodingError.self) {
            try decoder.decode(Refinement.Options.self, from: Data(#"{"candidateFactor": 2, "minimumCandidates": 0}"#.utf8))
        }
    }

    static func scored(_ id: UInt32, _ score: Float, distance: Int = 3) -> Refinement.Scored {
        .init(neighbor: Neighbor(id: id, distance: distance), score: score)
    }

    @Test func nearTiesGoToTheNearestByTheFinerDistance() {
        let candidates = [Self.scored(1, 0.900), Self.scored(2, 0.899), Self.scored(3, 0.897), Self.scored(4, 0.5)]
        let finer: [UInt32: Float] = [1: 5, 2: 1, 3: 0.5, 4: 0]
        var asked: [UInt32] = []
        let ranked = Refinement.ranked(candidates, k: 4, nearTieBand: 0.002) { asked.append($0.neighbor.id); return finer[$0.neighbor.id] }
        // 1 and 2 lie within 0.002 of the best, 0.900: 2 is nearer and comes first. Then 1 is
        // the best left and 3 lies 0.003 below it, outside the band: 1, then 3, then 4.
        #expect(ranked.map(\.neighbor.id) == [2, 1, 3, 4])
        #expect(Set(asked) == [1, 2] && asked.count == 2, "asked once each, only inside a near-tie: \(asked)")
        #expect(Refinement.ranked(candidates, k: 4, nearTieBand: 0) { _ in Issue.record("band 0 compares nothing"); return 0 }.map(\.neighbor.id) == [1, 2, 3, 4])
        // A candidate with nothing finer to compare keeps its near-tie in score order.
        #expect(Refinement.ranked(candidates, k: 2, nearTieBand: 0.002) { $0.neighbor.id == 1 ? nil : 0 }.map(\.neighbor.id) == [1, 2])
    }

    @Test func onlyACopyWithinTheCeilingWinsANearTie() {
        let candidates = [Self.scored(1, 0.900), Self.scored(2, 0.899), Self.scored(3, 0.8985), Self.scored(4, 0.5)]
        // 2 is the nearest but not within the ceiling 0.5: the near-tie of 1, 2 and 3 keeps
        // score order. Within a ceiling of 1 it wins, and the next near-tie (1 and 3; 3 is the
        // nearer, at 3) keeps score order; without a ceiling 3 wins that one too.
        let finer: [UInt32: Float] = [1: 5, 2: 0.8, 3: 3, 4: 0]
        let rank = { (ceiling: Float?) in
            Refinement.ranked(candidates, k: 4, nearTieBand: 0.002, copyDistance: ceiling) { finer[$0.neighbor.id] }.map(\.neighbor.id)
        }
        #expect(rank(0.5) == [1, 2, 3, 4])
        #expect(rank(1) == [2, 1, 3, 4])
        #expect(rank(nil) == [2, 3, 1, 4])
        // At exactly the ceiling a candidate is a copy.
        #expect(rank(0.8) == [2, 1, 3, 4])
        #expect(rank(3) == [2, 3, 1, 4])
    }

    @Test func theNearestCopyWinsEvenWhenALookAlikeIsNearer() {
        let candidates = [Self.scored(1, 0.900), Self.scored(2, 0.899), Self.scored(3, 0.8995), Self.scored(4, 0.5)]
        // 3 is the nearest but no copy; 2 is a copy and wins the first near-tie; then 1 and 3
        // hold no copy between them and keep score order.
        let closeness: [UInt32: Refinement.Closeness] = [1: .init(distance: 5, isCopy: false), 2: .init(distance: 0.4, isCopy: true),
                                                          3: .init(distance: 0.2, isCopy: false), 4: .init(distance: 0, isCopy: true)]
        let ranked = Refinement.ranked(candidates, k: 4, nearTieBand: 0.002) { closeness[$0.neighbor.id] }
        #expect(ranked.map(\.neighbor.id) == [2, 1, 3, 4])
        // No copy at all: score order, as without a band.
        let none = Refinement.ranked(candidates, k: 4, nearTieBand: 0.002) { Refinement.Closeness(distance: Float($0.neighbor.id), isCopy: false) }
        #expect(none == Refinement.ranked(candidates, k: 4))
    }

    /// Random scores, distances and ceilings: every result lies within the band of the best score
    /// left when it was placed, and is the nearest candidate within that band — or, when none of
    /// them lies within the ceiling, the best by score.
    @Test(arguments: [0.01, 0.05, 0.3, 3] as [Float])
    func everyPlaceGoesToTheNearestOfItsNearTie(band: Float) {
        var rng = SeededGenerator(seed: UInt64(band * 1000))
        for _ in 0..<50 {
            let count = 1 + Int(rng.next() % 40)
            let candidates = (0..<count).map { Self.scored(UInt32($0), Float(rng.next() % 1000) / 1000, distance: Int(rng.next() % 5)) }
            let finer = (0..<count).map { _ in Float(rng.next() % 100) }
            let k = 1 + Int(rng.next() % UInt64(count))
            let ceiling: Float? = rng.next() % 2 == 0 ? nil : Float(rng.next() % 100)
            let ranked = Refinement.ranked(candidates, k: k, nearTieBand: band, copyDistance: ceiling) { finer[Int($0.neighbor.id)] }
            #expect(ranked.count == k && Set(ranked.map(\.neighbor.id)).count == k)
            var left = candidates
            for placed in ranked {
                let best = left.map(\.score).max()!
                let tied = left.filter { $0.score >= best - band }
                let nearest = tied.map { finer[Int($0.neighbor.id)] }.min()!
                #expect(placed.score >= best - band)
                if let ceiling, nearest > ceiling {
                    // No copy in the near-tie: the best by score order.
                    #expect(placed == Refinement.ranked(left, k: 1).first!)
                } else {
                    #expect(finer[Int(placed.neighbor.id)] == nearest)
                }
                left.removeAll { $0.neighbor.id == placed.neighbor.id }
            }
        }
    }

    @Test func rankingBreaksEqualScoresByDistanceThenId() {
        let scored: [Refinement.Scored] = [
            .init(neighbor: Neighbor(id: 4, distance: 2), score: 0.5), .init(neighbor: Neighbor(id: 1, distance: 3), score: 0.9),
            .init(neighbor: Neighbor(id: 2, distance: 2), score: 0.5), .init(neighbor: Neighbor(id: 0, distance: 1), score: 0.5),
        ]
        #expect(Refinement.ranked(scored, k: 3).map(\.neighbor.id) == [1, 0, 2])
    }
}
