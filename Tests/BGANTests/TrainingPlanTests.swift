import Basics
import BGAN
import Foundation
import NeuralNet
import PixelIO
import TestSupport
import Testing

/// The run a `bgan-db train` wraps, called as a library: a plan from a recipe, the loop's
/// checkpoints, stops and resumption, and the plans that cannot run.
@Suite struct TrainingPlanTests {
    /// 48 images 12×12 of three kinds (a bright top, middle or bottom band) with noise.
    func data() -> TrainingData {
        var rng = SeededGenerator(seed: 5)
        var bytes: [UInt8] = []
        for i in 0..<48 {
            for y in 0..<12 {
                for _ in 0..<12 { bytes.append(UInt8(min(255, max(0, (y / 4 == i % 3 ? 210 : 40) + 20 * rng.normal())))) }
            }
        }
        return TrainingData(images: ImageSet(count: 48, channels: 1, height: 12, width: 12, pixels: bytes), name: "bands")
    }

    /// The recommended recipe, shrunk to seconds.
    func smallPlan() -> TrainingPlan {
        var plan = TrainingPlan(recipe: .recommended, bits: 16)
        plan.filters = 4
        plan.hiddenUnits = 16
        plan.featureUnits = 16
        plan.pretraining?.epochs = 1
        plan.epochs = 2
        plan.minimumImages = nil
        plan.batch = 8
        plan.k1 = 5
        plan.k2 = 3
        return plan
    }

