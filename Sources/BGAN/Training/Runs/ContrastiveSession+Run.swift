import Foundation
import Basics

extension ContrastiveSession {
    /// Pre-trains an encoder with `settings` on `data` under `loop` and writes its model file to
    /// `out` (atomically; the model's notes name the data): what `bgan-db pretrain` runs, and
    /// stage 1 of ``TrainingPlan/train(on:writingTo:loop:onProgress:)``. The notes name the data
    /// (and, as every pre-training model's, how many images were used).
    /// - Throws: ``TrainingStopped`` when `loop` was asked to stop (its checkpoint saved; continue
    ///   with ``resume(checkpoint:source:on:writingTo:loop:onProgress:)``); ``BGANError`` for
    ///   settings that do not fit the images.
    @discardableResult
    public static func train(_ settings: ContrastiveSettings, on data: TrainingData, writingTo out: String, loop: TrainingLoop,
                             onProgress: (TrainingProgress) -> Void = { _ in }) throws -> ModelFile {
        if let partners = settings.neighborPartners {
            loop.logger.info("finding the \(partners.count) nearest neighbours of every image in \(partners.featureSpace) for partners…")
        }
        let session = try ContrastiveSession(settings: settings, images: data.rows,
                                             partners: try partnerLists(for: settings, images: data.rows))
        // The partner search's heaps and blocks are freed by now; training holds none of them.
        returnFreedMemoryToTheSystem()
        return try finish(session, data: data, writingTo: out, loop: loop, onProgress: onProgress)
    }

    /// Continues a pre-training a stopped ``train(_:on:writingTo:loop:onProgress:)`` saved in
    /// `checkpoint` (`source` names it in messages), on the same images.
    /// - Throws: ``BGANError`` `.invalidCheckpoint` / `.otherTrainingImages` for a checkpoint
    ///   that does not fit; ``TrainingStopped`` as ``train(_:on:writingTo:loop:onProgress:)``.
    @discardableResult
    public static func resume(checkpoint: [UInt8], source: String, on data: TrainingData, writingTo out: String, loop: TrainingLoop,
                              onProgress: (TrainingProgress) -> Void = { _ in }) throws -> ModelFile {
        try resume(try ContrastiveSession(checkpoint: checkpoint, images: data.rows, source: source), source: source, on: data,
                   writingTo: out, loop: loop, onProgress: onProgress)
    }

    /// Continues `session`, read from the checkpoint `source` names (whose settings the caller
    /// may check first), and writes the model file to `out`.
    public static func resume(_ session: ContrastiveSession, source: String, on data: TrainingData, writingTo out: String, loop: TrainingLoop,
                              onProgress: (TrainingProgress) -> Void = { _ in }) throws -> ModelFile {
        loop.logger.info("resuming \(source) at epoch \(session.epoch + 1), step \(session.step + 1) of \(session.stepsPerEpoch)")
        return try finish(session, data: data, writingTo: out, loop: loop, onProgress: onProgress)
    }

    private static func finish(_ session: ContrastiveSession, data: TrainingData, writingTo out: String, loop: TrainingLoop,
                               onProgress: (TrainingProgress) -> Void) throws -> ModelFile {
        try loop.run(session, onStep: onProgress)
        let model = session.model(preprocessing: data.preprocessing, notes: ["data": data.name])
        try Data(model.encoded()).write(to: URL(fileURLWithPath: out), options: .atomic)
        loop.logger.info("wrote \(out) (digest \(model.digest))")
        return model
    }
}
