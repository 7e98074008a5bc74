import NeuralNet

/// Everything a training run from raw images to a model file decides, as values: a
/// ``TrainingRecipe``'s choices, each of which can be overridden. What `bgan-db train` builds
/// from its options; ``TrainingPlan/train(on:writingTo:loop:logger:onProgress:)`` runs it.
public struct TrainingPlan: Sendable {
    /// The recipe the other values started from (recorded in the model file).
    public var recipe: TrainingRecipe
    public var bits: Int
    /// Filters of the first convolution (the second has twice as many).
    public var filters = 32
    /// Units of the encoder's hidden layer.
    public var hiddenUnits = 512
    /// Units of the discriminator's feature layer D_l.
    public var featureUnits = 1024
    /// Stage 1, contrastive pre-training; nil for none.
    public var pretraining: Pretraining?
    /// Passes of the BGAN stage over the images; more when they would show it fewer than
    /// ``minimumImages`` (``epochs(for:)``).
    public var epochs: Int
    /// When set, the BGAN stage runs more than ``epochs`` epochs on a set so small that they
    /// would show it fewer images than this: as many whole epochs as fit in it. nil: always ``epochs``.
    public var minimumImages: Int?
    public var batch = 40
    public var learningRate: Float = 1e-3
    /// The encoder's learning rate in the BGAN stage, when given apart from ``learningRate`` (the
    /// generator's and the discriminator's); nil: ``learningRate`` × ``encoderLearningRateScale``.
    public var encoderLearningRate: Float?
    /// With ``encoderLearningRate`` nil, the encoder's rate as a share of ``learningRate``: the
    /// recipe's (``TrainingRecipe/encoderLearningRateScale(bits:)``), so a changed
    /// ``learningRate`` keeps the recipe's ratio. Set from the recipe and ``bits`` when the plan
    /// is made (as ``weights``' listwise term is): changing ``bits`` later does not change it.
    public var encoderLearningRateScale: Float = 1
    /// Adam's ε (the reference code: 1).
    public var adamEpsilon: Float = 1
    public var seed: UInt64 = 2026
    /// Where S and the targets find each image's neighbours; nil: the pre-trained model's
    /// outputs, or its hidden layer with ``neighborsFromPretrainedHiddenLayer``.
    public var neighborFeatures: FeatureSpace?
    /// With ``neighborFeatures`` nil: find neighbours in the pre-trained model's hidden layer.
    public var neighborsFromPretrainedHiddenLayer = false
    public var similarity: SimilarityTargets
    /// Nearest neighbours per image (K1) and voters (K2) of S.
    public var k1 = 20
    public var k2 = 30
    public var sampling: BatchSampling
    /// Random flips and shifts of up to this many pixels (0: none).
    public var augmentationShift = 0
    public var betaSchedule: [Float]
    /// The loss weights; ``LossWeights/anchor`` set holds codes near the starting encoder's signs.
    public var weights = LossWeights()
    public var views: ViewAugmentation?
    public var generativeOnAnchors: Bool
    /// Train only the encoder's code layer in the BGAN stage (``TrainingSettings/codeLayerOnly``).
    public var codeLayerOnly = false
    /// Start the BGAN stage's code layer from the seed's random weights instead of the starting
    /// encoder's, keeping only the layers below from it.
    public var freshCodeLayer = false
    /// Write a model that averages each image's outputs with its mirror image's
    /// (``TrainingSettings/averagesMirrorImages``).
    public var averagesMirrorImages = false
    /// Both stages' encoders standardise each image first (``BGANArchitecture/standardizesInput``):
    /// codes that ignore brightness and contrast, for photographs. Not in the paper; off in both recipes.
    public var standardizesInput = false
    /// With ``standardizesInput``, both stages standardise by the winsorised mean and deviation,
    /// clipped (``BGANArchitecture/standardizesRobustly``). Not in the paper.
    public var standardizesRobustly = false
    public var initialEncoder: InitialEncoder

