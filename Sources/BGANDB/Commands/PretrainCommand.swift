import ArgumentParser
import BGAN
import Foundation

struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pre-train a BGAN encoder without labels by contrasting random views of images; write it as a model file.",
        discussion: """
        Each step takes --batch images, makes two random views of each (a crop of random area \
        and aspect ratio resized back, a left-right flip, a brightness change, noise) and trains the \
        encoder's real-valued outputs to pick out each view's partner among all views of the \
        step (SimCLR's contrastive loss at temperature --temperature). The model file this \
        writes encodes like any other, and is meant as the feature space of `train \
        --neighbours-from model:FILE` (with --similarity spectral:DIMENSIONS) and as its \
        --initial-encoder. SOURCE is read as by train. A checkpoint is written after every \
        epoch and on Ctrl-C (exit status 130); --resume CHECKPOINT continues exactly. The loss \
        curve is written as SVG.
        """)

    @OptionGroup var source: TrainingSourceOptions

    @Option(help: "Code length in bits (a multiple of 8, 16 to 256): the width of the outputs being contrasted.")
    var bits: Int = 64

    @Option(help: "Where to write the model file.")
    var out: String

    @Option(help: "Passes over the data.")
    var epochs: Int = 10

    @Option(help: "Images per step (each gives two views; every other view in the step is a negative).")
    var batch: Int = 128

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "Temperature τ of the contrastive loss.")
    var temperature: Float = 0.3

    @Option(help: "Smallest fraction of an image's area a view keeps (1: no cropping).")
    var minimumArea: Float = 0.35

    @Option(help: "Largest aspect ratio of a crop (1: square crops).")
    var maximumAspect: Float = 4.0 / 3.0

    @Option(help: "Brightness change: views scale pixel values by a factor in [1 − this, 1 + this].")
    var brightness: Float = 0.4

    @Option(help: "Noise: each view gets Gaussian noise of a standard deviation drawn from [0, this] (values in [0, 1]).")
    var noise: Float = ViewAugmentation().noise

    @Option(help: "Contrast change: views scale each value's distance from the view's mean by a factor in [1 − this, 1 + this] (0: none).")
    var contrast: Float = 0

    @Option(help: "Rotation: each view's crop turns about its centre by an angle drawn from [−this, this] degrees (0: none).")
    var rotation: Float = 0

    @Option(name: .customLong("black-corners"), help: "Probability that a turned view's corners are black, as an editor leaves a photograph turned in place, instead of the nearest edge's pixels (0: never; needs --rotation).")
    var blackCorners: Float = 0

    @Option(help: "Probability that a view gets a synthetic caption over its lower part (white glyph strokes outlined in black; 0: never).")
    var captions: Float = 0

    @Flag(name: .customLong("standardise-input"), help: "The encoder brings each image to mean 0 and deviation 1 over all its values first (train --standardise-input must then match).")
    var standardizeInput = false

    @Flag(name: .customLong("robust-standardisation"), help: "With --standardise-input: standardise by the mean and deviation of the values winsorised at their 5th and 95th percentiles, clipped to ±3 (train --robust-standardisation must then match).")
    var robustStandardization = false

    @Flag(help: "Do not flip views left-right (for images whose orientation matters).")
    var noFlips = false

    @Option(name: .customLong("neighbour-partners"), help: "Feature space (as train's --neighbours-from) whose nearest neighbours stand in for a share of the second views (NNCLR-style positives); none by default.")
    var neighborPartners: String?

    @Option(name: .customLong("neighbour-partner-share"), help: "Fraction of second views that show a neighbour when --neighbour-partners is given.")
    var neighborPartnerShare: Float = 0.5

    @Option(name: .customLong("neighbour-partner-count"), help: "A partner is drawn from this many nearest neighbours.")
    var neighborPartnerCount: Int = 5

    @Option(help: "Seed of initialisation, shuffling and views.")
    var seed: UInt64 = 2026

    @Option(help: "Filters of the first convolution (the second has twice as many); must match the later train run.")
    var filters: Int = 32

    @Option(help: "Units of the encoder's hidden layer; must match the later train run.")
    var hiddenUnits: Int = 512

    @OptionGroup var files: TrainingRunFileOptions

    func validate() throws {
        guard bits >= 16, bits <= 256, bits % 8 == 0 else { throw ValidationError("--bits must be a multiple of 8 from 16 to 256") }
        guard epochs >= 1, batch >= 2 else { throw ValidationError("--epochs must be at least 1 and --batch at least 2") }
        if let neighborPartners, FeatureSpace(neighborPartners) == nil {
            throw ValidationError("--neighbour-partners takes \(FeatureSpace.syntax), not '\(neighborPartners)'")
        }
        guard neighborPartnerShare >= 0, neighborPartnerShare <= 1, neighborPartnerCount >= 1 else {
            throw ValidationError("--neighbour-partner-share must be from 0 to 1 and --neighbour-partner-count at least 1")
        }
    }

    func run() throws {
        try Console.reportingErrors {
            let data = try source.load()
            let checkpointPath = files.checkpointPath(out: out)
            try TrainingConsole.run(checkpointPath: checkpointPath, lossCurvePath: files.lossCurvePath(out: out),
                                    resumeHint: { "continue with --resume \($0.checkpointPath)" }) { loop, onProgress in
                if let resume = files.resume, let bytes = try files.resumedBytes() {
                    files.noteIgnoredOptions()
                    try ContrastiveSession.resume(checkpoint: bytes, source: resume, on: data, writingTo: out, loop: loop, onProgress: onProgress)
                } else {
                    try ContrastiveSession.train(try settings(for: data), on: data, writingTo: out, loop: loop, onProgress: onProgress)
                }
            }
        }
    }

    /// The pre-training the options describe, on `data`'s geometry.
    private func settings(for data: TrainingData) throws -> ContrastiveSettings {
        var stage = TrainingPlan.Pretraining(epochs: epochs, partners: neighborPartners.flatMap(FeatureSpace.init))
        stage.partnerCount = neighborPartnerCount
        stage.partnerShare = neighborPartnerShare
        stage.batch = batch
        stage.learningRate = lr
        stage.temperature = temperature
        stage.augmentation.minimumArea = minimumArea
        stage.augmentation.maximumAspect = maximumAspect
        stage.augmentation.brightness = brightness
        stage.augmentation.noise = noise
        stage.augmentation.flips = !noFlips
        stage.augmentation.contrast = contrast
        stage.augmentation.rotation = rotation
        stage.augmentation.blackCorners = blackCorners
        stage.augmentation.captions = captions
        let architecture = BGANArchitecture(channels: data.channels, height: data.height, width: data.width, bits: bits, filters: filters,
                                            hiddenUnits: hiddenUnits, standardizesInput: standardizeInput, standardizesRobustly: robustStandardization)
        return stage.settings(architecture: architecture, seed: seed)
    }
}
