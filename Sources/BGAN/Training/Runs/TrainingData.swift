import Basics
import Foundation
import Logging
import PixelIO

/// The images a training run learns from, and the preprocessing its model file will record.
public struct TrainingData: Sendable {
    /// The images' geometry: channels × height × width values each.
    public let channels: Int
    public let height: Int
    public let width: Int
    /// Images used (the first ones of the source, up to a limit).
    public let count: Int
    public let preprocessing: Preprocessing
    /// How model files and checkpoints name the data (its path).
    public let name: String

    /// The used images as sessions read them: their 8-bit values, scaled to [0, 1] a batch at a
    /// time (no float copy of the whole set is held), from memory (CIFAR-10 batches, an
    /// `ImageSet` given), an IDX file, or the temporary file a folder was decoded into.
    public let rows: ImageRows

    /// The first `count` images of `images` (all by default), held in memory.
    public init(images: ImageSet, count: Int? = nil, preprocessing: Preprocessing? = nil, name: String) {
        (channels, height, width) = (images.channels, images.height, images.width)
        self.count = max(0, min(count ?? images.count, images.count))
        self.preprocessing = preprocessing ?? Preprocessing(channels: images.channels, height: images.height, width: images.width)
        self.name = name
        rows = ImageRows(images, count: self.count)
    }

    /// The first `count` images of an IDX file (all by default), read from disk as batches need them.
    public init(streaming file: IDXImageFile, count: Int? = nil, name: String) {
        (channels, height, width) = (1, file.height, file.width)
        self.count = max(0, min(count ?? file.count, file.count))
        preprocessing = Preprocessing(channels: 1, height: file.height, width: file.width)
        self.name = name
        rows = ImageRows(file, count: self.count)
    }

    /// `rows` of `channels × height × width` values each, with the preprocessing that made them.
    init(rows: ImageRows, channels: Int, height: Int, width: Int, preprocessing: Preprocessing, name: String) {
        (self.channels, self.height, self.width) = (channels, height, width)
        count = rows.count
        self.preprocessing = preprocessing
        self.name = name
        self.rows = rows
    }

    /// A model's input for images decoded from files: channels (1 or 3) × height × width.
    public struct Geometry: Sendable, Equatable, LosslessStringConvertible {
        public let channels: Int
        public let height: Int
        public let width: Int

        /// `CHANNELSxHEIGHTxWIDTH`, e.g. `3x32x32`: 1 or 3 channels, sides multiples of 4.
        public init?(_ text: String) {
            let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 3, [1, 3].contains(parts[0]), parts[1] >= 4, parts[2] >= 4, parts[1] % 4 == 0, parts[2] % 4 == 0 else { return nil }
            (channels, height, width) = (parts[0], parts[1], parts[2])
        }

        /// nil unless 1 or 3 channels and sides that are multiples of 4 (at least 4).
        public init?(channels: Int, height: Int, width: Int) {
            self.init("\(channels)x\(height)x\(width)")
        }

        public var description: String { "\(channels)x\(height)x\(width)" }

        public static let syntax = "CHANNELSxHEIGHTxWIDTH with 1 or 3 channels and sides that are multiples of 4, e.g. 3x32x32"
    }

    /// The images at `path`: an IDX file (read from disk as batches need it; a compressed one
    /// inflated into a temporary file first) or a CIFAR-10 batch as they are, or image files (one
    /// file, or a folder recursively in path order) decoded and brought to `geometry` (centre
    /// crop to its aspect ratio, area-averaged resize; large JPEGs decoded at a DCT scale, as a
    /// store without thumbnails decodes them: `ImageDecoder.minimumSide`). Files that cannot be
    /// decoded, and folder entries that are not images, are logged as warnings and left out; the
    /// decoded images go to an unlinked temporary file in `TMPDIR` (else `/tmp`) as they come —
    /// C × H × W bytes each — and are read from there when a batch needs them, so a folder of a
    /// million photos is not held in memory. `limit` keeps the first images only.
    /// - Throws: ``BGANError`` `.invalidArgument` for image files without a geometry or a folder
    ///   with no decodable image; the reading error of a data set that cannot be read;
    ///   ``FileError`` when `TMPDIR` has no room for the decoded images.
    public static func load(_ path: String, geometry: Geometry? = nil, limit: Int? = nil, logger: Logger = .disabled,
                            onDecoded: (_ done: Int, _ wanted: Int) -> Void = { _, _ in }) throws -> TrainingData {
        guard let listing = try ImageFiles.expand(path) else {
            // IDX image files (plain or gzip) are streamed from disk; CIFAR-10 batches are read whole.
            if let file = try? IDXImageFile(path: path) {
                return TrainingData(streaming: file, count: limit, name: path)
            }
            return TrainingData(images: try ImageSet(contentsOf: path), count: limit, name: path)
        }
        guard let geometry else {
            throw BGANError(.invalidArgument, "\(path) holds image files: give the model's input geometry, e.g. 3x32x32 (RGB) or 1x28x28 (gray)")
        }
        let preprocessing = Preprocessing(channels: geometry.channels, height: geometry.height, width: geometry.width, centerCrop: true)
        // Large JPEGs are decoded as a store bound to the model and keeping no thumbnails
        // decodes them when it ingests (at the smallest DCT scale that keeps the model's input
        // covered): the pixels ingest gives, and faster than a full-size decode.
        let decoder = ImageDecoder(minimumSide: max(geometry.height, geometry.width))
        for skipped in listing.passedOver { logger.warning("passed over \(skipped)") }
        let wanted = min(limit ?? listing.images.count, listing.images.count)
        let decoded = try PositionedFile(scratchFor: "the images decoded from \(path)")
        var pending: [UInt8] = [], written = 0, rejected = 0, kept = 0
        func flush() throws {
            try pending.withUnsafeBytes { try decoded.write($0, at: written) }
            written += pending.count
            pending.removeAll(keepingCapacity: true)
        }
        // Files are decoded a round at a time on every core and taken in path order; a round may
        // decode a few files past the limit, which are then left out unseen (not even reported).
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var next = 0
        while kept < wanted, next < listing.images.count {
            let round = Array(listing.images[next..<min(listing.images.count, next + 64 * cores)])
            next += round.count
            let tasks = min(cores, round.count)
            let results = parallelMap(tasks: tasks) { task in
                round[(round.count * task / tasks)..<(round.count * (task + 1) / tasks)].map { file in
                    Result { preprocessing.planes(from: try decoder.decode(contentsOf: file)) }
                }
            }.joined()
            for (file, result) in zip(round, results) where kept < wanted {
                switch result {
                case .success(let planes):
                    pending += planes
                    kept += 1
                case .failure(let error):
                    rejected += 1
                    logger.warning("skipped \(file): \(error)")
                }
                if pending.count >= 1 << 20 { try flush() }
                onDecoded(kept, wanted)
            }
        }
        try flush()
        logger.info("decoded \(kept) images from \(path)\(rejected > 0 ? "; \(rejected) file(s) skipped" : "")")
        guard kept > 0 else { throw BGANError(.invalidArgument, "\(path) holds no image that could be decoded") }
        let valuesPerImage = geometry.channels * geometry.height * geometry.width
        return TrainingData(rows: ImageRows(bytesIn: decoded, count: kept, valuesPerImage: valuesPerImage), channels: geometry.channels,
                            height: geometry.height, width: geometry.width, preprocessing: preprocessing, name: path)
    }
}
