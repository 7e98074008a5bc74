/// A whole way of training a model, from raw images to the model file: what `bgan-db train`
/// runs when only the data, the code length and the output are given.
///
/// - ``recommended``: the recipe of both bundled models (docs/quality.md, twenty-sixth,
///   twenty-seventh, thirty-first, thirty-second and thirty-fifth sessions). 100 epochs of
///   contrastive pre-training of the encoder on random views, half of the second views replaced
///   by pixel-space neighbours (``ContrastiveSession``, ``pretrainingPartners``); then BGAN with
///   every term of the paper's objective (neighbourhood structure, quantisation, content through
///   the discriminator's features, adversarial) on the pre-trained encoder's layers, kept as they
///   are (``codeLayerOnly``), under a code layer drawn afresh (``freshCodeLayer``) and trained at
///   half the learning rate for codes of 64 bits and more (``encoderLearningRateScale(bits:)``),
///   whose code comes in two parts: a listwise term trains its first 5/8 of the bits free of the
///   quantisation term, at a lower temperature for codes of 64 bits and more
///   (``listwise(bits:)``, ``listwiseTemperature(bits:)``), the neighbourhood term the rest toward
///   targets from the pre-trained hidden layer's neighbourhoods (``neighborsFromHiddenLayer``,
///   ``similarity``); neighbour sampling with second views and mild views of every image.
///   docs/quality.md names each departure from the paper and the validation numbers that chose it.
/// - ``paper``: the paper's and the reference code's configuration: S from pixels (K1 = 20,
///   K2 = 30) as ±1 targets, shuffled batches of 40, β stepped 2 → 5 → 10 → 15 → 20, every loss
///   on with the reference code's weights, no augmentation, no pre-training.
public enum TrainingRecipe: String, CaseIterable, Codable, Sendable {
    case recommended
    case paper

    /// Epochs of contrastive pre-training before the BGAN stage; nil for none.
    public var pretrainingEpochs: Int? {
        switch self {
        case .recommended: 100
        case .paper: nil
        }
    }

    /// Images stage 1 may see in all (``TrainingPlan/Pretraining/imageBudget``): the recommended
    /// recipe's 100 epochs are 6 million views of Fashion-MNIST's 60,000 images; on more images
    /// it runs fewer epochs (10 at 600,000 images, 6 at a million). nil: no limit.
    public var pretrainingImageBudget: Int? {
        switch self {
        case .recommended: 6_000_000
        case .paper: nil
        }
    }

    /// Width of stage 1's output (the projection its contrastive loss compares), whatever the
    /// code length: the BGAN stage keeps only the layers below it. nil: the code length.
    public var pretrainingBits: Int? {
        switch self {
        case .recommended: 64
        case .paper: nil
        }
    }

    /// Where the pre-training finds neighbours that stand in for half of its second views
    /// (``ContrastiveSettings/neighborPartners``); nil: views only. The recommended recipe takes
    /// the 5 nearest neighbours in pixels: they raise the ranking figures (docs/quality.md,
    /// ninth to eleventh sessions).
    public var pretrainingPartners: FeatureSpace? {
        switch self {
        case .recommended: .pixels
        case .paper: nil
        }
    }

    /// Whether the BGAN stage starts from the pre-trained encoder's weights.
    public var startsFromPretrainedEncoder: Bool { self == .recommended }

    /// Whether the BGAN stage trains only the encoder's code layer, the pre-trained layers below
    /// kept as they are (``TrainingSettings/codeLayerOnly``).
    public var codeLayerOnly: Bool { self == .recommended }

    /// Whether the BGAN stage draws its code layer afresh instead of taking stage 1's
    /// (``TrainingPlan/freshCodeLayer``).
    public var freshCodeLayer: Bool { self == .recommended }

    /// Whether the model averages each image's outputs with its mirror image's
    /// (``ModelFile/Header/averagesMirrorImages``), so a mirrored copy gets the original's code.
    /// The recommended recipe does: on the validation protocol (three seeds) it found mirrored
    /// copies first every time and 1-px shifted ones more often, with P@10 and mAP@1000 as they
    /// were and mAP@all 0.002 lower on average (0.007 on the test queries; docs/quality.md,
    /// thirty-sixth session). Training itself does not average; only the model it writes does.
    /// The paper's encoder has no such step.
    public var averagesMirrorImages: Bool { self == .recommended }

    /// Whether S and the targets come from the pre-trained model's hidden layer (512 units)
    /// instead of its outputs.
    public var neighborsFromHiddenLayer: Bool { self == .recommended }

    /// Nearest neighbours per image (K1) of S.
    public var k1: Int {
        switch self {
        case .recommended: 10
        case .paper: 20
        }
    }

    /// Voters per image (K2) of S.
    public var k2: Int {
        switch self {
        case .recommended: 1
        case .paper: 30
        }
    }

    /// Adam's ε in the BGAN stage: the reference code's 1 barely moves a fresh code layer.
    public var adamEpsilon: Float {
        switch self {
        case .recommended: 1e-8
        case .paper: 1
        }
    }

