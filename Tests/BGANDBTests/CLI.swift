import Foundation

/// Runs the `bgan-db` built next to the test bundle, as a script would: arguments in, stdout,
/// stderr and exit status out; optionally as another user (through `setpriv`, for permission
/// tests run as root).
enum CLI {
    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The bgan-db built next to this test bundle.
    static let executable = built("bgan-db")
    /// The bgan-bench built next to this test bundle.
    static let bench = built("bgan-bench")

    static func built(_ name: String) -> URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent(name)
    }

    /// The unprivileged user permission tests run as when the tests run as root.
    static let nobody: UInt32 = 65534

    static func run(_ arguments: [String], asUser user: UInt32? = nil, program: URL = executable,
                    environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", program.path] + arguments
        } else {
            process.executableURL = program
            process.arguments = arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes drain at once: a child that fills one (say, sanitizer reports on stderr)
        // while this thread waits for the other would otherwise never finish.
        nonisolated(unsafe) var stderr = Data()
        let drained = DispatchGroup()
        DispatchQueue.global().async(group: drained) { stderr = err.fileHandleForReading.readDataToEndOfFile() }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }
}
