import Testing
import TestSupport
@testable import HammingSearch

@Suite struct BinaryCodeTests {
    @Test func hexRoundTripsThroughBytesAndWords() throws {
        let code = try BinaryCode(hex: "0123456789ABCDEFfe")
        #expect(code.bitCount == 72)
        #expect(code.bytes == [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE])
        #expect(code.words == [0xEFCD_AB89_6745_2301, 0xFE])
        #expect(code.hex == "0123456789abcdeffe")
        #expect(try BinaryCode(bitCount: 72, words: code.words) == code)
    }

    @Test func bitZeroIsTheMostSignificantBitOfTheFirstByte() throws {
        var bits = [Bool](repeating: false, count: 16)
        bits[0] = true
        bits[9] = true
        let code = try BinaryCode(bits: bits)
        #expect(code.bytes == [0x80, 0x40])
        #expect(code.bit(0) && code.bit(9) && !code.bit(1) && !code.bit(8))
    }

    @Test func signsBecomeBitsLikePackbits() {
        let values: [Float] = [1, -1, 0, 2, -3, 0.5, -0.5, 4] + [Float](repeating: -1, count: 8)
        let code = BinaryCode(signsOf: values)
        #expect(code.bytes == [0b1001_0101, 0])
    }

    @Test(arguments: [0, 4, 12, 1032, 2048])
    func unsupportedLengthsAreRefused(bits: Int) {
        let error = #expect(throws: HammingError.self) { try BinaryCode(bits: [Bool](repeating: true, count: bits)) }
        #expect(error?.code == .invalidLength)
    }

    @Test func malformedHexIsRefusedWithThePosition() {
        let odd = #expect(throws: HammingError.self) { try BinaryCode(hex: "abc") }
        #expect(odd?.code == .invalidHex)
        let bad = #expect(throws: HammingError.self) { try BinaryCode(hex: "00zz") }
        #expect(bad?.message.contains("position 2") == true)
    }

    @Test func paddingBitsMustBeZero() {
        let error = #expect(throws: HammingError.self) { try BinaryCode(bitCount: 8, words: [0x100]) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func distanceCountsDifferingBits() throws {
        var rng = SeededGenerator(seed: 1)
        for bits in [8, 64, 72, 1024] {
            let a = randomCode(bits: bits, rng: &rng)
            let b = randomCode(bits: bits, rng: &rng)
            let expected = zip(a.bytes, b.bytes).map { ($0 ^ $1).nonzeroBitCount }.reduce(0, +)
            #expect(a.distance(to: b) == expected)
            #expect(a.distance(to: a) == 0)
        }
    }
}
