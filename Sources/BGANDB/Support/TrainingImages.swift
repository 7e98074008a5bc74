import ArgumentParser
import BGAN
import Foundation
import PixelIO

/// Where `train` and `pretrain` take their images from.
struct TrainingSourceOptions: ParsableArguments {
    @Option(help: "What to train on: an IDX image file, a CIFAR-10 binary batch, or a folder of images.")
    var data: String

    @Option(help: "For folders and image files: the model's input, CHANNELSxHEIGHTxWIDTH (1 or 3 channels), e.g. 3x32x32. Images are centre-cropped to its aspect ratio and resized by area averaging.")
    var geometry: String?

    @Option(help: "Use only the first N images (quick runs).")
    var limit: Int?

    /// The images, their count after --limit, and the model's preprocessing.
    func load() throws -> (set: ImageSet, count: Int, preprocessing: Preprocessing) {
        let (set, preprocessing) = try TrainingImages.load(data, geometry: geometry, limit: limit)
        return (set, min(limit ?? set.count, set.count), preprocessing)
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

    /// The bytes of the checkpoint --resume names, if any.
    func resumedBytes() throws -> [UInt8]? {
        guard let resume else { return nil }
        guard let bytes = FileManager.default.contents(atPath: resume) else { throw CommandFailure("cannot read the checkpoint \(resume): it does not exist or is not readable; give the file a stopped run wrote, or leave --resume out to start anew") }
        return Array(bytes)
    }
}

/// Loading the images `train` and `pretrain` learn from.
enum TrainingImages {
    /// The training images: an IDX file or CIFAR-10 batch as it is, or image files (a folder,
    /// recursively) decoded and brought to `--geometry`; files that cannot be decoded are
    /// reported and left out.
    static func load(_ data: String, geometry: String?, limit: Int?) throws -> (ImageSet, Preprocessing) {
        guard let listing = try ImageFiles.expand(data) else {
            let set = try ImageSet(contentsOf: data)
            return (set, Preprocessing(channels: set.channels, height: set.height, width: set.width))
        }
        guard let geometry else {
            throw ValidationError("\(data) holds image files: give the model's input geometry, e.g. --geometry 3x32x32 (RGB) or 1x28x28 (gray)")
        }
        let parts = geometry.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 3, [1, 3].contains(parts[0]), parts[1] >= 4, parts[2] >= 4, parts[1] % 4 == 0, parts[2] % 4 == 0 else {
            throw ValidationError("--geometry takes CHANNELSxHEIGHTxWIDTH with 1 or 3 channels and sides that are multiples of 4, e.g. 3x32x32; not '\(geometry)'")
        }
        let preprocessing = Preprocessing(channels: parts[0], height: parts[1], width: parts[2], centerCrop: true)
        let files = listing.images
        for skipped in listing.passedOver { Console.log("bgan-db: passed over \(skipped)") }
        let wanted = min(limit ?? files.count, files.count)
        var bytes: [UInt8] = [], rejected = 0, kept = 0
        var progress = ProgressReporter(label: "decode", total: wanted)
        for file in files where kept < wanted {
            do {
                bytes += preprocessing.planes(from: try ImageDecoder().decode(contentsOf: file))
                kept += 1
            } catch {
                rejected += 1
                Console.log("bgan-db: skipped \(file): \(error)")
            }
            progress.update(kept)
        }
        Console.log("decoded \(kept) images from \(data)\(rejected > 0 ? "; \(rejected) file(s) skipped" : "")")
        guard kept > 0 else { throw CommandFailure("\(data) holds no image that could be decoded") }
        return (ImageSet(count: kept, channels: parts[0], height: parts[1], width: parts[2], pixels: bytes), preprocessing)
    }
}
