import Basics
import NeuralNet

/// Weights of BGAN's losses (the reference code's final defaults).
public struct LossWeights: Codable, Sendable, Equatable {
    /// Neighbourhood structure and quantisation, on the encoder.
    public var neighborhood: Float = 10
    /// Feature matching through D_l, on the encoder and the generator.
    public var content: Float = 1
    /// Pixel reconstruction (mean squared error), on the encoder and the generator; off by default.
    public var pixel: Float = 0
    /// The generator's adversarial loss.
    public var adversarial: Float = 1
    /// The quantisation term's weight relative to the neighbourhood term.
    public var quantization: Float = 1
    /// The target of `(1/L)·zᵢ·zⱼ` for dissimilar pairs: −1 as in the paper, 0 to ask only
    /// for unrelated (orthogonal) codes.
    public var dissimilarTarget: Float = -1
    /// When above 0, only pairs farther apart in pixels than this quantile of all pairs'
    /// distances count as dissimilar; nearer pairs outside S are left out of the loss (S = 0)
    /// instead of being pushed apart. 0 (the paper): every pair outside S is dissimilar.
    public var dissimilarQuantile: Float = 0
    /// Weight of a similar pair (S = +1, an image with another) against a dissimilar pair's 1 in
    /// the neighbourhood loss. A batch holds far more dissimilar pairs; weighting the few
    /// similar ones up pulls neighbours together harder. 1: the paper's plain mean.
    public var similarPairWeight: Float = 1
    /// When set, the weight (relative to the neighbourhood term, as the quantisation term's) of
    /// an anchor term `mean((zᵢ − aᵢ)²)` pulling each image's smoothed code `zᵢ` toward its
    /// anchor code `aᵢ`: the sign the starting encoder gives the unaugmented image. It keeps
    /// what pre-training learnt — one code per image, invariance to the views — while the
    /// neighbourhood term pulls neighbours together. Nil: no such term (the paper).
    public var anchor: Float?
    /// When set, a listwise term trains the code's leading bits and the neighbourhood term only
    /// the others (``ListwiseTerm``). Nil: the neighbourhood term trains every bit (the paper).
    public var listwise: ListwiseTerm?

    /// Checkpoints and model notes spell the first key "neighbourhood": they are data and keep their bytes.
    enum CodingKeys: String, CodingKey {
        case neighborhood = "neighbourhood"
        case content, pixel, adversarial, quantization, dissimilarTarget, dissimilarQuantile, similarPairWeight, anchor, listwise
    }

    public init() {}

    /// Whether the generator and the discriminator take part (content, pixel or adversarial
    /// weight above zero); without them a step trains the encoder alone.
    public var trainsGenerator: Bool { content > 0 || pixel > 0 || adversarial > 0 }
}

/// The losses of one training step.
public struct StepLosses: Codable, Sendable, Equatable {
    public var neighborhood: Float = 0
    public var quantization: Float = 0
    public var content: Float = 0
    public var pixel: Float = 0
    public var generatorAdversarial: Float = 0
    public var discriminator: Float = 0
    /// The anchor term (nil when the run has none).
    public var anchor: Float?
    /// The listwise term (nil when the run has none).
    public var listwise: Float?

    /// Checkpoints spell the first key "neighbourhood", as above.
    enum CodingKeys: String, CodingKey {
        case neighborhood = "neighbourhood"
        case quantization, content, pixel, generatorAdversarial, discriminator, anchor, listwise
    }

    public init() {}

    /// Adds `other` term by term.
    public mutating func add(_ other: StepLosses) {
        neighborhood += other.neighborhood
        quantization += other.quantization
        content += other.content
        pixel += other.pixel
        generatorAdversarial += other.generatorAdversarial
        discriminator += other.discriminator
        if let value = other.anchor { anchor = (anchor ?? 0) + value }
        if let value = other.listwise { listwise = (listwise ?? 0) + value }
    }

    /// Every term times `factor`.
    public func scaled(_ factor: Float) -> StepLosses {
        var result = self
        result.neighborhood *= factor
        result.quantization *= factor
        result.content *= factor
        result.pixel *= factor
        result.generatorAdversarial *= factor
        result.discriminator *= factor
        result.anchor = anchor.map { $0 * factor }
        result.listwise = listwise.map { $0 * factor }
        return result
    }

