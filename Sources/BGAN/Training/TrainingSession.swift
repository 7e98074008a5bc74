import Foundation
import NeuralNet

/// Mean losses over a stretch of training, at a point measured in epochs (1.5 = halfway
/// through the second epoch).
public struct LossPoint: Codable, Sendable, Equatable {
    public var epoch: Double
    public var losses: StepLosses
}

/// A whole training run over an image set: batches drawn per ``TrainingSettings/sampling``,
/// β stepped per the schedule, loss history, and checkpoints that resume exactly.
///
/// Everything random is derived from the seed and the position (epoch, step), or saved in the
/// checkpoint (the generator's noise), so a resumed run takes the very steps an uninterrupted
/// one takes.
public final class TrainingSession {
    public let settings: TrainingSettings
    public let networks: BGANNetworks
    public let trainer: BGANTrainer
    public let structure: NeighborhoodStructure
    /// Images, `count × C × H × W`, scaled as the model sees them.
    let images: ImageRows
    /// The images' fingerprint, which every checkpoint records: computed once, at the first.
    var imageFingerprint = ImageRows.FingerprintCache()
    public let count: Int
    /// The epoch (0-based) of the next step; `settings.epochs` once finished.
    public internal(set) var epoch = 0
    /// The next step within ``epoch``.
    public internal(set) var step = 0
    /// Mean losses every ``pointInterval`` steps and at the end of every epoch.
    public internal(set) var history: [LossPoint] = []
    var pendingSum = StepLosses()
    var pendingSteps = 0
    private var orderCache: (epoch: Int, order: [Int])?
    /// Steps averaged into one point of ``history``.
    public static let pointInterval = 100

    /// A new run on `images` (`count × C × H × W` values in the model's scale) with the structure
    /// S of the same images (which draws the partners of `neighbors` sampling, and gives the
    /// neighbourhood loss its targets unless `similarity` is given: then its cosines do).
    /// `anchorCodes` (`count × bits`; ``AnchorCodes/init(signsOf:)``) are required exactly when
    /// the settings weigh an anchor term.
    public convenience init(settings: TrainingSettings, images: [Float], structure: NeighborhoodStructure,
                            similarity: SimilarityEmbedding? = nil, anchorCodes: AnchorCodes? = nil) throws {
        try self.init(settings: settings, images: try Self.rows(images, architecture: settings.architecture), structure: structure,
                      similarity: similarity, anchorCodes: anchorCodes)
    }

    /// A new run on `images` (held as bytes or floats, read a batch at a time); otherwise as the
    /// initializer that takes the images as one array of floats.
    public init(settings: TrainingSettings, images: ImageRows, structure: NeighborhoodStructure, similarity: SimilarityEmbedding? = nil,
                anchorCodes: AnchorCodes? = nil) throws {
        let a = settings.architecture
        try images.requireShape(channels: a.channels, height: a.height, width: a.width)
        let count = images.count
        self.count = count
        guard structure.count == count, similarity.map({ $0.count == count }) ?? true else {
            throw BGANError(.invalidArgument, "the neighbourhood structure covers \(structure.count) images and the similarity embedding \(similarity?.count ?? count); the training set holds \(count)")
        }
        try settings.validate(count: count)
        guard (settings.weights.anchor != nil) == (anchorCodes != nil) else {
            throw BGANError(.invalidArgument, settings.weights.anchor != nil ? "an anchor weight is set but no anchor codes were given"
                                                                            : "anchor codes were given but the settings weigh no anchor term")
        }
        if let anchorCodes {
            guard anchorCodes.count == count * a.bits else {
                throw BGANError(.invalidArgument, "anchor codes must hold \(a.bits) per image for \(count) images; got \(anchorCodes.count) values")
            }
        }
        self.settings = settings
        self.images = images
        self.structure = structure
        networks = try BGANNetworks(architecture: a, beta: settings.beta(epoch: 0), seed: settings.seed)
        trainer = BGANTrainer(networks: networks, structure: structure, weights: settings.weights, learningRate: settings.learningRate,
                              encoderLearningRate: settings.encoderLearningRate, epsilon: settings.epsilon, seed: settings.seed)
        trainer.similarityEmbedding = similarity
        trainer.anchorCodes = anchorCodes
        if settings.generativeOnAnchors == true, settings.sampling != .shuffled { trainer.generativeImages = settings.batch / 2 }
        trainer.trainsCodeLayerOnly = settings.codeLayerOnly == true
        if settings.weights.dissimilarQuantile > 0 {
            trainer.unrelatedBelow = try Self.pairDistanceQuantile(images, quantile: settings.weights.dissimilarQuantile, seed: settings.seed)
        }
    }

