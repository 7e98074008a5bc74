import ArgumentParser
import BGAN
import BGANStore
import Foundation
import PixelIO

struct ReencodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reencode",
        abstract: "Move a store to another encoder model, resumably.",
        discussion: """
        Every item is encoded again with the new model, from the thumbnail the store keeps of \
        it, or from the original images given with --from (the same sources, giving the same \
        keys, as at ingestion; for stores without thumbnails, or to encode from full size). \
        The new codes fill a store beside the old one (STORE.reencode); when every item is \
        there the two are swapped, so the store at STORE is always whole. Ctrl-C or a crash \
        loses nothing: run the same command again to go on. Stop the store's writers first: a \
        write during the re-encoding is detected and refused before the swap.
        """)

    @OptionGroup var location: StoreLocation

    @Option(help: "The new model file.")
    var model: String?

    @Option(help: "Bind the bundled default model of this code length (32 or 64) instead of --model.")
    var bits: Int?

    @Option(help: "photo: bind the bundled photo model instead of --model or --bits (bgan, the default: one of those).")
    var encoder: EncoderChoice = .bgan

    @Option(parsing: .upToNextOption, help: "Original images to encode from (files, folders, IDX, CIFAR), matched to items by key.")
    var from: [String] = []

    @Option(help: "Images per transaction.")
    var batch: Int = 512

    @Flag(help: "Swap even if some items have no image, leaving them out (they are listed).")
    var dropMissing = false

    @Flag(help: "Keep the old store in STORE.reencode-old after the swap.")
    var keepOld = false

    func validate() throws {
        switch encoder {
        case .pdq: throw ValidationError("reencode moves a store to another model file, and PDQ has none: create a store with --encoder pdq and ingest the originals into it")
        case .photo: try EncoderChoice.checkPhotoOptions(model: model, bits: bits)
        case .bgan: guard (model == nil) != (bits == nil) else { throw ValidationError("give the new model: --model FILE, --bits 32|64 or --encoder photo") }
        }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        try Console.reportingErrors {
            let newModel = try encoder.modelFile(path: model, bits: bits ?? 0)
            var reencoding = Reencoding(path: location.store, model: newModel)
            reencoding.batchSize = batch
            reencoding.dropMissing = dropMissing
            reencoding.keepOld = keepOld
            if !from.isEmpty {
                var passedOver: [SkippedInput] = []
                let units = try ImageSources(from).units(payload: .none, rejected: &passedOver)
                let loads = Dictionary(units.map { ($0.key, $0.load) }, uniquingKeysWith: { first, _ in first })
                Console.log("--from: \(loads.count) images\(passedOver.isEmpty ? "" : ", \(passedOver.count) files passed over")")
                reencoding.imageSource = { loads[$0] }
            }
            let a = newModel.header.architecture
            Console.log("re-encoding \(location.store) with model \(newModel.digest.prefix(16))… (\(a.bits) bits, \(a.channels)×\(a.height)×\(a.width) input) into \(reencoding.workPath)")
            let interrupt = InterruptFlag()
            defer { interrupt.restore() }
            var progress: ProgressReporter?
            let report = try reencoding.run(shouldStop: { interrupt.isSet }) { report in
                if progress == nil { progress = ProgressReporter(label: "reencode", total: report.total, startingAt: report.alreadyEncoded) }
                progress?.update(report.encoded + report.alreadyEncoded + report.missing.count)
            }
            progress?.update(report.encoded + report.alreadyEncoded + report.missing.count, force: true)
            if report.stopped {
                Console.log("interrupted: \(report.encoded + report.alreadyEncoded) of \(report.total) items encoded and kept in \(reencoding.workPath); run the same command again to go on")
                throw ExitCode(130)
            }
            if report.wasBoundAlready {
                Console.log("\(location.store) is bound to model \(newModel.digest.prefix(16))… already: nothing to do")
                return
            }
            for skipped in report.missing.prefix(20) { Console.log("  left out \(skipped)") }
            if report.missing.count > 20 { Console.log("  … and \(report.missing.count - 20) more left out") }
            Console.log("re-encoded \(location.store): \(report.encoded) items encoded now, \(report.alreadyEncoded) in an earlier run, \(report.missing.count) left out; it is bound to model \(newModel.digest.prefix(16))…\(keepOld ? "; the old store is in \(reencoding.oldPath)" : "")")
        }
    }
}
