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

    /// How log lines name that model file.
    func modelName(path: String?, bits: Int) -> String {
        self == .photo ? DefaultModel.photoFileName : path ?? DefaultModel.fileName(bits: bits)
    }
}
