import ArgumentParser
import BGAN
import BGANStore
import Dispatch
import Foundation
import HammingSearch
import PixelIO

/// What refinement of searches by image costs and buys, side by side in one run: a store bound
/// to the bundled encoder holding a data set, queried by image with the plain Hamming ranking
/// and with refinement at several candidate factors and floors, each query answered every way in turn.
struct RefinementBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refine",
        abstract: "Latency, bytes per item and result quality of refined searches by image against the plain Hamming ranking.")

    @Option(help: "IDX image file stored in the store.")
    var database: String = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

    @Option(help: "IDX image file of the queries (labels beside both files give precision).")
    var queries: String = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

    @Option(help: "Queries to run.")
    var count: Int = 1000

    @Option(help: "Results per query.")
    var k: Int = 10

    @Option(help: "Candidate factors of the refined runs, comma-separated.")
    var factors: String = "1,4,16"

    @Option(help: "Fewest candidates of the refined runs, comma-separated (each factor runs with each; 1: no floor).")
    var minimums: String = "\(Refinement.Options.defaultMinimumCandidates)"

    @Option(help: "Code length: a bundled model's (32 or 64).")
    var bits: Int = 64

    @Option(help: "A model file to bind instead of the bundled one.")
    var model: String?

    @Option(help: "Where to put the temporary store (removed afterwards).")
    var scratch: String = NSTemporaryDirectory()

    func run() throws {
        let candidateFactors = factors.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 }
        let floors = minimums.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 }
        let model = try DefaultModel.load(path: model, bits: bits)
        let bits = model.header.architecture.bits
        let stored = try ImageSet(contentsOf: database)
        let asked = try ImageSet(contentsOf: queries)
        let queryLabels = try? LabelSet(contentsOf: queries.replacingOccurrences(of: "images-idx3", with: "labels-idx1")).labels
        let storedLabels = stored.labels ?? (try? LabelSet(contentsOf: database.replacingOccurrences(of: "images-idx3", with: "labels-idx1")).labels)
        let root = URL(fileURLWithPath: scratch).appendingPathComponent("bgan-bench-refine-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try Store.create(at: root, model: model)
        let units = (0..<stored.count).map { index in
            IngestionUnit(key: "\(index)", payload: storedLabels.map { [$0[index]] } ?? [], name: "#\(index)") { stored.pixelBuffer(index) }
        }
        let report = try BulkIngestion(store: store, batchSize: 512).run(units)
        let statistics = try store.statistics()
        let vectorBytes = statistics.tableBytes["refinements"] ?? 0
        print("model \(model.digest.prefix(16))… (\(bits) bits); \(report.added) images stored; k = \(k)")
        // A query's row: its code values, then the model's separate refinement vector if it keeps one.
        let rowWidth = bits + (model.header.refinementWidth ?? 0)
        print(String(format: "bytes per item: %.1f in all, %.1f of them refinement vectors (%d bytes of values each, the rest B-tree pages)",
                     statistics.bytesPerItem, Double(vectorBytes) / Double(max(statistics.items, 1)), rowWidth > bits ? rowWidth - bits : bits))

        let n = min(count, asked.count)
        let values = try store.queryRows(of: (0..<n).map(asked.pixelBuffer))
        let queryValues = (0..<n).map { Array(values[($0 * rowWidth)..<(($0 + 1) * rowWidth)]) }
        // Stored images queried with themselves: is the image itself first?
        let own = try store.queryRows(of: (0..<n).map { stored.pixelBuffer($0 * (stored.count / n)) })
        let ownValues = (0..<n).map { Array(own[($0 * rowWidth)..<(($0 + 1) * rowWidth)]) }

        struct Way { var name: String; var options: Refinement.Options?; var seconds = 0.0; var candidates = 0; var precision = 0.0; var selfFirst = 0 }
        var ways = [Way(name: "Hamming only", options: nil)] + candidateFactors.flatMap { factor in
            floors.map { Way(name: "refined, factor \(factor), ≥ \($0)", options: Refinement.Options(candidateFactor: factor, minimumCandidates: $0)) }
        }
        func answer(_ way: Way, _ query: [Float]) throws -> StoreSearchResult {
            if let options = way.options {
                return try store.search(realValues: query, k: k, refinement: options)
            }
            return try store.search(code: BinaryCode(signsOf: Array(query.prefix(bits))), k: k)
        }
        for index in 0..<n {
            for w in ways.indices {
                let started = DispatchTime.now().uptimeNanoseconds
                let result = try answer(ways[w], queryValues[index])
                ways[w].seconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                ways[w].candidates += result.statistics.refinedCandidates
                if let queryLabels {
                    ways[w].precision += Double(result.hits.filter { $0.payload == [queryLabels[index]] }.count) / Double(max(result.hits.count, 1))
                }
                let ownResult = try answer(ways[w], ownValues[index])
                if ownResult.hits.first?.key == "\(index * (stored.count / n))" { ways[w].selfFirst += 1 }
            }
        }
        print("\nway                          ms/query  ratio  candidates  precision@\(k)  stored image first")
        for way in ways {
            print(way.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                  + String(format: " %8.4f  %5.2f  %10.1f  %12.3f  %18.3f", way.seconds * 1000 / Double(n), way.seconds / ways[0].seconds,
                           Double(way.candidates) / Double(n), way.precision / Double(n), Double(way.selfFirst) / Double(n)))
        }
    }
}
