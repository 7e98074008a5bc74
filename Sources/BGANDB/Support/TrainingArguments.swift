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

    @Option(help: "Continue the run saved in this checkpoint (its settings win over the options above; the command names any given that it does not apply).")
    var resume: String?

    @Option(help: "Where the loss curves go, as SVG (default: OUT.losses.svg).")
    var lossCurve: String?

    /// The options of a command line (`arguments`, without the program's name) that a resumed
    /// run does not apply, in the order given: all but where the images and the files are.
    static func ignoredWhenResuming(_ arguments: [String]) -> [String] {
        let applied: Set = ["--data", "--geometry", "--limit", "--out", "--checkpoint", "--resume", "--loss-curve"]
        var ignored: [String] = []
        for argument in arguments where argument.hasPrefix("--") {
            let name = String(argument.split(separator: "=", maxSplits: 1)[0])
            if !applied.contains(name) && !ignored.contains(name) { ignored.append(name) }
        }
        return ignored
    }

    /// Says, when a run is resumed, which options given beside `--resume` it does not apply:
    /// the checkpoint's settings win, and an `--epochs` meant to lengthen the run would
    /// otherwise pass unnoticed.
    func noteIgnoredOptions(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        guard resume != nil else { return }
        let ignored = Self.ignoredWhenResuming(arguments)
        guard !ignored.isEmpty else { return }
        Console.log("note: --resume continues the stopped run with the settings its checkpoint holds; \(ignored.joined(separator: ", ")) "
                    + "given here \(ignored.count == 1 ? "is" : "are") not applied (leave --resume out to train with \(ignored.count == 1 ? "it" : "them"))")
    }

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
