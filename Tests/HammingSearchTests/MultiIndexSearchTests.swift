import Testing
import TestSupport
@testable import HammingSearch

/// Multi-index hashing and the scan must equal the brute-force oracle exactly: same ids, same
/// distances, same order (distance, then id).
@Suite struct MultiIndexSearchTests {
    static let lengths = [8, 16, 24, 32, 48, 64, 128, 256, 1024]
    let searcher = HammingSearcher()

    /// Every method of the searcher on `index`'s snapshot against the oracle (``expectConform``).
    func check(_ index: InMemoryIndex, _ oracle: FlatIndex, queries: [BinaryCode], ks: [Int], radii: [Int],
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let snapshot = index.snapshot()
        let methods = SearchMethod.allCases.map { (name: "\($0)", index: SnapshotSearch(snapshot, method: $0, searcher: searcher) as any SearchIndex) }
        try expectConform(methods, to: oracle, queries: queries, ks: ks, radii: radii, "\(index.layout)", sourceLocation: sourceLocation)
    }

    @Test(arguments: lengths, CodeDistribution.allCases)
    func equalsTheOracle(bits: Int, distribution: CodeDistribution) throws {
        var rng = SeededGenerator(seed: UInt64(bits * 31 + distribution.rawValue.count))
        let count = bits >= 256 ? 1500 : 3000
        let codes = makeCodes(count, bits: bits, distribution: distribution, rng: &rng)
        let m = SubstringLayout.recommendedSubstrings(bitCount: bits, itemCount: count)
        let (index, oracle) = try makeIndexAndOracle(codes, bits: bits, substrings: m)
        // Queries near stored codes (the realistic case), far ones, and stored codes themselves.
        var queries = (0..<3).map { _ in flip(codes.randomElement(using: &rng)!, probability: 0.05, rng: &rng) }
        queries.append(randomCode(bits: bits, rng: &rng))
        queries.append(codes[0])
        try check(index, oracle, queries: queries, ks: [1, 10, 100], radii: [0, 1, 3, bits / 8])
    }

    @Test(arguments: [(64, [3, 4, 8, 16, 64]), (32, [2, 5, 32]), (128, [6, 11, 20])])
    func anySplitGivesTheSameAnswers(bits: Int, splits: [Int]) throws {
        var rng = SeededGenerator(seed: 99)
        let codes = makeCodes(2000, bits: bits, distribution: .clustered, rng: &rng)
        for m in splits {
            let (index, oracle) = try makeIndexAndOracle(codes, bits: bits, substrings: m)
            let queries = (0..<3).map { _ in flip(codes.randomElement(using: &rng)!, probability: 0.08, rng: &rng) }
            try check(index, oracle, queries: queries, ks: [1, 10], radii: [0, 2, 5])
        }
    }

    @Test func emptyIndexReturnsNothing() throws {
        let index = try InMemoryIndex(bitCount: 64, substrings: 4)
        var rng = SeededGenerator(seed: 1)
        let query = randomCode(bits: 64, rng: &rng)
        for built in [false, true] {
            if built { try index.rebuild() }
            for method in SearchMethod.allCases {
                #expect(try searcher.nearest(to: query, k: 5, in: index.snapshot(), method: method).neighbors.isEmpty)
                #expect(try searcher.within(radius: 64, of: query, in: index.snapshot(), method: method).neighbors.isEmpty)
            }
        }
    }

    @Test func aSingleItemIsFoundAtAnyDistance() throws {
        var rng = SeededGenerator(seed: 2)
        let code = randomCode(bits: 64, rng: &rng)
        let (index, oracle) = try makeIndexAndOracle([code], bits: 64, substrings: 4)
        let far = try BinaryCode(bitCount: 64, words: [~code.words[0]])
        try check(index, oracle, queries: [code, far, flip(code, probability: 0.3, rng: &rng)], ks: [1, 3], radii: [0, 63, 64, 200])
        let result = try searcher.nearest(to: far, k: 1, in: index.snapshot(), method: .multiIndex)
        #expect(result.neighbors == [Neighbor(id: 0, distance: 64)])
    }

