/// The one shape of every error BGANStore's modules throw: a ``code`` to match on, a
/// ``message`` that says what went wrong and how to fix it in the library's own terms, the
/// underlying ``cause`` kept (not flattened into the text), and the source ``location`` that
/// raised it. Modeled on `StorageError` and swift-nio's `FileSystemError`.
///
/// Each module has one error type, ``LibraryError`` specialised by its domain (`StoreError`,
/// `StorageError`, `HammingError`, `NeuralNetError`, `DatasetError`, `BGANError`), so a caller
/// matches one module's failures by type and code:
///
/// ```swift
/// do { try store.insert(key: k, code: c) }
/// catch let error as StoreError where error.code == .keyExists { … }
/// catch let error as any ChainedError { print(error.domain, error.codeName, error.rootCause) }
/// ```
///
/// An application's own encoder or image source may throw its own type conforming to this
/// protocol; the CLI and the logs treat it like the library's.
public protocol ChainedError: Error, CustomStringConvertible {
    /// The module the error comes from ("store", "storage", "hamming", "neural-net", "dataset", "bgan").
    var domain: String { get }
    /// The name of the error's code, stable across releases (for logs and scripts).
    var codeName: String { get }
    /// What went wrong, where, and how to fix it.
    var message: String { get }
    /// The error that caused this one, if any: a lower layer's error or an operating-system status.
    var cause: (any Error)? { get }
    /// Where in the source the error was raised.
    var location: ErrorLocation { get }
}

extension ChainedError {
    /// This error and the chain of its causes, outermost first.
    public var chain: [any Error] {
        var errors: [any Error] = [self]
        var next = cause
        while let error = next, errors.count < 64 {
            errors.append(error)
            next = (error as? any ChainedError)?.cause
        }
        return errors
    }

    /// The innermost cause (this error itself when it has none).
    public var rootCause: any Error { chain.last ?? self }

    /// Whether this error or any of its causes is a `T` that satisfies `predicate`.
    public func hasCause<T: Error>(_ type: T.Type, where predicate: (T) -> Bool = { _ in true }) -> Bool {
        chain.contains { ($0 as? T).map(predicate) ?? false }
    }

    /// `code: message`, then each cause in turn after "← ".
    public var description: String {
        var text = "\(codeName): \(message)"
        if let cause { text += " ← \(cause)" }
        return text
    }
}

/// Where an error was raised: a file and line of the sources (`#fileID`, `#line` of the `throw`).
public struct ErrorLocation: Hashable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int

    public init(file: String = #fileID, line: Int = #line) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}
