/// A data set or image file that cannot be read: what is wrong, where, and how to fix it.
public struct DatasetError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable {
        public let name: String
        public init(_ name: String) { self.name = name }
        /// The file cannot be opened or read.
        public static let unreadable = Code("unreadable")
        /// The bytes are not the format they claim to be, or are cut short.
        public static let malformed = Code("malformed")
        /// A well-formed file of a kind this reader does not handle.
        public static let unsupported = Code("unsupported")
        /// Pixels that do not describe an image (sizes, strides, byte counts).
        public static let invalidImage = Code("invalidImage")
        /// An image larger than the decoding limits allow (a decompression bomb, or a limit to raise).
        public static let tooLarge = Code("tooLarge")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }
}
