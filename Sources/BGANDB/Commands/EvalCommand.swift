import ArgumentParser
import BGAN
import NeuralNet
import BGANStore
import Evaluation
import Foundation
import PixelIO

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure retrieval quality on labelled images: mAP, precision, PR curve, with LSH and ITQ baselines.",
        discussion: """
        The database and the queries are IDX image files (MNIST / Fashion-MNIST, plain or .gz), \
        whose labels are the files named with "labels" in place of "images" unless given, or \
        CIFAR-10 binary batches, which hold their labels. Items \
        with the query's label are relevant. Ranking is by Hamming distance, ties by database \
        order. Fashion-MNIST protocol: database = the 60,000 training images, queries = the 10,000 \
        test images. The baselines are computed in the same run, on the same data and code length.
        """)

    @Option(help: "IDX image file of the database (e.g. train-images-idx3-ubyte.gz).")
    var database: String

    @Option(help: "IDX image file of the queries (e.g. t10k-images-idx3-ubyte.gz).")
    var queries: String

    @Option(help: "IDX label file of the database (default: derived from --database).")
    var databaseLabels: String?

    @Option(help: "IDX label file of the queries (default: derived from --queries).")
    var queryLabels: String?

    @Option(help: "Code lengths, comma-separated.")
    var bits: String = "16,32,64,128"

    @Option(help: "A BGAN model file to evaluate beside the baselines (its code length is used alone).")
    var model: String?

    @Option(help: "Seed of the random parts (LSH hyperplanes, ITQ's first rotation).")
    var seed: UInt64 = 2026

    @Option(help: "Write the precision-recall curves as SVG to this file.")
    var prCurve: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        try Console.reportingErrors {
            let loaded = try model.map { try DefaultModel.load(path: $0, bits: 0) }
            let lengths = try (loaded.map { String($0.header.architecture.bits) } ?? bits).split(separator: ",").map { text -> Int in
                guard let value = Int(text), value >= 8, value <= 1024, value % 8 == 0 else {
                    throw ValidationError("--bits takes multiples of 8 from 8 to 1024, not '\(text)'")
                }
                return value
            }
            let (train, trainLabels) = try Self.load(database, labels: databaseLabels)
            let (test, testLabels) = try Self.load(queries, labels: queryLabels)
            guard train.channels == test.channels, train.height == test.height, train.width == test.width else {
                throw DatasetError(.unsupported, "database images are \(train.channels)×\(train.height)×\(train.width) but queries are \(test.channels)×\(test.height)×\(test.width)")
            }
            let dimension = train.valuesPerImage
            let trainFeatures = train.scaledPixels()
            let testFeatures = test.scaledPixels()
            Console.log("database \(train.count) images, \(test.count) queries, \(dimension) values per image; ranking by Hamming distance, ties by database order")
            var rows: [(method: String, bits: Int, report: RetrievalReport)] = []
            if let loaded {
                let encoder = try ImageEncoder(model: loaded)
                guard encoder.valuesPerImage == dimension else {
                    throw DatasetError(.unsupported, "\(model!) takes \(encoder.valuesPerImage) values per image; the data has \(dimension)")
                }
                let database = PackedCodes(signsOf: try encoder.signs(of: trainFeatures), bitCount: encoder.bits)
                let queries = PackedCodes(signsOf: try encoder.signs(of: testFeatures), bitCount: encoder.bits)
                rows.append(("BGAN", loaded.header.architecture.bits,
                             RetrievalEvaluation.evaluate(database: database, databaseLabels: trainLabels, queries: queries, queryLabels: testLabels)))
                Console.log("model \(model!) (digest \(loaded.digest.prefix(16))…)")
            }
            for length in lengths {
                let started = Date()
                let lsh = LinearHash.lsh(training: trainFeatures, dimension: dimension, bits: length, seed: seed)
                let itq = try LinearHash.itq(training: trainFeatures, dimension: dimension, bits: length, seed: seed)
                for (name, hash) in [("LSH", lsh), ("ITQ", itq)] {
                    let report = RetrievalEvaluation.evaluate(database: hash.encode(trainFeatures), databaseLabels: trainLabels,
                                                              queries: hash.encode(testFeatures), queryLabels: testLabels)
                    rows.append((name, length, report))
                }
                Console.log(String(format: "%d bits done in %.1fs", length, Date().timeIntervalSince(started)))
            }
            if json {
                for row in rows {
                    Console.out(JSON.object([("method", JSON.string(row.method)), ("bits", "\(row.bits)"), ("report", try JSON.encode(row.report))]))
                }
            } else {
                Console.out("method\tbits\tmAP@all\tmAP@1000\tP@100\tP@r<=2")
                for row in rows {
                    let r = row.report
                    Console.out(String(format: "%@\t%d\t%.3f\t%.3f\t%.3f\t%.3f", row.method, row.bits, r.meanAveragePrecision,
                                       r.meanAveragePrecisionAtK, r.precisionAtDepth, r.precisionWithinRadius))
                }
            }
            if let prCurve {
                let chart = LineChart(xLabel: "recall (Hamming radius growing)", yLabel: "precision", xRange: 0...1, yRange: 0...1,
                                      series: rows.map { ("\($0.method) \($0.bits) bits", $0.report.curve.map { ($0.recall, $0.precision) }) })
                try chart.svg().write(toFile: prCurve, atomically: true, encoding: .utf8)
                Console.log("wrote the precision-recall curves to \(prCurve)")
            }
        }
    }

    static func load(_ path: String, labels: String?) throws -> (ImageSet, [UInt8]) {
        let images = try ImageSet(contentsOf: path)
        if labels == nil, let own = images.labels { return (images, own) }
        let labelPath = labels ?? Self.labelPath(for: path)
        let labelSet = try LabelSet(contentsOf: labelPath)
        guard labelSet.labels.count == images.count else {
            throw DatasetError(.malformed, "\(labelPath) has \(labelSet.labels.count) labels for the \(images.count) images of \(path)")
        }
        return (images, labelSet.labels)
    }

    /// The labels of the data set at `path`: those a CIFAR batch holds, else the IDX label file
    /// beside it when there is one of the right length; nil otherwise.
    static func labels(of set: ImageSet, at path: String) -> [UInt8]? {
        set.labels ?? (try? LabelSet(contentsOf: labelPath(for: path)).labels).flatMap { $0.count == set.count ? $0 : nil }
    }

    /// `…/train-images-idx3-ubyte.gz` → `…/train-labels-idx1-ubyte.gz`.
    static func labelPath(for imagePath: String) -> String {
        let url = URL(fileURLWithPath: imagePath)
        let name = url.lastPathComponent.replacingOccurrences(of: "images", with: "labels").replacingOccurrences(of: "idx3", with: "idx1")
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }
}
