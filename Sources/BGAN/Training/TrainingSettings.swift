import NeuralNet

/// How a training run draws its batches.
public enum BatchSampling: String, Codable, Sendable, CaseIterable {
    /// A fresh shuffle of all images each epoch, cut into batches (the reference code).
    case shuffled
    /// Each batch is half anchors from the shuffle and half partners, one drawn at random from
    /// each anchor's similar items in S: every batch holds similar pairs for the neighbourhood
    /// loss to pull together. An epoch then takes twice the steps.
    case neighbors = "neighbours"
    /// As `neighbors`, but every other partner is the anchor itself: with augmentation on, two
    /// differently flipped and shifted views of one image, which should share a code.
    case neighborsAndViews = "neighbours-and-views"
}

/// Everything that decides a training run, recorded in the model file and in checkpoints.
public struct TrainingSettings: Codable, Sendable, Equatable {
    public var architecture: BGANArchitecture
    public var epochs: Int
    public var batch: Int
    public var learningRate: Float
    /// The encoder's Adam learning rate, when given apart from the generator's and the
    /// discriminator's (``learningRate``; the model file then notes it); nil: one rate for all three.
    public var encoderLearningRate: Float?
    /// Adam's ε (the reference code uses 1.0).
    public var epsilon: Float
    public var seed: UInt64
    public var weights: LossWeights
    /// β of the smoothed sign, stepped evenly across the epochs (the paper: 2, 5, 10, 15, 20).
    public var betaSchedule: [Float]
    public var sampling: BatchSampling
    /// Random horizontal flips and shifts of up to this many pixels, drawn per image and step,
    /// so that codes learn to ignore them (0: none, as in the paper).
    public var augmentationShift: Int = 0
    /// Random views (``ViewAugmentation``) in place of the images, drawn per image and step, so
    /// that codes learn to ignore the edits near-duplicates show; with `neighborsAndViews`
    /// sampling, half the partners are a second view of their anchor (nil: none, as in the paper).
    public var views: ViewAugmentation?
    /// With neighbour sampling, run the generator and discriminator (adversarial and content
    /// losses) on the anchors only, half of each batch: every image meets them once per epoch,
    /// as with shuffled batches, at half the cost. nil or false: on the whole batch.
    public var generativeOnAnchors: Bool?
    /// Train only the encoder's code layer (besides the generator and the discriminator): the
    /// layers below it keep the starting encoder's weights and batch-normalisation statistics
    /// and run as at inference, so its features stay as they are. nil or false: every layer.
    public var codeLayerOnly: Bool?
    /// Write a model whose outputs are the mean of each image's and its mirror image's
    /// (``ModelFile/Header/averagesMirrorImages``). Training does not average: the losses see
    /// each image's own outputs. nil or false: a model without it.
    public var averagesMirrorImages: Bool?
    /// Free-form facts about the run kept with it (data source, how S was built), copied into
    /// the model file's training settings.
    public var notes: [String: String] = [:]

    public init(architecture: BGANArchitecture, epochs: Int = 10, batch: Int = 40, learningRate: Float = 1e-3, epsilon: Float = 1,
                seed: UInt64 = 2026, weights: LossWeights = LossWeights(), betaSchedule: [Float] = [2, 5, 10, 15, 20],
                sampling: BatchSampling = .shuffled) {
        self.architecture = architecture
        self.epochs = epochs
        self.batch = batch
        self.learningRate = learningRate
        self.epsilon = epsilon
        self.seed = seed
        self.weights = weights
        self.betaSchedule = betaSchedule
        self.sampling = sampling
    }

    /// β during `epoch` (0-based).
    public func beta(epoch: Int) -> Float {
        betaSchedule[min(betaSchedule.count - 1, epoch * betaSchedule.count / max(epochs, 1))]
    }

    /// Steps in one epoch over `count` images.
    public func stepsPerEpoch(count: Int) -> Int {
        switch sampling {
        case .shuffled: count / batch
        case .neighbors, .neighborsAndViews: count / (batch / 2)
        }
    }

    /// Checks the settings against a training set of `count` images.
    public func validate(count: Int) throws {
        try architecture.validate()
        try views?.validate()
        guard epochs >= 1 else { throw BGANError(.invalidArgument, "epochs must be at least 1, not \(epochs)") }
        guard batch >= 2, batch % 2 == 0 || sampling == .shuffled else {
            throw BGANError(.invalidArgument, "a batch of \(batch) does not work here: it must be at least 2, and even when sampling neighbours")
        }
        guard count >= batch else {
            throw BGANError(.invalidArgument, "\(count) images do not fill one batch of \(batch); lower the batch or use more images")
        }
        guard !betaSchedule.isEmpty, betaSchedule.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw BGANError(.invalidArgument, "the β schedule needs at least one positive value")
        }
        guard weights.dissimilarQuantile >= 0, weights.dissimilarQuantile < 1 else {
            throw BGANError(.invalidArgument, "the dissimilar quantile must be in [0, 1), not \(weights.dissimilarQuantile)")
        }
        guard augmentationShift >= 0, augmentationShift < min(architecture.height, architecture.width) / 2 else {
            throw BGANError(.invalidArgument, "an augmentation shift of \(augmentationShift) pixels does not fit \(architecture.height)×\(architecture.width) images")
        }
        guard weights.similarPairWeight > 0, weights.similarPairWeight.isFinite else {
            throw BGANError(.invalidArgument, "the similar pair weight must be positive, not \(weights.similarPairWeight)")
        }
        if let anchor = weights.anchor {
            guard anchor > 0, anchor.isFinite else { throw BGANError(.invalidArgument, "the anchor weight must be positive, not \(anchor)") }
        }
        try weights.listwise?.validate(codeBits: architecture.bits, sampling: sampling)
        guard learningRate > 0, learningRate.isFinite, epsilon > 0, epsilon.isFinite,
              encoderLearningRate.map({ $0 > 0 && $0.isFinite }) ?? true else {
            throw BGANError(.invalidArgument, "the learning rates (\(learningRate), the encoder's \(encoderLearningRate ?? learningRate)) and Adam's ε (\(epsilon)) must be positive")
        }
    }
}
