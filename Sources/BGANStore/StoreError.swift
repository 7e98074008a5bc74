@_exported import Basics
@_exported import typealias LMDBStorage.StorageError
@_exported import typealias HammingSearch.HammingError

/// The errors of the store itself.
public enum StoreErrorDomain: ErrorDomain { public static let name = "store" }

/// An error from the store (`ChainedError`): a matchable code, a message that says what went
/// wrong and how to fix it, and the error underneath as its cause. Failures of the storage
/// engine arrive as `StorageError`, bad codes and search arguments as `HammingError`, model
/// files as `BGANError`, unreadable images as `DatasetError` — or wrapped as the cause of a
/// `StoreError` that says what the store was doing.
public typealias StoreError = LibraryError<StoreErrorDomain>

extension ErrorCode where Domain == StoreErrorDomain {
    /// The directory holds no store, or something that is not one.
    public static let notAStore = Self("notAStore")
    /// A store already exists where one was to be created.
    public static let alreadyExists = Self("alreadyExists")
    /// The store was written by a format version this program does not read.
    public static let unsupportedVersion = Self("unsupportedVersion")
    /// A code's length differs from the store's.
    public static let codeLengthMismatch = Self("codeLengthMismatch")
    /// An insert named a key the store holds already.
    public static let keyExists = Self("keyExists")
    /// A key that is empty, too long or not UTF-8.
    public static let invalidKey = Self("invalidKey")
    /// A payload above the limit.
    public static let payloadTooLarge = Self("payloadTooLarge")
    /// Every item id was used.
    public static let idsExhausted = Self("idsExhausted")
    /// The store's records contradict each other; `verify` tells more.
    public static let corrupted = Self("corrupted")
    /// An argument out of range.
    public static let invalidArgument = Self("invalidArgument")
    /// The store holds bare codes and no model to encode images with.
    public static let noModel = Self("noModel")
    /// A model other than the store's was given.
    public static let modelMismatch = Self("modelMismatch")
    /// The store is bound to an application's encoder that the process did not pass in
    /// ``StoreOptions/encoders``.
    public static let encoderUnavailable = Self("encoderUnavailable")
    /// This user may not read or write the store's files.
    public static let permissionDenied = Self("permissionDenied")
    /// The file system holding the store has too little free space for what was asked.
    public static let diskFull = Self("diskFull")
    /// A long operation cannot finish yet; what it did is kept and running it again goes on.
    public static let incomplete = Self("incomplete")
    /// The store was re-encoded and replaced at its path while this handle kept the old one
    /// open; writes through the old handle are refused instead of lost. Reopen the path.
    public static let retired = Self("retired")
    /// The changes since a cursor cannot be given: the store keeps no change log, the log was
    /// trimmed past the cursor, the store was re-encoded since, or the cursor is not this
    /// store's. Export a full snapshot and sync from its cursor.
    public static let changesUnavailable = Self("changesUnavailable")
}
