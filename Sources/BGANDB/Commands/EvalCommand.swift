import ArgumentParser
import BGAN
import NeuralNet
import Basics
import BGANStore
import HammingSearch
import Evaluation
import Foundation
import PixelIO

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure retrieval quality on labelled images: tie-aware precision and mAP, code statistics, near-duplicate recall, beside baselines.",
        discussion: """
        The database and the queries are IDX image files (MNIST / Fashion-MNIST, plain or .gz), \
        whose labels are the files named with "labels" in place of "images" unless given, or \
        CIFAR-10 binary batches, which hold their labels. Items with the query's label are \
        relevant. Ranking is by Hamming distance; every figure is given both with ties in \
        database order and in expectation over a random order of ties (tie-aware), which is what \
        a user of coarse codes sees. Code statistics show how the database codes spread (distinct \
        codes, entropy, bit balance, the buckets of the multi-index tables a store would build). \
        Near-duplicates: --duplicates database images are edited (identity, 1-px shift, \
        brightness ×0.85, noise σ 8, JPEG q50, 10% crop, flip) and queried; recall@1 and @10 of \
        the original, tie-aware, and for a model also after the store's refinement by the \
        encoder's real values. Baselines in the same run, on the same data and code length: LSH \
        and ITQ on pixels, ITQ on a --features-model's real-valued outputs, and k-means cluster \
        ids (a code that only says which cluster: a metric on which it scores like a learned \
        hash measures clustering). Fashion-MNIST protocol: database = the 60,000 training \
        images, queries = the 10,000 test images. Choose settings with --validation N (the last \
        N database images become the queries, the rest the database; train with --limit on the \
        rest) and touch the test queries once per final recipe.
        """)

    @Option(help: "IDX image file of the database (e.g. train-images-idx3-ubyte.gz).")
    var database: String

    @Option(help: "IDX image file of the queries (e.g. t10k-images-idx3-ubyte.gz); not with --validation.")
    var queries: String?

    @Option(help: "Hold the last N database images out as the queries (validation protocol) instead of --queries.")
    var validation: Int?

    @Option(help: "IDX label file of the database (default: derived from --database).")
    var databaseLabels: String?

    @Option(help: "IDX label file of the queries (default: derived from --queries).")
    var queryLabels: String?

    @Option(help: "Code lengths, comma-separated (with --model: the model's alone).")
    var bits: String = "16,32,64,128"

    @Option(help: "A BGAN model file to evaluate beside the baselines.")
    var model: String?

    @Option(help: "A model file (e.g. written by pretrain) whose real-valued outputs feed the ITQ-on-features and k-means baselines.")
    var featuresModel: String?

    @Option(help: "Clusters of the k-means cluster-id baseline (0: none).")
    var clusters: Int = 16

    @Option(help: "Database images whose edited copies are queried (0: no near-duplicate figures).")
    var duplicates: Int = 1000

    @Option(help: "Refinement: exact Hamming candidates per result (the store's default unless given).")
    var refineCandidates: Int = Refinement.Options().candidateFactor

    @Option(help: "Refinement: the fewest exact Hamming candidates reordered, however few results (the store's default unless given).")
    var refineMinimum: Int = Refinement.Options.defaultMinimumCandidates

    @Option(help: "Seed of the random parts (LSH hyperplanes, ITQ's first rotation, k-means, duplicates, noise).")
    var seed: UInt64 = 2026

    @Option(help: "Write the precision-recall curves as SVG to this file.")
    var prCurve: String?

    @Flag(help: "Print JSON: one object per method.")
    var json = false

    func validate() throws {
        guard (queries == nil) != (validation == nil) else {
            throw ValidationError("give either --queries FILE (test protocol) or --validation N (held-out training images), not both or neither")
        }
        if let validation, validation < 1 { throw ValidationError("--validation takes a positive number of images") }
        guard clusters >= 0, duplicates >= 0, refineCandidates >= 1, refineMinimum >= 1 else {
            throw ValidationError("--clusters and --duplicates take 0 or more, --refine-candidates and --refine-minimum 1 or more")
        }
    }

    func run() throws {
        try Console.reportingErrors {
            let loaded = try model.map { try DefaultModel.load(path: $0, bits: 0) }
            let featureEncoder = try featuresModel.map { try ImageEncoder(model: try DefaultModel.load(path: $0, bits: 0)) }
            let lengths = try (loaded.map { String($0.header.architecture.bits) } ?? bits).split(separator: ",").map { text -> Int in
                guard let value = Int(text), value >= 8, value <= 1024, value % 8 == 0 else {
                    throw ValidationError("--bits takes multiples of 8 from 8 to 1024, not '\(text)'")
                }
                return value
            }
            let setup = try loadProtocol()
            let dimension = setup.database.valuesPerImage
            let bganEncoder = try loaded.map { try ImageEncoder(model: $0) }
            for encoder in [bganEncoder, featureEncoder].compactMap({ $0 }) where encoder.valuesPerImage != dimension {
                throw DatasetError(.unsupported, "a model given takes \(encoder.valuesPerImage) values per image; the data has \(dimension)")
            }
            Console.log("database \(setup.database.count) images, \(setup.queries.count) queries\(validation == nil ? "" : " (validation: the last \(setup.queries.count) training images)"), \(setup.duplicateCount) near-duplicate originals, \(dimension) values per image")
            var methods: [HashingMethod] = []
            if let loaded, let encoder = bganEncoder {
                // Refined as a store bound to the model refines (`ModelFile.Header.refinementWidth`).
                methods.append(HashingMethod(name: "BGAN", bitCount: encoder.bits,
                                             encode: { PackedCodes(signsOf: try encoder.signs(of: $0), bitCount: encoder.bits) },
                                             realValues: { try encoder.outputsAndRefinementVectors(of: $0) },
                                             refinementWidth: encoder.refinementWidth))
                Console.log("model \(model!) (digest \(loaded.digest.prefix(16))…)")
            }
            let features = featureEncoder.map { encoder in FeatureOutputs(dimension: encoder.bits) { try encoder.realValuedOutputs(of: $0) } }
            let baselines = BaselineLineup(lengths: lengths, clusters: clusters, seed: seed, features: features)
            methods += try baselines.methods(training: setup.database.scaledPixels(), dimension: dimension)
            var reports: [MethodReport] = []
            for method in methods {
                let started = Date()
                reports.append(try EvaluationRun.evaluate(method, under: setup))
                Console.log(String(format: "%@ %d bits done in %.1fs", method.name, method.bitCount, Date().timeIntervalSince(started)))
            }
            if json {
                for report in reports { Console.out(try JSON.encode(report)) }
            } else {
                printTables(reports)
            }
            if let prCurve {
                let chart = LineChart(xLabel: "recall (Hamming radius growing)", yLabel: "precision", xRange: 0...1, yRange: 0...1,
                                      series: reports.map { ("\($0.method) \($0.bits) bits", $0.retrieval.curve.map { ($0.recall, $0.precision) }) })
                try chart.svg().write(toFile: prCurve, atomically: true, encoding: .utf8)
                Console.log("wrote the precision-recall curves to \(prCurve)")
            }
        }
    }

    /// The database, the queries and their labels, by --queries or by --validation.
    func loadProtocol() throws -> EvaluationProtocol {
        let all = try LabelledImages(contentsOf: database, labels: databaseLabels)
        let options = Refinement.Options(candidateFactor: refineCandidates, minimumCandidates: refineMinimum)
        if let validation {
            return try .validation(holdingOut: validation, of: all, duplicateCount: duplicates, seed: seed, refinement: options)
        }
        return try .test(database: all, queries: try LabelledImages(contentsOf: queries!, labels: queryLabels),
                         duplicateCount: duplicates, seed: seed, refinement: options)
    }

    /// Three tables: ranking, codes, near-duplicates.
    func printTables(_ reports: [MethodReport]) {
        func f(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
        let depth = reports.first?.retrieval.shortDepth ?? 10, wide = reports.first?.retrieval.precisionDepth ?? 100
        Console.out("# ranking (tie-aware: expected over random orders of ties; db order: ties by database order)")
        Console.out("method\tbits\tP@\(depth)\tP@\(wide)\tmAP@1000\tmAP@all\tP@\(depth) refined\tmAP@all db order\tmAP@1000 db order\tP@\(wide) db order\tP@r<=2")
        for report in reports {
            let r = report.retrieval, t = r.tieAware
            Console.out("\(report.method)\t\(report.bits)\t\(f(t.precisionAtShortDepth))\t\(f(t.precisionAtDepth))\t\(f(t.meanAveragePrecisionAtK))\t\(f(t.meanAveragePrecision))\t\(f(report.refinedPrecisionAtShortDepth))\t\(f(r.meanAveragePrecision))\t\(f(r.meanAveragePrecisionAtK))\t\(f(r.precisionAtDepth))\t\(f(r.precisionWithinRadius))")
        }
        Console.out("# database codes (buckets: the multi-index tables a store of these codes builds; largest and 99th percentile over tables)")
        Console.out("method\tbits\tdistinct\tdistinct %\tentropy\tworst bit\tmean bit\ttables\tlargest bucket\tp99 bucket")
        for report in reports {
            let c = report.codes
            Console.out("\(report.method)\t\(report.bits)\t\(c.distinctCodes)\t\(String(format: "%.1f", 100 * Double(c.distinctCodes) / Double(max(c.count, 1))))\t\(String(format: "%.2f", c.entropy))\t\(f(c.worstBitImbalance))\t\(f(c.meanBitImbalance))\t\(c.substrings.map { String($0.bits) }.joined(separator: "+"))\t\(c.substrings.map(\.largestBucket).max() ?? 0)\t\(c.substrings.map(\.percentile99Bucket).max() ?? 0)")
        }
        guard reports.contains(where: { !$0.nearDuplicates.isEmpty }) else { return }
        Console.out("# near-duplicates: recall@1 / recall@10 of the original (tie-aware); refined rows: the store's refinement of a 10-nearest query; mirrors matched: the copy's mirror image searched too (matchingMirrorImages)")
        Console.out((["method", "bits"] + Perturbation.allCases.map(\.rawValue)).joined(separator: "\t"))
        for report in reports {
            Console.out(([report.method, String(report.bits)] + report.nearDuplicates.map { "\(f($0.recallAt1)) / \(f($0.recallAt10))" }).joined(separator: "\t"))
            if report.nearDuplicates.contains(where: { $0.refinedRecallAt1 != nil }) {
                Console.out(([report.method + " refined", String(report.bits)] + report.nearDuplicates.map { "\(f($0.refinedRecallAt1)) / \(f($0.refinedRecallAt10))" }).joined(separator: "\t"))
            }
            if report.nearDuplicates.contains(where: { $0.mirrorMatchedRecallAt1 != nil }) {
                Console.out(([report.method + " refined, mirrors matched", String(report.bits)] + report.nearDuplicates.map { "\(f($0.mirrorMatchedRecallAt1)) / \(f($0.mirrorMatchedRecallAt10))" }).joined(separator: "\t"))
            }
        }
    }
}
