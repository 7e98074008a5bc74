import Testing
import TestSupport
@testable import HammingSearch

/// Fingerprints beside the ids of multi-index tables: bits from outside each substring, whose
/// distance plus the substring's must never exceed the codes' distance (else a search would drop
/// a true neighbour), and which must spare most codes' reads where the codes are far.
@Suite struct FingerprintTests {
    let searcher = HammingSearcher()

    @Test(arguments: [(16, 2), (24, 2), (32, 2), (40, 3), (48, 3), (56, 3), (64, 3), (64, 4), (64, 16)])
    func fingerprintsAndSubstringsNeverOverstateTheDistance(bits: Int, substrings: Int) throws {
        let layout = try SubstringLayout(bitCount: bits, substrings: substrings)
        #expect(layout.fingerprintBits == min(32, bits - layout.lengths.max()!))
        var rng = SeededGenerator(seed: UInt64(bits * 100 + substrings))
        for _ in 0..<300 {
            let a = randomCode(bits: bits, rng: &rng)
            let b = flip(a, probability: Double.random(in: 0..<0.6, using: &rng), rng: &rng)
            let distance = a.distance(to: b)
            a.words.withUnsafeBufferPointer { aw in
                b.words.withUnsafeBufferPointer { bw in
                    for table in 0..<layout.count {
                        let fingerprintDistance = (layout.fingerprint(of: aw.baseAddress!, table: table)
                            ^ layout.fingerprint(of: bw.baseAddress!, table: table)).nonzeroBitCount
                        let substringDistance = (layout.value(of: aw.baseAddress!, table: table) ^ layout.value(of: bw.baseAddress!, table: table)).nonzeroBitCount
                        #expect(fingerprintDistance + substringDistance <= distance, "table \(table) of \(layout)")
                        #expect(layout.fingerprint(of: aw.baseAddress!, table: table) >> layout.fingerprintBits == 0)
                    }
                }
            }
        }
        // A code whose only set bits are one substring's has an all-zero fingerprint there.
        for table in 0..<layout.count {
            var words = [UInt64](repeating: 0, count: 1)
            for bit in layout.starts[table]..<(layout.starts[table] + layout.lengths[table]) { words[0] |= 1 << UInt64(bit) }
            #expect(words.withUnsafeBufferPointer { layout.fingerprint(of: $0.baseAddress!, table: table) } == 0)
        }
    }

    @Test func longCodesAndSingleTablesCarryNone() throws {
        #expect(try SubstringLayout(bitCount: 128, substrings: 6).fingerprintBits == 0)
        #expect(try SubstringLayout(bitCount: 16, substrings: 1).fingerprintBits == 0)
    }

    @Test func farCandidatesAreDroppedWithoutReadingTheirCodes() throws {
        var rng = SeededGenerator(seed: 41)
        let codes = makeCodes(100_000, bits: 64, distribution: .uniform, rng: &rng)
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 64, substrings: 4)
        let snapshot = index.snapshot()
        #expect(snapshot.segment!.tables.allSatisfy { $0.fingerprints != nil })
        for _ in 0..<5 {
            let query = randomCode(bits: 64, rng: &rng)
            let result = try searcher.nearest(to: query, k: 10, in: snapshot, method: .multiIndex)
            #expect(result.neighbors == (try oracle.nearest(to: query, k: 10)).neighbors)
            #expect(result.statistics.distancesComputed * 2 < result.statistics.candidates,
                    "\(result.statistics.distancesComputed) codes read for \(result.statistics.candidates) candidates")
        }
    }

    /// Buckets larger than a verification batch (2,048 ids) are filtered slice by slice.
    @Test func bucketsLargerThanABatchAreFilteredExactly() throws {
        var rng = SeededGenerator(seed: 42)
        let few = (0..<3).map { _ in randomCode(bits: 64, rng: &rng) }
        var codes = (0..<9000).map { _ in flip(few.randomElement(using: &rng)!, probability: 0.04, rng: &rng) }
        codes += (0..<9000).map { _ in few.randomElement(using: &rng)! }
        let (index, oracle) = try makeIndexAndOracle(codes, bits: 64, substrings: 3)
        for query in few + few.map({ flip($0, probability: 0.1, rng: &rng) }) {
            for method in [SearchMethod.multiIndex, .automatic] {
                for k in [1, 10, 5000] {
                    #expect(try searcher.nearest(to: query, k: k, in: index.snapshot(), method: method).neighbors
                            == oracle.nearest(to: query, k: k).neighbors)
                }
                #expect(try searcher.within(radius: 4, of: query, in: index.snapshot(), method: method).neighbors
                        == oracle.within(radius: 4, of: query).neighbors)
            }
        }
    }
}
