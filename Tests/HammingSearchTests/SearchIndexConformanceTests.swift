import HammingSearch
import Testing
import TestSupport

/// Every in-memory ``SearchIndex`` conformance against the ``FlatIndex`` oracle, over code
/// lengths, code distributions (uniform, clustered, three codes only: ties everywhere), radii
/// and a history that crosses chunk boundaries (``ChunkCrossingScenario``). The on-disk index
/// runs the same checks in `StoreSearchTests`.
@Suite struct SearchIndexConformanceTests {
    static func index(for scenario: ChunkCrossingScenario) throws -> InMemoryIndex {
        let index = try InMemoryIndex(bitCount: scenario.bitCount, substrings: scenario.bitCount / 16)
        for step in scenario.steps {
            switch step {
            case .append(let code): try index.append(code)
            case .rebuild: try index.rebuild()
            case .remove(let id): index.remove(id)
            case .update(let id, let code): try index.update(id, to: code)
            }
        }
        return index
    }

    @Test(arguments: [32, 64, 128, 256], CodeDistribution.allCases)
    func everyMethodAnswersLikeTheOracleAcrossChunks(bits: Int, distribution: CodeDistribution) throws {
        let scenario = ChunkCrossingScenario(bits: bits, distribution: distribution, seed: UInt64(bits) &* 31 &+ UInt64(distribution.rawValue.count))
        let index = try Self.index(for: scenario)
        #expect(index.snapshot().segment != nil && index.snapshot().tailStart == UInt32(ChunkCrossingScenario.indexed))
        #expect(!index.snapshot().movedIDs.isEmpty, "the scenario must leave codes the built index lists under their old value")
        let conformances: [(name: String, index: any SearchIndex)] = [
            ("in-memory index", index),
            ("multi-index hashing", SnapshotSearch(index.snapshot(), method: .multiIndex)),
            ("linear scan", SnapshotSearch(index.snapshot(), method: .linearScan)),
            ("planner", SnapshotSearch(index.snapshot(), method: .automatic)),
        ]
        try expectConform(conformances, to: scenario.oracle, queries: scenario.queries, "\(bits) bits, \(distribution)")
    }

    /// The planner's switch from multi-index hashing to a scan mid-query, checked for the answer
    /// and not only for the path: far queries into clustered codes make the buckets too costly.
    @Test func aSearchThatSwitchesToAScanMidQueryStillAnswersExactly() throws {
        var rng = SeededGenerator(seed: 404)
        let codes = makeCodes(12_000, bits: 64, distribution: .clustered, rng: &rng)
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 64, substrings: 4)
        var switched = 0
        for q in 0..<12 {
            let query = flip(codes[q * 97], probability: 0.25, rng: &rng)
            let result = try SnapshotSearch(index.snapshot()).nearest(to: query, k: 50)
            if result.statistics.path == .multiIndexThenScan { switched += 1 }
            #expect(result.neighbors == (try oracle.nearest(to: query, k: 50)).neighbors, "query \(q) by \(result.statistics.path)")
        }
        #expect(switched > 0, "no query switched from multi-index hashing to a scan; the test no longer covers the switch")
    }

    @Test func theOracleRefusesWhatEveryIndexRefuses() throws {
        let oracle = FlatIndex(bitCount: 64)
        let short = try BinaryCode(hex: "ff")
        #expect(throws: HammingError.self) { try oracle.nearest(to: short, k: 1) }
        #expect(throws: HammingError.self) { try oracle.nearest(to: try BinaryCode(hex: "00000000000000ff"), k: 0) }
        #expect(throws: HammingError.self) { try oracle.within(radius: -1, of: try BinaryCode(hex: "00000000000000ff")) }
    }
}