    /// `values` as images of `architecture`'s geometry.
    static func rows(_ values: [Float], architecture a: BGANArchitecture) throws -> ImageRows {
        let itemSize = a.channels * a.height * a.width
        guard itemSize > 0, values.count % itemSize == 0 else {
            throw BGANError(.invalidArgument, "\(values.count) values are not a whole number of \(a.channels)×\(a.height)×\(a.width) images")
        }
        return try ImageRows(floats: values, valuesPerImage: itemSize)
    }

    /// The `quantile` of squared distances between 20,000 random pairs of images (seeded).
    static func pairDistanceQuantile(_ images: ImageRows, quantile: Float, seed: UInt64) throws -> Float {
        let count = images.count
        var rng = SeededGenerator(seed: SeededGenerator.seed(mixing: seed, 0x9a1, 0x7))
        var distances: [Float] = []
        for _ in 0..<20_000 {
            let i = Int(rng.next() % UInt64(count)), j = Int(rng.next() % UInt64(count))
            guard i != j else { continue }
            distances.append(try images.squaredDistance(i, j))
        }
        distances.sort()
        return distances.isEmpty ? 0 : distances[min(distances.count - 1, Int(Float(distances.count) * min(quantile, 1)))]
    }

    public var stepsPerEpoch: Int { settings.stepsPerEpoch(count: count) }
    public var isFinished: Bool { epoch >= settings.epochs }
    /// Steps taken since the run began.
    public var stepsTaken: Int { epoch * stepsPerEpoch + step }
    public var totalSteps: Int { settings.epochs * stepsPerEpoch }

    /// Takes the next step; at the end of an epoch moves to the next one.
    @discardableResult
    public func runStep() throws -> StepLosses {
        precondition(!isFinished, "the training run has finished")
        networks.smoothedSign.beta = settings.beta(epoch: epoch)
        let indices = try batchIndices(epoch: epoch, step: step)
        var batch = try images.gather(indices)
        let itemSize = images.valuesPerImage
        if settings.augmentationShift > 0 {
            var rng = SeededGenerator(seed: SeededGenerator.seed(mixing: settings.seed, UInt64(epoch) &+ 0xa0, UInt64(step)))
            ViewAugmentation.flipAndShift(&batch, architecture: settings.architecture, shift: settings.augmentationShift, rng: &rng)
        }
        if let augmentation = settings.views {
            var rng = SeededGenerator(seed: SeededGenerator.seed(mixing: settings.seed, UInt64(epoch) &+ 0xb1, UInt64(step)))
            let a = settings.architecture
            let source = batch
            batch.withUnsafeMutableBufferPointer { target in
                augmentation.views(count: indices.count, channels: a.channels, height: a.height, width: a.width, into: target, rng: &rng) { i, image in
                    _ = image.initialize(from: source[(i * itemSize)..<((i + 1) * itemSize)])
                }
            }
        }
        let a = settings.architecture
        let losses = try trainer.step(images: Tensor(shape: [indices.count, a.channels, a.height, a.width], storage: batch), indices: indices)
        pendingSum.add(losses)
        pendingSteps += 1
        step += 1
        if step == stepsPerEpoch || pendingSteps == Self.pointInterval {
            history.append(LossPoint(epoch: Double(epoch) + Double(step) / Double(stepsPerEpoch), losses: pendingSum.scaled(1 / Float(pendingSteps))))
            pendingSum = StepLosses()
            pendingSteps = 0
        }
        if step == stepsPerEpoch {
            epoch += 1
            step = 0
            networks.smoothedSign.beta = settings.beta(epoch: min(epoch, settings.epochs - 1))
        }
        return losses
    }

    /// The training-set positions of the batch at (`epoch`, `step`).
    func batchIndices(epoch: Int, step: Int) throws -> [Int] {
        if orderCache?.epoch != epoch {
            var rng = SeededGenerator(seed: SeededGenerator.seed(mixing: settings.seed, UInt64(epoch), 0x0bde))
            var order = Array(0..<count)
            order.shuffle(using: &rng)
            orderCache = (epoch, order)
        }
        let order = orderCache!.order
        switch settings.sampling {
        case .shuffled:
            return Array(order[(step * settings.batch)..<((step + 1) * settings.batch)])
        case .neighbors, .neighborsAndViews:
            let half = settings.batch / 2
            let anchors = Array(order[(step * half)..<((step + 1) * half)])
            var rng = SeededGenerator(seed: SeededGenerator.seed(mixing: settings.seed, UInt64(epoch), UInt64(step) &+ 1))
            let partners = try anchors.enumerated().map { position, anchor -> Int in
                if settings.sampling == .neighborsAndViews, position % 2 == 1 { return anchor }
                let similar = try structure.similarItems(of: anchor).filter { Int($0) != anchor }
                return similar.isEmpty ? Int(rng.next() % UInt64(count)) : Int(similar[Int(rng.next() % UInt64(similar.count))])
            }
            return anchors + partners
        }
    }

