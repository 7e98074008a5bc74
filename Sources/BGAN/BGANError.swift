import NeuralNet

/// The errors of the BGAN method: model files, training settings, checkpoints, default models.
public enum BGANErrorDomain: ErrorDomain { public static let name = "bgan" }

/// An error from BGAN's model files, training runs and checkpoints (``ChainedError``). Failures
/// of the engine underneath arrive as its cause (a `NeuralNetError`).
public typealias BGANError = LibraryError<BGANErrorDomain>

extension ErrorCode where Domain == BGANErrorDomain {
    /// A model file that is truncated, altered, of another format version, or inconsistent.
    public static let invalidModelFile = Self("invalidModelFile")
    /// A training checkpoint that is truncated, altered or does not fit the run.
    public static let invalidCheckpoint = Self("invalidCheckpoint")
    /// A checkpoint made from other training images than the ones given to resume it.
    public static let otherTrainingImages = Self("otherTrainingImages")
    /// No default model of the requested code length, or an unreadable model file.
    public static let modelNotFound = Self("modelNotFound")
    /// An architecture, setting or input out of range.
    public static let invalidArgument = Self("invalidArgument")
}
