@testable import BGAN
import NeuralNet
import Testing

@Suite struct ContrastiveSessionTests {
    /// 48 tiny 8×8 images of three kinds (a bright top, middle or bottom band) with noise.
    func images(seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<48).flatMap { i in
            (0..<64).map { p in min(1, max(0, (p / 8 / 3 == i % 3 ? 0.85 : 0.15) + 0.08 * rng.normal())) }
        }
    }

    func settings(epochs: Int = 2, seed: UInt64 = 5) -> ContrastiveSettings {
        ContrastiveSettings(architecture: BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16),
                            epochs: epochs, batch: 12, learningRate: 1e-2, temperature: 0.5, seed: seed)
    }

    @Test func theLossFalls() throws {
        // Views without noise: on 8×8 images σ up to 0.04 hides much of a band's contrast, and
        // this test is about learning, not about the noise (ViewAugmentationTests covers it).
        var quiet = settings(epochs: 25)
        quiet.augmentation.noise = 0
        let session = try ContrastiveSession(settings: quiet, images: images(seed: 1))
        var losses: [Float] = []
        while !session.isFinished { losses.append(try session.runStep()) }
        #expect(losses.count == 25 * 4)
        let first = losses.prefix(8).reduce(0, +) / 8, last = losses.suffix(8).reduce(0, +) / 8
        #expect(last < first - 0.3, "mean loss \(first) → \(last)")
        #expect(session.history.count == 25 && abs(session.history.last!.epoch - 25) < 1e-9)
    }

    @Test func runsAreReproducibleAndTheSeedMatters() throws {
        func trained(seed: UInt64) throws -> [Float] {
            let session = try ContrastiveSession(settings: settings(seed: seed), images: images(seed: 1))
            while !session.isFinished { try session.runStep() }
            return session.networks.encoderParameters.values
        }
        let once = try trained(seed: 5)
        #expect(once == (try trained(seed: 5)))
        #expect(once != (try trained(seed: 6)))
    }

    @Test func resumingFromACheckpointEqualsTrainingWithoutAStop() throws {
        let pixels = images(seed: 1)
        let whole = try ContrastiveSession(settings: settings(epochs: 3), images: pixels)
        while !whole.isFinished { try whole.runStep() }
        let first = try ContrastiveSession(settings: settings(epochs: 3), images: pixels)
        for _ in 0..<(first.stepsPerEpoch + 1) { try first.runStep() }
        let saved = try first.checkpoint()
        let resumed = try ContrastiveSession(checkpoint: saved, images: pixels)
        #expect(resumed.epoch == 1 && resumed.step == 1)
        while !resumed.isFinished { try resumed.runStep() }
        #expect(resumed.networks.encoderParameters.values == whole.networks.encoderParameters.values, "bit-exact encoder")
        #expect(resumed.history == whole.history)

        let otherImages = #expect(throws: BGANError.self) { try ContrastiveSession(checkpoint: saved, images: images(seed: 2)) }
        #expect(otherImages?.code == .otherTrainingImages)
        #expect(otherImages?.message.contains("same images") == true)
        var damaged = saved
        damaged[damaged.count / 2] ^= 1
        #expect(throws: BGANError.self) { try ContrastiveSession(checkpoint: damaged, images: pixels) }
        let model = whole.model(preprocessing: Preprocessing(channels: 1, height: 8, width: 8)).encoded()
        let foreign = #expect(throws: BGANError.self) { try ContrastiveSession(checkpoint: model, images: pixels) }
        #expect(foreign?.message.contains("BGANCPRE") == true, "\(foreign?.message ?? "")")
    }

    @Test func theModelFileCarriesThePretrainedEncoder() throws {
        let pixels = images(seed: 1)
        let session = try ContrastiveSession(settings: settings(), images: pixels)
        while !session.isFinished { try session.runStep() }
        let model = session.model(preprocessing: Preprocessing(channels: 1, height: 8, width: 8), notes: ["data": "bands"])
        let reloaded = try ModelFile(bytes: model.encoded())
        #expect(reloaded.header.training["stage"] == "contrastive pre-training" && reloaded.header.training["data"] == "bands")
        let batch = Tensor(shape: [48, 1, 8, 8], storage: pixels)
        let features = try reloaded.networks().preSignOutputs(of: batch)
        #expect(features == (try session.networks.preSignOutputs(of: batch)))
        let codes = try ImageEncoder(model: reloaded).signs(of: pixels)
        #expect(codes.allSatisfy { $0 == 1 || $0 == -1 })
        #expect(zip(codes, features.storage).allSatisfy { ($0 > 0) == ($1 > 0) })
    }

    @Test func badSettingsAreRefusedBeforeTraining() {
        var tooLarge = settings()
        tooLarge.batch = 100
        #expect(throws: BGANError.self) { try ContrastiveSession(settings: tooLarge, images: images(seed: 1)) }
        var cold = settings()
        cold.temperature = 0
        #expect(throws: BGANError.self) { try ContrastiveSession(settings: cold, images: images(seed: 1)) }
        #expect(throws: BGANError.self) { try ContrastiveSession(settings: settings(), images: [0.5, 0.5]) }
    }
}

