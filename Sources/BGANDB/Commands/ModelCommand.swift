import ArgumentParser
import BGAN
import Foundation

/// `bgan-db model`: what a model file holds, and its inference settings changed without training.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Show a model file, or write a copy of it with mirror averaging on or off, or with other refinement vectors.",
        subcommands: [ModelShowCommand.self, ModelMirrorAveragingCommand.self, ModelRefinementCommand.self])
}

struct ModelShowCommand: ParsableCommand {
    /// What `show` prints: the header as the file holds it (`mirrorAveraging` and
    /// `refinementVectors` appear in it only when set), with the digest, the format version and
    /// both settings spelled out beside it.
    struct Shown: Encodable {
        let digest: String
        let formatVersion: UInt32
        let mirrorAveraging: Bool
        let refinementVectors: ModelFile.RefinementVectors
        /// The pixels kept beside the layer in each refinement vector, when any.
        let refinementPixels: ModelFile.PixelSignature?
        let header: ModelFile.Header
    }

    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a model file's digest, format version and header (architecture, preprocessing, mirror averaging, refinement vectors, training settings) as JSON.",
        discussion: """
        The digest is the model's identity: a store bound to the model is stamped with it. \
        Without MODEL, the bundled model of --bits, or with --encoder photo the bundled photo model.
        """)

    @Option(help: "Code length of the bundled model to show when no MODEL is given.")
    var bits: Int = 64

    @Option(help: "photo: show the bundled photo model (bgan, the default: MODEL or the bundled model of --bits).")
    var encoder: EncoderChoice = .bgan

    @Argument(help: "Model file (default: the bundled model of --bits).")
    var model: String?

    func validate() throws {
        if encoder == .pdq { throw ValidationError("PDQ has no model file to show: it is an algorithm, named in the stores bound to it") }
        if encoder == .photo, model != nil { throw ValidationError("--encoder photo shows the bundled photo model: drop MODEL") }
    }

    func run() throws {
        try Console.reportingErrors {
            let file = try encoder.modelFile(path: model, bits: bits)
            let json = JSONEncoder()
            json.outputFormatting = [.sortedKeys, .prettyPrinted]
            let shown = Shown(digest: file.digest, formatVersion: file.header.formatVersion, mirrorAveraging: file.header.averagesMirrorImages,
                              refinementVectors: file.header.refinementVectors, refinementPixels: file.header.refinementPixels, header: file.header)
            Console.out(String(decoding: try json.encode(shown), as: UTF8.self))
        }
    }
}

/// A command that writes a copy of a model file with one inference setting changed.
protocol ModelCopyCommand: ParsableCommand {
    /// The model file to copy, when one is named.
    var modelPath: String? { get }
    /// Where to write the copy.
    var out: String { get }
    /// The model to copy.
    func source() throws -> ModelFile
}

extension ModelCopyCommand {
    func validate() throws { try refuseOverwritingTheModel() }

    func refuseOverwritingTheModel() throws {
        if let modelPath, URL(fileURLWithPath: out).standardizedFileURL == URL(fileURLWithPath: modelPath).standardizedFileURL {
            throw ValidationError("--out is the model itself; write the copy to another path")
        }
    }

    /// Writes `change` of the model to `out` and says so: `setting` in words, and `already` when
    /// the model had it (the copy is then the model, byte for byte).
    func writeCopy(setting: String, already: String, _ change: (ModelFile) throws -> ModelFile) throws {
        try Console.reportingErrors {
            let file = try source()
            let copy = try change(file)
            try Data(copy.encoded()).write(to: URL(fileURLWithPath: out), options: .atomic)
            Console.log("\(out): \(setting), digest \(copy.digest)"
                        + (copy.digest == file.digest ? " (unchanged: \(modelPath ?? "the bundled model") already \(already))" : ""))
        }
    }
}

