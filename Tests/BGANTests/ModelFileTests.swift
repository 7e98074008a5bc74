import Foundation
import BGAN
import NeuralNet
import Testing

@Suite struct SHA256Tests {
    /// FIPS 180-4 example vectors.
    @Test func knownVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    /// Bytes given in random pieces (empty ones too, and pieces that cross block boundaries)
    /// hash as the same bytes given at once.
    @Test(arguments: [0, 1, 63, 64, 65, 1_000, 70_001])
    func piecesHashAsTheWhole(length: Int) {
        var rng = SeededGenerator(seed: UInt64(length) + 5)
        let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var hasher = SHA256.Hasher()
        var start = 0
        while start < length {
            let end = min(length, start + Int(rng.next() % 150))
            hasher.update(Array(bytes[start..<end]))
            start = end
        }
        hasher.update([])
        #expect(hasher.finish() == SHA256.hash(bytes))
    }

    /// Lengths around the padding boundaries (55, 56, 64 … bytes), against Python's hashlib.
    @Test(arguments: [
        (55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"),
        (56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"),
        (63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"),
        (64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"),
        (65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"),
        (119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"),
        (120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"),
        (1_000_003, "a7c4bea888022868c93104055fd56077cc81fe9eb624820fe2f717f313188782"),
    ])
    func paddingBoundaries(length: Int, expected: String) {
        #expect(SHA256.hex((0..<length).map { UInt8($0 % 251) }) == expected)
    }
}

@Suite struct ModelFileTests {
    let architecture = BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 2, hiddenUnits: 8, featureUnits: 8)

    func model(seed: UInt64) throws -> (ModelFile, BGANNetworks) {
        let networks = try BGANNetworks(architecture: architecture, seed: seed)
        let header = ModelFile.Header(architecture: architecture, preprocessing: Preprocessing(channels: 1, height: 8, width: 8),
                                      training: ["epochs": "3", "seed": "\(seed)"], beta: 5)
        return (ModelFile(header: header, encoder: networks), networks)
    }

    @Test func roundTripKeepsTheEncoderAndTheDigest() throws {
        let (file, networks) = try model(seed: 1)
        let bytes = file.encoded()
        let read = try ModelFile(bytes: bytes)
        #expect(read.header == file.header)
        #expect(read.digest == file.digest && read.digest.count == 64)
        let restored = try read.networks()
        var rng = SeededGenerator(seed: 2)
        let images = Tensor(shape: [3, 1, 8, 8], storage: (0..<192).map { _ in rng.unit() })
        #expect(try restored.codes(of: images) == networks.codes(of: images))
        let encoderAlone = try read.encoderNetwork()
        #expect(try encoderAlone.forward(images, training: false) == restored.encoder.forward(images, training: false),
                "the encoder built alone computes what the full networks' encoder computes")
        #expect(try model(seed: 2).0.digest != file.digest, "other weights, other identity")
    }

    /// A model's identity is its bytes: a file written by an older build (here: a header without
    /// `hiddenUnits`) keeps its digest and its bytes when this build reads and writes it.
    @Test func aParsedModelKeepsItsBytesAndItsDigest() throws {
        let (file, _) = try model(seed: 4)
        let bytes = file.encoded()
        #expect(try ModelFile(bytes: bytes).encoded() == bytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var json = String(decoding: try encoder.encode(file.header), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"hiddenUnits\":8,", with: "")
        #expect(!json.contains("hiddenUnits"))
        var body = Array("BGANMODL".utf8) + [1, 0, 0, 0]
        withUnsafeBytes(of: UInt32(json.utf8.count).littleEndian) { body += $0 }
        body += Array(json.utf8)
        withUnsafeBytes(of: UInt64(file.parameters.count).littleEndian) { body += $0 }
        body += file.parameters
        let old = body + SHA256.hash(body)
        let parsed = try ModelFile(bytes: old)
        #expect(parsed.header.architecture.hiddenUnits == 8, "read with the feature layer's size")
        #expect(parsed.digest == SHA256.hex(body))
        #expect(parsed.encoded() == old)
    }

    /// A model file sealed with a correct digest whose JSON header was edited by `edit`.
    func resealed(_ file: ModelFile, _ edit: (String) -> String) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = edit(String(decoding: try encoder.encode(file.header), as: UTF8.self))
        var body = Array("BGANMODL".utf8) + [1, 0, 0, 0]
        withUnsafeBytes(of: UInt32(json.utf8.count).littleEndian) { body += $0 }
        body += Array(json.utf8)
        withUnsafeBytes(of: UInt64(file.parameters.count).littleEndian) { body += $0 }
        body += file.parameters
        return body + SHA256.hash(body)
    }

    /// Model files are data: a well-sealed header that asks for huge networks or a mismatched
    /// preprocessing is refused at parsing, before any parameter is allocated.
    @Test(arguments: [
        ("\"filters\":2", "\"filters\":1000000", "architecture is unusable"),
        ("\"filters\":2,\"height\":8,\"hiddenUnits\":8,\"width\":8", "\"filters\":1024,\"height\":1024,\"hiddenUnits\":8,\"width\":1024", "parameters"),
        ("\"height\":8", "\"height\":4096", "architecture is unusable"),
        ("\"channels\":1", "\"channels\":-3", "architecture is unusable"),
    ])
    func headersAskingForHugeOrImpossibleNetworksAreRefused(from: String, to: String, reason: String) throws {
        let (file, _) = try model(seed: 5)
        let bytes = try resealed(file) { json in
            #expect(json.contains(from), "the fixture header holds \(from): \(json)")
            return json.replacingOccurrences(of: from, with: to)
        }
        let error = #expect(throws: BGANError.self) { try ModelFile(bytes: bytes) }
        #expect(error?.code == .invalidModelFile)
        // What the architecture check found stays the cause; the description carries the whole chain.
        #expect(error.map { "\($0)" }?.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func aPreprocessingThatDoesNotMatchTheInputIsRefused() throws {
        let (file, _) = try model(seed: 5)
        let bytes = try resealed(file) { json in
            json.replacingOccurrences(of: "\"preprocessing\":{\"centreCrop\":false,\"channels\":1,\"height\":8", with: "\"preprocessing\":{\"centreCrop\":false,\"channels\":1,\"height\":100000000")
        }
        let error = #expect(throws: BGANError.self) { try ModelFile(bytes: bytes) }
        #expect(error?.message.contains("preprocessing") == true, "\(error?.message ?? "")")
    }

    @Test func damagedFilesAreRefused() throws {
        let bytes = try model(seed: 3).0.encoded()
        let cases: [([UInt8], String)] = [
            (Array(bytes.prefix(bytes.count - 1)), "digest"),
            ({ var b = bytes; b[bytes.count / 2] ^= 1; return b }(), "digest"),
            (Array(bytes.prefix(20)), "too short"),
            (Array("NOTMODEL".utf8) + Array(bytes.dropFirst(8)), "BGANMODL"),
        ]
        for (bad, reason) in cases {
            let error = #expect(throws: BGANError.self) { try ModelFile(bytes: bad) }
            #expect(error?.code == .invalidModelFile)
            #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        }
        // A model whose parameters belong to another architecture.
        var other = architecture
        other.bits = 32
        let foreign = ModelFile(header: try model(seed: 3).0.header, encoder: try BGANNetworks(architecture: other, seed: 3))
        let mismatch = #expect(throws: BGANError.self) { try ModelFile(bytes: foreign.encoded()).networks() }
        #expect(mismatch?.code == .invalidModelFile)
        // The engine's own refusal is kept as the cause, not flattened into the text.
        #expect(mismatch?.hasCause(NeuralNetError.self) { $0.code == .invalidParameterFile } == true, "\(String(describing: mismatch))")
    }
}
