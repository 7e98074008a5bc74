@_exported import struct LMDBStorage.StorageError
@_exported import struct HammingSearch.HammingError

/// An error from the store: a matchable ``code`` and a ``message`` that says what went wrong
/// and how to fix it. Failures of the storage engine arrive as `StorageError`, bad codes and
/// search arguments as `HammingError`.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The directory holds no store, or something that is not one.
        public static let notAStore = Code("notAStore")
        /// A store already exists where one was to be created.
        public static let alreadyExists = Code("alreadyExists")
        /// The store was written by a format version this program does not read.
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// A code's length differs from the store's.
        public static let codeLengthMismatch = Code("codeLengthMismatch")
        /// An insert named a key the store holds already.
        public static let keyExists = Code("keyExists")
        /// A key that is empty, too long or not UTF-8.
        public static let invalidKey = Code("invalidKey")
        /// A payload above the limit.
        public static let payloadTooLarge = Code("payloadTooLarge")
        /// Every item id was used.
        public static let idsExhausted = Code("idsExhausted")
        /// The store's records contradict each other; `verify` tells more.
        public static let corrupted = Code("corrupted")
        /// An argument out of range.
        public static let invalidArgument = Code("invalidArgument")
        /// The store holds bare codes and no model to encode images with.
        public static let noModel = Code("noModel")
        /// A model other than the store's was given.
        public static let modelMismatch = Code("modelMismatch")
        /// This user may not read or write the store's files.
        public static let permissionDenied = Code("permissionDenied")
        /// The file system holding the store has too little free space for what was asked.
        public static let diskFull = Code("diskFull")
        /// A long operation cannot finish yet; what it did is kept and running it again goes on.
        public static let incomplete = Code("incomplete")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