    @Test func kLargerThanTheIndexReturnsEverything() throws {
        var rng = SeededGenerator(seed: 5)
        let codes = makeCodes(40, bits: 32, distribution: .uniform, rng: &rng)
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 32, substrings: 2)
        try check(index, oracle, queries: [codes[3], randomCode(bits: 32, rng: &rng)], ks: [39, 40, 41, 1000], radii: [32, 1000])
    }

    @Test func deletesUpdatesAndAppendsAfterTheBuildAreSeen() throws {
        var rng = SeededGenerator(seed: 8)
        let bits = 64
        var codes = makeCodes(3000, bits: bits, distribution: .clustered, rng: &rng)
        let (index, _) = try makeIndexAndOracle(codes, bits: bits, substrings: 4)
        var live = [Bool](repeating: true, count: codes.count)
        // Delete a tenth, move a tenth to new codes, append 500 not yet indexed.
        for id in stride(from: 0, to: 3000, by: 10) {
            index.remove(UInt32(id))
            live[id] = false
        }
        for id in stride(from: 5, to: 3000, by: 10) {
            let moved = flip(codes.randomElement(using: &rng)!, probability: 0.05, rng: &rng)
            try index.update(UInt32(id), to: moved)
            codes[id] = moved
        }
        for _ in 0..<500 {
            let code = flip(codes.randomElement(using: &rng)!, probability: 0.1, rng: &rng)
            try index.append(code)
            codes.append(code)
            live.append(true)
        }
        var oracle = FlatIndex(bitCount: codes[0].bitCount)
        for (id, code) in codes.enumerated() { oracle.codes.append(live[id] ? code : nil) }
        #expect(index.snapshot().movedIDs.count == 300)
        #expect(index.snapshot().tailStart == 3000)
        let queries = (0..<4).map { _ in flip(codes.randomElement(using: &rng)!, probability: 0.05, rng: &rng) }
        try check(index, oracle, queries: queries + [codes[5], codes[3100]], ks: [1, 10, 50], radii: [0, 2, 6])
        // And after the next build everything is in the segment again.
        try index.rebuild()
        #expect(index.snapshot().movedIDs.isEmpty)
        try check(index, oracle, queries: queries, ks: [10], radii: [3])
    }

    @Test func queriesOfTheWrongLengthAreRefused() throws {
        let index = try InMemoryIndex(bitCount: 64, substrings: 4)
        let error = #expect(throws: HammingError.self) {
            try searcher.nearest(to: try BinaryCode(hex: "ff"), k: 1, in: index.snapshot())
        }
        #expect(error?.code == .lengthMismatch)
        #expect(throws: HammingError.self) { try searcher.nearest(to: try BinaryCode(hex: "ffffffffffffffff"), k: 0, in: index.snapshot()) }
        #expect(throws: HammingError.self) { try searcher.within(radius: -1, of: try BinaryCode(hex: "ffffffffffffffff"), in: index.snapshot()) }
    }
}

@Suite struct PlannerTests {
    let searcher = HammingSearcher()

    /// What the buckets and candidates a search went through cost at the default prices: the
    /// multi-index work it did before it scanned, when it switched.
    func multiIndexCost(of result: SearchResult) -> Double {
        Double(result.statistics.bucketsProbed) * SearchCostModel().bucketProbe
            + Double(result.statistics.candidates) * SearchCostModel().candidate
    }

    @Test func smallIndexesAreScanned() throws {
        var rng = SeededGenerator(seed: 4)
        let codes = makeCodes(100, bits: 64, distribution: .uniform, rng: &rng)
        let (index, _) = try makeIndexAndOracle(codes, bits: 64, substrings: 4)
        let result = try searcher.nearest(to: codes[0], k: 5, in: index.snapshot())
        #expect(result.statistics.path == .linearScan)
        #expect(result.statistics.bucketsProbed == 0)
        #expect(result.statistics.distancesComputed >= 100)
    }