    /// The listwise term for codes of `bits` bits: 5/8 of the bits (40 of 64, 20 of 32), free of
    /// the quantisation term, at ``listwiseTemperature(bits:)``; nil for none (the paper).
    public func listwise(bits: Int) -> ListwiseTerm? {
        switch self {
        case .recommended: ListwiseTerm(bits: bits * 5 / 8, temperature: listwiseTemperature(bits: bits), quantizationWeight: 0)
        case .paper: nil
        }
    }

    /// The listwise term's temperature for codes of `bits` bits. The recommended recipe takes 0.1
    /// for codes of 64 bits and more: on the validation protocol, over three seeds, it kept 96 %
    /// of the codes distinct against 87 % at 0.2, with P@10 0.006 higher and every codes-alone
    /// near-duplicate figure higher, for 0.004 of mAP@1000 and 0.013 of mAP@all; at 32 bits (one
    /// seed) it cost 0.007 of mAP@1000 and 0.023 of mAP@all, so shorter codes keep 0.2
    /// (docs/quality.md, thirty-fifth session). Lengths above 64 bits were not measured; they take
    /// 64 bits' temperature. The paper has no listwise term.
    public func listwiseTemperature(bits: Int) -> Float {
        bits >= 64 ? 0.1 : 0.2
    }

    /// The BGAN stage encoder's learning rate as a share of the generator's and the
    /// discriminator's (``TrainingPlan/encoderLearningRateScale``). The recommended recipe halves it for
    /// codes of 64 bits and more: on the validation protocol that gave about 2 points more distinct
    /// codes over three seeds with the ranking kept; at 32 bits it was mixed, so the rate stays
    /// whole there (docs/quality.md, thirty-first session). Lengths above 64 bits were not
    /// measured; they take 64 bits' share. The paper has one rate.
    public func encoderLearningRateScale(bits: Int) -> Float {
        switch self {
        case .recommended: bits >= 64 ? 0.5 : 1
        case .paper: 1
        }
    }

    /// Passes of the BGAN stage over the data for codes of `bits` bits (more on small sets:
    /// ``minimumImages``). The recommended recipe runs 6 for codes of 64 bits and more: on the
    /// validation protocol, over three seeds, 6 epochs against 3 raised every ranking figure's
    /// mean (P@10 +0.004, P@100 +0.005, mAP@1000 +0.004, mAP@all +0.001), distinct codes (96.5
    /// against 96.0 %) and the codes-alone recall of shifted and cropped copies (+0.02 and
    /// +0.03), and the BGAN stage takes twice as long (docs/quality.md, forty-third session).
    /// Shorter codes keep 3: on their one seed measured (same section) distinct codes and the
    /// refined near-duplicates fell. Lengths above 64 bits were not measured; they take 64
    /// bits' epochs. The paper runs 10 whatever the length.
    public func epochs(bits: Int) -> Int {
        switch self {
        case .recommended: bits >= 64 ? 6 : 3
        case .paper: 10
        }
    }

    /// Images the BGAN stage sees at the least (``TrainingPlan/minimumImages``): 180,000, what 3
    /// epochs of Fashion-MNIST's 60,000 images show, so a small set gets as many whole epochs as
    /// fit in that (120 of 1,498 digits) instead of a code layer that barely trained (222 steps
    /// on 1,498 digits against 9,000 on Fashion-MNIST); larger sets run ``epochs(bits:)``. Chosen
    /// on a validation split of a second data set, the UCI handwritten digits (docs/quality.md,
    /// forty-second session). nil: always ``epochs(bits:)``; the paper runs its 10 epochs
    /// whatever the size.
    public var minimumImages: Int? {
        switch self {
        case .recommended: 180_000
        case .paper: nil
        }
    }

    /// Targets of the neighbourhood loss, as `train --similarity` spells them: the recommended
    /// recipe blends the cosines of a spectral embedding of the pre-trained features' 10-NN graph
    /// (clusters) with the features' own cosines (fine similarity).
    public var similarity: SimilarityTargets {
        switch self {
        case .recommended: .spectral(dimensions: 8, featureWeight: 0.5)
        case .paper: .neighbors
        }
    }

    /// Weight of the anchor term (``LossWeights/anchor``) in the BGAN stage, relative to the
    /// neighbourhood loss; nil for none. The eleventh session's recipe used 4; a fresh code
    /// layer has no starting codes to hold, so neither recipe has one now.
    public var anchorWeight: Float? { nil }

    public var sampling: BatchSampling {
        switch self {
        case .recommended: .neighborsAndViews
        case .paper: .shuffled
        }
    }

    public var betaSchedule: [Float] {
        switch self {
        case .recommended: [2]
        case .paper: [2, 5, 10, 15, 20]
        }
    }

    /// Random views of the images in the BGAN stage; nil for none.
    public var views: ViewAugmentation? {
        switch self {
        case .recommended: .nearDuplicate
        case .paper: nil
        }
    }

    /// Whether the generator and discriminator see only the anchors of neighbour-sampled batches.
    public var generativeOnAnchors: Bool { self == .recommended }
}
