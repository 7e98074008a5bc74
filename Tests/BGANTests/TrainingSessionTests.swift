@testable import BGAN
import NeuralNet
import Testing

@Suite struct TrainingSessionTests {
    /// 48 tiny images of three kinds (a bright top, middle or bottom band) with noise.
    func images(seed: UInt64) -> (pixels: [Float], kinds: [Int]) {
        var rng = SeededGenerator(seed: seed)
        var pixels: [Float] = [], kinds: [Int] = []
        for i in 0..<48 {
            let kind = i % 3
            kinds.append(kind)
            for y in 0..<8 {
                for _ in 0..<8 { pixels.append(min(1, max(0, (y / 3 == kind ? 0.85 : 0.15) + 0.08 * rng.normal()))) }
            }
        }
        return (pixels, kinds)
    }

    func settings(epochs: Int = 3, sampling: BatchSampling = .shuffled, encoderOnly: Bool = false) -> TrainingSettings {
        var weights = LossWeights()
        if encoderOnly { weights.content = 0; weights.adversarial = 0 }
        return TrainingSettings(architecture: BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16),
                                epochs: epochs, batch: 12, learningRate: 1e-2, seed: 11, weights: weights, sampling: sampling)
    }

    func session(_ settings: TrainingSettings, pixels: [Float]) throws -> TrainingSession {
        let structure = NeighborhoodStructure(neighbors: NearestNeighborLists(features: pixels, dimension: 64, k: 4), k2: 3)
        return try TrainingSession(settings: settings, images: pixels, structure: structure)
    }

    @Test(arguments: [false, true])
    func resumingFromACheckpointEqualsTrainingWithoutAStop(views: Bool) throws {
        let pixels = images(seed: 1).pixels
        var settings = settings()
        if views { settings.views = .nearDuplicate }
        let whole = try session(settings, pixels: pixels)
        while !whole.isFinished { try whole.runStep() }

        let first = try session(settings, pixels: pixels)
        // Stop in the middle of the second epoch, as Ctrl-C would.
        for _ in 0..<(first.stepsPerEpoch + 2) { try first.runStep() }
        let saved = try first.checkpoint()
        let resumed = try TrainingSession(checkpoint: saved, images: pixels)
        #expect(resumed.epoch == 1 && resumed.step == 2 && resumed.settings.views == settings.views)
        while !resumed.isFinished { try resumed.runStep() }

        #expect(resumed.networks.encoderParameters.values == whole.networks.encoderParameters.values, "bit-exact encoder")
        #expect(resumed.networks.generatorParameters.values == whole.networks.generatorParameters.values)
        #expect(resumed.networks.discriminatorParameters.values == whole.networks.discriminatorParameters.values)
        #expect(resumed.history == whole.history)
        let preprocessing = Preprocessing(channels: 1, height: 8, width: 8)
        #expect(try resumed.model(preprocessing: preprocessing).digest == whole.model(preprocessing: preprocessing).digest)
    }

    @Test func viewsReplaceTheImagesTheNetworksSee() throws {
        let pixels = images(seed: 2).pixels
        let plain = settings(epochs: 1)
        var withViews = plain
        withViews.views = .nearDuplicate
        let a = try session(plain, pixels: pixels), b = try session(withViews, pixels: pixels)
        try a.runStep()
        try b.runStep()
        #expect(a.networks.encoderParameters.values != b.networks.encoderParameters.values)
        #expect(try b.model(preprocessing: Preprocessing(channels: 1, height: 8, width: 8)).header.training["views"]?.contains("noise 0.04") == true)
    }

    /// Unit rows in 3 dimensions, one direction per kind of image (as a spectral embedding gives).
    func embedding(kinds: [Int]) throws -> SimilarityEmbedding {
        var rng = SeededGenerator(seed: 21)
        let values = kinds.flatMap { kind -> [Float] in
            var row = (0..<3).map { ($0 == kind ? 1 : 0) + 0.1 * rng.normal() }
            let length = row.map { $0 * $0 }.reduce(0, +).squareRoot()
            for d in 0..<3 { row[d] /= length }
            return row
        }
        return try SimilarityEmbedding(values: values, dimension: 3)
    }

    @Test func cosineTargetsResumeExactlyAndSeparateKinds() throws {
        let (pixels, kinds) = images(seed: 4)
        let targets = try embedding(kinds: kinds)
        let batch = [0, 1, 3, 5]
        let cosines = try targets.cosines(batch)
        let values = try targets.values
        for (a, i) in batch.enumerated() {
            for (b, j) in batch.enumerated() {
                let expected = (0..<3).map { values[i * 3 + $0] * values[j * 3 + $0] }.reduce(0, +)
                #expect(abs(cosines[a * 4 + b] - expected) < 1e-5)
            }
        }
        var fixedBeta = settings(epochs: 6, sampling: .neighbors, encoderOnly: true)
        fixedBeta.betaSchedule = [2]
        let structure = NeighborhoodStructure(neighbors: NearestNeighborLists(features: pixels, dimension: 64, k: 4), k2: 3)
        let whole = try TrainingSession(settings: fixedBeta, images: pixels, structure: structure, similarity: targets)
        while !whole.isFinished { try whole.runStep() }
        let first = try TrainingSession(settings: fixedBeta, images: pixels, structure: structure, similarity: targets)
        for _ in 0..<(first.stepsPerEpoch + 3) { try first.runStep() }
        let resumed = try TrainingSession(checkpoint: try first.checkpoint(), images: pixels)
        #expect(resumed.trainer.similarityEmbedding == targets, "the targets travel in the checkpoint")
        while !resumed.isFinished { try resumed.runStep() }
        #expect(resumed.networks.encoderParameters.values == whole.networks.encoderParameters.values, "bit-exact encoder")
        // The targets were learnt: codes of one kind are nearer each other than other kinds'.
        let codes = try whole.networks.codes(of: Tensor(shape: [48, 1, 8, 8], storage: pixels))
        func agreement(_ i: Int, _ j: Int) -> Float { (0..<16).map { codes.storage[i * 16 + $0] * codes.storage[j * 16 + $0] }.reduce(0, +) / 16 }
        var same: [Float] = [], other: [Float] = []
        for i in 0..<48 { for j in (i + 1)..<48 { if kinds[i] == kinds[j] { same.append(agreement(i, j)) } else { other.append(agreement(i, j)) } } }
        let meanSame = same.reduce(0, +) / Float(same.count), meanOther = other.reduce(0, +) / Float(other.count)
        #expect(meanSame > 0.5 && meanOther < 0.2, "code agreement within kinds \(meanSame), across \(meanOther)")
        #expect(throws: BGANError.self) {
            try TrainingSession(settings: fixedBeta, images: pixels, structure: structure, similarity: try SimilarityEmbedding(values: [1, 0, 0], dimension: 3))
        }
    }

    @Test func anAnchorTermHoldsCodesToTheirAnchorsAndResumesExactly() throws {
        let (pixels, kinds) = images(seed: 5)
        let plain = settings(epochs: 6, sampling: .neighbors, encoderOnly: true)
        var anchored = plain
        anchored.weights.anchor = 5
        // A random code per kind of image: codes may learn them, but only the anchor term asks them to.
        var rng = SeededGenerator(seed: 3)
        let kindCodes: [[Float]] = (0..<3).map { _ in (0..<16).map { _ in rng.next() % 2 == 0 ? 1 : -1 } }
        let anchorValues = kinds.flatMap { kindCodes[$0] }
        let anchors = try AnchorCodes(signs: anchorValues)
        let structure = NeighborhoodStructure(neighbors: NearestNeighborLists(features: pixels, dimension: 64, k: 4), k2: 3)
        let free = try TrainingSession(settings: plain, images: pixels, structure: structure)
        let held = try TrainingSession(settings: anchored, images: pixels, structure: structure, anchorCodes: anchors)
        while !free.isFinished { try free.runStep() }
        while !held.isFinished { try held.runStep() }
        func agreement(_ session: TrainingSession) throws -> Float {
            let codes = try session.networks.codes(of: Tensor(shape: [48, 1, 8, 8], storage: pixels))
            return Float(zip(codes.storage, anchorValues).filter { ($0 > 0) == ($1 > 0) }.count) / Float(anchorValues.count)
        }
        let heldAgreement = try agreement(held), freeAgreement = try agreement(free)
        #expect(heldAgreement > 0.9 && freeAgreement < 0.65, "bits agreeing with the anchors: \(heldAgreement) anchored, \(freeAgreement) not")
        #expect(held.history.last?.losses.anchor != nil && free.history.last?.losses.anchor == nil)
        #expect(try held.model(preprocessing: Preprocessing(channels: 1, height: 8, width: 8)).header.training["weights"]?.contains("anchor 5") == true)

        let first = try TrainingSession(settings: anchored, images: pixels, structure: structure, anchorCodes: anchors)
        for _ in 0..<(first.stepsPerEpoch + 1) { try first.runStep() }
        let resumed = try TrainingSession(checkpoint: try first.checkpoint(), images: pixels)
        #expect(resumed.trainer.anchorCodes == anchors, "the anchors travel in the checkpoint")
        while !resumed.isFinished { try resumed.runStep() }
        #expect(resumed.networks.encoderParameters.values == held.networks.encoderParameters.values, "bit-exact encoder")

        #expect(throws: BGANError.self) { try TrainingSession(settings: anchored, images: pixels, structure: structure) }
        #expect(throws: BGANError.self) { try TrainingSession(settings: plain, images: pixels, structure: structure, anchorCodes: anchors) }
        #expect(throws: BGANError.self) {
            try TrainingSession(settings: anchored, images: pixels, structure: structure, anchorCodes: try AnchorCodes(signs: Array(anchorValues.dropLast())))
        }
        #expect(throws: BGANError.self) { try AnchorCodes(signs: [1, 0.5, -1]) }
        let signs = AnchorCodes(signsOf: [0.5, -0.25, 0, -3, 2, 1, 1, -1, -0.1])
        #expect((0..<signs.count).map { signs[$0] } == [1, -1, 1, -1, 1, 1, 1, -1, -1])
    }

    @Test func trainingTheCodeLayerOnlyKeepsTheLayersBelowAndResumesExactly() throws {
        let pixels = images(seed: 3).pixels
        var frozen = settings(epochs: 2, sampling: .neighbors)
        frozen.codeLayerOnly = true
        let whole = try session(frozen, pixels: pixels)
        let start = whole.networks.encoderParameters.values
        while !whole.isFinished { try whole.runStep() }
        let free = try session(settings(epochs: 2, sampling: .neighbors), pixels: pixels)
        while !free.isFinished { try free.runStep() }
        #expect(free.networks.encoderParameters.values.count == start.count)
        // Every entry below the code layer is kept, batch normalisation's running statistics too
        // (the layers below run as at inference); without the setting all of them move.
        for entry in whole.networks.encoderParameters.entries {
            let range = entry.offset..<(entry.offset + entry.count)
            let below = !entry.name.hasPrefix(BGANNetworks.encoderCodeLayer)
            #expect((whole.networks.encoderParameters.values[range] == start[range]) == below, "\(entry.name) kept: \(below)")
            if below { #expect(free.networks.encoderParameters.values[range] != start[range], "\(entry.name) trains without the setting") }
        }
        #expect(whole.networks.encoderParameters.entries.contains { $0.name.hasSuffix("running_mean") })
        #expect(whole.networks.encoderParameters.entries.contains { $0.name.hasPrefix(BGANNetworks.encoderCodeLayer) && $0.trainable })
        #expect(try whole.model(preprocessing: Preprocessing(channels: 1, height: 8, width: 8)).header.training["trained_encoder_layers"]?.contains("code layer only") == true)

        let first = try session(frozen, pixels: pixels)
        for _ in 0..<(first.stepsPerEpoch + 1) { try first.runStep() }
        let resumed = try TrainingSession(checkpoint: try first.checkpoint(), images: pixels)
        while !resumed.isFinished { try resumed.runStep() }
        #expect(resumed.networks.encoderParameters.values == whole.networks.encoderParameters.values, "bit-exact encoder, layers below still kept")

        var plan = TrainingPlan(recipe: .paper, bits: 64)
        plan.neighborFeatures = .pixels
        plan.codeLayerOnly = true
        let refused = #expect(throws: BGANError.self) { try plan.validate() }
        #expect(refused?.message.contains("starting encoder") == true)
    }

    /// The encoder's own learning rate: Adam's first step moves each weight by about the rate
    /// (whatever its gradient's size), so from the same start the encoder moves half as far at
    /// half the rate, while the discriminator, which updates first, moves as it does at the
    /// common rate. Given explicitly at the common rate it changes nothing; the model notes it;
    /// a checkpoint keeps it.
    @Test func theEncoderLearnsAtItsOwnRate() throws {
        let pixels = images(seed: 4).pixels
        var common = settings(epochs: 1)
        common.epsilon = 1e-8
        var same = common, half = common
        same.encoderLearningRate = common.learningRate
        half.encoderLearningRate = common.learningRate / 2
        func afterOneStep(_ settings: TrainingSettings) throws -> TrainingSession {
            let session = try session(settings, pixels: pixels)
            try session.runStep()
            return session
        }
        let start = try session(common, pixels: pixels).networks
        let full = try afterOneStep(common), explicit = try afterOneStep(same), slow = try afterOneStep(half)
        #expect(explicit.networks.encoderParameters.values == full.networks.encoderParameters.values)
        #expect(explicit.networks.generatorParameters.values == full.networks.generatorParameters.values)
        #expect(slow.networks.discriminatorParameters.values == full.networks.discriminatorParameters.values)
        #expect(slow.networks.generatorParameters.values == full.networks.generatorParameters.values, "the generator's gradients are taken before the encoder moves")
        // Trainable entries only: batch normalisation's running statistics follow the batches, not the rate.
        let trained = start.encoderParameters.entries.filter(\.trainable).flatMap { $0.offset..<($0.offset + $0.count) }
        let before = start.encoderParameters.values, fastAfter = full.networks.encoderParameters.values
        let slowAfter = slow.networks.encoderParameters.values
        let compared = trained.map { (fastAfter[$0] - before[$0], slowAfter[$0] - before[$0]) }.filter { abs($0.0) > 1e-3 }
        #expect(compared.count > 100, "most weights move by about the rate on the first step")
        for (fast, slowMove) in compared { #expect(abs(slowMove / fast - 0.5) < 1e-3, "moved \(slowMove) at half the rate, \(fast) at the rate") }
        let preprocessing = Preprocessing(channels: 1, height: 8, width: 8)
        #expect(try slow.model(preprocessing: preprocessing).header.training["encoder_learning_rate"] == "0.005")
        #expect(try full.model(preprocessing: preprocessing).header.training["encoder_learning_rate"] == nil)
        let resumed = try TrainingSession(checkpoint: try slow.checkpoint(), images: pixels)
        #expect(resumed.settings.encoderLearningRate == half.encoderLearningRate)
        #expect(resumed.trainer.encoderOptimizer.learningRate == 0.005 && resumed.trainer.generatorOptimizer.learningRate == 0.01,
                "a resumed run trains the encoder at its own rate")
    }

    @Test func aCheckpointIsRefusedForOtherImagesOrWhenDamaged() throws {
        let pixels = images(seed: 1).pixels
        let run = try session(settings(epochs: 1), pixels: pixels)
        try run.runStep()
        let saved = try run.checkpoint()
        let other = images(seed: 2).pixels
        let wrongData = #expect(throws: BGANError.self) { try TrainingSession(checkpoint: saved, images: other) }
        #expect(wrongData?.code == .otherTrainingImages)
        #expect(wrongData?.message.contains("same images") == true, "\(wrongData?.message ?? "")")
        var flipped = saved
        flipped[flipped.count / 3] ^= 0x10
        let damaged = #expect(throws: BGANError.self) { try TrainingSession(checkpoint: flipped, images: pixels) }
        #expect(damaged?.code == .invalidCheckpoint)
        #expect(damaged?.message.contains("digest") == true)
        #expect(throws: BGANError.self) { try TrainingSession(checkpoint: Array(saved.prefix(saved.count / 2)), images: pixels) }
        let model = try run.model(preprocessing: Preprocessing(channels: 1, height: 8, width: 8)).encoded()
        let foreign = #expect(throws: BGANError.self) { try TrainingSession(checkpoint: model, images: pixels) }
        #expect(foreign?.code == .invalidCheckpoint)
        #expect(foreign?.message.contains("BGANCKPT") == true)
    }

    @Test func neighborSamplingPutsASimilarPartnerBesideEveryAnchor() throws {
        let pixels = images(seed: 3).pixels
        let run = try session(settings(sampling: .neighbors), pixels: pixels)
        #expect(run.stepsPerEpoch == 48 / 6)
        for step in 0..<run.stepsPerEpoch {
            let losses = try run.runStep()
            #expect(losses.neighborhood.isFinite, "step \(step)")
        }
        // Every image was an anchor once in the first epoch: the run went through all of them.
        #expect(run.epoch == 1 && run.step == 0)
        #expect(run.history.count == 1 && run.history[0].epoch == 1)
    }

    @Test func encoderOnlyTrainingLeavesTheGeneratorAloneAndSeparatesKinds() throws {
        let (pixels, kinds) = images(seed: 4)
        var fixedBeta = settings(epochs: 6, encoderOnly: true)
        fixedBeta.betaSchedule = [2]  // losses at one β are comparable
        let run = try session(fixedBeta, pixels: pixels)
        let generatorBefore = run.networks.generatorParameters.values
        while !run.isFinished { try run.runStep() }
        #expect(run.networks.generatorParameters.values == generatorBefore)
        let first = run.history.first!.losses.neighborhood, last = run.history.last!.losses.neighborhood
        #expect(last < first, "neighbourhood loss \(first) → \(last)")
        let codes = try run.networks.codes(of: Tensor(shape: [48, 1, 8, 8], storage: pixels))
        #expect(codes.storage.allSatisfy { $0 == 1 || $0 == -1 })
        func distance(_ i: Int, _ j: Int) -> Int { (0..<16).filter { codes.storage[i * 16 + $0] != codes.storage[j * 16 + $0] }.count }
        var same = 0.0, sameCount = 0.0, other = 0.0, otherCount = 0.0
        for i in 0..<48 {
            for j in (i + 1)..<48 {
                if kinds[i] == kinds[j] { same += Double(distance(i, j)); sameCount += 1 } else { other += Double(distance(i, j)); otherCount += 1 }
            }
        }
        #expect(same / sameCount + 2 < other / otherCount, "same kind \(same / sameCount) vs other kinds \(other / otherCount)")
    }

    @Test func augmentationMovesImagesByAtMostTheShiftAndKeepsTheirValues() throws {
        // One bright pixel at (3, 4) of an 8×8 image, twelve copies.
        var batch = [Float](repeating: 0, count: 12 * 64)
        for image in 0..<12 { batch[image * 64 + 3 * 8 + 4] = 1 }
        var rng = SeededGenerator(seed: 9)
        let architecture = BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16)
        ViewAugmentation.flipAndShift(&batch, architecture: architecture, shift: 2, rng: &rng)
        var positions = Set<Int>()
        for image in 0..<12 {
            let pixels = Array(batch[(image * 64)..<((image + 1) * 64)])
            #expect(pixels.filter { $0 == 1 }.count == 1 && pixels.filter { $0 == 0 }.count == 63, "values are moved, not blended")
            let at = pixels.firstIndex(of: 1)!
            let (y, x) = (at / 8, at % 8)
            #expect(abs(y - 3) <= 2, "vertical shift of at most 2")
            #expect(abs(x - 4) <= 2 || abs(x - (7 - 4)) <= 2, "a shift of at most 2, maybe mirrored")
            positions.insert(at)
        }
        #expect(positions.count > 3, "different images get different moves")
    }

    @Test func viewSamplingPairsSomeAnchorsWithThemselves() throws {
        let pixels = images(seed: 5).pixels
        var s = settings(sampling: .neighborsAndViews)
        s.augmentationShift = 1
        let run = try session(s, pixels: pixels)
        let batch = try run.batchIndices(epoch: 0, step: 0)
        let half = batch.count / 2
        #expect((0..<half).contains { batch[$0] == batch[half + $0] }, "some partners are their anchors: \(batch)")
        #expect((0..<half).contains { batch[$0] != batch[half + $0] }, "others are neighbours: \(batch)")
        try run.runStep()
    }

    @Test func settingsThatCannotWorkAreRefused() throws {
        let pixels = images(seed: 1).pixels
        var odd = settings(sampling: .neighbors)
        odd.batch = 7
        #expect(throws: BGANError.self) { try session(odd, pixels: pixels) }
        var big = settings()
        big.batch = 64
        #expect(throws: BGANError.self) { try session(big, pixels: pixels) }
        var noBeta = settings()
        noBeta.betaSchedule = []
        #expect(throws: BGANError.self) { try session(noBeta, pixels: pixels) }
        for rate: Float in [0, -1e-3, .infinity, .nan] {
            var stalled = settings()
            stalled.encoderLearningRate = rate
            let error = #expect(throws: BGANError.self) { try session(stalled, pixels: pixels) }
            #expect(error?.message.contains("learning rates") == true, "encoder rate \(rate): \(error?.message ?? "")")
        }
        var endless = settings()
        endless.learningRate = .infinity
        #expect(throws: BGANError.self) { try session(endless, pixels: pixels) }
    }

    @Test func betaFollowsTheScheduleAcrossEpochs() {
        let s = settings(epochs: 10)
        #expect((0..<10).map { s.beta(epoch: $0) } == [2, 2, 5, 5, 10, 10, 15, 15, 20, 20])
    }
}
