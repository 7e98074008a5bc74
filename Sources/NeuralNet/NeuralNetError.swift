@_exported import Basics

/// The errors of the neural-network engine.
public enum NeuralNetErrorDomain: ErrorDomain { public static let name = "neural-net" }

/// An error from the neural-network engine: a matchable code and a message naming the layer,
/// what was expected and what came (``ChainedError``).
public typealias NeuralNetError = LibraryError<NeuralNetErrorDomain>

extension ErrorCode where Domain == NeuralNetErrorDomain {
    /// A tensor of the wrong shape reached a layer or a loss.
    public static let shapeMismatch = Self("shapeMismatch")
    /// `backward` was called without a `forward` to go back through.
    public static let noForward = Self("noForward")
    /// A parameter file that is truncated, altered, of another version or another network.
    public static let invalidParameterFile = Self("invalidParameterFile")
    /// An argument out of range.
    public static let invalidArgument = Self("invalidArgument")
}

extension LibraryError where Domain == NeuralNetErrorDomain {
    static func shape(_ layer: String, expected: String, got: [Int], file: String = #fileID, line: Int = #line) -> NeuralNetError {
        NeuralNetError(.shapeMismatch, "\(layer) expects \(expected), got \(Tensor.describe(got))", file: file, line: line)
    }
}
