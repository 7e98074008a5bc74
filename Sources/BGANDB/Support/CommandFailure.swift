import Basics

/// A failure of a command at run time that is not a library error and not bad usage: a file
/// named on the command line that cannot be read, a folder with no image, a model that does
/// not fit the data. Exit status 1, without the usage text (which `ValidationError` prints
/// with status 64 and is kept for arguments that contradict each other or their ranges).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What a command-line user types to act on a library error's remedy: the library's messages
/// speak of its own API (`Store.verify()`), the CLI adds the command that does it.
enum CommandLineRemedy {
    /// The hint for the first error of `error`'s chain that has one.
    static func hint(for error: any ChainedError) -> String? {
        for link in error.chain {
            guard let link = link as? any ChainedError, let hint = hints[Key(domain: link.domain, code: link.codeName)] else { continue }
            return hint
        }
        return nil
    }

    private struct Key: Hashable {
        let domain: String
        let code: String
    }

    private static let hints: [Key: String] = [
        Key(domain: "store", code: "corrupted"):
            "`bgan-db verify STORE` lists every problem; `bgan-db reindex STORE` rebuilds the multi-index; damaged records need a copy made by `bgan-db backup`",
        Key(domain: "store", code: "notAStore"):
            "`bgan-db create STORE --bits 64` makes a store bound to the bundled encoder (`--encoder photo` the photo model); `bgan-db ingest STORE IMAGES --create` makes one that suits the images",
        Key(domain: "store", code: "encoderUnavailable"): "the store is bound to an application's own encoder: only that application (which passes the encoder when it opens the store) can encode images for it; `bgan-db` can still search it by code (`query --code HEX`)",
        Key(domain: "store", code: "noModel"): "`bgan-db create STORE --bits 64` binds the bundled encoder, `--model FILE` another; a bare store takes `--code HEX`",
        Key(domain: "store", code: "modelMismatch"): "`bgan-db reencode STORE --model FILE` moves a store to another model",
        Key(domain: "store", code: "unsupportedVersion"): "run `bgan-db export` of the release that wrote the store, then `bgan-db import`",
        Key(domain: "store", code: "codeLengthMismatch"): "`bgan-db stats STORE` shows the store's code length",
        Key(domain: "store", code: "incomplete"): "`bgan-db reencode STORE … --from SOURCE` gives the original images; `--drop-missing` leaves items without one out",
        Key(domain: "storage", code: "readersFull"): "`bgan-db stats STORE` clears the reader slots of dead processes",
        Key(domain: "storage", code: "mapFull"): "`bgan-db backup STORE COPY --compact` writes a compacted copy",
        Key(domain: "storage", code: "corrupted"): "restore the store from a copy made by `bgan-db backup`",
        Key(domain: "bgan", code: "otherTrainingImages"):
            "resume with the same --data, --limit and --geometry as the run that wrote the checkpoint, or remove the checkpoint to start again",
        Key(domain: "bgan", code: "invalidCheckpoint"): "remove the checkpoint file to start the run again",
        Key(domain: "bgan", code: "modelNotFound"): "give --model FILE, or set BGAN_MODEL_DIR to the folder that holds fashion-mnist-BITS.bganmodel",
    ]
}