@Suite struct ContrastiveNeighborPartnerTests {
    let base = ContrastiveSessionTests()

    func settings(share: Float, epochs: Int = 2) -> ContrastiveSettings {
        var settings = base.settings(epochs: epochs)
        settings.neighborPartners = .init(featureSpace: .pixels, count: 3, share: share)
        return settings
    }

    @Test func secondViewsShowNearestNeighboursAtTheAskedShare() throws {
        let pixels = base.images(seed: 1)
        let all = settings(share: 1)
        let lists = try #require(try ContrastiveSession.partnerLists(for: all, images: pixels))
        #expect(lists.k == 4 && lists.count == 48)
        let session = try ContrastiveSession(settings: all, images: pixels, partners: lists)
        let indices = Array(0..<48)
        let shown = try session.partnerImages(of: indices)
        for (index, partner) in zip(indices, shown) {
            #expect(try partner != index && lists.list(of: index).prefix(4).contains(Int32(partner)), "image \(index) paired with \(partner)")
            #expect(partner % 3 == index % 3, "image \(index)'s nearest neighbours share its band")
        }
        let none = try ContrastiveSession(settings: settings(share: 0), images: pixels, partners: lists)
        #expect(try none.partnerImages(of: indices) == indices)
        let half = try ContrastiveSession(settings: settings(share: 0.5), images: pixels, partners: lists)
        let replaced = zip(indices, try half.partnerImages(of: indices)).filter { $0 != $1 }.count
        #expect(replaced > 10 && replaced < 38, "\(replaced) of 48 replaced at share 0.5")
    }

    /// Partner lists kept in a file, as beyond the exact lists' limit: the same steps.
    @Test func partnersReadFromAFileTrainAsPartnersInMemory() throws {
        let pixels = base.images(seed: 1)
        let s = settings(share: 0.5)
        let lists = try #require(try ContrastiveSession.partnerLists(for: s, images: pixels) as? NearestNeighborLists)
        let memory = try ContrastiveSession(settings: s, images: pixels, partners: lists)
        let file = try ContrastiveSession(settings: s, images: pixels, partners: try NeighborListFile(lists))
        for _ in 0..<3 {
            #expect(try memory.partnerImages(of: Array(0..<48)) == file.partnerImages(of: Array(0..<48)))
            try memory.runStep()
            try file.runStep()
        }
        #expect(memory.networks.encoderParameters.values == file.networks.encoderParameters.values)
    }

    @Test func aShareOfZeroTrainsExactlyLikePlainSimCLR() throws {
        let pixels = base.images(seed: 1)
        let plain = try ContrastiveSession(settings: base.settings(), images: pixels)
        let zero = try ContrastiveSession(settings: settings(share: 0), images: pixels,
                                          partners: try ContrastiveSession.partnerLists(for: settings(share: 0), images: pixels))
        while !plain.isFinished { try plain.runStep(); try zero.runStep() }
        #expect(plain.networks.encoderParameters.values == zero.networks.encoderParameters.values)
    }

    @Test func aResumedRunFindsTheSameNeighboursAgain() throws {
        let pixels = base.images(seed: 1)
        let s = settings(share: 0.5, epochs: 3)
        let lists = try ContrastiveSession.partnerLists(for: s, images: pixels)
        let whole = try ContrastiveSession(settings: s, images: pixels, partners: lists)
        while !whole.isFinished { try whole.runStep() }
        let first = try ContrastiveSession(settings: s, images: pixels, partners: lists)
        for _ in 0..<(first.stepsPerEpoch + 2) { try first.runStep() }
        let resumed = try ContrastiveSession(checkpoint: try first.checkpoint(), images: pixels)
        while !resumed.isFinished { try resumed.runStep() }
        #expect(resumed.networks.encoderParameters.values == whole.networks.encoderParameters.values)
        let model = whole.model(preprocessing: Preprocessing(channels: 1, height: 8, width: 8))
        #expect(model.header.training["neighbour_partners"]?.contains("3 nearest neighbours in pixels") == true)
    }

    @Test func partnersWithoutListsOrWithBadSettingsAreRefused() {
        let pixels = base.images(seed: 1)
        let missing = #expect(throws: BGANError.self) { try ContrastiveSession(settings: settings(share: 0.5), images: pixels) }
        #expect(missing?.message.contains("no neighbour lists") == true)
        var bad = settings(share: 1.5)
        #expect(throws: BGANError.self) { try ContrastiveSession(settings: bad, images: pixels, partners: nil) }
        bad = settings(share: 0.5)
        bad.neighborPartners?.featureSpace = "colours"
        let unknown = #expect(throws: BGANError.self) { try ContrastiveSession.partnerLists(for: bad, images: pixels) }
        #expect(unknown?.message.contains("not a feature space") == true)
    }
}
