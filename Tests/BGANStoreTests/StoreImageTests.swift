import BGAN
import Foundation
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// The store with a bound model: images in, neighbours out, and other models refused.
@Suite struct StoreImageTests {
    let directory = TemporaryDirectory("images")

    static func model(seed: UInt64) throws -> ModelFile {
        let architecture = BGANArchitecture(channels: 1, height: 28, width: 28, bits: 32, filters: 2, hiddenUnits: 16, featureUnits: 8)
        let header = ModelFile.Header(architecture: architecture, preprocessing: Preprocessing(channels: 1, height: 28, width: 28),
                                      training: [:], beta: 2)
        return ModelFile(header: header, encoder: try BGANNetworks(architecture: architecture, seed: seed))
    }

    static let fashion = try! ImageSet(contentsOf: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")

    static func image(_ index: Int) -> PixelBuffer {
        try! PixelBuffer(width: 28, height: 28, format: .gray, bytes: Array(fashion.image(index)))
    }

    @Test func imagesFindThemselvesAndTheModelTravelsWithTheStore() throws {
        let path = directory.sub("s")
        let model = try Self.model(seed: 1)
        do {
            let store = try Store.create(at: path, model: model)
            #expect(store.bitCount == 32)
            let items = (0..<300).map { ImageItem(key: "test/\($0)", image: Self.image($0), payload: [Self.fashion.labels?[$0] ?? 0]) }
            let summary = try store.write(images: items)
            #expect(summary.inserted == 300)
            try store.insert(image: Self.image(300), key: "single")
        }
        let store = try Store(openingAt: path)
        #expect(try store.modelDigest() == model.digest)
        #expect(try store.boundModel().digest == model.digest)
        #expect(try store.count() == 301)
        // Each image's code is the one the model gives it, so it is at distance 0 from itself.
        let encoder = try ImageEncoder(model: model)
        for index in [0, 17, 255, 299] {
            let expected = BinaryCode(signsOf: try encoder.signs(of: [Self.image(index)]))
            #expect(try store.item(forKey: "test/\(index)")?.code == expected)
            let hits = try store.search(image: Self.image(index), k: 5).hits
            #expect(hits.first?.distance == 0)
            #expect(hits.contains { $0.key == "test/\(index)" })
        }
        let within = try store.search(image: Self.image(3), radius: 0).hits
        #expect(within.allSatisfy { $0.distance == 0 } && within.contains { $0.key == "test/3" })
        #expect(try store.verify().isHealthy)
    }

    @Test func verifyNoticesADamagedModel() throws {
        let store = try directory.boundStore("v", model: try Self.model(seed: 3))
        var bytes = try store.boundModel().encoded()
        bytes[bytes.count / 2] ^= 0x40
        try store.environment.write { txn in try txn.put(store.tables.meta, key: StoreSchema.MetaKey.model, value: bytes) }
        let report = try store.verify()
        #expect(report.problems.contains { $0.contains("stored model is damaged") }, "\(report.problems)")
        let error = #expect(throws: StoreError.self) { try store.insert(image: Self.image(0), key: "x") }
        #expect(error?.code == .corrupted)
        #expect(try store.count() == 0)
    }

    @Test func anotherModelIsRefusedNamingBothDigests() throws {
        let store = try directory.boundStore("m", model: try Self.model(seed: 1))
        let other = try Self.model(seed: 2)
        let error = #expect(throws: StoreError.self) { try store.requireModel(other) }
        #expect(error?.code == .modelMismatch)
        #expect(error?.message.contains(String(other.digest.prefix(16))) == true)
        #expect(error?.message.contains(String(try store.modelDigest()!.prefix(16))) == true)
        #expect(try store.count() == 0)
        try store.requireModel(try Self.model(seed: 1))
    }

    @Test func aStoreOfBareCodesSaysItCannotEncode() throws {
        let store = try directory.bareStore("bare", bits: 32)
        #expect(try store.modelDigest() == nil)
        let error = #expect(throws: StoreError.self) { try store.insert(image: Self.image(0), key: "x") }
        #expect(error?.code == .noModel)
        #expect(try store.count() == 0)
        #expect(throws: StoreError.self) { try store.requireModel(try Self.model(seed: 1)) }
    }
}
