import ArgumentParser
import BGANStore
import Foundation
import HammingSearch
import PixelIO

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Find the nearest items (-k) or every item within a radius (--radius) of images or codes.",
        discussion: """
        Queries are image files (PNG, JPEG, PGM, PPM, by content), encoded with the store's \
        bound model, or codes (--code, --codes). Results are exact, ordered by Hamming distance, \
        then by insertion order. With --codes, \
        each row of a .npy file is a query; with --json each query prints one line \
        {"query": i, "neighbors": [{"key": …, "distance": d}, …], "stats": {…}}, then a summary \
        line with the total search time (excluding loading).
        """)

    @OptionGroup var location: StoreLocation

    @Argument(help: "Image files to query with (the store must be bound to a model).")
    var images: [String] = []

    @Option(help: "One query code as hex.")
    var code: String?

    @Option(help: "A .npy file of query codes (uint8, [N, bits/8]).")
    var codes: String?

    @Option(name: .short, help: "Number of neighbours (default 10).")
    var k: Int?

    @Option(help: "Hamming radius: every item within it.")
    var radius: Int?

    @Option(help: "auto (the planner chooses per query), mih or scan.")
    var method: SearchMethod = .automatic

    @Flag(help: "Print JSON lines.")
    var json = false

    func validate() throws {
        guard [code != nil, codes != nil, !images.isEmpty].filter({ $0 }).count == 1 else {
            throw ValidationError("give image files, or --code HEX, or --codes FILE.npy (exactly one kind of query)")
        }
        guard k == nil || radius == nil else { throw ValidationError("give -k K or --radius R, not both") }
        if let k, k < 1 { throw ValidationError("-k must be at least 1") }
        if let radius, radius < 0 { throw ValidationError("--radius must be at least 0") }
    }

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open(readOnly: true)
            var queries: [BinaryCode] = []
            if !images.isEmpty {
                let decoder = ImageDecoder()
                queries = try store.codes(of: try images.map { try decoder.decode(contentsOf: $0) })
            } else if let code {
                queries = [try BinaryCode(hex: code)]
            } else if let codes {
                let matrix = try NumPyByteMatrix(contentsOf: codes)
                queries = try (0..<matrix.rows).map { try BinaryCode(bytes: matrix.row($0)) }
            }
            var seconds = 0.0
            var paths: [String: Int] = [:]
            for (index, query) in queries.enumerated() {
                let started = DispatchTime.now().uptimeNanoseconds
                let result = try radius.map { try store.search(code: query, radius: $0, method: method) }
                    ?? store.search(code: query, k: k ?? 10, method: method)
                seconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                paths[result.statistics.path.rawValue, default: 0] += 1
                if json {
                    Console.out(Self.jsonLine(index: index, result: result))
                } else {
                    if !images.isEmpty, images.count > 1 { Console.out("# \(images[index])") }
                    Self.printTable(index: queries.count > 1 && images.isEmpty ? index : nil, result: result)
                }
            }
            if codes != nil || json {
                let summary = JSON.object([
                    ("queries", "\(queries.count)"),
                    ("search_seconds", String(format: "%.6f", seconds)),
                    ("ms_per_query", String(format: "%.4f", queries.isEmpty ? 0 : seconds * 1000 / Double(queries.count))),
                    ("paths", JSON.object(paths.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") })),
                ])
                if json { Console.out(JSON.object([("summary", summary)])) } else { Console.log("summary: \(summary)") }
            }
        }
    }

    static func jsonLine(index: Int, result: StoreSearchResult) -> String {
        let neighbors = result.hits.map { hit in
            JSON.object([("key", JSON.string(hit.key)), ("distance", "\(hit.distance)")]
                        + (hit.payload.isEmpty ? [] : [("payload", JSON.string(payloadText(hit.payload)))]))
        }
        return JSON.object([("query", "\(index)"), ("neighbors", JSON.array(neighbors)), ("stats", statisticsJSON(result.statistics))])
    }

    static func statisticsJSON(_ s: SearchStatistics) -> String {
        JSON.object([("path", JSON.string(s.path.rawValue)), ("buckets_probed", "\(s.bucketsProbed)"),
                     ("nonempty_buckets", "\(s.nonemptyBuckets)"), ("candidates", "\(s.candidates)"),
                     ("distances_computed", "\(s.distancesComputed)"), ("substring_radius", "\(s.substringRadius)")])
    }

    static func printTable(index: Int?, result: StoreSearchResult) {
        if let index { Console.out("# query \(index)") }
        Console.out("rank\tdistance\tkey\tpayload")
        for (rank, hit) in result.hits.enumerated() {
            Console.out("\(rank + 1)\t\(hit.distance)\t\(hit.key)\t\(payloadText(hit.payload))")
        }
        let s = result.statistics
        Console.log("\(result.hits.count) results via \(s.path.rawValue): \(s.bucketsProbed) buckets probed, \(s.candidates) candidates, \(s.distancesComputed) distances computed")
    }
}
