import ArgumentParser
import BGAN
import Foundation
import PixelIO

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
        let preprocessing = Preprocessing(channels: parts[0], height: parts[1], width: parts[2], centreCrop: true)
        let files = listing.images
        for (path, reason) in listing.passedOver { Console.log("bgan-db: passed over \(path): \(reason)") }
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
        guard kept > 0 else { throw ValidationError("\(data) holds no image that could be decoded") }
        return (ImageSet(count: kept, channels: parts[0], height: parts[1], width: parts[2], pixels: bytes), preprocessing)
    }
}
