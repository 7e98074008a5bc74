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
        as numbers 0-255: Milvus JSON import) and "payload", beside the item's "id" (never \
        handed out twice). Items come in insertion order. The export prints the store's change \
        cursor when it keeps a change log (`bgan-db changes`); --since CURSOR then writes only \
        what changed after it, as ndjson lines with "op": "remove" (id and key of an item the \
        consumer holds; these come first) or "op": "upsert" (the item as it is now), and prints \
        the cursor to pass next time.
        """)

    @OptionGroup var location: StoreLocation

    @Option(help: "npy or ndjson.")
    var format: ExportFormat

    @Argument(help: "Output file.")
    var output: String

    @Option(help: "Write only the changes after this change cursor (ndjson only): the cursor an earlier export printed.")
    var since: UInt64?

    @Flag(help: "Print the report as JSON on standard output (items, removed, cursor, path).")
    var json = false

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open(readOnly: true)
            var progress = ProgressReporter(label: "export", total: try store.count())
            let report = try store.export(to: output, format: format, since: since) { progress.update($0) }
            progress.update(report.items, force: true)
            if json {
                Console.out(try JSON.encode(report))
                return
            }
            if let since {
                Console.log("wrote \(report.removed) removals and \(report.items) upserts since cursor \(since) to \(report.path)")
            } else if let keysPath = report.keysPath {
                Console.log("wrote \(report.items) codes to \(report.path) and their keys to \(keysPath)")
            } else {
                Console.log("wrote \(report.items) items to \(report.path)")
            }
            if let cursor = report.cursor { Console.log("change cursor \(cursor): sync from here with --since \(cursor)") }
        }
    }
}

extension ExportFormat: ExpressibleByArgument {}
