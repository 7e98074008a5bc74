import Foundation
import Logging
import NeuralNet

extension TrainingPlan {
    /// Runs the plan on `data` and writes the model file to `out`: stage 1 first when the plan
    /// uses it (its model goes to `out.pretrained.bganmodel`, or ``Pretraining/model`` is read;
    /// a model an earlier run left there is reused, a stopped stage 1 continues from
    /// `out.pretrained.bganmodel.checkpoint`), then the BGAN stage under `loop`.
    /// Messages (stage started, structure built, epoch done, model written) go to the loop's
    /// logger.
    ///
    /// A stop (``TrainingStopped``) in the BGAN stage (`stage == .train`) is continued by
    /// ``resume(checkpointAt:on:writingTo:loop:onProgress:)`` with the checkpoint it names; a
    /// stop in pre-training (`stage == .pretrain`) is continued by calling this method again with
    /// the same plan, data and `out` (do not pass its checkpoint to `resume`).
    /// - Throws: ``TrainingStopped`` when `loop` was asked to stop (its checkpoint saved);
    ///   ``BGANError`` `.invalidArgument` for a plan that cannot run on `data` (a starting model
    ///   file that cannot be read or has another architecture is refused before pre-training).
    @discardableResult
    public func train(on data: TrainingData, writingTo out: String, loop: TrainingLoop,
                      onProgress: (TrainingProgress) -> Void = { _ in }) throws -> ModelFile {
        try validate()
        guard data.count >= batch else {
            throw BGANError(.invalidArgument, "\(data.count) images do not fill one batch of \(batch): use a smaller batch or more images")
        }
        var startingFile: ModelFile?
        if case .file(let path) = initialEncoder {
            let model = try Self.readModel(at: path)
            try checkStartingModel(model, at: path, for: architecture(for: data))
            startingFile = model
        }
        let pretrainedPath = usesPretrainedModel ? try pretrainedModel(on: data, modelPath: out, loop: loop, onProgress: onProgress) : nil
        let session = try makeSession(on: data, pretrainedPath: pretrainedPath, startingFile: startingFile, logger: loop.logger)
        // The set-up's features, lists and search heaps are freed by now; training holds none of them.
        returnFreedMemoryToTheSystem()
        return try Self.finish(session, data: data, writingTo: out, loop: loop, onProgress: onProgress)
    }

    /// Continues the BGAN stage a stopped ``train(on:writingTo:loop:onProgress:)`` saved in the
    /// checkpoint file at `path` (``TrainingStopped/checkpointPath``), on the same images, and
    /// writes the model file to `out`. S is read from that file where it lies, a row at a time.
    /// - Throws: as ``resume(checkpoint:source:on:writingTo:loop:onProgress:)``.
    @discardableResult
    public static func resume(checkpointAt path: String, on data: TrainingData, writingTo out: String, loop: TrainingLoop,
                              onProgress: (TrainingProgress) -> Void = { _ in }) throws -> ModelFile {
        let session = try TrainingSession(checkpointAt: path, images: data.rows)
        loop.logger.info("resuming \(path) at epoch \(session.epoch + 1), step \(session.step + 1) of \(session.stepsPerEpoch)")
        return try finish(session, data: data, writingTo: out, loop: loop, onProgress: onProgress)
    }

    /// Continues the BGAN stage a stopped ``train(on:writingTo:loop:onProgress:)`` saved in
    /// `checkpoint` (the bytes of the file ``TrainingStopped/checkpointPath`` names; `source`
    /// names it in messages), on the same images, and writes the model file to `out`.
    /// - Throws: ``BGANError`` `.invalidCheckpoint` / `.otherTrainingImages` for a checkpoint
    ///   that does not fit; ``TrainingStopped`` as ``train(on:writingTo:loop:onProgress:)``.
    @discardableResult
    public static func resume(checkpoint: [UInt8], source: String, on data: TrainingData, writingTo out: String, loop: TrainingLoop,
                              onProgress: (TrainingProgress) -> Void = { _ in }) throws -> ModelFile {
        let session = try TrainingSession(checkpoint: checkpoint, images: data.rows, source: source)
        let logger = loop.logger
        logger.info("resuming \(source) at epoch \(session.epoch + 1), step \(session.step + 1) of \(session.stepsPerEpoch)")
        return try finish(session, data: data, writingTo: out, loop: loop, onProgress: onProgress)
    }

