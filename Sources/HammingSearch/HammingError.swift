/// A code, query or index argument the Hamming layer cannot use.
public struct HammingError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of problem this is; compare against the static values.
    public struct Code: Hashable, Sendable {
        public let name: String
        public init(_ name: String) { self.name = name }
        /// A code length outside 8…1024 or not a multiple of 8.
        public static let invalidLength = Code("invalidLength")
        /// Two codes (or a code and an index) of different lengths.
        public static let lengthMismatch = Code("lengthMismatch")
        /// Text that is not a hexadecimal code.
        public static let invalidHex = Code("invalidHex")
        /// A substring split that does not fit the code length.
        public static let invalidLayout = Code("invalidLayout")
        /// An argument out of its range (k < 1, radius < 0…).
        public static let invalidArgument = Code("invalidArgument")
    }

    public let code: Code
    /// What is wrong and how to fix it.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }
}
