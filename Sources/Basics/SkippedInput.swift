/// An input a run did not take, and why: a file passed over while listing a folder, an image
/// an ingestion rejected, an item a re-encoding left out. Reports keep them in order as they
/// were met; encoded, each is `{"name": …, "reason": …}`.
public struct SkippedInput: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The file path, unit name or item key.
    public var name: String
    /// Why it was skipped, in words a user can act on.
    public var reason: String

    public init(_ name: String, _ reason: String) {
        self.name = name
        self.reason = reason
    }

    public var description: String { "\(name): \(reason)" }
}
