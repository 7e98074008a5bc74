@_exported import Basics

/// The errors of the Hamming layer: a code, query or index argument it cannot use.
public enum HammingErrorDomain: ErrorDomain { public static let name = "hamming" }

/// A code, query or index argument the Hamming layer cannot use (``ChainedError``).
public typealias HammingError = LibraryError<HammingErrorDomain>

extension ErrorCode where Domain == HammingErrorDomain {
    /// A code length outside 8…1024 or not a multiple of 8.
    public static let invalidLength = Self("invalidLength")
    /// Two codes (or a code and an index) of different lengths.
    public static let lengthMismatch = Self("lengthMismatch")
    /// Text that is not a hexadecimal code.
    public static let invalidHex = Self("invalidHex")
    /// A substring split that does not fit the code length.
    public static let invalidLayout = Self("invalidLayout")
    /// An argument out of its range (k < 1, radius < 0…).
    public static let invalidArgument = Self("invalidArgument")
}
