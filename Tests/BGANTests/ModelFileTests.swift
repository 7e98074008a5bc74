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
        #expect(try model(seed: 2).0.digest != file.digest, "other weights, other identity")
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
            let error = #expect(throws: NeuralNetError.self) { try ModelFile(bytes: bad) }
            #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        }
        // A model whose parameters belong to another architecture.
        var other = architecture
        other.bits = 32
        let foreign = ModelFile(header: try model(seed: 3).0.header, encoder: try BGANNetworks(architecture: other, seed: 3))
        #expect(throws: NeuralNetError.self) { try ModelFile(bytes: foreign.encoded()).networks() }
    }
}
