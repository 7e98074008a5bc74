import ArgumentParser
import BGANStore
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every item's code for a distributed engine or NumPy.",
        discussion: """
        npy: OUT is a uint8 array [N, bits/8] (faiss binary indexes, Milvus BINARY_VECTOR, \
        numpy.unpackbits), and OUT without .npy plus .keys.txt lists the keys, one per line, \
        in the same order. ndjson: one object per line with "key", "code_hex" (the bytes as \
        hex: ClickHouse's unhex, Elasticsearch/OpenSearch `bit` vectors), "code_u8" (the bytes \
        as numbers 0-255: Milvus JSON import) and "payload". Items come in insertion order.
        """)

    @OptionGroup var location: StoreLocation

    @Option(help: "npy or ndjson.")
    var format: ExportFormat

    @Argument(help: "Output file.")
    var output: String

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open(readOnly: true)
            var progress = ProgressReporter(label: "export", total: try store.count())
            let report = try store.export(to: output, format: format) { progress.update($0) }
            progress.update(report.items, force: true)
            if let keysPath = report.keysPath {
                Console.log("wrote \(report.items) codes to \(report.path) and their keys to \(keysPath)")
            } else {
                Console.log("wrote \(report.items) items to \(report.path)")
            }
        }
    }
}

extension ExportFormat: ExpressibleByArgument {}
