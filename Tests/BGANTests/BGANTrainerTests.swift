import BGAN
import NeuralNet
import Testing

@Suite struct BGANTrainerTests {
    /// 64 tiny images of two kinds: bright top half, or bright bottom half, with noise.
    func dataset(seed: UInt64) -> (images: [Float], kinds: [Int]) {
        var rng = SeededGenerator(seed: seed)
        var images: [Float] = [], kinds: [Int] = []
        for i in 0..<64 {
            let kind = i % 2
            kinds.append(kind)
            for y in 0..<8 {
                for _ in 0..<8 {
                    let bright = (y < 4) == (kind == 0)
                    images.append(min(1, max(0, (bright ? 0.8 : 0.2) + 0.1 * rng.normal())))
                }
            }
        }
        return (images, kinds)
    }

    func trainer(seed: UInt64) throws -> (BGANTrainer, [Float], [Int]) {
        let (images, kinds) = dataset(seed: 1)
        let architecture = BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16)
        let networks = try BGANNetworks(architecture: architecture, seed: seed)
        let structure = NeighborhoodStructure(neighbors: NearestNeighborLists(features: images, dimension: 64, k: 5), k2: 3)
        return (BGANTrainer(networks: networks, structure: structure, learningRate: 1e-2, seed: seed), images, kinds)
    }

    func batch(_ images: [Float], _ indices: [Int]) -> Tensor {
        var storage: [Float] = []
        for index in indices { storage += images[(index * 64)..<((index + 1) * 64)] }
        return Tensor(shape: [indices.count, 1, 8, 8], storage: storage)
    }

    @Test func generativeLossesOnTheAnchorsIgnoreTheRestOfTheBatch() throws {
        // Two batches that share their first 8 images: the discriminator and the generator's
        // adversarial step, which see only those, give the same losses; the encoder, which sees
        // all 16, takes another step.
        func step(_ indices: [Int], generativeImages: Int?) throws -> (BGANTrainer, StepLosses) {
            let (trainer, images, _) = try trainer(seed: 5)
            trainer.generativeImages = generativeImages
            return (trainer, try trainer.step(images: batch(images, indices), indices: indices))
        }
        let anchors = Array(0..<8)
        let (a, lossesA) = try step(anchors + Array(8..<16), generativeImages: 8)
        let (b, lossesB) = try step(anchors + Array(40..<48), generativeImages: 8)
        #expect(lossesA.content > 0 && lossesA.neighborhood > 0)
        #expect(lossesA.discriminator == lossesB.discriminator && lossesA.generatorAdversarial == lossesB.generatorAdversarial)
        #expect(a.networks.encoderParameters.values != b.networks.encoderParameters.values)
        // On the whole batch the discriminator sees the other images too.
        let (_, wholeA) = try step(anchors + Array(8..<16), generativeImages: nil)
        let (_, wholeB) = try step(anchors + Array(40..<48), generativeImages: nil)
        #expect(wholeA.discriminator != wholeB.discriminator)
    }

    /// Mean Hamming distance between codes of different kinds minus that within a kind, over
    /// all 64 images (a fixed batch): how well the codes separate the two kinds.
    func separation(_ trainer: BGANTrainer, _ images: [Float], _ kinds: [Int]) throws -> Double {
        let codes = try trainer.networks.codes(of: batch(images, Array(0..<64)))
        var same = 0.0, sameCount = 0.0, other = 0.0, otherCount = 0.0
        for i in 0..<64 {
            for j in (i + 1)..<64 {
                var distance = 0.0
                for b in 0..<16 where codes.storage[i * 16 + b] != codes.storage[j * 16 + b] { distance += 1 }
                if kinds[i] == kinds[j] { same += distance; sameCount += 1 } else { other += distance; otherCount += 1 }
            }
        }
        return other / otherCount - same / sameCount
    }

    /// Against the same networks untrained, on the same fixed batch: a random encoder already
    /// maps similar images to similar codes, so only the gain over it shows that training works.
    @Test func trainingPullsNeighborsTogether() throws {
        let (trainer, images, kinds) = try trainer(seed: 3)
        let untrained = try separation(trainer, images, kinds)
        let everything = Array(0..<64)
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<40 {
            let indices = (0..<16).map { _ in Int(rng.next() % 64) }
            let losses = try trainer.step(images: batch(images, indices), indices: indices)
            for value in [losses.neighborhood, losses.quantization, losses.content, losses.generatorAdversarial, losses.discriminator] {
                #expect(value.isFinite)
            }
        }
        let trained = try separation(trainer, images, kinds)
        #expect(trained > untrained + 2, "separation of the kinds in bits: untrained \(untrained), trained \(trained)")
        // The neighbourhood loss on the fixed batch, before and after, from identical copies: a
        // step on the whole batch from the untrained networks against one from the trained.
        let (fresh, _, _) = try self.trainer(seed: 3)
        let before = try fresh.step(images: batch(images, everything), indices: everything).neighborhood
        let after = try trainer.step(images: batch(images, everything), indices: everything).neighborhood
        #expect(after < 0.95 * before, "the neighbourhood loss on the whole set should fall: \(before) → \(after)")
    }

    @Test func theSameSeedTrainsTheSame() throws {
        func run() throws -> StepLosses {
            let (trainer, images, _) = try trainer(seed: 5)
            var losses = StepLosses()
            for step in 0..<3 {
                let indices = Array((step * 16)..<((step + 1) * 16))
                losses = try trainer.step(images: batch(images, indices), indices: indices)
            }
            return losses
        }
        #expect(try run() == run())
    }
}
