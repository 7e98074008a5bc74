import Evaluation
import Foundation
import HammingSearch
import NeuralNet
import PixelIO
import Testing

/// What `bgan-db eval` sets up, as library calls: the two protocols, labelled images, and the
/// baselines beside a model.
@Suite struct EvaluationSetupTests {
    /// `count` random 4×4 gray images labelled `index % 3`.
    func labelled(_ count: Int, seed: UInt64 = 3) -> LabelledImages {
        var rng = SeededGenerator(seed: seed)
        let set = ImageSet(count: count, channels: 1, height: 4, width: 4, pixels: (0..<(count * 16)).map { _ in UInt8(rng.next() % 256) })
        return LabelledImages(images: set, labels: (0..<count).map { UInt8($0 % 3) })
    }

    @Test func validationHoldsTheLastImagesOutAsQueries() throws {
        let all = labelled(30)
        let setup = try EvaluationProtocol.validation(holdingOut: 10, of: all, duplicateCount: 5)
        #expect(setup.database.count == 20 && setup.queries.count == 10 && setup.duplicateCount == 5)
        #expect(setup.queries.scaledPixels() == all.images.subset(20..<30).scaledPixels(), "the queries are the last 10 images")
        #expect(setup.queryLabels == Array(all.labels[20...]) && setup.databaseLabels == Array(all.labels[..<20]))
        #expect(throws: DatasetError.self) { try EvaluationProtocol.validation(holdingOut: 30, of: all) }
        #expect(throws: DatasetError.self) { try EvaluationProtocol.validation(holdingOut: 0, of: all) }
    }

    @Test func theTestProtocolRefusesQueriesOfAnotherSize() throws {
        let database = labelled(12)
        let other = LabelledImages(images: ImageSet(count: 2, channels: 1, height: 5, width: 5, pixels: [UInt8](repeating: 9, count: 50)), labels: [0, 1])
        #expect(throws: DatasetError.self) { try EvaluationProtocol.test(database: database, queries: other) }
        #expect(try EvaluationProtocol.test(database: database, queries: labelled(4, seed: 8)).queries.count == 4)
    }

    @Test func labelsAreReadBesideTheImagesAndMustMatchTheirCount() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("labelled-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func idx(_ magic: UInt32, _ dimensions: [UInt32], _ body: [UInt8]) -> Data {
            var bytes: [UInt8] = []
            for word in [magic] + dimensions { bytes += withUnsafeBytes(of: word.bigEndian, Array.init) }
            return Data(bytes + body)
        }
        let images = directory.appendingPathComponent("train-images-idx3-ubyte").path
        try idx(2051, [3, 2, 2], [UInt8](repeating: 7, count: 12)).write(to: URL(fileURLWithPath: images))
        try idx(2049, [3], [4, 5, 6]).write(to: directory.appendingPathComponent("train-labels-idx1-ubyte"))
        let read = try LabelledImages(contentsOf: images)
        #expect(read.images.count == 3 && read.labels == [4, 5, 6])
        let short = directory.appendingPathComponent("short-labels").path
        try idx(2049, [2], [1, 2]).write(to: URL(fileURLWithPath: short))
        #expect(throws: DatasetError.self) { try LabelledImages(contentsOf: images, labels: short) }
    }

    @Test func theLineupPutsEveryBaselineAtEveryLengthAndRunsFeaturesOncePerSet() throws {
        let pixels = labelled(200).images.scaledPixels()
        var calls = 0
        // An 8-dimensional "network": sums of pixel pairs.
        let features = FeatureOutputs(dimension: 8) { input in
            calls += 1
            return stride(from: 0, to: input.count, by: 2).map { input[$0] + input[$0 + 1] }
        }
        let lineup = BaselineLineup(lengths: [8, 16], clusters: 4, seed: 1, features: features)
        let methods = try lineup.methods(training: pixels, dimension: 16)
        #expect(methods.map { "\($0.name) \($0.bitCount)" } == ["LSH 8", "ITQ 8", "ITQ-features 8", "k-means-4 8", "LSH 16", "ITQ 16", "k-means-4 16"],
                "ITQ on 8 features gives no 16-bit code")
        let before = calls
        for method in methods where method.name != "LSH" && method.name != "ITQ" { _ = try method.encode(pixels) }
        #expect(calls == before, "the training set's features were computed once, when fitting")
        let plain = try BaselineLineup(lengths: [8], clusters: 0).methods(training: pixels, dimension: 16)
        #expect(plain.map(\.name) == ["LSH", "ITQ"])
    }
}