    private static func finish(_ session: TrainingSession, data: TrainingData, writingTo out: String, loop: TrainingLoop,
                               onProgress: (TrainingProgress) -> Void) throws -> ModelFile {
        try loop.run(session, onStep: onProgress)
        let model = try session.model(preprocessing: data.preprocessing)
        try Data(model.encoded()).write(to: URL(fileURLWithPath: out), options: .atomic)
        loop.logger.info("wrote \(out) (digest \(model.digest))")
        return model
    }

    /// The BGAN stage's session: S and the targets from the plan's features, the anchors, the
    /// settings with the whole recipe in their notes, the encoder's starting weights
    /// (`startingFile`: the model ``InitialEncoder/file(_:)`` names, read and checked already).
    func makeSession(on data: TrainingData, pretrainedPath: String?, startingFile: ModelFile?, logger: Logger) throws -> TrainingSession {
        let rows = data.rows
        let architecture = architecture(for: data)
        let stageOneSpace = { (path: String) in neighborsFromPretrainedHiddenLayer ? FeatureSpace.modelHidden(path: path) : .modelOutputs(path: path) }
        guard let featureSpace = neighborFeatures ?? pretrainedPath.map(stageOneSpace) else {
            throw BGANError(.invalidArgument, "the neighbourhood structure needs features: give a feature space, or a plan with pre-training")
        }
        let stageOne = try pretrainedPath.map { (path: $0, model: try Self.readModel(at: $0)) }
        let startPath: String?, start: ModelFile?
        switch initialEncoder {
        case .random: (startPath, start) = (nil, nil)
        case .pretrained:
            if let stageOne { try checkStartingModel(stageOne.model, at: stageOne.path, for: architecture) }
            (startPath, start) = (pretrainedPath, stageOne?.model)
        case .file(let path): (startPath, start) = (path, startingFile)
        }
        // Beyond the exact lists' limit a model's features (256 MB at a million images) go to a temporary file,
        // as S (over a gigabyte) and the targets do below.
        let large = data.count > NearestNeighborLists.exactLimit
        let read = try featureSpace.rows(of: rows, channels: data.channels, height: data.height, width: data.width, inScratchFile: large)
        // Up to the limit the lists, the targets and the anchors share one array (pixels are read from the images once).
        let features = large ? read : FeatureRows(try read.allRows(), dimension: read.dimension)
        // One search serves both S (K1 lists) and the spectral graph (their first 10).
        let started = Date()
        logger.info("building the neighbourhood structure of \(data.count) images from \(featureSpace) (\(features.dimension) dimensions, K1 = \(k1), K2 = \(k2); \(large ? "lists from an inverted file, approximate" : "exact lists"))…")
        let wanted = similarity == .neighbors ? k1 : max(k1, FeatureSpace.smoothingNeighbors)
        let lists = try TrainingLists(features, k: wanted)
        let structure = try lists.structure(k1: k1, k2: k2)
        logger.info("structure built in \(Self.seconds(since: started)): \(Int(structure.averageSimilar.rounded())) similar images per image\(structure.isKeptInFile ? ", kept in a temporary file in \(PositionedFile.scratchFolder)" : "")")
        let targets = try similarityEmbedding(lists: lists, features: features, logger: logger)
        var settings = TrainingSettings(architecture: architecture, epochs: epochs(for: data.count), batch: batch, learningRate: learningRate,
                                        epsilon: adamEpsilon, seed: seed, weights: weights, betaSchedule: betaSchedule, sampling: sampling)
        settings.augmentationShift = augmentationShift
        settings.encoderLearningRate = effectiveEncoderLearningRate
        settings.views = views
        if generativeOnAnchors { settings.generativeOnAnchors = true }
        if codeLayerOnly { settings.codeLayerOnly = true }
        if averagesMirrorImages { settings.averagesMirrorImages = true }
        let neighboursFrom = try featureSpace.note { path in path == stageOne?.path ? stageOne!.model.digest : try Self.readModel(at: path).digest }
        settings.notes = ["data": data.name, "recipe": recipe.rawValue, "neighbours_from": neighboursFrom, "k1": "\(k1)",
                          "k2": "\(k2)", "similarity": similarity.description]
        if let stageOne {
            // The whole recipe travels with the model: stage 1's settings too.
            settings.notes["pretrained"] = stageOne.model.digest
            for (key, value) in stageOne.model.header.training { settings.notes["pretraining." + key] = value }
        }
        if let start { settings.notes["initial_encoder"] = start.digest }
        var anchors: AnchorCodes?
        if weights.anchor != nil, let startPath {
            let startSpace = FeatureSpace.modelOutputs(path: startPath)
            let outputs = startSpace == featureSpace ? features
                : try startSpace.rows(of: rows, channels: data.channels, height: data.height, width: data.width, inScratchFile: large)
            anchors = try AnchorCodes(signsOf: outputs)
            settings.notes["anchor_codes"] = "signs of the outputs of model \(try start?.digest ?? Self.readModel(at: startPath).digest)"
        }
        if start != nil, freshCodeLayer { settings.notes["code_layer"] = "drawn afresh from the seed, not the starting encoder's" }
        let session = try TrainingSession(settings: settings, images: rows, structure: structure, similarity: targets, anchorCodes: anchors)
        if let start {
            // With a fresh code layer, the code layer as the seed draws it and the starting encoder's layers below it
            // (whose code may be of another length).
            let parameters = session.networks.encoderParameters, starting = try start.networks().encoderParameters
            for entry in parameters.entries where !(freshCodeLayer && entry.name.hasPrefix(BGANNetworks.encoderCodeLayer)) {
                guard let source = starting.entry(entry.name), source.shape == entry.shape else {
                    throw BGANError(.invalidArgument, "the starting encoder's \(entry.name) does not fit this run's encoder")
                }
                parameters.values.replaceSubrange(entry.offset..<(entry.offset + entry.count),
                                                  with: starting.values[source.offset..<(source.offset + source.count)])
            }
        }
        return session
    }

