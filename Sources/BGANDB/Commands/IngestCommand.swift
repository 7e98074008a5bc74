import ArgumentParser
import BGAN
import BGANStore
import Foundation
import PixelIO

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Encode images with the store's encoder and store them, in bulk, resumably.",
        discussion: """
        SOURCE is an image file (PNG, JPEG, WebP, BMP, PGM, PPM, by content), a folder (its image files, \
        recursively, symbolic links not followed), an IDX image file or a CIFAR-10 batch. Keys are \
        paths relative to the folder (a single file: its name) or FILE#INDEX for data sets. \
        Batches are decoded on every core, encoded through OpenBLAS and written in one \
        transaction each: an interrupted run leaves whole batches, and running it again skips \
        the keys already stored. Files that cannot be read or decoded are skipped and listed at \
        the end (and in --rejects FILE); the exit status is then 1 unless --keep-going. \
        With --create, a path that holds no store gets one first, bound to the bundled encoder \
        that suits the first image that decodes: the photo model for colour images, the 64-bit \
        Fashion-MNIST model for gray ones (create it with `bgan-db create` to choose otherwise).
        """)

    @OptionGroup var location: StoreLocation

    @Argument(help: "Image files, folders, IDX image files or CIFAR-10 batches.")
    var sources: [String]

    @Option(help: "Payload of each item: auto (the label for labelled data sets, the file's path for files), label, path or none.")
    var payload: ImageSources.PayloadChoice = .auto

    @Option(help: "Images per transaction.")
    var batch: Int = 512

    @Option(help: "Ingest at most N images (the first N of the sources, in order).")
    var limit: Int?

    @Option(help: "Refuse to run unless the store is bound to this model file.")
    var model: String?

    @Option(help: "Also write the rejected files as TSV (file, reason).")
    var rejects: String?

    @Flag(help: "Exit 0 even when some files were rejected.")
    var keepGoing = false

    @Flag(help: "Create the store first if the path holds none, bound to --model FILE if given, else to the photo model for colour images and the 64-bit Fashion-MNIST model for gray ones (judged by the first image).")
    var create = false

    @OptionGroup var durability: Durability

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        HeapTuning.keepImageSizedBlocks()
        try Console.reportingErrors {
            let created = create ? try createIfMissing() : false
            let store = try location.open(sync: durability.mode)
            let encoder = try store.encoder()
            if let model { try store.requireModel(try DefaultModel.load(path: model, bits: 0)) }
            var rejected: [SkippedInput] = []
            var units = try ImageSources(sources, decoder: try store.imageDecoder()).units(payload: payload, rejected: &rejected)
            if let limit { units = Array(units.prefix(limit)) }
            let thumbnails = try store.thumbnailSide()
            Console.log("ingesting \(units.count) images into \(store.path) (\(Self.describe(encoder)), \(thumbnails > 0 ? "thumbnails up to \(thumbnails) px" : "no thumbnails"))")
            // A store just made for these images was bound to suit them: no need to look again.
            if !created, let note = Self.colourNote(encoder: encoder, first: units.first) { Console.log(note) }

            let interrupt = InterruptFlag()
            defer { interrupt.restore() }
            var progress = ProgressReporter(label: "ingest", total: units.count)
            let report = try BulkIngestion(store: store, batchSize: batch).run(units, shouldStop: { interrupt.isSet }) {
                progress.update($0.done, detail: "(\($0.added) new, \($0.rejected.count) rejected)")
            }
            progress.update(report.done, force: true)
            Console.log(String(format: "ingested %d new images, %d already stored, %d rejected, in %.1fs (%.0f images/s; the writer waited %.1fs for decoding)",
                               report.added, report.alreadyStored, report.rejected.count + rejected.count, report.seconds,
                               Double(report.added) / max(report.seconds, 1e-9), report.secondsWaitingForInput))
            try self.report(rejected + report.rejected)
            if report.stopped {
                Console.log("interrupted: \(units.count - report.done) images not ingested yet; run the same command again to finish (stored images are skipped)")
                throw ExitCode(130)
            }
            if !(rejected + report.rejected).isEmpty && !keepGoing { throw ExitCode.failure }
        }
    }

    /// With `--create`, a store at a path that holds none, bound to `--model` or else to the
    /// bundled model that suits the sources' first image that decodes (`DefaultModel.suited(to:)`);
    /// closed again before the ingest opens it. Whether it made one.
    private func createIfMissing() throws -> Bool {
        guard !FileManager.default.fileExists(atPath: location.store + "/data.mdb") else { return false }
        let bound: ModelFile, chosen: String
        if let model {
            (bound, chosen) = (try DefaultModel.load(path: model, bits: 0), "bound to model")
        } else {
            var ignored: [SkippedInput] = []
            let units = try ImageSources(sources, decoder: ImageDecoder(minimumSide: Store.defaultThumbnailSide)).units(payload: .none, rejected: &ignored)
            guard let (name, image) = units.lazy.compactMap({ unit in (try? unit.loadDecoded()).map { (unit.name, $0.thumbnailSource ?? $0.image) } }).first else {
                throw CommandFailure("--create chooses the store's encoder from the first image, and \(sources.joined(separator: ", ")) holds none that decodes; check the sources, or create the store with `bgan-db create`")
            }
            bound = try DefaultModel.suited(to: image)
            chosen = "for \(image.hasColour ? "colour" : "gray") images like \(name), bound to the bundled \(image.hasColour ? "photo" : "Fashion-MNIST") model"
        }
        let store: Store
        do {
            store = try Store.create(at: location.store, model: bound)
        } catch let error as StoreError where error.code == .alreadyExists {
            // Another process (a parallel ingest with --create) made it first: ingest into its store.
            Console.log("\(location.store) was created meanwhile by another process; ingesting into that store")
            return false
        }
        let p = bound.header.preprocessing
        Console.log("created \(store.path): \(store.bitCount)-bit codes, \(chosen) \(bound.digest.prefix(16))… (\(p.channels)×\(p.height)×\(p.width) input), "
                    + "thumbnails up to \(Store.defaultThumbnailSide) px\(self.model == nil ? "" : " (--model)")")
        return true
    }

    /// A note when a store whose model sees gray images is given colour ones (judged by the first
    /// image, decoded once more to look): every photo would be brought to the model's small gray
    /// input without a word otherwise.
    static func colourNote(encoder: any ImageCodeEncoder, first: IngestionUnit?) -> String? {
        guard let model = (encoder as? ModelEncoder)?.model, model.header.preprocessing.channels == 1,
              let first, let decoded = try? first.loadDecoded() else { return nil }
        guard (decoded.thumbnailSource ?? decoded.image).hasColour else { return nil }
        let p = model.header.preprocessing
        return "note: \(first.name) is a colour image, and this store's model sees every image as \(p.width)×\(p.height) gray; "
            + "for photographs, create the store with --encoder photo (the bundled photo model) or --encoder pdq"
    }

    /// "model 1a2b…, input 1×28×28", or the encoder's identity.
    static func describe(_ encoder: any ImageCodeEncoder) -> String {
        guard let model = (encoder as? ModelEncoder)?.model else { return "encoder \(encoder.identity)" }
        let p = model.header.preprocessing
        return "model \(model.digest.prefix(16))…, input \(p.channels)×\(p.height)×\(p.width)"
    }

    private func report(_ rejected: [SkippedInput]) throws {
        guard !rejected.isEmpty else { return }
        Console.log("rejected (\(rejected.count)):")
        for skipped in rejected.prefix(50) { Console.log("  \(skipped)") }
        if rejected.count > 50 { Console.log("  … and \(rejected.count - 50) more\(rejects == nil ? "; --rejects FILE lists them all" : "")") }
        if let rejects {
            let text = rejected.map { "\($0.name)\t\($0.reason.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n") + "\n"
            try text.write(toFile: rejects, atomically: true, encoding: .utf8)
            Console.log("the rejects are listed in \(rejects)")
        }
    }
}
extension ImageSources.PayloadChoice: ExpressibleByArgument {}