    /// The trained encoder as a model file.
    /// - Throws: when the training images cannot be read (codes in two parts scale their bits
    ///   by the outputs of a sample of them: ``codeBitScales()``).
    public func model(preprocessing: Preprocessing) throws -> ModelFile {
        var training = settings.notes
        let s = settings
        training["epochs"] = "\(s.epochs)"
        training["batch"] = "\(s.batch)"
        training["learning_rate"] = "\(s.learningRate)"
        if let rate = s.encoderLearningRate { training["encoder_learning_rate"] = "\(rate)" }
        training["adam_epsilon"] = "\(s.epsilon)"
        training["seed"] = "\(s.seed)"
        training["sampling"] = s.sampling.rawValue
        training["augmentation_shift"] = "\(s.augmentationShift)"
        if s.generativeOnAnchors == true, s.sampling != .shuffled { training["generative_images"] = "anchors (\(s.batch / 2) per batch)" }
        if s.codeLayerOnly == true { training["trained_encoder_layers"] = "the code layer only (the layers below kept from the starting encoder)" }
        if let views = s.views {
            training["views"] = "minimum area \(views.minimumArea), maximum aspect \(views.maximumAspect), flips \(views.flips), brightness \(views.brightness), noise \(views.noise)"
                + (views.contrast > 0 ? ", contrast \(views.contrast)" : "") + (views.rotation > 0 ? ", rotation \(views.rotation)" : "")
                + (views.blackCorners > 0 ? ", black corners \(views.blackCorners)" : "") + (views.captions > 0 ? ", captions \(views.captions)" : "")
        }
        training["beta_schedule"] = s.betaSchedule.map { "\($0)" }.joined(separator: ",")
        training["weights"] = "neighbourhood \(s.weights.neighborhood), quantisation \(s.weights.quantization), content \(s.weights.content), pixel \(s.weights.pixel), adversarial \(s.weights.adversarial), dissimilar target \(s.weights.dissimilarTarget), dissimilar beyond quantile \(s.weights.dissimilarQuantile), similar pair weight \(s.weights.similarPairWeight)"
            + (s.weights.anchor.map { ", anchor \($0)" } ?? "")
            + (s.weights.listwise.map { ", listwise \($0.weight) on the first \($0.bits) bits at temperature \($0.temperature)"
                + ($0.quantizationWeight.map { ", quantisation \($0) on those bits" } ?? "") } ?? "")
        training["images"] = "\(count)"
        var parameters = networks.encoderParameters
        if let listwise = s.weights.listwise {
            let order = listwise.codeBitOrder(codeBits: s.architecture.bits)
            let scaling = try codeBitScales()
            parameters = networks.encoderParameters(codeBitOrder: order, scales: scaling.scales)
            training["code_bit_order"] = "the listwise term's bits at positions "
                + Self.ranges(of: order.indices.filter { order[$0] < listwise.bits }) + ", the neighbourhood term's at the others"
            training["code_bit_scales"] = "each bit's real value scaled to a root mean square of 1 over \(scaling.images) training images"
        }
        if s.averagesMirrorImages == true {
            training["mirror_averaging_in_training"] = "none: the losses saw each image's own outputs; the written model averages them with the mirror image's"
                + (s.weights.listwise != nil ? " (code_bit_scales from the unaveraged outputs)" : "")
        }
        let header = ModelFile.Header(architecture: s.architecture, preprocessing: preprocessing, training: training,
                                      beta: networks.smoothedSign.beta, averagesMirrorImages: s.averagesMirrorImages == true)
        return ModelFile(header: header, encoderParameters: parameters)
    }

    /// Ascending `positions` as runs: "0-1, 3, 5-7".
    static func ranges(of positions: [Int]) -> String {
        var runs: [ClosedRange<Int>] = []
        for p in positions {
            if let last = runs.last, last.upperBound + 1 == p { runs[runs.count - 1] = last.lowerBound...p } else { runs.append(p...p) }
        }
        return runs.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ", ")
    }
}
