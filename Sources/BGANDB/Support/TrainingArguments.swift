import ArgumentParser
import BGAN
import Foundation

/// Where `train` and `pretrain` take their images from.
struct TrainingSourceOptions: ParsableArguments {
    @Option(help: "What to train on: an IDX image file, a CIFAR-10 binary batch, or a folder of images.")
    var data: String

    @Option(help: "For folders and image files: the model's input, CHANNELSxHEIGHTxWIDTH (1 or 3 channels), e.g. 3x32x32. Images are centre-cropped to its aspect ratio and resized by area averaging.")
    var geometry: String?

    @Option(help: "Use only the first N images (quick runs).")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit takes a positive number of images, not \(limit)") }
    }

    /// `--geometry`, parsed.
    func parsedGeometry() throws -> TrainingData.Geometry? {
        guard let geometry else { return nil }
        guard let parsed = TrainingData.Geometry(geometry) else {
            throw ValidationError("--geometry takes \(TrainingData.Geometry.syntax); not '\(geometry)'")
        }
        return parsed
    }

    /// The images (``TrainingData/load(_:geometry:limit:logger:onDecoded:)``), with a progress
    /// line while image files are decoded.
    func load() throws -> TrainingData {
        var progress: ProgressReporter?
        do {
            return try TrainingData.load(data, geometry: try parsedGeometry(), limit: limit, logger: TrainingConsole.logger) { done, wanted in
                if progress == nil { progress = ProgressReporter(label: "decode", total: wanted) }
                progress?.update(done)
            }
        } catch let error as BGANError where geometry == nil && error.code == .invalidArgument {
            // Without a geometry, the one argument the loader can find wanting is the geometry
            // that image files need: bad usage, said with the option's name.
            throw ValidationError("\(data) holds image files: give the model's input geometry, e.g. --geometry 3x32x32 (RGB) or 1x28x28 (gray)")
        }
    }
}

/// The files a training run writes besides its model, and the checkpoint it may resume.
struct TrainingRunFileOptions: ParsableArguments {
    @Option(help: "Where checkpoints go (default: OUT.checkpoint).")
    var checkpoint: String?

    @Option(help: "Continue the run saved in this checkpoint (its settings win over the options above).")
    var resume: String?

    @Option(help: "Where the loss curves go, as SVG (default: OUT.losses.svg).")
    var lossCurve: String?

    func checkpointPath(out: String) -> String { checkpoint ?? out + ".checkpoint" }
    func lossCurvePath(out: String) -> String { lossCurve ?? out + ".losses.svg" }

    /// `--resume`'s checkpoint, checked to be a readable file (the BGAN stage reads S from it in place).
    func resumedPath() throws -> String? {
        guard let resume else { return nil }
        guard FileManager.default.isReadableFile(atPath: resume) else { throw CommandFailure("cannot read the checkpoint \(resume): it does not exist or is not readable; give the file a stopped run wrote, or leave --resume out to start anew") }
        return resume
    }

    /// The bytes of the checkpoint --resume names, if any.
    func resumedBytes() throws -> [UInt8]? {
        guard let resume else { return nil }
        guard let bytes = FileManager.default.contents(atPath: resume) else { throw CommandFailure("cannot read the checkpoint \(resume): it does not exist or is not readable; give the file a stopped run wrote, or leave --resume out to start anew") }
        return Array(bytes)
    }
}
