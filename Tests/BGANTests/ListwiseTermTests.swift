@testable import BGAN
import Foundation
import NeuralNet
import Testing

@Suite struct ListwiseTermTests {
    /// The 48 tiny images of three kinds of ``TrainingSessionTests``.
    func images(seed: UInt64) -> (pixels: [Float], kinds: [Int]) { TrainingSessionTests().images(seed: seed) }

    let architecture = BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16)

    func settings(listwiseBits: Int?, epochs: Int) -> TrainingSettings {
        var weights = LossWeights()
        weights.content = 0
        weights.adversarial = 0
        weights.listwise = listwiseBits.map { ListwiseTerm(bits: $0, weight: 1, temperature: 0.2) }
        return TrainingSettings(architecture: architecture, epochs: epochs, batch: 12, learningRate: 1e-2, seed: 11, weights: weights,
                                sampling: .neighborsAndViews)
    }

    func structure(_ pixels: [Float]) -> NeighborhoodStructure {
        NeighborhoodStructure(neighbors: NearestNeighborLists(features: pixels, dimension: 64, k: 4), k2: 3)
    }

    /// The total code loss the trainer's gradient should be the derivative of: the neighbourhood
    /// loss on the trailing bits, quantisation on all, the listwise loss on the leading bits.
    func totalLoss(_ trainer: BGANTrainer, codes: Tensor, indices: [Int]) throws -> Double {
        var losses = StepLosses()
        let images = Tensor(zeros: [codes.batch, 1, 8, 8])
        _ = try trainer.neighborhoodGradient(codes: codes, images: images, indices: indices, base: nil, losses: &losses)
        let w = trainer.weights
        return Double(w.neighborhood) * (Double(losses.neighborhood) + Double(w.quantization) * Double(losses.quantization)
            + Double(w.listwise?.weight ?? 0) * Double(losses.listwise ?? 0))
    }

    @Test func theCodeGradientIsTheDerivativeOfTheSplitLoss() throws {
        let (pixels, _) = images(seed: 1)
        let networks = try BGANNetworks(architecture: architecture, seed: 3)
        let trainer = BGANTrainer(networks: networks, structure: structure(pixels), seed: 3)
        trainer.weights.listwise = ListwiseTerm(bits: 6, weight: 2, temperature: 0.3)
        let indices = [0, 4, 9, 13, 20, 31, 1, 5, 10, 17, 22, 40]
        var rng = SeededGenerator(seed: 7)
        // Codes away from 0, where the quantisation term's target changes sign.
        let values = (0..<(indices.count * 16)).map { _ -> Float in (rng.next() % 2 == 0 ? 1 : -1) * (0.2 + 0.7 * Float(rng.next() % 1000) / 1000) }
        let codes = Tensor(shape: [indices.count, 16], storage: values)
        var losses = StepLosses()
        let gradient = try trainer.neighborhoodGradient(codes: codes, images: Tensor(zeros: [indices.count, 1, 8, 8]), indices: indices,
                                                        base: nil, losses: &losses)
        #expect(losses.listwise != nil && losses.listwise! > 0)
        for element in [0, 3, 5, 6, 11, 15, 16 * 7 + 2, 16 * 7 + 9, 16 * 11 + 14] {
            var plus = codes, minus = codes
            let h: Float = 1e-2
            plus.storage[element] += h
            minus.storage[element] -= h
            let numeric = (try totalLoss(trainer, codes: plus, indices: indices) - totalLoss(trainer, codes: minus, indices: indices)) / Double(2 * h)
            let analytic = Double(gradient.storage[element])
            #expect(abs(numeric - analytic) <= 2e-3 + 2e-2 * abs(numeric), "element \(element): analytic \(analytic), numeric \(numeric)")
        }
    }

    @Test func aQuantisationWeightOnTheListwiseBitsChangesOnlyTheirQuantisationGradient() throws {
        let (pixels, _) = images(seed: 1)
        let trainer = BGANTrainer(networks: try BGANNetworks(architecture: architecture, seed: 3), structure: structure(pixels), seed: 3)
        trainer.weights.quantization = 0.8
        let indices = Array(0..<6) + Array(30..<36)
        var rng = SeededGenerator(seed: 5)
        let codes = Tensor(shape: [12, 16], storage: (0..<192).map { _ in Float(rng.normal()) * 0.6 })
        let images = Tensor(zeros: [12, 1, 8, 8])
        func gradient(_ quantizationWeight: Float?) throws -> [Float] {
            trainer.weights.listwise = ListwiseTerm(bits: 10, quantizationWeight: quantizationWeight)
            var losses = StepLosses()
            return try trainer.neighborhoodGradient(codes: codes, images: images, indices: indices, base: nil, losses: &losses).storage
        }
        let paper = try gradient(nil), free = try gradient(0), half = try gradient(0.4), same = try gradient(0.8)
        #expect(same == paper, "a weight equal to the run's is the paper's objective")
        let count = Float(codes.count)
        for row in 0..<12 {
            for bit in 0..<16 {
                let i = row * 16 + bit, value = codes.storage[i]
                let quantization = trainer.weights.neighborhood * 2 * (value - (value > 0 ? 1 : -1)) / count
                if bit < 10 {
                    #expect(abs(paper[i] - free[i] - 0.8 * quantization) <= 1e-6, "listwise bit \(bit) of row \(row)")
                    #expect(abs(half[i] - free[i] - 0.4 * quantization) <= 1e-6, "listwise bit \(bit) of row \(row)")
                } else {
                    #expect(free[i] == paper[i] && half[i] == paper[i], "bit \(bit) of row \(row) is the neighbourhood term's")
                }
            }
        }
        // The weight is part of the recorded settings; settings written before it existed read as nil.
        let term = ListwiseTerm(bits: 10, quantizationWeight: 0)
        #expect(try JSONDecoder().decode(ListwiseTerm.self, from: try JSONEncoder().encode(term)) == term)
        let older = try JSONDecoder().decode(ListwiseTerm.self, from: Data(#"{"bits":10,"weight":1,"temperature":0.2}"#.utf8))
        #expect(older == ListwiseTerm(bits: 10))
    }

    @Test func theModelFileSpreadsTheNeighbourhoodBitsOverEverySubstring() {
        for (bits, listwise, substrings) in [(64, 40, 4), (64, 32, 4), (32, 24, 2), (64, 56, 4), (16, 8, 4)] {
            let order = ListwiseTerm(bits: listwise).codeBitOrder(codeBits: bits)
            #expect(order.sorted() == Array(0..<bits), "\(bits)/\(listwise): a permutation")
            #expect(order.filter { $0 < listwise } == Array(0..<listwise), "listwise bits keep their order")
            #expect(order.filter { $0 >= listwise } == Array(listwise..<bits), "neighbourhood bits keep their order")
            let width = bits / substrings, share = (bits - listwise) / substrings
            for s in 0..<substrings {
                let held = order[(s * width)..<((s + 1) * width)].filter { $0 >= listwise }.count
                #expect(held == share, "\(bits)/\(listwise): substring \(s) holds \(held) neighbourhood bits, not \(share)")
            }
        }
    }

    @Test func theNeighbourhoodLossSeesOnlyTheTrailingBits() throws {
        let (pixels, _) = images(seed: 1)
        let trainer = BGANTrainer(networks: try BGANNetworks(architecture: architecture, seed: 3), structure: structure(pixels), seed: 3)
        trainer.weights.listwise = ListwiseTerm(bits: 10)
        let indices = Array(0..<8) + Array(20..<28)
        var rng = SeededGenerator(seed: 9)
        let codes = Tensor(shape: [16, 16], storage: (0..<256).map { _ in Float(rng.normal()) * 0.5 })
        var losses = StepLosses()
        _ = try trainer.neighborhoodGradient(codes: codes, images: Tensor(zeros: [16, 1, 8, 8]), indices: indices, base: nil, losses: &losses)
        let trailing = codes.columns(10..<16)
        #expect(trailing.shape == [16, 6] && trailing.storage[6] == codes.storage[16 + 10])
        let similarity = Tensor(shape: [16, 16], storage: try trainer.structure.batchMatrix(indices))
        #expect(losses.neighborhood == (try Loss.pairwiseSimilarity(codes: trailing, similarity: similarity)).value)
        #expect(losses.listwise == (try Loss.normalizedTemperatureCrossEntropy(embeddings: codes.columns(0..<10), temperature: 0.2)).value)
    }

    /// Targets that merge the middle and bottom bands (kinds 1 and 2) into one group and keep
    /// the top band (kind 0) apart: cosine 1 within a group, 0 across. The pixels, and so the
    /// neighbours the listwise term pairs, keep all three kinds apart.
    func mergingTargets(_ kinds: [Int]) throws -> SimilarityEmbedding {
        try SimilarityEmbedding(values: kinds.flatMap { $0 == 0 ? [Float(1), 0] : [0, 1] }, dimension: 2)
    }

    /// Mean agreement `(1/L)·zᵢ·zⱼ` over the codes' `bits` of images of kind 1 with images of kind 2.
    func mergedAgreement(_ session: TrainingSession, pixels: [Float], kinds: [Int], bits: Range<Int>) throws -> Float {
        let codes = try session.networks.codes(of: Tensor(shape: [48, 1, 8, 8], storage: pixels))
        var sum: Float = 0, count: Float = 0
        for i in 0..<48 where kinds[i] == 1 {
            for j in 0..<48 where kinds[j] == 2 {
                sum += bits.map { codes.storage[i * 16 + $0] * codes.storage[j * 16 + $0] }.reduce(0, +) / Float(bits.count)
                count += 1
            }
        }
        return sum / count
    }

    @Test func theTargetsShapeOnlyTheTrailingBitsAndARunResumesExactly() throws {
        let (pixels, kinds) = images(seed: 2)
        let split = settings(listwiseBits: 8, epochs: 12)
        let whole = try TrainingSession(settings: split, images: pixels, structure: structure(pixels), similarity: try mergingTargets(kinds))
        while !whole.isFinished { try whole.runStep() }
        #expect(whole.history.allSatisfy { $0.losses.listwise != nil })
        let model = try whole.model(preprocessing: Preprocessing(channels: 1, height: 8, width: 8))
        #expect(model.header.training["weights"]?.contains("listwise 1.0 on the first 8 bits at temperature 0.2") == true)
        // The model file interleaves the two kinds of bits; each image's code is the session's,
        // reordered, so every Hamming distance is the same.
        let order = try #require(split.weights.listwise).codeBitOrder(codeBits: 16)
        #expect(model.header.training["code_bit_order"] == "the listwise term's bits at positions 0, 2, 4, 6, 8, 10, 12, 14, the neighbourhood term's at the others")
        let all = Tensor(shape: [48, 1, 8, 8], storage: pixels)
        let sessionCodes = try whole.networks.codes(of: all), fileCodes = try model.networks().codes(of: all)
        #expect(fileCodes.storage == (0..<48).flatMap { row in order.map { sessionCodes.storage[row * 16 + $0] } })
        #expect(Set(fileCodes.storage) == [-1, 1] && order != Array(0..<16))
        // Every bit's real value has a root mean square of 1 over the training images (all 48
        // here), so each counts alike in the store's refinement; the session's do not.
        let fileValues = try model.networks().preSignOutputs(of: all).storage, sessionValues = try whole.networks.preSignOutputs(of: all).storage
        func rms(_ values: [Float], _ bit: Int) -> Float { ((0..<48).map { values[$0 * 16 + bit] * values[$0 * 16 + bit] }.reduce(0, +) / 48).squareRoot() }
        for bit in 0..<16 { #expect(abs(rms(fileValues, bit) - 1) < 1e-3, "bit \(bit): \(rms(fileValues, bit))") }
        #expect((0..<16).contains { abs(rms(sessionValues, $0) - 1) > 0.1 })
        #expect(model.header.training["code_bit_scales"]?.contains("over 48 training images") == true)
        // The bits the targets train merge kinds 1 and 2; the listwise bits keep them apart;
        // without the term every bit merges them.
        let plain = try TrainingSession(settings: settings(listwiseBits: nil, epochs: 12), images: pixels, structure: structure(pixels),
                                        similarity: try mergingTargets(kinds))
        while !plain.isFinished { try plain.runStep() }
        let trailing = try mergedAgreement(whole, pixels: pixels, kinds: kinds, bits: 8..<16)
        let leading = try mergedAgreement(whole, pixels: pixels, kinds: kinds, bits: 0..<8)
        let plainLeading = try mergedAgreement(plain, pixels: pixels, kinds: kinds, bits: 0..<8)
        let agreements = "agreement of kinds 1 and 2: \(trailing) in the trailing bits, \(leading) in the listwise bits, \(plainLeading) in the same bits without the term"
        #expect(trailing > 0.6, "\(agreements)")
        #expect(plainLeading > 0.6, "\(agreements)")
        #expect(leading < 0.3, "\(agreements)")

        let first = try TrainingSession(settings: split, images: pixels, structure: structure(pixels), similarity: try mergingTargets(kinds))
        for _ in 0..<(first.stepsPerEpoch + 1) { try first.runStep() }
        let resumed = try TrainingSession(checkpoint: try first.checkpoint(), images: pixels)
        #expect(resumed.settings.weights.listwise == split.weights.listwise)
        while !resumed.isFinished { try resumed.runStep() }
        #expect(resumed.networks.encoderParameters.values == whole.networks.encoderParameters.values, "bit-exact encoder")
    }

    @Test func settingsThatCannotTrainTheTermAreRefused() throws {
        let (pixels, _) = images(seed: 1)
        for bits in [0, 16, 20] {
            #expect(throws: BGANError.self) { try TrainingSession(settings: settings(listwiseBits: bits, epochs: 1), images: pixels, structure: structure(pixels)) }
        }
        var shuffled = settings(listwiseBits: 8, epochs: 1)
        shuffled.sampling = .shuffled
        let error = #expect(throws: BGANError.self) { try TrainingSession(settings: shuffled, images: pixels, structure: structure(pixels)) }
        #expect(error?.message.contains("neighbour sampling") == true)
        var cold = settings(listwiseBits: 8, epochs: 1)
        cold.weights.listwise?.temperature = 0
        #expect(throws: BGANError.self) { try TrainingSession(settings: cold, images: pixels, structure: structure(pixels)) }
        for weight in [-1, Float.nan] {
            var unquantized = settings(listwiseBits: 8, epochs: 1)
            unquantized.weights.listwise?.quantizationWeight = weight
            let error = #expect(throws: BGANError.self) { try TrainingSession(settings: unquantized, images: pixels, structure: structure(pixels)) }
            #expect(error?.message.contains("quantisation weight on the listwise bits") == true)
        }
        var plan = TrainingPlan(recipe: .recommended, bits: 64)
        plan.weights.listwise = ListwiseTerm(bits: 64)
        #expect(throws: BGANError.self) { try plan.validate() }
        plan.weights.listwise = ListwiseTerm(bits: 40)
        try plan.validate()
    }
}
