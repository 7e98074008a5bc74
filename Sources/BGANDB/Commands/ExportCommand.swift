import ArgumentParser
import BGANStore
import Foundation

struct ExportCommand: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case npy, ndjson
    }

    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every item's code for a distributed engine or NumPy.",
        discussion: """
        npy: OUT is a uint8 array [N, bits/8] (faiss binary indexes, Milvus BINARY_VECTOR, \
        numpy.unpackbits), and OUT without .npy plus .keys.txt lists the keys, one per line, \
        in the same order. ndjson: one object per line with "key", "code_hex", "code_u8" (the \
        bytes, as Milvus JSON import and Elasticsearch/OpenSearch `bit` vectors take them) and \
        "payload". Items come in insertion order.
        """)

    @OptionGroup var location: StoreLocation

    @Option(help: "npy or ndjson.")
    var format: Format

    @Argument(help: "Output file.")
    var output: String

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open(readOnly: true)
            let total = try store.count()
            var progress = ProgressReporter(label: "export", total: total)
            guard FileManager.default.createFile(atPath: output, contents: nil) else {
                throw StoreError(.invalidArgument, "cannot create \(output)")
            }
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            defer { try? file.close() }
            var written = 0
            switch format {
            case .npy:
                let keysPath = (output.hasSuffix(".npy") ? String(output.dropLast(4)) : output) + ".keys.txt"
                var codes = Data()
                var keys = Data()
                try store.forEachItem { item in
                    guard !item.key.contains(where: { $0.isNewline }) else {
                        throw StoreError(.invalidArgument, "key '\(item.key.prefix(60))' holds a line break, which a keys file cannot; use --format ndjson")
                    }
                    codes.append(contentsOf: item.code.bytes)
                    keys.append(contentsOf: Array((item.key + "\n").utf8))
                    written += 1
                    progress.update(written)
                }
                try file.write(contentsOf: NumPyByteMatrix(rows: written, columns: store.bitCount / 8, bytes: codes).encoded())
                try keys.write(to: URL(fileURLWithPath: keysPath))
                Console.log("wrote \(written) codes to \(output) and their keys to \(keysPath)")
            case .ndjson:
                var buffer = Data()
                try store.forEachItem { item in
                    var fields = [("key", JSON.string(item.key)), ("code_hex", JSON.string(item.code.hex)),
                                  ("code_u8", JSON.array(item.code.bytes.map(String.init)))]
                    if !item.payload.isEmpty { fields.append(("payload", JSON.string(payloadText(item.payload)))) }
                    buffer.append(contentsOf: Array((JSON.object(fields) + "\n").utf8))
                    if buffer.count > 1 << 20 {
                        try file.write(contentsOf: buffer)
                        buffer.removeAll(keepingCapacity: true)
                    }
                    written += 1
                    progress.update(written)
                }
                try file.write(contentsOf: buffer)
                Console.log("wrote \(written) items to \(output)")
            }
            progress.update(written, force: true)
        }
    }
}
