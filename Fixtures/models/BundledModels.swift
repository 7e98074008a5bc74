import Foundation

/// Where the package's trained default encoders are at run time, found without SwiftPM's
/// generated `Bundle.module`, which stops the process with `fatalError` when the resource
/// bundle is missing (an executable copied away from its build folder, for example).
public enum BundledModels {
    /// The folders to look in, in order: the resource bundle beside the executable (or the
    /// test runner), then this source folder (a package built from source on this machine).
    public static var searchDirectories: [URL] {
        var candidates: [URL] = []
        let roots = [Bundle.main.bundleURL, Bundle.main.executableURL?.deletingLastPathComponent()].compactMap { $0 }
        for root in roots {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
            // SwiftPM names the bundle <package>_<target>.resources; the package part depends on
            // how the package was added, so match on the target.
            for entry in entries.sorted() where entry.hasSuffix("_BundledModels.resources") {
                candidates.append(root.appendingPathComponent(entry))
            }
        }
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent())
        return candidates
    }
}