struct ModelMirrorAveragingCommand: ModelCopyCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror-averaging",
        abstract: "Write a copy of a model whose outputs are (on) or are not (off) averaged with the mirror image's.",
        discussion: """
        With mirror averaging the encoder runs on each image and on its left-right mirror image \
        and takes the mean of the two real-valued outputs before the sign, so an image and its \
        mirror image get one code (and one refinement vector): a mirrored copy is found as the \
        original is, and nothing tells the two apart. Encoding costs twice the network's work. \
        The weights stay as they are; the copy has a new digest, so a store bound to one model \
        refuses the other (`bgan-db reencode` moves a store to it); turning the setting back \
        gives the original file, byte for byte. `bgan-db train` sets it as \
        its recipe says (docs/training.md). Files with mirror averaging are format version 2 (3 when \
        the encoder also standardises its input), which builds before it refuse.
        """)

    @Argument(help: "on or off.")
    var setting: Setting

    @Argument(help: "The model file to copy.")
    var model: String

    @Option(help: "Where to write the copy (refused if it is the model itself).")
    var out: String

    enum Setting: String, ExpressibleByArgument, CaseIterable {
        case on, off
    }

    var modelPath: String? { model }

    func source() throws -> ModelFile { try DefaultModel.load(path: model, bits: 0) }

    func run() throws {
        try writeCopy(setting: "mirror averaging \(setting.rawValue)", already: "has it \(setting.rawValue)") { $0.averagingMirrorImages(setting == .on) }
    }
}

struct ModelRefinementCommand: ModelCopyCommand {
    static let configuration = CommandConfiguration(
        commandName: "refinement",
        abstract: "Write a copy of a model whose stores refine by its outputs or by its hidden layer, with or without pixels.",
        discussion: """
        A store bound to a model keeps a vector per item and re-ranks its exact Hamming \
        candidates by the cosine of the query's vector with theirs. By default that vector is \
        the model's real-valued outputs (one byte per bit); with hidden-layer it is the hidden \
        layer under them (one byte per hidden unit: 256 for the bundled photo model, against \
        64), which tells apart look-alikes whose outputs nearly coincide. With --pixel-side S the \
        vector also keeps the encoder's standardised input averaged over S×S blocks (3·S² values \
        for colour), weighted by --pixel-weight W: its cosine is (layer's + W · pixels') / (1 + W), \
        which tells apart look-alikes whose layers coincide too (sibling tiles of one photograph \
        re-saved at a low JPEG quality). Codes stay exactly as they are. Choose it per model on that model's validation data (docs/photos.md, "Refining \
        by the hidden layer"). The copy has a new digest, so a store bound to one model refuses \
        the other (`bgan-db reencode` moves a store to it); changing the setting back gives the \
        original file, byte for byte. Files refining by the hidden layer are format version 5, \
        which builds before it refuse.
        """)

    @Argument(help: "outputs or hidden-layer.")
    var vectors: ModelFile.RefinementVectors

    @Argument(help: "The model file to copy (or --encoder photo).")
    var model: String?

    @Option(help: "photo: copy the bundled photo model instead of a MODEL file.")
    var encoder: EncoderChoice = .bgan

    var modelPath: String? { model }

    func source() throws -> ModelFile { try encoder.modelFile(path: model, bits: 0) }

    @Option(help: "Where to write the copy (refused if it is the model itself).")
    var out: String

    @Option(help: "Also keep the standardised input averaged to this many blocks a side (it must divide the input's height and width; 0, the default: no pixels).")
    var pixelSide = 0

    @Option(help: "Weight of the pixels' cosine against the layer's, with --pixel-side (positive).")
    var pixelWeight: Float = 0.5

    /// The pixel signature asked for, or nil.
    var pixels: ModelFile.PixelSignature? { pixelSide > 0 ? ModelFile.PixelSignature(side: pixelSide, weight: pixelWeight) : nil }

    func validate() throws {
        try refuseOverwritingTheModel()
        switch encoder {
        case .pdq: throw ValidationError("PDQ has no model file to copy: it is an algorithm, named in the stores bound to it")
        case .photo: try EncoderChoice.checkPhotoOptions(model: model, bits: nil)
        case .bgan: if model == nil { throw ValidationError("name the MODEL file to copy, or give --encoder photo for the bundled photo model") }
        }
        guard pixelSide >= 0, pixelWeight > 0, pixelWeight.isFinite else {
            throw ValidationError("--pixel-side must be 0 (no pixels) or more, and --pixel-weight positive; got \(pixelSide) and \(pixelWeight)")
        }
    }

    func run() throws {
        let setting = ModelFile.refinementSetting(vectors, pixels: pixels)
        try writeCopy(setting: "refinement by \(setting)", already: "refines by \(setting)") { file in
            let a = file.header.architecture
            if let pixels, !pixels.fits(height: a.height, width: a.width) {
                throw ValidationError("--pixel-side \(pixels.side) does not divide the model's \(a.height)×\(a.width) input; choose a divisor of both")
            }
            return file.refining(by: vectors, pixels: pixels)
        }
    }
}

extension ModelFile.RefinementVectors: ExpressibleByArgument {}
