import Foundation
import HammingSearch
import PixelIO
import Testing
@testable import PerceptualHash

/// PDQ against Meta's reference implementation (`Fixtures/pdq/make_pdq_vectors.py` runs it
/// through its Python binding): the same bits and quality on images of several sizes and
/// aspect ratios, and the properties the hash exists for.
@Suite struct PDQTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fixtures/pdq").standardized

    struct Vector: Decodable {
        var file: String
        var hex: String
        var quality: Int
    }

    static let vectors: [Vector] = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("pdq-vectors.json"))
        return try! JSONDecoder().decode([Vector].self, from: data)
    }()

    func image(_ file: String) throws -> PixelBuffer {
        try ImageDecoder().decode(contentsOf: Self.folder.appendingPathComponent(file).standardized.path)
    }

    @Test(arguments: vectors.map(\.file))
    func hashesMatchTheReference(file: String) throws {
        let vector = try #require(Self.vectors.first { $0.file == file })
        let hash = PDQ.hash(try image(file))
        let expected = try BinaryCode(hex: vector.hex)
        #expect(hash.code.distance(to: expected) == 0, "\(file): \(hash.code.hex) against \(vector.hex)")
        #expect(hash.quality == vector.quality, "\(file)")
    }

    @Test func halfTheBitsAreSetAndCopiesStayClose() throws {
        let original = try image("scene-200x300.png")
        let hash = PDQ.hash(original)
        #expect((0..<256).filter { hash.code.bit($0) }.count == 128)
        // Brightened by 10 % and resized to 150×100: a few bits move; an unrelated image is far.
        let brighter = try PixelBuffer(width: original.width, height: original.height, format: original.format,
                                       bytes: original.bytes.map { UInt8(min(255, Int(Double($0) * 1.1))) })
        #expect(PDQ.hash(brighter).code.distance(to: hash.code) <= 16)
        let smaller = original.areaResized(width: 150, height: 100)
        #expect(PDQ.hash(smaller).code.distance(to: hash.code) <= 24)
        let other = PDQ.hash(try image("scene-97x211.png"))
        #expect(other.code.distance(to: hash.code) >= 80)
    }

    @Test(arguments: vectors.map(\.file))
    func theMarginsCarryTheBits(file: String) throws {
        let hash = PDQ.hash(try image(file))
        #expect(hash.margins.count == 256)
        #expect(BinaryCode(signsOf: hash.margins) == hash.code, "\(file): the margins' signs are the code")
        // One coefficient is the median itself (margin 0, bit clear); the rest are away from it.
        #expect(hash.margins.filter { $0 == 0 }.count <= 1)
    }

    @Test func aFlatImageHasNoQuality() throws {
        let flat = try PixelBuffer(width: 50, height: 40, format: .gray, bytes: [UInt8](repeating: 90, count: 2000))
        #expect(PDQ.hash(flat).quality == 0)
        let tiny = try PixelBuffer(width: 1, height: 1, format: .rgb, bytes: [10, 20, 30])
        #expect(PDQ.hash(tiny).code.bitCount == 256)
    }
}
