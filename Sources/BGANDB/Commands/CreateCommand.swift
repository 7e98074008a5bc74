import ArgumentParser
import BGAN
import BGANStore

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an empty store, bound to an encoder (a model, the bundled photo model, or PDQ) or for bare codes.",
        discussion: """
        With --bits 32 or 64 the store is bound to the bundled default encoder of that length \
        (Fashion-MNIST, 28×28 gray); --model FILE binds another model (its code length wins); \
        --bare, or a length without a bundled model, makes a store of bare codes. A bound store \
        keeps its model inside and is stamped with the model's digest: images are encoded with \
        it, and another model is refused. It also keeps a small PNG of every image it stores \
        (--thumbnail-size, 0 for none): `query --sheet` shows them, `reencode` re-encodes from them. \
        --encoder photo binds the bundled photo model (64 bits from 32×32 RGB; copies of \
        photographs, cropped, tilted, mirrored or re-toned ones included: docs/photos.md). \
        --encoder pdq binds Meta's PDQ photo hash instead (256 bits, no model): for finding \
        copies of photographs (re-saved, resized, brightened), not for similar-looking images.
        """)

    @Argument(help: "Directory of the new store (created if missing; must not hold a store).")
    var store: String

    @Option(help: "Code length in bits: a multiple of 8 from 8 to 1024 (default: the model's).")
    var bits: Int?

    @Option(help: "Bind this model file instead of the bundled default.")
    var model: String?

    @Flag(help: "Store bare codes: bind no model.")
    var bare = false

    @Option(help: "bgan (a model: --model FILE or the bundled one of --bits), photo (the bundled photo model, 64 bits) or pdq (PDQ photo hashes, 256 bits, no model).")
    var encoder: EncoderChoice = .bgan

    @Option(help: "Longest side in pixels of the thumbnail kept with each image (0: keep none; smaller images are kept whole).")
    var thumbnailSize: Int = Store.defaultThumbnailSide

    @Option(help: "Multi-index tables m (default: about bits / log2 N, re-chosen as the store grows).")
    var substrings: Int?

    @Flag(help: "Keep a change log from the start, so that `export --since CURSOR` can sync a replica or a distributed engine (see `bgan-db changes`).")
    var changeLog = false

    func validate() throws {
        if encoder == .pdq {
            guard model == nil && !bare else { throw ValidationError("--encoder pdq binds PDQ: drop --model and --bare") }
            guard bits == nil || bits == PDQEncoder().bitCount else { throw ValidationError("PDQ makes \(PDQEncoder().bitCount)-bit codes: drop --bits") }
        } else if encoder == .photo {
            guard !bare else { throw ValidationError("--encoder photo binds the bundled photo model: drop --bare") }
            try EncoderChoice.checkPhotoOptions(model: model, bits: bits)
        } else {
            guard bits != nil || model != nil else { throw ValidationError("give --bits B, --model FILE, or both (or --encoder photo or pdq); or let `bgan-db ingest STORE IMAGES --create` choose by the images") }
        }
        guard !(bare && model != nil) else { throw ValidationError("--bare and --model exclude each other") }
        guard (0...Store.maximumThumbnailSide).contains(thumbnailSize) else {
            throw ValidationError("--thumbnail-size must be 0...\(Store.maximumThumbnailSide) pixels")
        }
    }

    func run() throws {
        try Console.reportingErrors {
            var bound: ModelFile?
            if encoder == .photo {
                bound = try DefaultModel.loadPhotoModel()
            } else if let model {
                bound = try DefaultModel.load(path: model, bits: 0)
            } else if !bare, let bits, DefaultModel.bundledBits.contains(bits) {
                bound = try DefaultModel.load(bits: bits)
            }
            if let bound, let bits, bound.header.architecture.bits != bits {
                throw ValidationError("the model makes \(bound.header.architecture.bits)-bit codes, not \(bits); drop --bits or choose another model")
            }
            let created: Store
            if encoder == .pdq {
                created = try Store.create(at: store, encoder: PDQEncoder(), substrings: substrings, thumbnailSide: thumbnailSize)
                Console.log("created \(created.path): \(created.bitCount)-bit codes, bound to the encoder \(PDQEncoder.identity), \(substrings.map { "\($0) substrings" } ?? "automatic substrings"), \(thumbnailSize > 0 ? "thumbnails up to \(thumbnailSize) px" : "no thumbnails")")
            } else if let bound {
                created = try Store.create(at: store, model: bound, substrings: substrings, thumbnailSide: thumbnailSize)
                let p = bound.header.preprocessing
                Console.log("created \(created.path): \(created.bitCount)-bit codes, bound to model \(bound.digest.prefix(16))… (\(p.channels)×\(p.height)×\(p.width) input), \(substrings.map { "\($0) substrings" } ?? "automatic substrings"), \(thumbnailSize > 0 ? "thumbnails up to \(thumbnailSize) px" : "no thumbnails")")
            } else {
                created = try Store.create(at: store, bitCount: bits!, substrings: substrings)
                Console.log("created \(created.path): bare \(created.bitCount)-bit codes (no model), \(substrings.map { "\($0) substrings" } ?? "automatic substrings")")
            }
            if changeLog {
                try created.enableChangeLog()
                Console.log("keeping a change log (on-disk format 3): sync consumers with `bgan-db export \(created.path) --format ndjson --since CURSOR OUT`")
            }
        }
    }
}

