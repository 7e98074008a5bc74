/// An error from the neural-network engine: a matchable ``code`` and a message naming the layer,
/// what was expected and what came.
public struct NeuralNetError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable {
        public let name: String
        public init(_ name: String) { self.name = name }
        /// A tensor of the wrong shape reached a layer or a loss.
        public static let shapeMismatch = Code("shapeMismatch")
        /// `backward` was called without a `forward` to go back through.
        public static let noForward = Code("noForward")
        /// A parameter file that is truncated, altered, of another version or another network.
        public static let invalidParameterFile = Code("invalidParameterFile")
        /// An argument out of range.
        public static let invalidArgument = Code("invalidArgument")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }

    static func shape(_ layer: String, expected: String, got: [Int]) -> NeuralNetError {
        NeuralNetError(.shapeMismatch, "\(layer) expects \(expected), got \(Tensor.describe(got))")
    }
}
