import ArgumentParser
import BGAN
import Foundation

/// `bgan-db model`: what a model file holds, and its inference settings changed without training.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Show a model file, or write a copy of it with mirror averaging on or off.",
        subcommands: [ModelShowCommand.self, ModelMirrorAveragingCommand.self])
}

struct ModelShowCommand: ParsableCommand {
    /// What `show` prints: the header as the file holds it (`mirrorAveraging` appears in it only
    /// when set), with the digest, the format version and the setting spelled out beside it.
    struct Shown: Encodable {
        let digest: String
        let formatVersion: UInt32
        let mirrorAveraging: Bool
        let header: ModelFile.Header
    }

    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a model file's digest, format version and header (architecture, preprocessing, mirror averaging, training settings) as JSON.",
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
                              header: file.header)
            Console.out(String(decoding: try json.encode(shown), as: UTF8.self))
        }
    }
}

struct ModelMirrorAveragingCommand: ParsableCommand {
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

    func validate() throws {
        if URL(fileURLWithPath: out).standardizedFileURL == URL(fileURLWithPath: model).standardizedFileURL {
            throw ValidationError("--out is the model itself; write the copy to another path")
        }
    }

    func run() throws {
        try Console.reportingErrors {
            let file = try DefaultModel.load(path: model, bits: 0)
            let copy = file.averagingMirrorImages(setting == .on)
            try Data(copy.encoded()).write(to: URL(fileURLWithPath: out), options: .atomic)
            Console.log("\(out): mirror averaging \(setting.rawValue), digest \(copy.digest)"
                        + (copy.digest == file.digest ? " (unchanged: \(model) already has it \(setting.rawValue))" : ""))
        }
    }
}