    @Test func theRecommendedPlanTrainsBothStagesAndRecordsThem() throws {
        let directory = TemporaryDirectory("plan")
        let out = directory.sub("model.bgan")
        var stages: [TrainingStage] = [], epochEnds = 0
        let model = try smallPlan().train(on: data(), writingTo: out, loop: TrainingLoop(checkpointPath: out + ".checkpoint", lossCurvePath: out + ".svg")) {
            if stages.last != $0.stage { stages.append($0.stage) }
            if $0.endedEpoch { epochEnds += 1 }
        }
        #expect(stages == [.pretrain, .train])
        #expect(epochEnds == 3, "one pre-training epoch and two BGAN epochs")
        let written = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        #expect(written.digest == model.digest)
        let stageOne = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: out + ".pretrained.bganmodel"))))
        let notes = model.header.training
        #expect(notes["recipe"] == "recommended" && notes["pretrained"] == stageOne.digest && notes["initial_encoder"] == stageOne.digest)
        #expect(notes["similarity"] == "spectral:8+features:0.5" && notes["data"] == "bands" && notes["pretraining.data"] == "bands")
        #expect(notes["pretraining.neighbour_partners"]?.hasSuffix("in pixels") == true && notes["pretraining.views"]?.hasSuffix("noise σ ≤ 0.04") == true,
                "the recipe's stage 1: \(notes)")
        // Stage 1 projects to 64 bits whatever the code length; the BGAN stage draws a 16-bit
        // code layer on its layers, keeps them, and finds neighbours in its hidden layer.
        #expect(stageOne.header.architecture.bits == 64 && model.header.architecture.bits == 16)
        #expect(notes["neighbours_from"] == "hidden:" + stageOne.digest && notes["k1"] == "5" && notes["adam_epsilon"] == "1e-08", "\(notes)")
        #expect(notes["learning_rate"] == "0.001" && notes["encoder_learning_rate"] == nil, "one rate for the three networks: \(notes)")
        // The recipe's model averages mirror images; its stage 1, a feature space, does not.
        #expect(model.header.averagesMirrorImages && !stageOne.header.averagesMirrorImages && notes["mirror_averaging_in_training"] != nil, "\(notes)")
        #expect(TrainingPlan(recipe: .paper, bits: 16).averagesMirrorImages == false, "the paper's encoder has no such step")
        #expect(notes["code_layer"]?.contains("afresh") == true && notes["trained_encoder_layers"]?.contains("code layer only") == true, "\(notes)")
        #expect(notes["weights"]?.hasSuffix("listwise 1.0 on the first 10 bits at temperature 0.2, quantisation 0.0 on those bits") == true
                && notes["weights"]?.contains("anchor") == false && notes["code_bit_order"] != nil, "codes in two parts, no anchor: \(notes)")
        let stageOneEncoder = try stageOne.networks().encoderParameters, encoder = try model.networks().encoderParameters
        for entry in encoder.entries where !entry.name.hasPrefix(BGANNetworks.encoderCodeLayer) {
            let source = try #require(stageOneEncoder.entry(entry.name))
            #expect(encoder.values[entry.offset..<(entry.offset + entry.count)] == stageOneEncoder.values[source.offset..<(source.offset + source.count)],
                    "\(entry.name) is stage 1's")
        }
        let curves = try String(contentsOfFile: out + ".svg", encoding: .utf8)
        #expect(curves.hasPrefix("<svg") && curves.contains("neighbourhood") && curves.contains("adversarial"), "the loss curves name their losses")
        #expect(!FileManager.default.fileExists(atPath: out + ".pretrained.bganmodel.checkpoint"), "stage 1's checkpoint is gone once its model is written")
    }

    /// Every setting `bgan-db pretrain` has can be set on a plan's stage 1, and the stage-1
    /// model records what it ran with.
    @Test func aPlansPretrainingTakesEveryContrastiveSetting() throws {
        let directory = TemporaryDirectory("plan-pretraining")
        let out = directory.sub("model.bgan")
        var plan = smallPlan()
        plan.epochs = 1
        plan.pretraining?.batch = 12
        plan.pretraining?.learningRate = 5e-4
        plan.pretraining?.temperature = 0.5
        plan.pretraining?.partnerCount = 3
        plan.pretraining?.partnerShare = 0.25
        plan.pretraining?.augmentation.minimumArea = 0.6
        plan.pretraining?.augmentation.flips = false
        plan.pretraining?.augmentation.noise = 0
        _ = try plan.train(on: data(), writingTo: out, loop: TrainingLoop(checkpointPath: out + ".checkpoint"))
        let stageOne = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: out + ".pretrained.bganmodel")))).header.training
        #expect(stageOne["batch"] == "12" && stageOne["learning_rate"] == "0.0005" && stageOne["temperature"] == "0.5", "\(stageOne)")
        #expect(stageOne["neighbour_partners"] == "0.25 of second views show one of the 3 nearest neighbours in pixels", "\(stageOne)")
        #expect(stageOne["views"]?.contains("crop area ≥ 0.6") == true && stageOne["views"]?.contains("flips false") == true
                && stageOne["views"]?.hasSuffix("noise σ ≤ 0.0") == true, "\(stageOne)")
        let settings = try #require(plan.pretraining).settings(architecture: BGANArchitecture(channels: 1, height: 12, width: 12, bits: 16), seed: 7)
        #expect(settings.batch == 12 && settings.seed == 7 && settings.neighborPartners?.count == 3 && !settings.augmentation.flips)
    }

    /// A loop asked to stop saves and throws; resuming the checkpoint gives the model an
    /// uninterrupted run gives, bit for bit.
    @Test func aStoppedRunResumesToTheSameModel() throws {
        let directory = TemporaryDirectory("plan-stop")
        var plan = smallPlan()
        plan.pretraining = nil
        plan.neighborFeatures = .pixels
        plan.initialEncoder = .random
        plan.codeLayerOnly = false
        plan.freshCodeLayer = false
        plan.encoderLearningRateScale = 0.5
        let whole = try plan.train(on: data(), writingTo: directory.sub("whole.bgan"), loop: TrainingLoop(checkpointPath: directory.sub("whole.checkpoint")))
        #expect(whole.header.training["encoder_learning_rate"] == "0.0005", "the plan's share of the rate reaches the run: \(whole.header.training)")

        let out = directory.sub("stopped.bgan"), checkpoint = directory.sub("stopped.checkpoint")
        let steps = LockedCounter()
        let stopping = TrainingLoop(checkpointPath: checkpoint) { steps.value >= 5 }
        #expect(throws: TrainingStopped(stage: .train, checkpointPath: checkpoint)) {
            try plan.train(on: data(), writingTo: out, loop: stopping) { _ in steps.increment() }
        }
        #expect(steps.value == 5 && !FileManager.default.fileExists(atPath: out), "stopped after five steps, before any model")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: checkpoint)))
        let resumed = try TrainingPlan.resume(checkpoint: bytes, source: checkpoint, on: data(), writingTo: out, loop: TrainingLoop(checkpointPath: checkpoint))
        #expect(resumed.digest == whole.digest)
    }

    /// A stop inside pre-training leaves its checkpoint; the same plan run again continues it
    /// and ends with the model an uninterrupted run writes.
    @Test func aStopInPretrainingContinuesWhenThePlanRunsAgain() throws {
        let directory = TemporaryDirectory("plan-stage-one")
        var plan = smallPlan()
        plan.pretraining?.epochs = 3  // one step each: 48 images fill one pre-training batch
        let whole = try plan.train(on: data(), writingTo: directory.sub("whole.bgan"), loop: TrainingLoop(checkpointPath: directory.sub("whole.checkpoint")))
        let out = directory.sub("stopped.bgan")
        let steps = LockedCounter()
        let stopping = TrainingLoop(checkpointPath: out + ".checkpoint") { steps.value >= 2 }
        #expect(throws: TrainingStopped(stage: .pretrain, checkpointPath: out + ".pretrained.bganmodel.checkpoint")) {
            try plan.train(on: data(), writingTo: out, loop: stopping) { _ in steps.increment() }
        }
        let finished = try plan.train(on: data(), writingTo: out, loop: TrainingLoop(checkpointPath: out + ".checkpoint"))
        #expect(finished.header.training["pretrained"] == whole.header.training["pretrained"], "the continued stage 1 equals the uninterrupted one")
        #expect(finished.parameters == whole.parameters, "the notes name stage 1 by path, the weights are the same")
    }

    /// A stage 1 left by a run with other views, as a model file or as a checkpoint, is refused
    /// rather than reused: the recipe's views changed once (noise σ 0 → 0.04).
    @Test func aStageOneOfOtherViewsIsNotReusedOrContinued() throws {
        let directory = TemporaryDirectory("plan-stage-one-views")
        var plan = smallPlan()
        plan.pretraining?.epochs = 3
        var noiseless = plan
        noiseless.pretraining?.augmentation.noise = 0
        let out = directory.sub("model.bgan")
        _ = try noiseless.train(on: data(), writingTo: out, loop: TrainingLoop(checkpointPath: out + ".checkpoint"))
        let reused = #expect(throws: BGANError.self) { try plan.train(on: data(), writingTo: out, loop: TrainingLoop(checkpointPath: out + ".checkpoint")) }
        #expect(reused?.message.contains("other views") == true && reused?.message.contains("noise σ ≤ 0.0;") == true, "\(reused?.message ?? "")")

        let stopped = directory.sub("stopped.bgan")
        let steps = LockedCounter()
        #expect(throws: TrainingStopped.self) {
            try noiseless.train(on: data(), writingTo: stopped, loop: TrainingLoop(checkpointPath: stopped + ".checkpoint") { steps.value >= 2 }) { _ in steps.increment() }
        }
        let continued = #expect(throws: BGANError.self) { try plan.train(on: data(), writingTo: stopped, loop: TrainingLoop(checkpointPath: stopped + ".checkpoint")) }
        #expect(continued?.message.contains("other settings than this run's stage 1") == true, "\(continued?.message ?? "")")
        #expect(FileManager.default.fileExists(atPath: stopped + ".pretrained.bganmodel.checkpoint"), "the refused checkpoint is left as it was")
    }

    @Test func plansThatCannotRunAreRefusedBeforeAnyWork() throws {
        var anchoredFromNothing = TrainingPlan(recipe: .paper, bits: 16)
        anchoredFromNothing.weights.anchor = 1
        var noFeatures = TrainingPlan(recipe: .recommended, bits: 16)
        noFeatures.pretraining = nil
        var oddBits = TrainingPlan(recipe: .paper, bits: 20)
        oddBits.epochs = 1
        var noBeta = TrainingPlan(recipe: .paper, bits: 16)
        noBeta.betaSchedule = []
        // Stage 1's 64-bit code layer cannot start a 32-bit BGAN stage; only a fresh one can.
        var keptCodeLayer = TrainingPlan(recipe: .recommended, bits: 32)
        keptCodeLayer.freshCodeLayer = false
        var oddStageOne = TrainingPlan(recipe: .recommended, bits: 32)
        oddStageOne.pretraining?.bits = 12
        for (plan, words) in [(anchoredFromNothing, "anchor weight needs a starting encoder"), (noFeatures, "needs features"),
                              (oddBits, "multiple of 8"), (noBeta, "β schedule"), (keptCodeLayer, "draw a fresh code layer"),
                              (oddStageOne, "stage 1 with 12-bit outputs")] {
            #expect(throws: BGANError.self) { try plan.validate() }
            do { try plan.validate() } catch { #expect("\(error)".contains(words), "\(error)") }
        }
        #expect(throws: Never.self) { try TrainingPlan(recipe: .recommended, bits: 64).validate() }
        #expect(throws: Never.self) { try TrainingPlan(recipe: .paper, bits: 32).validate() }
    }

    /// The recommended recipe halves the encoder's rate for codes of 64 bits and more, as a share
    /// of the learning rate so that a changed rate keeps the ratio; a given rate wins; the paper
    /// and shorter codes keep one rate.
    @Test func theEncoderRateIsTheRecipesShareOfTheLearningRate() throws {
        #expect(TrainingPlan(recipe: .recommended, bits: 64).effectiveEncoderLearningRate == 5e-4)
        #expect(TrainingPlan(recipe: .recommended, bits: 128).effectiveEncoderLearningRate == 5e-4)
        for bits in [16, 32, 48] { #expect(TrainingPlan(recipe: .recommended, bits: bits).effectiveEncoderLearningRate == nil, "\(bits) bits") }
        #expect(TrainingPlan(recipe: .paper, bits: 64).effectiveEncoderLearningRate == nil)
        var faster = TrainingPlan(recipe: .recommended, bits: 64)
        faster.learningRate = 2e-3
        #expect(faster.effectiveEncoderLearningRate == 1e-3)
        faster.encoderLearningRate = 3e-3
        #expect(faster.effectiveEncoderLearningRate == 3e-3)
        var unscaled = TrainingPlan(recipe: .recommended, bits: 64)
        for scale: Float in [0, -1, .nan, .infinity, .leastNonzeroMagnitude] {
            unscaled.encoderLearningRateScale = scale
            let refusal = #expect(throws: BGANError.self) { try unscaled.validate() }
            #expect(refusal?.message.contains("encoder learning rate scale") == true, "\(scale)")
        }
    }

    /// Codes of 64 bits and more take the listwise term at temperature 0.1, shorter ones at 0.2;
    /// the split between the two kinds of bits stays 5/8, and the paper has no listwise term.
    @Test func theListwiseTemperatureIsTheRecipesForTheCodeLength() throws {
        for (bits, temperature) in [(16, Float(0.2)), (32, 0.2), (48, 0.2), (64, 0.1), (128, 0.1)] {
            let listwise = try #require(TrainingPlan(recipe: .recommended, bits: bits).weights.listwise)
            #expect(listwise.temperature == temperature && listwise.bits == bits * 5 / 8 && listwise.quantizationWeight == 0, "\(bits) bits")
        }
        #expect(TrainingPlan(recipe: .paper, bits: 64).weights.listwise == nil)
    }

    /// The recommended stage 1 is 100 epochs of Fashion-MNIST's 60,000 images, and no more
    /// than those 6 million views on larger sets; a plan without the budget runs its epochs.
    @Test func theRecommendedStageOneIsBoundedByItsImageBudget() throws {
        let stage = try #require(TrainingPlan(recipe: .recommended, bits: 32).pretraining)
        #expect(stage.epochs(for: 50_000) == 100 && stage.epochs(for: 60_000) == 100)
        #expect(stage.epochs(for: 600_000) == 10 && stage.epochs(for: 1_000_000) == 6 && stage.epochs(for: 20_000_000) == 1)
        var unbounded = stage
        unbounded.imageBudget = nil
        #expect(unbounded.epochs(for: 1_000_000) == 100)
        #expect(stage.bits == 64 && stage.augmentation.noise == 0.04 && stage.partners == .pixels)
    }

    /// The recommended BGAN stage sees about the 180,000 images its 3 epochs are on
    /// Fashion-MNIST: a small set gets as many whole epochs as fit in them, a large one (and the
    /// 50,000 images of the validation protocol) its 3; the paper and a plan without the minimum
    /// run their epochs whatever the size.
    @Test func theRecommendedBGANStageSeesAtLeastItsMinimumOfImages() {
        let plan = TrainingPlan(recipe: .recommended, bits: 64)
        #expect(plan.epochs(for: 60_000) == 6 && plan.epochs(for: 50_000) == 6 && plan.epochs(for: 25_000) == 7 && plan.epochs(for: 1_000_000) == 6)
        #expect(plan.epochs(for: 1_498) == 120 && plan.epochs(for: 1_198) == 150 && plan.epochs(for: 100) == 1_800)
        let short = TrainingPlan(recipe: .recommended, bits: 32)
        #expect(short.epochs(for: 60_000) == 3 && short.epochs(for: 50_000) == 3 && short.epochs(for: 45_000) == 4 && short.epochs(for: 1_498) == 120)
        var fixed = plan
        fixed.minimumImages = nil
        #expect(fixed.epochs(for: 1_498) == 6)
        #expect(TrainingPlan(recipe: .paper, bits: 64).epochs(for: 1_498) == 10)
    }

    @Test func spelledChoicesReadBackAsWritten() {
        for text in ["neighbours", "spectral:8", "spectral:8+features:0.5", "spectral:64+features:1.0"] {
            #expect(SimilarityTargets(text)?.description == text, "\(text)")
        }
        for bad in ["spectral:0", "spectral:65", "spectral:8+features:2", "spectral:8+pixels:0.5", "cosines", "spectral:"] {
            #expect(SimilarityTargets(bad) == nil, "\(bad)")
        }
        #expect(TrainingData.Geometry("3x32x32") != nil && TrainingData.Geometry("1X28X28")?.description == "1x28x28")
        for bad in ["2x32x32", "3x30x32", "3x32", "3x0x0"] { #expect(TrainingData.Geometry(bad) == nil, "\(bad)") }
    }
}