    /// The terms by name, in a fixed order (for logs and charts).
    public var named: [(name: String, value: Float)] {
        [("neighbourhood", neighborhood), ("quantisation", quantization), ("content", content), ("pixel", pixel),
         ("adversarial", generatorAdversarial), ("discriminator", discriminator)] + (anchor.map { [("anchor", $0)] } ?? [])
            + (listwise.map { [("listwise", $0)] } ?? [])
    }
}

/// One optimisation step of BGAN on a batch: the discriminator on real images against images
/// generated from Gaussian noise, then the encoder and generator together on the neighbourhood,
/// quantisation, content and adversarial losses. Each network has its own Adam.
///
/// Layers keep only their last forward pass, so the order of the passes matters and is part of
/// the design: every backward pass directly follows the forward pass it goes back through.
public final class BGANTrainer {
    public let networks: BGANNetworks
    public let structure: NeighborhoodStructure
    public var weights: LossWeights
    public let encoderOptimizer: Adam
    public let generatorOptimizer: Adam
    public let discriminatorOptimizer: Adam
    /// Source of the generator's noise; part of a checkpoint.
    public var noiseGenerator: SeededGenerator
    /// Squared pixel distance below which a pair outside S is left out of the loss (see
    /// ``LossWeights/dissimilarQuantile``); nil: every pair outside S is dissimilar.
    public var unrelatedBelow: Float?
    /// When set, the neighbourhood loss's targets are these features' cosines instead of S.
    public var similarityEmbedding: SimilarityEmbedding?
    /// When set, the discriminator, adversarial and content losses see only the first this many
    /// images of each batch (with neighbour sampling: the anchors, so each image meets them once
    /// per epoch as with shuffled batches); the neighbourhood loss always sees the whole batch.
    public var generativeImages: Int?
    /// Codes (±1, `count × bits`, by training-set position) the anchor term pulls toward.
    public var anchorCodes: AnchorCodes?
    /// When true, only the encoder's code layer trains. The layers below it run as at inference
    /// (batch normalisation on its running statistics, which stay as they are), so the code
    /// layer trains on the very features it will see when encoding; nothing is propagated back
    /// through them, so their gradients stay zero and Adam never moves them.
    public var trainsCodeLayerOnly = false

    /// - Parameters: Adam's settings default to the reference code's: learning rate 1e-3, ε = 1.0.
    ///   `encoderLearningRate`, when given, is the encoder's alone (the generator and the
    ///   discriminator keep `learningRate`).
    public init(networks: BGANNetworks, structure: NeighborhoodStructure, weights: LossWeights = LossWeights(),
                learningRate: Float = 1e-3, encoderLearningRate: Float? = nil, epsilon: Float = 1.0, seed: UInt64) {
        self.networks = networks
        self.structure = structure
        self.weights = weights
        encoderOptimizer = Adam(learningRate: encoderLearningRate ?? learningRate, epsilon: epsilon)
        generatorOptimizer = Adam(learningRate: learningRate, epsilon: epsilon)
        discriminatorOptimizer = Adam(learningRate: learningRate, epsilon: epsilon)
        noiseGenerator = SeededGenerator(seed: seed)
    }

