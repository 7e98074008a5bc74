import ArgumentParser
import BGAN
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a BGAN encoder on unlabelled images and write the model file.",
        discussion: """
        SOURCE is an IDX image file (MNIST / Fashion-MNIST, plain or .gz), a CIFAR-10 binary \
        batch (32×32 RGB; labels are ignored), or a folder of PNG / JPEG / PGM / PPM images \
        (recursively, in path order; --geometry sets the model's input). \
        `train --data SOURCE --bits L --out MODEL` alone runs the recommended recipe, the one \
        the bundled models were trained with: 100 epochs of contrastive pre-training (its \
        model is written to OUT.pretrained.bganmodel, or --pretrained FILE is used instead), \
        then BGAN with the whole objective on the pre-trained layers, kept, under a fresh code \
        layer whose code comes in two parts (listwise bits beside neighbourhood bits), targets \
        from the pre-trained hidden layer's neighbourhoods, views of the images, and a model \
        that averages each image's outputs with its mirror image's (so a mirrored copy gets the \
        original's code). --recipe paper is the paper's configuration. Options given \
        explicitly override the recipe's (docs/training.md lists both). The neighbourhood \
        structure S is built from --neighbours-from (K1 nearest neighbours, K2 voters), then BGAN \
        trains with β stepped along --beta-schedule across the epochs; --similarity spectral:D \
        takes the loss's targets from a spectral embedding of the same features instead (best \
        with the features of a `pretrain` model: docs/training.md). Progress and losses go to \
        stderr. A checkpoint is written after every epoch and on Ctrl-C (exit status 130); \
        --resume CHECKPOINT continues exactly where it stopped, on the same --data and --limit. \
        The loss curves are written as SVG.
        """)

    @OptionGroup var source: TrainingSourceOptions

    @Option(help: "Code length in bits (a multiple of 8, 16 to 256).")
    var bits: Int = 64

    @Option(help: "Where to write the model file.")
    var out: String

    @Option(help: "recommended (100 epochs of pre-training, then BGAN on its layers with codes in two parts: the bundled models) or paper (the paper's configuration). Other options override it.")
    var recipe: TrainingRecipe = .recommended

    @Option(help: "Passes of the BGAN stage over the data (default: the recipe's: 6 for codes of 64 bits and more, 3 below, or on fewer than 60,000 images as many whole epochs as fit in 180,000 images if that is more; 10 for the paper).")
    var epochs: Int?

    @Option(help: "A pre-training model (written by pretrain; of any code length when the code layer is drawn afresh, as the recommended recipe does, else of --bits) to use instead of pre-training in this run (recommended recipe).")
    var pretrained: String?

    @Option(help: "Epochs of the pre-training this run does (recommended recipe; default 100, or fewer when they would show it more than 6 million images).")
    var pretrainEpochs: Int?

    @Option(name: .customLong("pretrain-partners"), help: "Feature space whose 5 nearest neighbours stand in for half of the pre-training's second views (pretrain --neighbour-partners), or none (default: the recipe's).")
    var pretrainPartners: String?

    @Option(help: "Images per step.")
    var batch: Int = 40

    @Option(help: "Adam learning rate of the generator and the discriminator; the encoder's is the recipe's share of it (half for codes of 64 bits and more in the recommended recipe, else all of it) unless --encoder-lr.")
    var lr: Float = 1e-3

    @Option(help: "The BGAN stage encoder's Adam learning rate (default: the recipe's share of --lr, half for codes of 64 bits and more in the recommended recipe, else all of it; give it equal to --lr for one rate).")
    var encoderLr: Float?

    @Option(help: "Adam's ε (default: the recipe's, 1e-8 or the reference code's 1.0, which makes steps of small gradients tiny).")
    var adamEpsilon: Float?

    @Option(help: "Seed of initialisation, shuffling and noise.")
    var seed: UInt64 = 2026

    @Option(help: "Filters of the first convolution (the second has twice as many).")
    var filters: Int = 32

    @Option(help: "Units of the encoder's hidden layer (most of the model file's size).")
    var hiddenUnits: Int = 512

    @Option(help: "Units of the discriminator's feature layer D_l.")
    var featureUnits: Int = 1024

    @Option(name: .customLong("neighbours-from"), help: "Feature space of the neighbourhood structure (default: the pre-trained model's hidden layer in the recommended recipe, pixels in the paper's): pixels, pca:DIMENSIONS, smoothed:DIMENSIONS:STEPS (principal components averaged STEPS times over each image's 10 nearest neighbours), model:FILE (a trained model's encoder outputs h, scaled to unit length) or hidden:FILE (its hidden layer, likewise); any of them followed by +pixels:WEIGHT joins each image's centred pixels at unit length times WEIGHT.")
    var neighborsFrom: String?

    @Option(help: "Targets of the neighbourhood loss (default: the recipe's, spectral:8+features:0.5 or neighbours): neighbours (S: +1 for similar pairs, the dissimilar target otherwise; the paper) spectral:DIMENSIONS (cosines of a spectral embedding of the 10-NN graph of the --neighbours-from features), or spectral:DIMENSIONS+features:WEIGHT (those cosines blended with the features' own, WEIGHT of the latter: clusters and fine similarity at once).")
    var similarity: String?

    @Option(help: "Nearest neighbours per image for S (default: the recipe's, 10 or the paper's 20).")
    var k1: Int?

    @Option(help: "Voters per image for S (default: the recipe's, 1 or the paper's 30).")
    var k2: Int?

    @Option(help: "How batches are drawn (default: the recipe's): shuffled (the reference code), neighbours (half anchors, half one similar partner each) or neighbours-and-views (every other partner a second view of its anchor).")
    var sampling: BatchSampling?

    @Option(help: "Augment each training image by a random left-right flip and a shift of up to this many pixels (0: none, as in the paper).")
    var augmentShift: Int = 0

    @Option(help: "β of the smoothed sign, stepped evenly across the epochs (default: the recipe's, 2 or 2,5,10,15,20).")
    var betaSchedule: String?

    @Option(name: .customLong("neighbourhood-weight"), help: "Weight of the neighbourhood-structure loss.")
    var neighborhoodWeight: Float = 10

    @Option(help: "Weight of the quantisation term, relative to the neighbourhood loss.")
    var quantizationWeight: Float = 1

    @Option(help: "Weight of the content loss (D_l feature matching); 0 with --pixel-weight 0 and --adversarial-weight 0 trains the encoder alone.")
    var contentWeight: Float = 1

    @Option(help: "Weight of the pixel reconstruction loss.")
    var pixelWeight: Float = 0

    @Option(help: "Weight of the generator's adversarial loss.")
    var adversarialWeight: Float = 1

    // Unconditional: the value is usually negative, and "-0.5" must not read as an option.
    @Option(parsing: .unconditional, help: "Target of (1/L)·zᵢ·zⱼ for dissimilar pairs (the paper: -1).")
    var dissimilarTarget: Float = -1

    @Option(help: "Count as dissimilar only pairs farther apart in pixels than this quantile of all pairs (0 to 1); nearer pairs outside S are left out. 0: every pair outside S (the paper).")
    var dissimilarQuantile: Float = 0

    @Option(help: "Weight of a similar pair against a dissimilar pair's 1 in the neighbourhood loss (1: the paper).")
    var similarPairWeight: Float = 1

    @Option(help: "Weight (relative to the neighbourhood loss) of an anchor term keeping each image's code near the code the starting encoder (--initial-encoder, or the pre-trained model) gives it; keeps codes distinct; 0 for none (default: none). Needs the starting code layer: with the recommended recipe give --no-fresh-code-layer too.")
    var anchorWeight: Float?

    @Option(help: "Train the code's first this many bits with a listwise (contrastive) term — each image's code nearest its neighbour's or second view's among the batch — and the neighbourhood loss only the other bits: codes in two parts, fine ranking beside class structure (not in the paper; needs neighbour sampling; the model file interleaves the two kinds of bits). 0: none (default: the recipe's, 5/8 of the code or none).")
    var listwiseBits: Int?

    @Option(help: "Weight of the listwise term relative to the neighbourhood loss (default 1).")
    var listwiseWeight: Float?

    @Option(help: "Temperature of the listwise term (default: the recommended recipe's, 0.1 for codes of 64 bits and more, 0.2 below; 0.2 when --listwise-bits adds the term to --recipe paper); smaller values weigh the nearest wrong partners more and spread the codes further apart.")
    var listwiseTemperature: Float?

    @Option(help: "Weight of the quantisation term on the listwise bits (default: the recipe's, 0, or --quantization-weight as on every bit). 0 leaves them free of it, which keeps them from falling into the clusters of the other bits (not in the paper).")
    var listwiseQuantizationWeight: Float?

    @Flag(inversion: .prefixedNo, help: "Train on random views of the images (crops keeping 70-100% of the area, flips, brightness ±20%, noise up to σ 0.04): codes learn to ignore the edits near-duplicates show (default: the recipe's, on or off).")
    var views: Bool?

    @Option(name: .customLong("view-contrast"), help: "Views of both stages (the pre-training's and the BGAN stage's) also change contrast, scaling each value's distance from the view's mean by a factor in [1 − this, 1 + this] (default 0: none; for photographs, whose copies are often re-toned).")
    var viewContrast: Float = 0

    @Option(name: .customLong("view-rotation"), help: "Views of both stages also turn by an angle drawn from [−this, this] degrees (default 0: none; for photographs, whose copies are often straightened or tilted).")
    var viewRotation: Float = 0

    @Option(name: .customLong("view-brightness"), help: "The BGAN stage's views scale brightness by a factor in [1 − this, 1 + this], clipped (default: the recipe's, 0.2; pre-training keeps its ±0.4, which `pretrain --brightness` sets). For photographs, whose brightened copies clip their highlights.")
    var viewBrightness: Float?

    @Option(name: .customLong("view-noise"), help: "Views of both stages get Gaussian noise of a standard deviation drawn from [0, this], in the [0, 1] scale of the values (default: the recipe's, 0.04, about 10 of 255; `pretrain --noise` sets stage 1's alone). Flat photographs deviate by less than that.")
    var viewNoise: Float?

    @Option(name: .customLong("view-black-corners"), help: "Probability that a turned view's corners are black, as an editor leaves a photograph turned in place, instead of the nearest edge's pixels (default 0: never; needs --view-rotation).")
    var viewBlackCorners: Float = 0

    @Option(name: .customLong("view-captions"), help: "Probability that a view of either stage gets a synthetic caption over its lower part (white glyph strokes outlined in black, as a watermark or a line of text), so codes learn to look past one (default 0: never).")
    var viewCaptions: Float = 0

    @Flag(name: .customLong("standardise-input"), help: "Both stages' encoders bring each image to mean 0 and deviation 1 over all its values first, so codes ignore brightness and contrast changes (not in the paper; for photographs, whose copies are often re-toned; the model file needs this release's builds or later).")
    var standardizeInput = false

    @Flag(name: .customLong("robust-standardisation"), help: "With --standardise-input: each image's mean and deviation are taken with its values winsorised at their 5th and 95th percentiles, and results are clipped to ±3, so a few extreme values (black corners, a caption) neither shrink the rest of a flat photo nor stand out more in it (not in the paper; the model file needs this release's builds or later).")
    var robustStandardization = false

    @Flag(inversion: .prefixedNo, help: "With neighbour sampling, run the generator and discriminator (adversarial and content losses) on the anchors only, half of each batch: each image meets them once per epoch, at half their cost (default: the recipe's, on or off).")
    var generativeOnAnchors: Bool?

    @Flag(inversion: .prefixedNo, help: "Train only the encoder's code layer in the BGAN stage: the layers below keep the starting encoder's weights and batch-normalisation statistics (the pre-trained model's or --initial-encoder's) and run as at inference (default: the recipe's, on or off).")
    var codeLayerOnly: Bool?

    @Flag(inversion: .prefixedNo, help: "Start the BGAN stage's code layer from random weights (drawn from --seed) instead of the starting encoder's; the layers below still come from it, and may have been trained for another code length. Not with an anchor term (default: the recipe's, on or off).")
    var freshCodeLayer: Bool?

    @Flag(inversion: .prefixedNo, help: "Write a model that averages each image's outputs with its mirror image's, so a mirrored copy gets the original's code; encoding costs twice the network's work, training is unchanged (default: the recipe's, on in the recommended recipe, off in the paper's).")
    var mirrorAveraging: Bool?

    @Option(help: "Start the encoder from this model file's weights instead of random ones, or none (default: the pre-trained model in the recommended recipe, none in the paper's).")
    var initialEncoder: String?

    @OptionGroup var files: TrainingRunFileOptions

    func validate() throws {
        guard bits >= 16, bits <= 256, bits % 8 == 0 else { throw ValidationError("--bits must be a multiple of 8 from 16 to 256") }
        guard (epochs ?? 1) >= 1, (pretrainEpochs ?? 1) >= 1, batch >= 2 else {
            throw ValidationError("--epochs and --pretrain-epochs must be at least 1 and --batch at least 2")
        }
        _ = try stageOnePartners()
        if pretrained != nil || pretrainEpochs != nil || pretrainPartners != nil, recipe.pretrainingEpochs == nil {
            throw ValidationError("--pretrained and --pretrain-epochs belong to the recommended recipe; --recipe \(recipe.rawValue) does not pre-train")
        }
        guard (k1 ?? 1) >= 1, (k2 ?? 1) >= 1 else { throw ValidationError("--k1 and --k2 must be at least 1") }
        _ = try schedule()
        _ = try similarityTargets()
        _ = try neighborFeatureSpace()
        _ = try source.parsedGeometry()
        if let anchorWeight, !(anchorWeight >= 0 && anchorWeight.isFinite) {
            throw ValidationError("--anchor-weight takes 0 (none) or a positive weight, not \(anchorWeight)")
        }
        if let listwiseBits, listwiseBits < 0 { throw ValidationError("--listwise-bits takes 0 (none) or a number of bits, not \(listwiseBits)") }
        if (listwiseBits ?? recipe.listwise(bits: bits)?.bits ?? 0) == 0, listwiseWeight != nil || listwiseTemperature != nil || listwiseQuantizationWeight != nil {
            throw ValidationError("--listwise-weight, --listwise-temperature and --listwise-quantization-weight set the listwise term, which --listwise-bits turns on: give --listwise-bits too")
        }
        if initialEncoder == "none", let anchorWeight, anchorWeight > 0 {
            throw ValidationError("--anchor-weight holds codes near a starting encoder's; --initial-encoder none has none: give --anchor-weight 0 or a starting encoder")
        }
        if let anchorWeight, anchorWeight > 0, freshCodeLayer == nil, recipe.freshCodeLayer, initialEncoder != "none" {
            throw ValidationError("--anchor-weight holds codes near the starting encoder's, but the \(recipe.rawValue) recipe draws a fresh code layer: add --no-fresh-code-layer (the starting model must then have \(bits)-bit codes) or drop --anchor-weight")
        }
        let plan = try plan()
        if viewBrightness != nil, plan.views == nil {
            throw ValidationError("--view-brightness changes the BGAN stage's views, and this run's BGAN stage has none: drop it, or add --views")
        }
        if viewContrast != 0 || viewRotation != 0 || viewBlackCorners != 0 || viewCaptions != 0 || viewNoise != nil, plan.views == nil, plan.pretraining == nil || pretrained != nil {
            throw ValidationError("--view-contrast, --view-rotation, --view-noise, --view-black-corners and --view-captions change the training's views, and this run has none (no views in the BGAN stage, no pre-training of its own): drop them, or add --views")
        }
        do {
            try plan.validate()
        } catch let error as BGANError {
            throw ValidationError(error.message)
        }
    }

    /// `--similarity`, parsed.
    func similarityTargets() throws -> SimilarityTargets? {
        guard let similarity else { return nil }
        guard let targets = SimilarityTargets(similarity) else {
            throw ValidationError("--similarity takes \(SimilarityTargets.syntax), not '\(similarity)'")
        }
        return targets
    }

    func schedule() throws -> [Float]? {
        guard let betaSchedule else { return nil }
        let values = betaSchedule.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count == betaSchedule.split(separator: ",").count, values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--beta-schedule takes positive numbers separated by commas, e.g. 2,5,10,15,20")
        }
        return values
    }

    /// The recipe's plan with every option given on the command line applied.
    func plan() throws -> TrainingPlan {
        var plan = TrainingPlan(recipe: recipe, bits: bits)
        plan.filters = filters
        plan.hiddenUnits = hiddenUnits
        plan.featureUnits = featureUnits
        if plan.pretraining != nil {
            if let pretrainEpochs {
                plan.pretraining?.epochs = pretrainEpochs
                plan.pretraining?.imageBudget = nil
            }
            if pretrainPartners != nil { plan.pretraining?.partners = try stageOnePartners() }
            plan.pretraining?.model = pretrained
        }
        if let epochs {
            plan.epochs = epochs
            plan.minimumImages = nil
        }
        plan.batch = batch
        plan.learningRate = lr
        if let encoderLr { plan.encoderLearningRate = encoderLr }
        if let adamEpsilon { plan.adamEpsilon = adamEpsilon }
        plan.seed = seed
        if let space = try neighborFeatureSpace() { plan.neighborFeatures = space }
        if let targets = try similarityTargets() { plan.similarity = targets }
        if let k1 { plan.k1 = k1 }
        if let k2 { plan.k2 = k2 }
        if let sampling { plan.sampling = sampling }
        plan.augmentationShift = augmentShift
        if let schedule = try schedule() { plan.betaSchedule = schedule }
        plan.weights.neighborhood = neighborhoodWeight
        plan.weights.quantization = quantizationWeight
        plan.weights.content = contentWeight
        plan.weights.pixel = pixelWeight
        plan.weights.adversarial = adversarialWeight
        plan.weights.dissimilarTarget = dissimilarTarget
        plan.weights.dissimilarQuantile = dissimilarQuantile
        plan.weights.similarPairWeight = similarPairWeight
        if let anchorWeight { plan.weights.anchor = anchorWeight > 0 ? anchorWeight : nil }
        if let listwiseBits {
            // Another split keeps the recipe's other listwise settings.
            var term = plan.weights.listwise ?? ListwiseTerm(bits: listwiseBits)
            term.bits = listwiseBits
            plan.weights.listwise = listwiseBits > 0 ? term : nil
        }
        if let listwiseWeight { plan.weights.listwise?.weight = listwiseWeight }
        if let listwiseTemperature { plan.weights.listwise?.temperature = listwiseTemperature }
        if let listwiseQuantizationWeight { plan.weights.listwise?.quantizationWeight = listwiseQuantizationWeight }
        if let views { plan.views = views ? .nearDuplicate : nil }
        plan.pretraining?.augmentation.contrast = viewContrast
        plan.pretraining?.augmentation.rotation = viewRotation
        plan.views?.contrast = viewContrast
        plan.views?.rotation = viewRotation
        plan.pretraining?.augmentation.blackCorners = viewBlackCorners
        plan.views?.blackCorners = viewBlackCorners
        plan.pretraining?.augmentation.captions = viewCaptions
        plan.views?.captions = viewCaptions
        if let viewBrightness { plan.views?.brightness = viewBrightness }
        if let viewNoise {
            plan.pretraining?.augmentation.noise = viewNoise
            plan.views?.noise = viewNoise
        }
        if let generativeOnAnchors { plan.generativeOnAnchors = generativeOnAnchors }
        if let codeLayerOnly { plan.codeLayerOnly = codeLayerOnly }
        if let freshCodeLayer { plan.freshCodeLayer = freshCodeLayer }
        if let mirrorAveraging { plan.averagesMirrorImages = mirrorAveraging }
        plan.standardizesInput = standardizeInput
        plan.standardizesRobustly = robustStandardization
        switch initialEncoder {
        case nil: break
        case "none"?:
            plan.initialEncoder = .random
            // No starting encoder: no codes to anchor to, no layers to keep below a code layer.
            if anchorWeight == nil { plan.weights.anchor = nil }
            if codeLayerOnly == nil { plan.codeLayerOnly = false }
            if freshCodeLayer == nil { plan.freshCodeLayer = false }
        case let path?: plan.initialEncoder = .file(path)
        }
        return plan
    }

    func run() throws {
        try Console.reportingErrors {
            let data = try source.load()
            let checkpointPath = files.checkpointPath(out: out)
            try TrainingConsole.run(checkpointPath: checkpointPath, lossCurvePath: files.lossCurvePath(out: out), resumeHint: { stopped in
                stopped.stage == .pretrain ? "run the same command again to continue the pre-training"
                    : "continue with --resume \(stopped.checkpointPath)"
            }) { loop, onProgress in
                if let resume = try files.resumedPath() {
                    files.noteIgnoredOptions()
                    try TrainingPlan.resume(checkpointAt: resume, on: data, writingTo: out, loop: loop, onProgress: onProgress)
                } else {
                    let plan = try plan()
                    Console.log("recipe \(recipe.rawValue)\(recipe == .recommended ? " (pre-training, then BGAN on its layers with codes in two parts)" : " (the paper's configuration)"); options given override it")
                    try plan.train(on: data, writingTo: out, loop: loop, onProgress: onProgress)
                }
            }
        }
    }

    /// Where stage 1 finds neighbour partners: `--pretrain-partners`, or the recipe's.
    func stageOnePartners() throws -> FeatureSpace? {
        guard let pretrainPartners else { return recipe.pretrainingPartners }
        if pretrainPartners == "none" { return nil }
        guard let space = FeatureSpace(pretrainPartners) else {
            throw ValidationError("--pretrain-partners takes none or \(FeatureSpace.syntax), not '\(pretrainPartners)'")
        }
        return space
    }

    /// `--neighbours-from`, parsed.
    func neighborFeatureSpace() throws -> FeatureSpace? {
        guard let neighborsFrom else { return nil }
        guard let space = FeatureSpace(neighborsFrom) else {
            throw ValidationError("--neighbours-from takes \(FeatureSpace.syntax), not '\(neighborsFrom)'")
        }
        return space
    }
}

extension BatchSampling: ExpressibleByArgument {}
extension TrainingRecipe: ExpressibleByArgument {}
