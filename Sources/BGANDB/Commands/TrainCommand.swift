import ArgumentParser
import BGAN
import Foundation
import NeuralNet
import PixelIO

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a BGAN encoder on unlabelled images and write the model file.",
        discussion: """
        SOURCE is an IDX image file (MNIST / Fashion-MNIST, plain or .gz), a CIFAR-10 binary \
        batch (32×32 RGB; labels are ignored), or a folder of PNG / JPEG / PGM / PPM images \
        (recursively, in path order; --geometry sets the model's input). \
        `train --data SOURCE --bits L --out MODEL` alone runs the recommended recipe, the one \
        the bundled models were trained with: contrastive pre-training (its model is written \
        to OUT.pretrained.bganmodel, or --pretrained FILE is used instead), then BGAN with the \
        whole objective, started from the pre-trained encoder, targets from its features, \
        views of the images. --recipe paper is the paper's configuration. Options given \
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

    @Option(help: "recommended (pre-training, then BGAN with views and blended targets: the bundled models) or paper (the paper's configuration). Other options override it.")
    var recipe: TrainingRecipe = .recommended

    @Option(help: "Passes over the data (default: the recipe's, 3 or 10).")
    var epochs: Int?

    @Option(help: "A pre-training model (written by pretrain, same --bits) to use instead of pre-training in this run (recommended recipe).")
    var pretrained: String?

    @Option(help: "Epochs of the pre-training this run does (recommended recipe; default 10).")
    var pretrainEpochs: Int?

    @Option(name: .customLong("pretrain-partners"), help: "Feature space whose 5 nearest neighbours stand in for half of the pre-training's second views (pretrain --neighbour-partners), or none (default: the recipe's).")
    var pretrainPartners: String?

    @Option(help: "Images per step.")
    var batch: Int = 40

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "Adam's ε (the reference code: 1.0, which makes steps of small gradients tiny; the usual value is 1e-8).")
    var adamEpsilon: Float = 1

    @Option(help: "Seed of initialisation, shuffling and noise.")
    var seed: UInt64 = 2026

    @Option(help: "Filters of the first convolution (the second has twice as many).")
    var filters: Int = 32

    @Option(help: "Units of the encoder's hidden layer (most of the model file's size).")
    var hiddenUnits: Int = 512

    @Option(help: "Units of the discriminator's feature layer D_l.")
    var featureUnits: Int = 1024

    @Option(name: .customLong("neighbours-from"), help: "Feature space of the neighbourhood structure (default: the pre-trained model's outputs in the recommended recipe, pixels in the paper's): pixels, pca:DIMENSIONS, smoothed:DIMENSIONS:STEPS (principal components averaged STEPS times over each image's 10 nearest neighbours), model:FILE (a trained model's encoder outputs h, scaled to unit length) or hidden:FILE (its hidden layer, likewise); any of them followed by +pixels:WEIGHT joins each image's centred pixels at unit length times WEIGHT.")
    var neighborsFrom: String?

    @Option(help: "Targets of the neighbourhood loss (default: the recipe's, spectral:8+features:0.5 or neighbours): neighbours (S: +1 for similar pairs, the dissimilar target otherwise; the paper) spectral:DIMENSIONS (cosines of a spectral embedding of the 10-NN graph of the --neighbours-from features), or spectral:DIMENSIONS+features:WEIGHT (those cosines blended with the features' own, WEIGHT of the latter: clusters and fine similarity at once).")
    var similarity: String?

    @Option(help: "Nearest neighbours per image for S.")
    var k1: Int = 20

    @Option(help: "Voters per image for S.")
    var k2: Int = 30

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

    @Option(help: "Weight (relative to the neighbourhood loss) of an anchor term keeping each image's code near the code the starting encoder (--initial-encoder, or the pre-trained model) gives it; keeps codes distinct. Default: none (the paper).")
    var anchorWeight: Float?

    @Flag(inversion: .prefixedNo, help: "Train on random views of the images (crops keeping 70-100% of the area, flips, brightness ±20%, noise up to σ 0.04): codes learn to ignore the edits near-duplicates show (default: the recipe's, on or off).")
    var views: Bool?

    @Flag(inversion: .prefixedNo, help: "With neighbour sampling, run the generator and discriminator (adversarial and content losses) on the anchors only, half of each batch: each image meets them once per epoch, at half their cost (default: the recipe's, on or off).")
    var generativeOnAnchors: Bool?

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
        guard k1 >= 1, k2 >= 1 else { throw ValidationError("--k1 and --k2 must be at least 1") }
        _ = try schedule()
        _ = try similarityTargets()
        _ = try neighborFeatureSpace()
    }

    /// `--similarity`, or the recipe's.
    var similaritySpec: String { similarity ?? recipe.similarity }

    /// What `--similarity` asks for: nil for `neighbors`, else the spectral dimensions and the
    /// weight of the features' own cosines blended in (0 when not).
    func similarityTargets() throws -> (dimensions: Int, featureWeight: Float)? {
        let similarity = similaritySpec
        if similarity == "neighbours" { return nil }
        let parts = similarity.split(separator: "+")
        guard (1...2).contains(parts.count), parts[0].hasPrefix("spectral:"), let dimensions = Int(parts[0].dropFirst(9)),
              dimensions >= 1, dimensions <= 64 else {
            throw ValidationError("--similarity takes neighbours, spectral:DIMENSIONS (1 to 64) or spectral:DIMENSIONS+features:WEIGHT (0 to 1), not '\(similarity)'")
        }
        guard parts.count == 2 else { return (dimensions, 0) }
        guard parts[1].hasPrefix("features:"), let weight = Float(parts[1].dropFirst(9)), (0...1).contains(weight) else {
            throw ValidationError("--similarity takes spectral:DIMENSIONS+features:WEIGHT with a weight from 0 to 1, not '\(similarity)'")
        }
        return (dimensions, weight)
    }

    func schedule() throws -> [Float] {
        guard let betaSchedule else { return recipe.betaSchedule }
        let values = betaSchedule.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count == betaSchedule.split(separator: ",").count, values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--beta-schedule takes positive numbers separated by commas, e.g. 2,5,10,15,20")
        }
        return values
    }

    func run() throws {
        try Console.reportingErrors {
            let (set, count, preprocessing) = try source.load()
            let pixels = set.scaledPixels(0..<count)
            let checkpointPath = files.checkpointPath(out: out)
            let session: TrainingSession
            if let resume = files.resume, let bytes = try files.resumedBytes() {
                session = try TrainingSession(checkpoint: bytes, images: pixels, source: resume)
                Console.log("resuming \(resume) at epoch \(session.epoch + 1), step \(session.step + 1) of \(session.stepsPerEpoch)")
            } else {
                guard count >= batch else {
                    throw CommandFailure("\(count) images do not fill one batch of \(batch); lower --batch or raise --limit")
                }
                let architecture = BGANArchitecture(channels: set.channels, height: set.height, width: set.width, bits: bits, filters: filters,
                                                    hiddenUnits: hiddenUnits, featureUnits: featureUnits)
                Console.log("recipe \(recipe.rawValue)\(recipe == .recommended ? " (pre-training, then BGAN with views and blended targets)" : " (the paper's configuration)"); options given override it")
                // The recommended recipe's first stage, unless every use of it is overridden.
                let needsPretrained = recipe.pretrainingEpochs != nil && (neighborsFrom == nil || (initialEncoder == nil && recipe.startsFromPretrainedEncoder))
                let pretrainedPath = needsPretrained ? try pretrainedModel(pixels: pixels, set: set, preprocessing: preprocessing) : nil
                let featureSpace = try neighborFeatureSpace() ?? pretrainedPath.map { .modelOutputs(path: $0) } ?? .pixels
                let startPath = initialEncoder == "none" ? nil : initialEncoder ?? (recipe.startsFromPretrainedEncoder ? pretrainedPath : nil)
                let start = try startPath.map { try Self.initialModel(at: $0, for: architecture) }
                let (features, dimension) = try featureSpace.features(of: pixels, channels: set.channels, height: set.height, width: set.width)
                // One search serves both S (K1 lists) and the spectral graph (their first 10).
                let started = Date()
                Console.log("building the neighbourhood structure of \(count) images from \(featureSpace) (\(dimension) dimensions, K1 = \(k1), K2 = \(k2))…")
                let wanted = try similarityTargets() == nil ? k1 : max(k1, FeatureSpace.smoothingNeighbors)
                let lists = NearestNeighborLists(features: features, dimension: dimension, k: wanted)
                let structure = NeighborhoodStructure(neighbors: lists.prefix(k1), k2: k2)
                Console.log(String(format: "structure built in %.1fs: %.0f similar images per image", Date().timeIntervalSince(started), structure.averageSimilar))
                let targets = try similarityEmbedding(graph: lists.prefix(FeatureSpace.smoothingNeighbors), features: features, dimension: dimension)
                var weights = LossWeights()
                weights.neighborhood = neighborhoodWeight
                weights.quantization = quantizationWeight
                weights.content = contentWeight
                weights.pixel = pixelWeight
                weights.adversarial = adversarialWeight
                weights.dissimilarTarget = dissimilarTarget
                weights.dissimilarQuantile = dissimilarQuantile
                weights.similarPairWeight = similarPairWeight
                weights.anchor = anchorWeight
                var settings = TrainingSettings(architecture: architecture, epochs: epochs ?? recipe.epochs, batch: batch, learningRate: lr,
                                                epsilon: adamEpsilon, seed: seed, weights: weights, betaSchedule: try schedule(),
                                                sampling: sampling ?? recipe.sampling)
                settings.augmentationShift = augmentShift
                settings.views = (views ?? (recipe.views != nil)) ? .nearDuplicate : nil
                if generativeOnAnchors ?? recipe.generativeOnAnchors { settings.generativeOnAnchors = true }
                settings.notes = ["data": source.data, "recipe": recipe.rawValue, "neighbours_from": featureSpace.description, "k1": "\(k1)", "k2": "\(k2)",
                                  "similarity": similaritySpec]
                if let pretrainedPath {
                    // The whole recipe travels with the model: stage 1's settings too.
                    let stageOne = try Self.model(at: pretrainedPath)
                    settings.notes["pretrained"] = stageOne.digest
                    for (key, value) in stageOne.header.training { settings.notes["pretraining." + key] = value }
                }
                if let start { settings.notes["initial_encoder"] = start.digest }
                var anchors: [Float]?
                if anchorWeight != nil {
                    guard let startPath else { throw CommandFailure("--anchor-weight needs a starting encoder: --initial-encoder FILE, or the recommended recipe's pre-training") }
                    let startSpace = FeatureSpace.modelOutputs(path: startPath)
                    let outputs = startSpace == featureSpace ? features
                        : try startSpace.features(of: pixels, channels: set.channels, height: set.height, width: set.width).values
                    anchors = TrainingSession.anchorCodes(outputs: outputs)
                    settings.notes["anchor_codes"] = "signs of \(startPath)'s outputs"
                }
                session = try TrainingSession(settings: settings, images: pixels, structure: structure, similarity: targets, anchorCodes: anchors)
                if let start { session.networks.encoderParameters.values = try start.networks().encoderParameters.values }
            }
            try train(session, checkpointPath: checkpointPath)
            let model = session.model(preprocessing: preprocessing)
            try Data(model.encoded()).write(to: URL(fileURLWithPath: out))
            try writeLossCurve(session)
            Console.log("wrote \(out) (digest \(model.digest))")
        }
    }

    /// Runs the session to its end, with progress, a checkpoint per epoch, and a checkpoint and
    /// exit status 130 on Ctrl-C.
    private func train(_ session: TrainingSession, checkpointPath: String) throws {
        let interrupt = InterruptFlag()
        defer { interrupt.restore() }
        let imagesPerStep = session.settings.batch
        var progress = ProgressReporter(label: "train", total: session.totalSteps * imagesPerStep, startingAt: session.stepsTaken * imagesPerStep)
        let started = Date()
        var recent = StepLosses(), recentSteps = 0
        while !session.isFinished {
            if interrupt.isSet {
                try saveCheckpoint(session, to: checkpointPath)
                try writeLossCurve(session)
                Console.log("interrupted: checkpoint \(checkpointPath) written; continue with --resume \(checkpointPath)")
                throw ExitCode(130)
            }
            let epochBefore = session.epoch
            recent.add(try session.runStep())
            recentSteps += 1
            let mean = recent.scaled(1 / Float(recentSteps))
            let detail = String(format: "epoch %d/%d step %d/%d β %.0f nbr %.4f quant %.4f content %.4f adv %.3f disc %.3f",
                                min(session.epoch + 1, session.settings.epochs), session.settings.epochs, session.step, session.stepsPerEpoch,
                                session.networks.smoothedSign.beta, mean.neighborhood, mean.quantization, mean.content,
                                mean.generatorAdversarial, mean.discriminator)
            progress.update(session.stepsTaken * imagesPerStep, detail: detail)
            if recentSteps == 50 { recent = StepLosses(); recentSteps = 0 }
            if session.epoch != epochBefore {
                try saveCheckpoint(session, to: checkpointPath)
                try writeLossCurve(session)
                let last = session.history.last?.losses ?? StepLosses()
                Console.log(String(format: "epoch %d/%d done after %.0fs: ", session.epoch, session.settings.epochs, Date().timeIntervalSince(started))
                            + last.named.map { String(format: "%@ %.4f", $0.name, $0.value) }.joined(separator: ", ") + "; checkpoint \(checkpointPath)")
            }
        }
        progress.update(session.stepsTaken * imagesPerStep, force: true)
    }

    private func saveCheckpoint(_ session: TrainingSession, to path: String) throws {
        try Data(try session.checkpoint()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private func writeLossCurve(_ session: TrainingSession) throws {
        let path = files.lossCurvePath(out: out)
        let names = StepLosses().named.map(\.name)
        let series = names.enumerated().compactMap { index, name -> (name: String, points: [(x: Double, y: Double)])? in
            let points = session.history.map { (x: $0.epoch, y: Double($0.losses.named[index].value)) }
            return points.contains { $0.y != 0 } ? (name, points) : nil
        }
        try LineChart(xLabel: "epoch", yLabel: "mean loss", series: series).svg().write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The model `--initial-encoder` names, checked to have this run's encoder.
    private static func initialModel(at path: String, for architecture: BGANArchitecture) throws -> ModelFile {
        let model = try model(at: path)
        let a = model.header.architecture
        guard a.channels == architecture.channels, a.height == architecture.height, a.width == architecture.width, a.bits == architecture.bits,
              a.filters == architecture.filters, a.hiddenUnits == architecture.hiddenUnits else {
            throw CommandFailure("\(path) has another architecture than this run (\(a.channels)×\(a.height)×\(a.width), \(a.bits) bits, \(a.filters) filters, \(a.hiddenUnits) hidden units): give the same --bits, --filters and --hidden-units")
        }
        return model
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

    private static func model(at path: String) throws -> ModelFile {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read the model file \(path)") }
        return try ModelFile(bytes: Array(bytes), source: path)
    }

    /// The cosine targets `--similarity` asks for, if any.
    private func similarityEmbedding(graph: NearestNeighborLists, features: [Float], dimension: Int) throws -> SimilarityEmbedding? {
        guard let (dimensions, featureWeight) = try similarityTargets() else { return nil }
        let started = Date()
        let embedding = try SimilarityEmbedding(values: try SpectralEmbedding.embed(graph, dimensions: dimensions, seed: seed), dimension: dimensions)
        Console.log(String(format: "spectral embedding of %d dimensions computed in %.1fs", dimensions, Date().timeIntervalSince(started)))
        guard featureWeight > 0 else { return embedding }
        return try SimilarityEmbedding.blend(embedding, try .cosines(of: features, dimension: dimension), weightOfSecond: featureWeight)
    }

    /// The recommended recipe's pre-trained model: --pretrained, or OUT.pretrained.bganmodel
    /// when an earlier run left it, else trained now (continuing its checkpoint if a run was
    /// stopped there) and written to that path.
    private func pretrainedModel(pixels: [Float], set: ImageSet, preprocessing: Preprocessing) throws -> String {
        if let pretrained {
            Console.log("using the pre-trained model \(pretrained)")
            return pretrained
        }
        let path = out + ".pretrained.bganmodel"
        if FileManager.default.fileExists(atPath: path) {
            let model = try Self.model(at: path)
            let wantedPartners = try stageOnePartners().map { ContrastiveSettings.NeighborPartners(featureSpace: $0).note }
            guard model.header.training["neighbour_partners"] == wantedPartners else {
                throw CommandFailure("\(path) is left from a pre-training with other neighbour partners (\(model.header.training["neighbour_partners"] ?? "none")); remove it, or name it with --pretrained")
            }
            guard model.header.architecture.bits == bits, model.header.training["data"] == source.data else {
                throw CommandFailure("\(path) is left from a run on other data or another code length (\(model.header.architecture.bits) bits, data \(model.header.training["data"] ?? "?")); remove it, or name it with --pretrained")
            }
            Console.log("reusing the pre-trained model \(path) (digest \(model.digest.prefix(16))…) left by an earlier run; remove it to pre-train again")
            return path
        }
        let checkpointPath = path + ".checkpoint"
        let session: ContrastiveSession
        if let bytes = FileManager.default.contents(atPath: checkpointPath) {
            session = try ContrastiveSession(checkpoint: Array(bytes), images: pixels, source: checkpointPath)
            Console.log("continuing the pre-training saved in \(checkpointPath) at epoch \(session.epoch + 1)")
        } else {
            let architecture = BGANArchitecture(channels: set.channels, height: set.height, width: set.width, bits: bits, filters: filters,
                                                hiddenUnits: hiddenUnits)
            let epochs = pretrainEpochs ?? recipe.pretrainingEpochs ?? 10
            Console.log("stage 1 of 2: contrastive pre-training, \(epochs) epochs (pretrain's defaults), into \(path)")
            let count = pixels.count / set.valuesPerImage
            var settings = ContrastiveSettings(architecture: architecture, epochs: epochs, batch: min(128, count), seed: seed)
            if let partnerSpace = try stageOnePartners() {
                settings.neighborPartners = .init(featureSpace: partnerSpace)
                Console.log("pre-training partners: half of the second views show one of the 5 nearest neighbours in \(partnerSpace)")
            }
            session = try ContrastiveSession(settings: settings, images: pixels, partners: try ContrastiveSession.partnerLists(for: settings, images: pixels))
        }
        try PretrainCommand.train(session, checkpointPath: checkpointPath, lossCurvePath: path + ".losses.svg")
        let model = session.model(preprocessing: preprocessing, notes: ["data": source.data])
        try Data(model.encoded()).write(to: URL(fileURLWithPath: path), options: .atomic)
        try? FileManager.default.removeItem(atPath: checkpointPath)
        Console.log("wrote the pre-trained model \(path) (digest \(model.digest.prefix(16))…); stage 2 of 2: BGAN")
        return path
    }

}

extension BatchSampling: ExpressibleByArgument {}
extension TrainingRecipe: ExpressibleByArgument {}