    /// Trains on `images` (`B × C × H × W`), whose positions in the training set are `indices`.
    public func step(images x: Tensor, indices: [Int]) throws -> StepLosses {
        let batch = x.batch
        guard indices.count == batch else {
            throw BGANError(.invalidArgument, "\(indices.count) indices for a batch of \(batch) images")
        }
        let bits = networks.architecture.bits
        var losses = StepLosses()
        let e = networks.encoderParameters
        guard weights.trainsGenerator else {
            e.zeroGradients()
            let codes = try encode(x)
            try backEncode(try neighborhoodGradient(codes: codes, images: x, indices: indices, base: nil, losses: &losses))
            encoderOptimizer.step(e)
            return losses
        }
        let g = min(batch, generativeImages ?? batch)
        let xg = g == batch ? x : Tensor(shape: [g] + Array(x.shape.dropFirst()), storage: Array(x.storage[0..<(g * x.itemSize)]))
        let noise = Tensor(shape: [g, bits], storage: (0..<(g * bits)).map { _ in noiseGenerator.normal() })
        let d = networks.discriminatorParameters, g0 = networks.generatorParameters

        // 1. The discriminator: real images are real, generated ones are not.
        let generated = try networks.generator.forward(noise, training: true)
        losses.discriminator = try trainDiscriminator(real: xg, generated: generated)

        // 2. Encoder and generator. The discriminator only passes gradients on: its own are
        // not computed (they would be discarded), which leaves its matrix products for them out.
        e.zeroGradients()
        g0.zeroGradients()
        try d.withoutGradients {
            // 2a. The generator fools the discriminator just updated. Its images are those of 1:
            // the same noise through the same weights (the generator has not stepped), and the
            // generator's layers still hold that forward pass for backward.
            let fooled = try discriminate(generated)
            let adversarial = try Loss.binaryCrossEntropy(logits: fooled, targets: filled(fooled.shape, 1))
            _ = try networks.generator.backward(try backDiscriminate(scaled(adversarial.gradient, weights.adversarial)))
            losses.generatorAdversarial = adversarial.value
        }
        // 2b. Content: the reconstruction's D_l features match the image's.
        let codes = try encode(x)
        let generativeCodes = g == batch ? codes : Tensor(shape: [g, bits], storage: Array(codes.storage[0..<(g * bits)]))
        let reconstruction = try networks.generator.forward(generativeCodes, training: true)
        var towardImage = try d.withoutGradients {
            let realFeatures = try networks.discriminatorFeatures.forward(xg, training: true)
            let fakeFeatures = try networks.discriminatorFeatures.forward(reconstruction, training: true)
            let content = try Loss.meanSquaredError(fakeFeatures, realFeatures)
            losses.content = content.value
            return try networks.discriminatorFeatures.backward(scaled(content.gradient, weights.content))
        }
        if weights.pixel > 0 {
            let pixel = try Loss.meanSquaredError(reconstruction, xg)
            for i in towardImage.storage.indices { towardImage.storage[i] += weights.pixel * pixel.gradient.storage[i] }
            losses.pixel = pixel.value
        }
        var towardCodes = try networks.generator.backward(towardImage)
        if g < batch {
            towardCodes = Tensor(shape: codes.shape, storage: towardCodes.storage + [Float](repeating: 0, count: (batch - g) * bits))
        }
        // 2c. Neighbourhood structure and quantisation on the smoothed codes.
        try backEncode(try neighborhoodGradient(codes: codes, images: x, indices: indices, base: towardCodes, losses: &losses))
        encoderOptimizer.step(e)
        generatorOptimizer.step(g0)
        return losses
    }

    /// One step of the discriminator on `real` and `generated` images; its loss. Nothing learns
    /// through it here, so its first layer skips the gradient with respect to the images.
    private func trainDiscriminator(real: Tensor, generated: Tensor) throws -> Float {
        let d = networks.discriminatorParameters
        d.zeroGradients()
        networks.discriminatorInput.needsInputGradient = false
        defer { networks.discriminatorInput.needsInputGradient = true }
        let realLogits = try discriminate(real)
        let realLoss = try Loss.binaryCrossEntropy(logits: realLogits, targets: filled(realLogits.shape, 1))
        try backDiscriminate(realLoss.gradient)
        let fakeLogits = try discriminate(generated)
        let fakeLoss = try Loss.binaryCrossEntropy(logits: fakeLogits, targets: filled(fakeLogits.shape, 0))
        try backDiscriminate(fakeLoss.gradient)
        discriminatorOptimizer.step(d)
        return realLoss.value + fakeLoss.value
    }

