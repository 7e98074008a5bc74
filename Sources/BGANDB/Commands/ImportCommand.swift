import ArgumentParser
import BGANStore
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bulk-load codes from a NumPy .npy file (uint8, shape [N, bits/8]).",
        discussion: """
        Rows are codes in the byte layout of numpy.packbits, faiss and Milvus: bit i is bit \
        7 - i % 8 of byte i / 8. Keys come from --keys (one per line) or default to the row \
        numbers 0 … N-1. Existing keys are replaced. The index is rebuilt once at the end.
        """)

    @OptionGroup var location: StoreLocation

    @Option(help: "The .npy file of codes.")
    var codes: String

    @Option(help: "A text file with one key per row of the codes (default: row numbers).")
    var keys: String?

    @Option(help: "Rows per transaction.")
    var batch: Int = 200_000

    @OptionGroup var durability: Durability

    func run() throws {
        try Console.reportingErrors {
            let matrix = try NumPyByteMatrix(contentsOf: codes)
            // This process only loads: write pages straight into the map, once the disk is known
            // to have room for them (a full disk would otherwise kill it with SIGBUS).
            let needed = matrix.rows * (matrix.columns * 3 + 120)
            let available = try Store.freeBytes(at: location.store)
            guard available > needed else {
                throw StoreError(.invalidArgument, String(format: "importing %d codes needs about %.1f GiB free next to %@, and only %.1f GiB are; free some space or import in parts",
                                                          matrix.rows, Double(needed) / 1_073_741_824, location.store, Double(available) / 1_073_741_824))
            }
            let store = try location.open(writeMap: true, sync: durability.mode)
            let keyList = try keys.map { try Self.readKeys($0, expected: matrix.rows) }
            var progress = ProgressReporter(label: "import", total: matrix.rows)
            let summary = try store.importCodes(matrix, keys: keyList, batchSize: batch) { done in
                progress.update(done, force: done == matrix.rows)
            }
            Console.log(String(format: "imported %d codes (%d new, %d replaced) in %.2fs: %.0f codes/s (writing %.2fs, index %.2fs, the rest committing to disk)",
                               summary.rows, summary.inserted, summary.updated, summary.totalSeconds,
                               Double(summary.rows) / max(summary.totalSeconds, 1e-9), summary.loadSeconds, summary.indexSeconds))
        }
    }

    /// The lines of a keys file (LF or CRLF; a final line break is optional).
    static func readKeys(_ path: String) throws -> [String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw StoreError(.invalidArgument, "cannot read the keys file \(path) as UTF-8 text: \(error.localizedDescription)")
        }
        var keys = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        if keys.last == "" { keys.removeLast() }
        return keys
    }

    static func readKeys(_ path: String, expected: Int) throws -> [String] {
        let keys = try readKeys(path)
        guard keys.count == expected else {
            throw StoreError(.invalidArgument, "\(path) has \(keys.count) keys but the codes file has \(expected) rows; give one key per line")
        }
        return keys
    }
}
