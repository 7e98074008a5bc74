import Foundation

/// A fresh directory under the system temp folder, removed when the value is released.
public final class TemporaryDirectory {
    public let path: String

    public init(_ label: String = "lmdb") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/bganstore-test-\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory (not created).
    public func sub(_ name: String) -> String { "\(path)/\(name)" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