    /// The pre-training stage of a plan: every setting of `bgan-db pretrain` but the seed, which
    /// the plan gives both stages, and the architecture, which is the plan's but for the code
    /// length (``bits``); the epochs it runs may be fewer (``imageBudget``).
    public struct Pretraining: Sendable, Equatable {
        public var epochs: Int
        /// When set, stage 1 runs fewer than ``epochs`` epochs if they would show it more images
        /// than this (at least one epoch): a recipe's long pre-training stays affordable on
        /// millions of images. nil: always ``epochs``.
        public var imageBudget: Int?
        /// Width of stage 1's output, the projection its contrastive loss compares; nil: the
        /// plan's code length. With a fresh code layer in the BGAN stage the two need not agree.
        public var bits: Int?
        /// Where neighbour partners for a share of the second views come from; nil: views only.
        public var partners: FeatureSpace?
        /// A partner is drawn from this many nearest neighbours.
        public var partnerCount = 5
        /// Fraction of second views that show a neighbour when ``partners`` is set.
        public var partnerShare: Float = 0.5
        /// Images per step (a plan's stage 1 takes fewer when there are fewer images).
        public var batch = 128
        public var learningRate: Float = 1e-3
        /// τ of the contrastive loss.
        public var temperature: Float = 0.3
        /// The random views that are each other's positives.
        public var augmentation = ViewAugmentation()
        /// A pre-training model file to use instead of pre-training in this run.
        public var model: String?

        public init(epochs: Int = 10, partners: FeatureSpace? = nil, model: String? = nil) {
            self.epochs = epochs
            self.partners = partners
            self.model = model
        }

        /// The epochs stage 1 runs on `count` images: ``epochs``, fewer under ``imageBudget``.
        public func epochs(for count: Int) -> Int {
            guard let imageBudget, count > 0 else { return epochs }
            return max(1, min(epochs, imageBudget / count))
        }

        /// The contrastive run these values describe, for `architecture` and `seed`.
        public func settings(architecture: BGANArchitecture, seed: UInt64) -> ContrastiveSettings {
            var settings = ContrastiveSettings(architecture: architecture, epochs: epochs, batch: batch,
                                               learningRate: learningRate, temperature: temperature, seed: seed, augmentation: augmentation)
            if let partners {
                settings.neighborPartners = .init(featureSpace: partners, count: partnerCount, share: partnerShare)
            }
            return settings
        }
    }

    /// Which weights the BGAN stage's encoder starts from.
    public enum InitialEncoder: Sendable, Equatable {
        case random
        /// The pre-training stage's encoder.
        case pretrained
        /// The encoder of this model file (same architecture; of any code length when the code
        /// layer is drawn afresh).
        case file(String)
    }

    /// `recipe`'s plan for codes of `bits` bits.
    public init(recipe: TrainingRecipe = .recommended, bits: Int = 64) {
        self.recipe = recipe
        self.bits = bits
        pretraining = recipe.pretrainingEpochs.map { epochs in
            var stage = Pretraining(epochs: epochs, partners: recipe.pretrainingPartners)
            stage.bits = recipe.pretrainingBits
            stage.imageBudget = recipe.pretrainingImageBudget
            return stage
        }
        epochs = recipe.epochs(bits: bits)
        minimumImages = recipe.minimumImages
        neighborFeatures = recipe.pretrainingEpochs == nil ? .pixels : nil
        neighborsFromPretrainedHiddenLayer = recipe.neighborsFromHiddenLayer
        k1 = recipe.k1
        k2 = recipe.k2
        adamEpsilon = recipe.adamEpsilon
        encoderLearningRateScale = recipe.encoderLearningRateScale(bits: bits)
        weights.listwise = recipe.listwise(bits: bits)
        codeLayerOnly = recipe.codeLayerOnly
        freshCodeLayer = recipe.freshCodeLayer
        averagesMirrorImages = recipe.averagesMirrorImages
        similarity = recipe.similarity
        sampling = recipe.sampling
        betaSchedule = recipe.betaSchedule
        views = recipe.views
        generativeOnAnchors = recipe.generativeOnAnchors
        initialEncoder = recipe.startsFromPretrainedEncoder ? .pretrained : .random
        if let anchor = recipe.anchorWeight { weights.anchor = anchor }
    }

    /// The epochs the BGAN stage runs on `count` images: ``epochs``, more under ``minimumImages``.
    public func epochs(for count: Int) -> Int {
        guard let minimumImages, count > 0 else { return epochs }
        return max(epochs, minimumImages / count)
    }

    /// The rate the BGAN stage's encoder trains at when it differs from ``learningRate``
    /// (``TrainingSettings/encoderLearningRate``); nil: the same.
    public var effectiveEncoderLearningRate: Float? {
        if let encoderLearningRate { return encoderLearningRate }
        return encoderLearningRateScale == 1 ? nil : learningRate * encoderLearningRateScale
    }

