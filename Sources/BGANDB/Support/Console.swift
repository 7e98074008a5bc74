import ArgumentParser
import Basics
import Foundation

/// Where bgan-db writes: results to stdout, everything else to stderr.
enum Console {
    /// Writes a line of results.
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Writes a log line.
    static func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Whether stderr is a terminal (progress then redraws one line).
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1

    /// Runs a command body, turning any error into a message on stderr and exit status 1;
    /// usage errors go to ArgumentParser, which prints them with the usage line and status 64.
    /// A library error is printed with its chain of causes and the command that acts on its
    /// remedy (``CommandLineRemedy``); `BGAN_DB_TRACE=1` adds where each was raised.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch let usage as ValidationError {
            throw usage
        } catch let error as any ChainedError {
            log("bgan-db: error: \(error)")
            if let hint = CommandLineRemedy.hint(for: error) { log("bgan-db: hint: \(hint)") }
            if ProcessInfo.processInfo.environment["BGAN_DB_TRACE"] == "1" {
                for case let link as any ChainedError in error.chain { log("bgan-db: raised at \(link.location) (\(link.domain).\(link.codeName))") }
            }
            throw ExitCode.failure
        } catch {
            log("bgan-db: error: \(error)")
            throw ExitCode.failure
        }
    }
}

/// A progress line on stderr: redrawn in place on a terminal, printed every few seconds otherwise.
struct ProgressReporter {
    let label: String
    let total: Int
    /// Work already done when this run began (a resumed run), left out of the rate.
    let startingAt: Int
    private let start = Date()
    private var lastReport = Date()

    init(label: String, total: Int, startingAt: Int = 0) {
        self.label = label
        self.total = total
        self.startingAt = startingAt
    }

    /// Reports `done` of `total`, with `detail` after the counts.
    mutating func update(_ done: Int, detail: String = "", force: Bool = false) {
        let now = Date()
        let interval = Console.stderrIsTerminal ? 0.2 : 5
        guard force || now.timeIntervalSince(lastReport) >= interval else { return }
        lastReport = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done - startingAt) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        // Numbers only through String(format:): a Swift String passed for %@ can crash on Linux.
        let percent = String(format: "%.1f", total > 0 ? 100 * Double(done) / Double(total) : 100)
        let text = "\(label) \(done)/\(total) (\(percent)%) \(String(format: "%.0f", rate))/s ETA \(Self.duration(remaining))"
            + (detail.isEmpty ? "" : " " + detail)
        if Console.stderrIsTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            if force { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            Console.log(text)
        }
    }

    /// `75` → `1m15s`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? "\(total / 3600)h\(total % 3600 / 60)m" : total >= 60 ? "\(total / 60)m\(total % 60)s" : "\(total)s"
    }
}

/// JSON for line-oriented output (``JSONText``, shared with the library's exports).
typealias JSON = JSONText
