import ArgumentParser
import BGAN

/// The encoders `bgan-db create` binds and `bgan-db encode` runs: a BGAN model file, the bundled
/// photo model, or PDQ.
enum EncoderChoice: String, ExpressibleByArgument, CaseIterable {
    case bgan, photo, pdq

    /// The model file a command given `--encoder`, `--model` and `--bits` runs: the bundled photo
    /// model for `photo`, otherwise the file at `path` or the bundled model of `bits`. PDQ has no
    /// model file; commands refuse or handle it before asking.
    func modelFile(path: String?, bits: Int) throws -> ModelFile {
        precondition(self != .pdq, "PDQ has no model file")
        return self == .photo ? try DefaultModel.loadPhotoModel() : try DefaultModel.load(path: path, bits: bits)
    }

    /// Refuses what `--encoder photo` leaves no room for, in the same words for every command:
    /// a model file (the photo model is bundled) and a code length other than its 64 bits.
    static func checkPhotoOptions(model: String?, bits: Int?) throws {
        guard model == nil else { throw ValidationError("--encoder photo uses the bundled photo model: drop --model") }
        if let bits, bits != DefaultModel.photoBits {
            throw ValidationError("the photo model makes \(DefaultModel.photoBits)-bit codes, not \(bits): drop --bits")
        }
    }

    /// How log lines name that model file.
    func modelName(path: String?, bits: Int) -> String {
        self == .photo ? DefaultModel.photoFileName : path ?? DefaultModel.fileName(bits: bits)
    }
}