    /// The BGAN stage's networks for `data`'s images.
    func architecture(for data: TrainingData) -> BGANArchitecture {
        BGANArchitecture(channels: data.channels, height: data.height, width: data.width, bits: bits, filters: filters,
                         hiddenUnits: hiddenUnits, featureUnits: featureUnits, standardizesInput: standardizesInput,
                         standardizesRobustly: standardizesRobustly)
    }

    /// The model file at `path` (a starting encoder or a stage-1 model the plan names).
    /// - Throws: ``BGANError`` `.invalidArgument` when it cannot be read, `.invalidModelFile`
    ///   when it is not a whole model file.
    static func readModel(at path: String) throws -> ModelFile {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw BGANError(.invalidArgument, "cannot read the model file \(path): check the path and that it is readable")
        }
        return try ModelFile(bytes: Array(bytes), source: path)
    }

    /// How an architecture treats its input, for errors: "a raw input (not standardised)", "a
    /// standardised input (mean and deviation)" or "a robustly standardised input (winsorised, clipped)".
    static func describeInput(_ architecture: BGANArchitecture) -> String {
        !architecture.standardizesInput ? "a raw input (not standardised)"
            : architecture.standardizesRobustly ? "a robustly standardised input (winsorised, clipped)" : "a standardised input (mean and deviation)"
    }

    /// Checks that `model` (read from `path`) has the run's encoder — but for the code length
    /// when the run draws a fresh code layer (which is all a code length changes).
    ///
    /// It returns nothing on purpose: as `startingModel(…) throws -> ModelFile`, returning the
    /// model, Swift 6.3's optimiser tail-called `memcpy` for the result with the error register
    /// (r12) still holding an image height, so a release build reported a "thrown" garbage
    /// error and crashed at the start of every BGAN stage with a starting encoder (LLVM's
    /// missing guard against tail mem-libcalls in `swifterror` functions: swiftlang/swift#90477,
    /// fixed in llvm/llvm-project#214590, not in this toolchain). No debug test sees it;
    /// `scripts/release-smoke`, run by `scripts/test`, does.
    private func checkStartingModel(_ model: ModelFile, at path: String, for architecture: BGANArchitecture) throws {
        let a = model.header.architecture
        guard a.channels == architecture.channels, a.height == architecture.height, a.width == architecture.width,
              a.bits == architecture.bits || freshCodeLayer, a.filters == architecture.filters, a.hiddenUnits == architecture.hiddenUnits else {
            throw BGANError(.invalidArgument, "\(path) has another architecture than this run (\(a.channels)×\(a.height)×\(a.width), \(a.bits) bits, \(a.filters) filters, \(a.hiddenUnits) hidden units): train with the same code length, filters and hidden units (another code length only with a fresh code layer)")
        }
        guard a.standardizesInput == architecture.standardizesInput else {
            throw BGANError(.invalidArgument, "\(path) \(a.standardizesInput ? "standardises" : "does not standardise") its input and this run \(architecture.standardizesInput ? "does" : "does not"): its layers expect other values; train with\(a.standardizesInput ? "" : "out") --standardise-input, or from another model")
        }
        guard a.standardizesRobustly == architecture.standardizesRobustly else {
            throw BGANError(.invalidArgument, "\(path) has \(Self.describeInput(a)) and this run \(Self.describeInput(architecture)): its layers expect other values; train with\(a.standardizesRobustly ? "" : "out") --robust-standardisation, or from another model")
        }
        // Its code layer's bits are interleaved and scaled: a listwise term would train the wrong ones.
        if !freshCodeLayer, weights.listwise != nil, model.header.training["code_bit_order"] != nil {
            throw BGANError(.invalidArgument, "\(path) holds codes in two parts with their bits interleaved; a listwise term cannot continue its code layer: draw a fresh code layer (--fresh-code-layer)")
        }
    }

    /// The cosine targets the plan asks for, if any, from the spectral graph of `lists`' first
    /// ``FeatureSpace/smoothingNeighbors``; in temporary files when the lists are in one.
    private func similarityEmbedding(lists: TrainingLists, features: FeatureRows, logger: Logger) throws -> SimilarityEmbedding? {
        guard case .spectral(let dimensions, let featureWeight) = similarity else { return nil }
        let started = Date()
        let embedding = try lists.spectralEmbedding(dimensions: dimensions, seed: seed)
        logger.info("spectral embedding of \(dimensions) dimensions computed in \(Self.seconds(since: started))")
        guard featureWeight > 0 else { return embedding }
        return lists.isKeptInFile
            ? try SimilarityEmbedding.blendedInScratchFile(embedding, features: features, weightOfSecond: featureWeight)
            : try SimilarityEmbedding.blend(embedding, try .cosines(of: try features.allRows(), dimension: features.dimension), weightOfSecond: featureWeight)
    }

    /// Stage 1's model: ``Pretraining/model``, or `modelPath.pretrained.bganmodel` when an
    /// earlier run left it, else trained now (continuing its checkpoint if a run was stopped
    /// there) and written to that path.
    func pretrainedModel(on data: TrainingData, modelPath: String, loop: TrainingLoop,
                         onProgress: (TrainingProgress) -> Void) throws -> String {
        let logger = loop.logger
        guard let pretraining else {
            throw BGANError(.invalidArgument, "the plan uses a pre-trained model but has no pre-training")
        }
        if let given = pretraining.model {
            _ = try Self.readModel(at: given)
            logger.info("using the pre-trained model \(given)")
            return given
        }
        let path = modelPath + ".pretrained.bganmodel"
        if FileManager.default.fileExists(atPath: path) {
            let model = try Self.readModel(at: path)
            let wantedPartners = pretraining.partners.map { ContrastiveSettings.NeighborPartners(featureSpace: $0).note }
            guard model.header.training["neighbour_partners"] == wantedPartners else {
                throw BGANError(.invalidArgument, "\(path) is left from a pre-training with other neighbour partners (\(model.header.training["neighbour_partners"] ?? "none")); remove it, or name it as the pre-trained model to use")
            }
            // Pre-training models note their image count; a file that lacks the note is judged by its data alone.
            let images = model.header.training["images"], stageOneBits = pretraining.bits ?? bits
            guard model.header.architecture.bits == stageOneBits, model.header.training["data"] == data.name, images == nil || images == "\(data.count)" else {
                throw BGANError(.invalidArgument, "\(path) is left from a run on other data, another number of its images or another code length (\(model.header.architecture.bits) bits, data \(model.header.training["data"] ?? "?"), \(images ?? "?") images; this run's stage 1 has \(stageOneBits) bits); remove it, or name it as the pre-trained model to use")
            }
            let epochs = pretraining.epochs(for: data.count)
            guard model.header.training["epochs"] == "\(epochs)" else {
                throw BGANError(.invalidArgument, "\(path) is left from a pre-training of \(model.header.training["epochs"] ?? "?") epochs and \(epochs) are asked for; remove it, or name it as the pre-trained model to use")
            }
            guard model.header.architecture.standardizesInput == standardizesInput,
                  model.header.architecture.standardizesRobustly == standardizesRobustly else {
                throw BGANError(.invalidArgument, "\(path) is left from a pre-training with \(Self.describeInput(model.header.architecture)), and this run's has \(Self.describeInput(architecture(for: data))); remove it, or name it as the pre-trained model to use")
            }
            guard model.header.training["views"] == pretraining.augmentation.note else {
                throw BGANError(.invalidArgument, "\(path) is left from a pre-training on other views (\(model.header.training["views"] ?? "none noted"); this run's: \(pretraining.augmentation.note)); remove it, or name it as the pre-trained model to use")
            }
            logger.info("reusing the pre-trained model \(path) (digest \(model.digest.prefix(16))…) left by an earlier run; remove it to pre-train again")
            return path
        }
        var stageLoop = loop
        stageLoop.checkpointPath = path + ".checkpoint"
        stageLoop.lossCurvePath = loop.lossCurvePath.map { _ in path + ".losses.svg" }
        let architecture = BGANArchitecture(channels: data.channels, height: data.height, width: data.width, bits: pretraining.bits ?? bits,
                                            filters: filters, hiddenUnits: hiddenUnits, standardizesInput: standardizesInput,
                                            standardizesRobustly: standardizesRobustly)
        var settings = pretraining.settings(architecture: architecture, seed: seed)
        settings.epochs = pretraining.epochs(for: data.count)
        settings.batch = min(settings.batch, data.count)
        let model: ModelFile
        if let bytes = FileManager.default.contents(atPath: stageLoop.checkpointPath) {
            let session = try ContrastiveSession(checkpoint: Array(bytes), images: data.rows, source: stageLoop.checkpointPath, expected: settings)
            logger.info("continuing the pre-training saved in \(stageLoop.checkpointPath)")
            model = try ContrastiveSession.resume(session, source: stageLoop.checkpointPath, on: data, writingTo: path, loop: stageLoop, onProgress: onProgress)
        } else {
            logger.info("stage 1 of 2: contrastive pre-training, \(settings.epochs) epochs, into \(path)")
            if let partners = settings.neighborPartners {
                logger.info("pre-training partners: \(partners.note)")
            }
            model = try ContrastiveSession.train(settings, on: data, writingTo: path, loop: stageLoop, onProgress: onProgress)
        }
        try? FileManager.default.removeItem(atPath: stageLoop.checkpointPath)
        logger.info("pre-trained model \(model.digest.prefix(16))… ready; stage 2 of 2: BGAN")
        return path
    }

    private static func seconds(since start: Date) -> String {
        "\((Date().timeIntervalSince(start) * 10).rounded() / 10)s"
    }
}
