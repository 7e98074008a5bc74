import ArgumentParser
import BGAN
import BGANStore
import Foundation
import HammingSearch
import PerceptualHash
import PixelIO

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Print the binary codes a model gives images, as hex.",
        discussion: """
        Each INPUT is an image file (PNG, JPEG, WebP, BMP, PGM or PPM, recognised by content), a folder \
        (its image files, recursively, in path order), an IDX image file (MNIST / Fashion-MNIST, \
        plain or .gz) or a CIFAR-10 binary batch. One line per image: "CODE<TAB>FILE" or \
        "CODE<TAB>INPUT#INDEX" for data sets. Images are brought to the model's input by its \
        preprocessing (channels, centre crop, area-averaging resize, scale). Large JPEGs are \
        decoded as a store made with `create` (default thumbnails) decodes them, at the smallest \
        DCT scale that keeps both sides at least the larger of the model's input side and \
        \(Store.defaultThumbnailSide) pixels, so the codes are those such a store holds for the same \
        files; --full-size decodes them whole. The model is --model FILE, the bundled photo model with --encoder photo, or the bundled default of --bits \
        (looked for in $\(DefaultModel.environmentVariable), then in the package's resources). \
        Codes are bytes in order, most significant bit first (NumPy packbits / faiss order). \
        --encoder pdq prints Meta's 256-bit PDQ photo hashes instead (the reference's hex; with \
        --json also its quality, 0-100: below 50 a match is not to be trusted), always of the whole \
        image as the reference hashes it; a store made with `create --encoder pdq` decodes large \
        JPEGs at 512 pixels a side or more, which moves a few bits of 256 (docs/photos.md).
        """)

    @Option(help: "bgan (a model's codes: --model FILE or the bundled one of --bits), photo (the bundled photo model's) or pdq (PDQ photo hashes, 256 bits, no model).")
    var encoder: EncoderChoice = .bgan

    @Option(help: "Model file (default: the bundled model of --bits).")
    var model: String?

    @Option(help: "Code length of the bundled model to use when --model is not given (default 64).")
    var bits: Int?

    @Option(help: "Encode only the first N images of each input (of a folder: its first N files in path order).")
    var limit: Int?

    @Flag(help: "Print one JSON object per line: input, index, code (or h, an array, with --real-valued; hidden with --hidden-layer).")
    var json = false

    @Flag(help: "Print the encoder's real-valued outputs h (before the sign) instead of codes, tab-separated: embeddings for other tools.")
    var realValued = false

    @Flag(help: "Print the encoder's hidden layer (the model's hidden units, under the code layer) instead of codes, tab-separated: wider embeddings for other tools.")
    var hiddenLayer = false

    @Flag(help: "Decode JPEGs at full size instead of as a store does (slower for large photos; codes may differ from a store's in a few bits).")
    var fullSize = false

    @Argument(help: "Image files, folders, IDX image files or CIFAR-10 binary batches.")
    var inputs: [String]

    func validate() throws {
        if encoder == .pdq, model != nil || realValued || hiddenLayer || fullSize {
            throw ValidationError("--encoder pdq takes no --model, has no --real-valued outputs or --hidden-layer and always decodes at full size, as the reference does")
        }
        if encoder == .photo { try EncoderChoice.checkPhotoOptions(model: model, bits: bits) }
        if realValued, hiddenLayer {
            throw ValidationError("--real-valued and --hidden-layer print different layers; choose one")
        }
    }

    func run() throws {
        if encoder == .pdq { return try runPDQ() }
        try Console.reportingErrors {
            let bits = self.bits ?? 64
            let file = try self.encoder.modelFile(path: model, bits: bits)
            let encoder = try ImageEncoder(model: file)
            let p = file.header.preprocessing
            Console.log("model \(self.encoder.modelName(path: model, bits: bits)): \(encoder.bits) bits, digest \(file.digest.prefix(16))…")
            var failures = 0
            func outputs(of pixels: [Float]) throws -> [Float] {
                hiddenLayer ? try encoder.hiddenFeatures(of: pixels) : realValued ? try encoder.realValuedOutputs(of: pixels) : try encoder.signs(of: pixels)
            }
            func outputs(of images: [PixelBuffer]) throws -> [Float] {
                hiddenLayer ? try encoder.hiddenFeatures(of: images) : realValued ? try encoder.realValuedOutputs(of: images) : try encoder.signs(of: images)
            }
            let width = hiddenLayer ? encoder.hiddenUnits : encoder.bits
            func emit(_ outputs: ArraySlice<Float>, _ name: String, index: Int?) throws {
                guard realValued || hiddenLayer else {
                    let code = BinaryCode(signsOf: Array(outputs)).description
                    return try printLine(code, EncodedImage(input: name, index: index, code: code))
                }
                try printLine(outputs.map { "\($0)" }.joined(separator: "\t"),
                              EncodedImage(input: name, index: index, h: realValued ? Array(outputs) : nil, hidden: hiddenLayer ? Array(outputs) : nil))
            }
            let asAStore = Store.decodingSide(for: ModelEncoder(model: file), thumbnailSide: Store.defaultThumbnailSide)
            let decoder = ImageDecoder(minimumSide: fullSize ? nil : asAStore)
            for input in inputs {
                if let listing = try ImageFiles.expand(input) {
                    failures += Self.forEachFile(listing, limit: limit, decoder: decoder) { image, file in try emit(try outputs(of: [image])[...], file, index: nil) }
                    continue
                }
                let set = try ImageSet(contentsOf: input)
                guard set.channels == p.channels, set.height == p.height, set.width == p.width else {
                    throw DatasetError(.unsupported, "\(input) holds \(set.channels)×\(set.height)×\(set.width) images; the model takes \(p.channels)×\(p.height)×\(p.width)")
                }
                let count = min(limit ?? set.count, set.count)
                let values = try outputs(of: set.scaledPixels(0..<count))
                for index in 0..<count { try emit(values[(index * width)..<((index + 1) * width)], input, index: index) }
            }
            if failures > 0 {
                Console.log("bgan-db: \(failures) file(s) could not be encoded")
                throw ExitCode.failure
            }
        }
    }

    /// `--encoder pdq`: every image's PDQ hash, at the size it has (data sets too).
    private func runPDQ() throws {
        try Console.reportingErrors {
            var failures = 0
            func emit(_ hash: PDQ.Hash, _ name: String, index: Int?) throws {
                try printLine(hash.code.hex, EncodedImage(input: name, index: index, code: hash.code.hex, quality: hash.quality))
            }
            for input in inputs {
                if let listing = try ImageFiles.expand(input) {
                    failures += Self.forEachFile(listing, limit: limit, decoder: ImageDecoder()) { image, file in try emit(PDQ.hash(image), file, index: nil) }
                    continue
                }
                let set = try ImageSet(contentsOf: input)
                for index in 0..<min(limit ?? set.count, set.count) { try emit(PDQ.hash(set.pixelBuffer(index)), input, index: index) }
            }
            if failures > 0 {
                Console.log("bgan-db: \(failures) file(s) could not be hashed")
                throw ExitCode.failure
            }
        }
    }

    /// One line per image: `TEXT<TAB>NAME[#INDEX]`, or with --json the encoded `line`.
    private func printLine(_ text: String, _ line: EncodedImage) throws {
        if json {
            Console.out(try JSON.encode(line))
        } else {
            Console.out("\(text)\t\(line.input)\(line.index.map { "#\($0)" } ?? "")")
        }
    }

    /// Decodes the listing's image files (the first `limit`) with `decoder` and hands each to
    /// `body`, reporting what was passed over and what failed; returns how many failed.
    private static func forEachFile(_ listing: ImageFiles.Listing, limit: Int?, decoder: ImageDecoder,
                                    _ body: (PixelBuffer, String) throws -> Void) -> Int {
        for skipped in listing.passedOver { Console.log("bgan-db: passed over \(skipped)") }
        var failures = 0
        for file in listing.images.prefix(limit ?? Int.max) {
            do {
                try body(try decoder.decode(contentsOf: file), file)
            } catch {
                failures += 1
                Console.log("bgan-db: skipped \(file): \(error)")
            }
        }
        return failures
    }
}

/// One line of `encode --json`: the image (a file, or a data set and the image's index in it)
/// and its code in hex, or with --real-valued the encoder's outputs `h`; PDQ adds its quality.
struct EncodedImage: Encodable {
    var input: String
    var index: Int?
    var code: String?
    var h: [Float]?
    var hidden: [Float]?
    var quality: Int?
}