    /// `base` plus the weighted gradient of the neighbourhood, quantisation, listwise and anchor
    /// terms with respect to the smoothed codes (the neighbourhood term on the bits after the
    /// listwise term's, if any); records each term's loss.
    func neighborhoodGradient(codes: Tensor, images: Tensor, indices: [Int], base: Tensor?, losses: inout StepLosses) throws -> Tensor {
        let targets = try similarityEmbedding?.cosines(indices) ?? structure.batchMatrix(indices, dissimilar: weights.dissimilarTarget)
        var similarity = Tensor(shape: [codes.batch, codes.batch], storage: targets)
        if let unrelatedBelow {
            let n = codes.batch, size = images.itemSize
            images.storage.withUnsafeBufferPointer { pixels in
                for a in 0..<n {
                    for b in (a + 1)..<n where similarity.storage[a * n + b] != 1 {
                        var distance: Float = 0
                        for k in 0..<size {
                            let d = pixels[a * size + k] - pixels[b * size + k]
                            distance += d * d
                        }
                        if distance < unrelatedBelow {
                            similarity.storage[a * n + b] = 0
                            similarity.storage[b * n + a] = 0
                        }
                    }
                }
            }
        }
        var pairWeights: Tensor?
        if weights.similarPairWeight != 1 {
            let n = codes.batch
            var values = [Float](repeating: 1, count: n * n)
            for a in 0..<n { for b in 0..<n where a != b && similarity.storage[a * n + b] == 1 { values[a * n + b] = weights.similarPairWeight } }
            pairWeights = Tensor(shape: [n, n], storage: values)
        }
        // With a listwise term the neighbourhood term sees the bits from `split` on.
        let bits = codes.shape[1], split = weights.listwise?.bits ?? 0
        let pairedCodes = split == 0 ? codes : codes.columns(split..<bits)
        let neighborhood = try Loss.pairwiseSimilarity(codes: pairedCodes, similarity: similarity, pairWeights: pairWeights)
        losses.neighborhood = neighborhood.value
        var gradient = base ?? Tensor(zeros: codes.shape)
        var quantization: Double = 0
        let count = Float(codes.count)
        let listwiseQuantization = weights.listwise?.quantizationWeight ?? weights.quantization
        for row in 0..<codes.batch {
            for bit in 0..<bits {
                let i = row * bits + bit, value = codes.storage[i]
                let gap = value - (value > 0 ? 1 : -1)
                quantization += Double(gap * gap)
                let paired = bit < split ? 0 : neighborhood.gradient.storage[row * (bits - split) + bit - split]
                let quantizationWeight = bit < split ? listwiseQuantization : weights.quantization
                gradient.storage[i] += weights.neighborhood * (paired + quantizationWeight * 2 * gap / count)
            }
        }
        losses.quantization = Float(quantization / Double(count))
        if let listwise = weights.listwise {
            // Rows i and i + B/2 are an anchor and its partner (neighbour sampling).
            let term = try Loss.normalizedTemperatureCrossEntropy(embeddings: codes.columns(0..<split), temperature: listwise.temperature)
            for row in 0..<codes.batch {
                for bit in 0..<split {
                    gradient.storage[row * bits + bit] += weights.neighborhood * listwise.weight * term.gradient.storage[row * split + bit]
                }
            }
            losses.listwise = term.value
        }
        if let anchorWeight = weights.anchor, let anchorCodes {
            var anchor: Double = 0
            for (row, index) in indices.enumerated() {
                for bit in 0..<bits {
                    let i = row * bits + bit
                    let gap = codes.storage[i] - anchorCodes[index * bits + bit]
                    anchor += Double(gap * gap)
                    gradient.storage[i] += weights.neighborhood * anchorWeight * 2 * gap / count
                }
            }
            losses.anchor = Float(anchor / Double(count))
        }
        return gradient
    }

    /// The encoder's smoothed codes for `x` in a training pass (the layers below the code layer
    /// as at inference when only the code layer trains).
    private func encode(_ x: Tensor) throws -> Tensor {
        guard trainsCodeLayerOnly else { return try networks.encoder.forward(x, training: true) }
        let layers = networks.encoder.layers, code = networks.encoderCodeLayerPosition
        var h = x
        for layer in layers[..<code] { h = try layer.forward(h, training: false) }
        for layer in layers[code...] { h = try layer.forward(h, training: true) }
        return h
    }

    /// Back-propagates ∂loss/∂codes of the last ``encode(_:)`` into the encoder's gradients
    /// (only as far down as the layers that train).
    private func backEncode(_ codeGradient: Tensor) throws {
        guard trainsCodeLayerOnly else {
            _ = try networks.encoder.backward(codeGradient)
            return
        }
        var g = codeGradient
        for layer in networks.encoder.layers[networks.encoderCodeLayerPosition...].reversed() { g = try layer.backward(g) }
    }

    /// Logits of D for `images` (forward through D_l and the head).
    private func discriminate(_ images: Tensor) throws -> Tensor {
        try networks.discriminatorHead.forward(try networks.discriminatorFeatures.forward(images, training: true), training: true)
    }

    /// Back through the head and D_l; returns the gradient with respect to the images.
    @discardableResult
    private func backDiscriminate(_ gradient: Tensor) throws -> Tensor {
        try networks.discriminatorFeatures.backward(try networks.discriminatorHead.backward(gradient))
    }

    private func filled(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape, storage: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    private func scaled(_ tensor: Tensor, _ factor: Float) -> Tensor {
        var result = tensor
        for i in result.storage.indices { result.storage[i] *= factor }
        return result
    }
}
