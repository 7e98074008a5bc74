@_exported import Basics

/// The errors of pixel and data-set input.
public enum DatasetErrorDomain: ErrorDomain { public static let name = "dataset" }

/// A data set or image file that cannot be read: what is wrong, where, and how to fix it (``ChainedError``).
public typealias DatasetError = LibraryError<DatasetErrorDomain>

extension ErrorCode where Domain == DatasetErrorDomain {
    /// The file cannot be opened or read.
    public static let unreadable = Self("unreadable")
    /// The bytes are not the format they claim to be, or are cut short.
    public static let malformed = Self("malformed")
    /// A well-formed file of a kind this reader does not handle.
    public static let unsupported = Self("unsupported")
    /// Pixels that do not describe an image (sizes, strides, byte counts).
    public static let invalidImage = Self("invalidImage")
    /// An image larger than the decoding limits allow (a decompression bomb, or a limit to raise).
    public static let tooLarge = Self("tooLarge")
}
