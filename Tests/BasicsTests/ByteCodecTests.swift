import Basics
import Testing

private struct Truncated: Error, Equatable { let offset: Int }

@Suite struct ByteCodecTests {
    @Test func whatIsWrittenReadsBackLittleEndian() throws {
        var writer = LittleEndianWriter()
        writer.append(UInt16(0x0102))
        writer.append(UInt32(0x0304_0506))
        writer.append(Int64(-2))
        writer.append(Float(1.5))
        writer.append(contentsOf: [9, 8])
        #expect(writer.bytes.prefix(6) == [0x02, 0x01, 0x06, 0x05, 0x04, 0x03])
        var reader = LittleEndianReader(writer.bytes) { Truncated(offset: $0) }
        #expect(try reader.read(UInt16.self) == 0x0102)
        #expect(try reader.read(UInt32.self) == 0x0304_0506)
        #expect(try reader.read(Int64.self) == -2)
        #expect(try reader.readFloat() == 1.5)
        #expect(Array(try reader.readBytes(2)) == [9, 8])
        #expect(reader.remaining == 0)
    }

    @Test func readingPastTheEndThrowsTheOwnersErrorAndMovesNothing() throws {
        var reader = LittleEndianReader([1, 2, 3]) { Truncated(offset: $0) }
        #expect(try reader.read(UInt16.self) == 0x0201)
        #expect(throws: Truncated(offset: 2)) { try reader.read(UInt32.self) }
        #expect(throws: Truncated(offset: 2)) { try reader.readBytes(2) }
        #expect(throws: Truncated(offset: 2)) { try reader.readFloats(1) }
        #expect(throws: Truncated(offset: 2)) { try reader.readBytes(-1) }
        #expect(try reader.read(UInt8.self) == 3)
    }

    @Test func fnv1aMatchesThePublishedVectors() {
        // Test vectors of the FNV reference (Fowler, Noll, Vo): 64-bit FNV-1a.
        #expect(FNV1a.hash([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
        var split = FNV1a()
        split.combine(Array("foo".utf8))
        split.combine(Array("bar".utf8))
        #expect(split.value == FNV1a.hash(Array("foobar".utf8)))
    }

    @Test func theSeededGeneratorIsSplitMix64() {
        // SplitMix64 (Steele, Lea, Flood; Vigna's reference code) from seed 0.
        var generator = SeededGenerator(seed: 0)
        #expect(generator.next() == 0xe220_a839_7b1d_cdaf)
        #expect(generator.next() == 0x6e78_9e6a_a1b9_65f4)
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
        #expect((0..<4).map { _ in a.unit() } == (0..<4).map { _ in b.unit() })
        let units = (0..<1000).map { _ in a.unit() }
        #expect(units.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    @Test(arguments: [0, 1, 2, 1567, 300_000])
    func skippingDrawsLeavesTheStreamWhereDrawingThemWould(draws: Int) {
        var skipped = SeededGenerator(seed: 2026), drawn = skipped
        skipped.skip(draws)
        for _ in 0..<draws { _ = drawn.next() }
        #expect(skipped.state == drawn.state)
        #expect(skipped.next() == drawn.next())
    }
}
