/// A whole way of training a model, from raw images to the model file: what `bgan-db train`
/// runs when only the data, the code length and the output are given.
///
/// - ``recommended``: the recipe of the bundled models. Contrastive pre-training of the encoder
///   on random views, half of the second views replaced by pixel-space neighbours
///   (``ContrastiveSession``, ``pretrainingPartners``), then BGAN with every term of the paper's
///   objective (neighbourhood structure, quantisation, content through the discriminator's
///   features, adversarial) plus an anchor term that holds each code near the pre-trained one
///   (``anchorWeight``), started from the pre-trained encoder, with targets from the pre-trained
///   features (see ``similarity``), neighbour sampling with second views and mild views of every
///   image. docs/quality.md names each departure from the paper and the validation numbers that
///   chose it.
/// - ``paper``: the paper's and the reference code's configuration: S from pixels (K1 = 20,
///   K2 = 30) as ±1 targets, shuffled batches of 40, β stepped 2 → 5 → 10 → 15 → 20, every loss
///   on with the reference code's weights, no augmentation, no pre-training.
public enum TrainingRecipe: String, CaseIterable, Codable, Sendable {
    case recommended
    case paper

    /// Epochs of contrastive pre-training before the BGAN stage; nil for none.
    public var pretrainingEpochs: Int? {
        switch self {
        case .recommended: 10
        case .paper: nil
        }
    }

    /// Where the pre-training finds neighbours that stand in for half of its second views
    /// (``ContrastiveSettings/neighborPartners``); nil: views only. The recommended recipe takes
    /// the 5 nearest neighbours in pixels: they raise the ranking figures, and the anchor term
    /// (``anchorWeight``) keeps the BGAN stage from collapsing the codes they give
    /// (docs/quality.md, ninth to eleventh sessions).
    public var pretrainingPartners: FeatureSpace? {
        switch self {
        case .recommended: .pixels
        case .paper: nil
        }
    }

    /// Whether the BGAN stage starts from the pre-trained encoder's weights.
    public var startsFromPretrainedEncoder: Bool { self == .recommended }

    /// Passes of the BGAN stage over the data.
    public var epochs: Int {
        switch self {
        case .recommended: 3
        case .paper: 10
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
    /// neighbourhood loss; nil for none (the paper). 4 was chosen over 0.5 and 1 on validation
    /// data: it keeps the most distinct codes and near-duplicate recall (docs/quality.md).
    public var anchorWeight: Float? {
        switch self {
        case .recommended: 4
        case .paper: nil
        }
    }

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
