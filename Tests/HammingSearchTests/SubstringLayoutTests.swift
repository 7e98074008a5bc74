import Testing
import TestSupport
@testable import HammingSearch

@Suite struct SubstringLayoutTests {
    @Test(arguments: [(8, 1), (8, 8), (64, 3), (64, 4), (72, 5), (256, 13), (1024, 43), (1024, 100)])
    func substringsPartitionTheBits(bits: Int, substrings: Int) throws {
        let layout = try SubstringLayout(bitCount: bits, substrings: substrings)
        #expect(layout.lengths.reduce(0, +) == bits)
        #expect(Set(layout.lengths).count <= 2 && layout.lengths.max()! - layout.lengths.min()! <= 1)
        // Setting one bit at a time shows up in exactly one substring, as exactly one bit.
        for position in 0..<bits {
            var words = [UInt64](repeating: 0, count: BinaryCode.wordCount(forBits: bits))
            words[position / 64] = 1 << UInt64(position % 64)
            let values = words.withUnsafeBufferPointer { buffer in
                (0..<layout.count).map { layout.value(of: buffer.baseAddress!, table: $0) }
            }
            #expect(values.filter { $0 != 0 }.count == 1)
            #expect(values.map { $0.nonzeroBitCount }.reduce(0, +) == 1)
        }
    }

    @Test func impossibleSplitsAreRefused() {
        for (bits, substrings) in [(64, 2), (64, 65), (1024, 42), (64, 0)] {
            let error = #expect(throws: HammingError.self) { try SubstringLayout(bitCount: bits, substrings: substrings) }
            #expect(error?.code == .invalidLayout)
        }
    }

    @Test func recommendedSplitFollowsLogN() {
        #expect(SubstringLayout.recommendedSubstrings(bitCount: 64, itemCount: 1_000_000) == 3)
        #expect(SubstringLayout.recommendedSubstrings(bitCount: 64, itemCount: 10_000_000) == 3)
        #expect(SubstringLayout.recommendedSubstrings(bitCount: 64, itemCount: 65_536) == 4)
        #expect(SubstringLayout.recommendedSubstrings(bitCount: 256, itemCount: 1_000_000) == 13)
        #expect(SubstringLayout.recommendedSubstrings(bitCount: 1024, itemCount: 100_000_000) == 43)
        #expect(SubstringLayout.recommendedSubstrings(bitCount: 8, itemCount: 0) == 2)
    }

    @Test(arguments: [(1, 0), (1, 1), (10, 3), (16, 2), (20, 5), (5, 5), (5, 6)])
    func neighborhoodsHoldEveryValueAtTheDistanceOnce(length: Int, radius: Int) {
        var values: [UInt32] = []
        let center: UInt32 = 0b10110 & ((1 << UInt32(length)) - 1)
        SubstringNeighborhood.append(center: center, length: length, radius: radius, to: &values)
        let expected = (0..<(UInt32(1) << UInt32(length))).filter { ($0 ^ center).nonzeroBitCount == radius }
        #expect(values.sorted() == expected)
        #expect(Double(values.count) == SubstringNeighborhood.size(length: length, radius: radius))
    }

    @Test func segmentBucketsListEachItemUnderItsSubstring() throws {
        var rng = SeededGenerator(seed: 3)
        let codes = makeCodes(3000, bits: 64, distribution: .clustered, rng: &rng)
        let (index, _) = try makeIndexAndOracle(codes, bits: 64, substrings: 4)
        let snapshot = index.snapshot()
        let segment = try #require(snapshot.segment)
        for table in 0..<4 {
            var seen: [UInt32] = []
            for value in 0..<(UInt32(1) << UInt32(segment.layout.lengths[table])) {
                let bucket = Array(segment.tables[table].bucket(value))
                #expect(bucket == bucket.sorted())
                for id in bucket {
                    #expect(segment.layout.values(of: codes[Int(id)])[table] == value)
                }
                seen += bucket
            }
            #expect(seen.sorted() == (0..<3000).map(UInt32.init))
        }
    }
}
