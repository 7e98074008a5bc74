/// The family of errors one module throws; its codes are declared as static members of
/// `ErrorCode<Domain>` in that module.
public protocol ErrorDomain: Sendable {
    /// Short lower-case name of the module, e.g. "store".
    static var name: String { get }
}

/// A category of failure within a domain. Extensible: a module declares its codes as static
/// values in an `extension ErrorCode where Domain == …`; compare with `==`.
public struct ErrorCode<Domain: ErrorDomain>: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }
}

/// The error type of every module: ``ChainedError`` for one ``ErrorDomain``. Two errors are
/// equal when their codes and messages are (causes and locations are not compared).
public struct LibraryError<Domain: ErrorDomain>: ChainedError, Equatable, Sendable {
    public typealias Code = ErrorCode<Domain>

    public let code: Code
    public let message: String
    public let cause: (any Error)?
    public let location: ErrorLocation

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = ErrorLocation(file: file, line: line)
    }

    public var domain: String { Domain.name }
    public var codeName: String { code.name }

    public static func == (left: Self, right: Self) -> Bool {
        left.code == right.code && left.message == right.message
    }
}