    @Test func nearbyQueriesInALargeClusteredIndexUseMultiIndexHashing() throws {
        var rng = SeededGenerator(seed: 6)
        let codes = makeCodes(60_000, bits: 64, distribution: .clustered, rng: &rng)
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 64, substrings: 4)
        let stored = try searcher.nearest(to: codes[123], k: 1, in: index.snapshot())
        #expect(stored.statistics.path == .multiIndex)
        #expect(stored.statistics.bucketsProbed == 1, "an exact match ends the search after one bucket")
        #expect(stored.neighbors == (try oracle.nearest(to: codes[123], k: 1)).neighbors)
        let query = flip(codes[123], probability: 0.03, rng: &rng)
        let radius = try searcher.within(radius: 2, of: query, in: index.snapshot())
        #expect(radius.statistics.path == .multiIndex)
        #expect(radius.statistics.distancesComputed < 60_000 / 10, "MIH should verify a fraction of the items")
        #expect(radius.neighbors == (try oracle.within(radius: 2, of: query)).neighbors)
    }

    @Test func aLoneNearCopyDoesNotKeepMultiIndexHashingGoing() throws {
        // Photo matching: random 256-bit codes, each query a near copy of one of them. The copy is
        // found at once; its other 9 neighbours lie ~100 bits away, where only a scan is cheap.
        var rng = SeededGenerator(seed: 8)
        let codes = makeCodes(100_000, bits: 256, distribution: .uniform, rng: &rng)
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 256, substrings: 12)
        let scanCost = SearchCostModel().scan(count: codes.count, words: 4)
        for _ in 0..<5 {
            let query = flip(codes.randomElement(using: &rng)!, probability: 0.03, rng: &rng)
            let result = try searcher.nearest(to: query, k: 10, in: index.snapshot())
            #expect(result.neighbors == (try oracle.nearest(to: query, k: 10)).neighbors)
            #expect(result.statistics.path == .multiIndexThenScan)
            let spentBeforeTheScan = multiIndexCost(of: result)
            #expect(spentBeforeTheScan < 0.25 * scanCost, "multi-index hashing ran on for \(spentBeforeTheScan / scanCost) of a scan's cost")
        }
    }

    @Test func aFewNearCopiesAmongDistantCodesDoNotKeepMultiIndexHashingGoing() throws {
        // Crops of one photograph among others: each query is a near copy of a stored code that
        // has two siblings, ~25 bits from the query; every other code lies ~128 bits away, where
        // only a scan is cheap. Extrapolating the three items by the Hamming ball's volume would
        // promise the 10th a few bits further, step after step.
        var rng = SeededGenerator(seed: 12)
        var codes = makeCodes(100_000, bits: 256, distribution: .uniform, rng: &rng)
        let originals = (0..<5).map { _ in codes.randomElement(using: &rng)! }
        for original in originals {
            codes.append(flip(original, probability: 0.07, rng: &rng))
            codes.append(flip(original, probability: 0.08, rng: &rng))
        }
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 256, substrings: 12)
        let scanCost = SearchCostModel().scan(count: codes.count, words: 4)
        for original in originals {
            let query = flip(original, probability: 0.03, rng: &rng)
            let result = try searcher.nearest(to: query, k: 10, in: index.snapshot())
            let expected = try oracle.nearest(to: query, k: 10).neighbors
            #expect(result.neighbors == expected)
            #expect(expected[2].distance < 40 && expected[3].distance > 80, "two siblings near, the rest far")
            #expect(result.statistics.path == .multiIndexThenScan)
            let spentBeforeTheScan = multiIndexCost(of: result)
            #expect(spentBeforeTheScan < 0.5 * scanCost, "multi-index hashing ran on for \(spentBeforeTheScan / scanCost) of a scan's cost \(expected.map(\.distance)) \(result.statistics)")
        }
    }

    @Test func aStoredCodeQueriedWithItselfAmongClusteredCodesStaysOnMultiIndexHashing() throws {
        // Learned codes of images: classes are clusters. A stored image queried with itself finds
        // itself and its near twin (a re-saved copy) at once, then the rest of its cluster a few
        // bits further: the count's slow start must not send the query to a scan.
        var rng = SeededGenerator(seed: 14)
        var codes = makeCodes(300_000, bits: 64, distribution: .clustered, rng: &rng)
        let originals = (0..<5).map { _ in codes.randomElement(using: &rng)! }
        for original in originals { codes.append(flip(original, probability: 0.03, rng: &rng)) }
        let m = SubstringLayout.recommendedSubstrings(bitCount: 64, itemCount: codes.count)
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 64, substrings: m)
        for original in originals {
            let result = try searcher.nearest(to: original, k: 10, in: index.snapshot())
            #expect(result.neighbors == (try oracle.nearest(to: original, k: 10)).neighbors)
            #expect(result.statistics.path == .multiIndex, "\(result.statistics)")
        }
    }

    @Test func aGuessFromHowTheCountGrewIsLaterWhereItGrewSlowly() {
        // 1 item at 8 bits, 3 within 40: a factor of 3 in 32 bits; 10 needs ln(10/3)/(ln 3/32) ≈ 35.1, so 36 more.
        #expect(SearchCostModel.grownKthDistance(k: 10, found: 3, atNearest: 1, nearest: 8, within: 40) == 76)
        // A dense cluster: 1 at 30, 5 within 39: 10 only ~4 bits further.
        #expect(SearchCostModel.grownKthDistance(k: 10, found: 5, atNearest: 1, nearest: 30, within: 39) == 43)
        // Two at the nearest distance and 4 within 40: a factor of 2 in 32 bits, so 10 is 43 bits on.
        #expect(SearchCostModel.grownKthDistance(k: 10, found: 4, atNearest: 2, nearest: 8, within: 40) == 83)
        #expect(SearchCostModel.grownKthDistance(k: 10, found: 1, atNearest: 1, nearest: 8, within: 40) == nil)
        #expect(SearchCostModel.grownKthDistance(k: 10, found: 3, atNearest: 3, nearest: 8, within: 40) == nil, "no growth")
        #expect(SearchCostModel.grownKthDistance(k: 10, found: 4, atNearest: 1, nearest: 40, within: 40) == nil)
        #expect(SearchCostModel.grownKthDistance(k: 3, found: 3, atNearest: 1, nearest: 8, within: 40) == nil)
    }

    @Test func hugeRadiiAreScanned() throws {
        var rng = SeededGenerator(seed: 6)
        let codes = makeCodes(60_000, bits: 64, distribution: .uniform, rng: &rng)
        let (index, _) = try makeIndexAndOracle(codes, bits: 64, substrings: 4)
        let result = try searcher.within(radius: 20, of: codes[0], in: index.snapshot())
        #expect(result.statistics.path == .linearScan || result.statistics.path == .multiIndexThenScan)
    }

    @Test func forcedMethodsAreObeyed() throws {
        var rng = SeededGenerator(seed: 6)
        let codes = makeCodes(500, bits: 64, distribution: .uniform, rng: &rng)
        let (index, _) = try makeIndexAndOracle(codes, bits: 64, substrings: 4)
        #expect(try searcher.nearest(to: codes[0], k: 3, in: index.snapshot(), method: .multiIndex).statistics.path == .multiIndex)
        #expect(try searcher.nearest(to: codes[0], k: 3, in: index.snapshot(), method: .linearScan).statistics.path == .linearScan)
    }

    @Test func uniformKthDistanceGrowsWithKAndShrinksWithN() {
        let a = SearchCostModel.uniformKthDistance(k: 10, itemCount: 10_000_000, bitCount: 64)
        let b = SearchCostModel.uniformKthDistance(k: 10, itemCount: 1_000_000, bitCount: 64)
        let c = SearchCostModel.uniformKthDistance(k: 1000, itemCount: 1_000_000, bitCount: 64)
        #expect(a == 14, "about 8 of 10^7 uniform 64-bit codes lie within 13 bits, 33 within 14")
        #expect(b > a && c > b)
        #expect(SearchCostModel.uniformKthDistance(k: 10, itemCount: 1_000, bitCount: 1024) > 400)
    }

    @Test func extrapolationFromAKnownBallGuessesTheKthDistance() {
        // 64-bit balls: V(8) ≈ 5.3e9, V(9) ≈ 3.3e10, V(10) ≈ 1.8e11.
        #expect(SearchCostModel.extrapolatedKthDistance(k: 10, found: 1, within: 8, bitCount: 64) == 10)
        #expect(SearchCostModel.extrapolatedKthDistance(k: 5, found: 1, within: 8, bitCount: 64) == 9)
        #expect(SearchCostModel.extrapolatedKthDistance(k: 10, found: 10, within: 8, bitCount: 64) == 8)
        #expect(SearchCostModel.extrapolatedKthDistance(k: 1000, found: 1, within: 0, bitCount: 256) == 2)
    }

    @Test func clusteredIndexesAreSearchedMostlyByMultiIndexHashing() throws {
        var rng = SeededGenerator(seed: 21)
        let codes = makeCodes(40_000, bits: 64, distribution: .clustered, rng: &rng)
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 64, substrings: 4)
        var multiIndex = 0
        for _ in 0..<20 {
            let query = flip(codes.randomElement(using: &rng)!, probability: 0.05, rng: &rng)
            let result = try searcher.nearest(to: query, k: 10, in: index.snapshot())
            #expect(result.neighbors == (try oracle.nearest(to: query, k: 10)).neighbors)
            if result.statistics.path == .multiIndex { multiIndex += 1 }
        }
        #expect(multiIndex > 10, "near queries in dense clusters should mostly be answered by MIH")
    }
}