    /// Whether stage 1 runs (or its model is read): something in the plan uses the pre-trained model.
    public var usesPretrainedModel: Bool {
        pretraining != nil && (neighborFeatures == nil || initialEncoder == .pretrained)
    }

    /// Checks the plan before any work.
    /// - Throws: ``BGANError`` `.invalidArgument` naming the value out of range.
    public func validate() throws {
        func fail(_ message: String) -> BGANError { BGANError(.invalidArgument, message) }
        guard bits >= 16, bits <= 256, bits % 8 == 0 else { throw fail("codes of \(bits) bits: a code length must be a multiple of 8 from 16 to 256") }
        guard epochs >= 1, (pretraining?.epochs ?? 1) >= 1, batch >= 2 else {
            throw fail("\(epochs) epochs, \(pretraining?.epochs ?? 1) pre-training epochs, batches of \(batch): epochs must be at least 1 and batches at least 2")
        }
        guard k1 >= 1, k2 >= 1 else { throw fail("K1 = \(k1), K2 = \(k2): both must be at least 1") }
        guard learningRate > 0, learningRate.isFinite, adamEpsilon > 0, augmentationShift >= 0 else {
            throw fail("learning rate \(learningRate), Adam ε \(adamEpsilon), shift \(augmentationShift): the first two must be positive, the shift 0 or more")
        }
        if let rate = encoderLearningRate, !(rate > 0 && rate.isFinite) {
            throw fail("encoder learning rate \(rate): give a positive rate, or leave it out (--encoder-lr) for the recipe's")
        }
        guard encoderLearningRateScale > 0, encoderLearningRateScale.isFinite, effectiveEncoderLearningRate.map({ $0 > 0 && $0.isFinite }) ?? true else {
            throw fail("encoder learning rate scale \(encoderLearningRateScale) of the learning rate \(learningRate): the encoder's rate must be a positive share of it, and a positive number")
        }
        if case .spectral(let dimensions, let weight) = similarity, !(1...64).contains(dimensions) || !(0...1).contains(weight) {
            throw fail("similarity targets \(similarity): \(SimilarityTargets.syntax)")
        }
        if let anchor = weights.anchor, !(anchor > 0 && anchor.isFinite) {
            throw fail("anchor weight \(anchor): give a positive weight, or none (nil)")
        }
        try weights.listwise?.validate(codeBits: bits, sampling: sampling)
        try views?.validate()
        try pretraining?.augmentation.validate()
        try BGANArchitecture.validate(standardizesRobustly: standardizesRobustly, standardizesInput: standardizesInput)
        guard !betaSchedule.isEmpty, betaSchedule.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw fail("β schedule \(betaSchedule): give at least one positive β")
        }
        guard neighborFeatures != nil || pretraining != nil else {
            throw fail("the neighbourhood structure needs features: give a feature space, or a plan with pre-training")
        }
        if initialEncoder == .pretrained, pretraining == nil {
            throw fail("the encoder cannot start from the pre-trained model: the plan has no pre-training")
        }
        if codeLayerOnly || freshCodeLayer, initialEncoder == .random {
            throw fail("training the code layer only or drawing a fresh one keeps the layers below from a starting encoder: give the pre-trained model or a model file, not random weights")
        }
        // A stage-1 model given as a file is judged by its own architecture when the run starts.
        if let stageOneBits = pretraining?.bits, stageOneBits != bits, pretraining?.model == nil {
            guard stageOneBits >= 16, stageOneBits <= 256, stageOneBits % 8 == 0 else {
                throw fail("stage 1 with \(stageOneBits)-bit outputs: a code length must be a multiple of 8 from 16 to 256")
            }
            if initialEncoder == .pretrained, !freshCodeLayer {
                throw fail("the BGAN stage starts from stage 1's encoder, whose \(stageOneBits)-bit code layer cannot give \(bits)-bit codes: draw a fresh code layer, or pre-train at \(bits) bits")
            }
        }
        if freshCodeLayer, weights.anchor != nil {
            throw fail("the anchor term holds codes near the starting encoder's, which a fresh code layer does not give: turn the anchor off (weight 0) or keep the starting code layer")
        }
        if weights.anchor != nil, initialEncoder == .random {
            throw fail("an anchor weight needs a starting encoder (the pre-trained model or a model file) whose codes the anchors are")
        }
    }
}
