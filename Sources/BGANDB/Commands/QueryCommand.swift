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
        Queries are image files (PNG, JPEG, WebP, BMP, PGM, PPM, by content), encoded with the store's \
        encoder (its model, or PDQ), or codes (--code, --codes). The Hamming search is exact. Results of code \
        queries are ordered by Hamming distance, then by insertion order; results of image \
        queries are refined: the exact candidates (the K·F nearest, F = --refine-candidates, \
        at least --refine-minimum of them, and every item tied with the last) are ordered by the cosine between the query's \
        real-valued encoding and each item's stored refinement vector, so a stored image comes \
        back first and ties are broken by similarity (--hamming-only turns this off); with -k and \
        --refine-tie-band E, items whose cosines lie within E of the best remaining one are a \
        near-tie, which goes to the item whose stored thumbnail matches the query's image most \
        closely among those within --refine-copy-distance of it (copies), and keeps the \
        cosines' order when there is none. \
        --match-mirror-images also searches with each query's mirror image, every item ranked by \
        the nearer of the two, so a mirrored copy of a stored image finds it. With --codes, \
        each row of a .npy file is a query; with --json each query prints one line \
        {"query": i, "neighbors": [{"key": …, "distance": d}, …], "stats": {…}}, then a summary \
        line with the total search time (excluding loading). --sheet writes a contact sheet \
        (PNG): a row per query image, the query then its results labelled with their distance, \
        drawn from the thumbnails the store keeps.
        """)

    @OptionGroup var location: StoreLocation

    @Argument(help: "Image files, folders, IDX image files or CIFAR-10 batches to query with (the store must be bound to an encoder: a model or PDQ).")
    var images: [String] = []

    @Option(help: "Query with only the first N images of each data set.")
    var limit: Int?

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

    @Flag(help: "Image queries: order by Hamming distance and insertion order, without refinement.")
    var hammingOnly = false

    @Option(help: "Image queries: exact Hamming candidates per result that refinement reorders.")
    var refineCandidates: Int = Refinement.Options().candidateFactor

    @Option(help: "Image queries: the fewest exact Hamming candidates refinement reorders, however small K is.")
    var refineMinimum: Int = Refinement.Options.defaultMinimumCandidates

    @Option(help: "Image queries with -k: cosines within this of the best remaining one are a near-tie, ordered by how closely the items' stored thumbnails match the query's image (default 0: cosines alone; 0.1, with the default --refine-copy-distance, finds re-saved, brightened, cropped and captioned copies of photographs first more often, for about 1 ms a query: docs/photos.md).")
    var refineTieBand: Float = Refinement.Options.defaultNearTieBand

    @Option(help: ArgumentHelp("Image queries: a near-tie goes only to an item whose thumbnail lies within this distance of the query's, compared at 64×64 or 16×16 (a copy of the query: re-saved, resized, re-toned), the nearest such first; without one it keeps the cosines' order. 'any' for no ceiling (the nearest thumbnail always wins).", valueName: "distance|any"))
    var refineCopyDistance: CopyDistance = CopyDistance(Refinement.Options.defaultNearTieCopyDistance)

    @Flag(help: "Image queries: also search with each image's mirror image (flipped left to right) and rank every item by the nearer of the two, so mirrored copies are found (two encodings and two searches per query; one of each when the store's model averages mirror images, as the bundled models do, and finds mirrored copies by itself).")
    var matchMirrorImages = false

    @Option(help: "Write a contact sheet PNG: each query image, then its results with their distances.")
    var sheet: String?

    @Option(help: "Queries shown on the contact sheet (the first N).")
    var sheetRows: Int = 20

    func validate() throws {
        guard [code != nil, codes != nil, !images.isEmpty].filter({ $0 }).count == 1 else {
            throw ValidationError("give image files, or --code HEX, or --codes FILE.npy (exactly one kind of query)")
        }
        guard k == nil || radius == nil else { throw ValidationError("give -k K or --radius R, not both") }
        if let k, k < 1 { throw ValidationError("-k must be at least 1") }
        if let radius, radius < 0 { throw ValidationError("--radius must be at least 0") }
        if matchMirrorImages && images.isEmpty { throw ValidationError("--match-mirror-images needs image queries: a code has no mirror image") }
        if sheet != nil && images.isEmpty { throw ValidationError("--sheet needs image queries: it shows each query's image beside its results") }
        guard sheetRows >= 1 else { throw ValidationError("--sheet-rows must be at least 1") }
        guard refineCandidates >= 1 else { throw ValidationError("--refine-candidates must be at least 1") }
        guard refineMinimum >= 1 else { throw ValidationError("--refine-minimum must be at least 1") }
        guard refineTieBand >= 0, refineTieBand.isFinite else { throw ValidationError("--refine-tie-band must be 0 or more") }
    }

    /// How image queries are refined, from --refine-candidates, --refine-minimum, --refine-tie-band and --refine-copy-distance.
    var refinementOptions: Refinement.Options {
        Refinement.Options(candidateFactor: refineCandidates, minimumCandidates: refineMinimum, nearTieBand: refineTieBand,
                           nearTieCopyDistance: refineCopyDistance.value)
    }

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open(readOnly: true)
            // An encoder that gives an image and its mirror image one code needs no second search:
            // its queries take the batched path below like any other.
            let searchesMirrorImages = try matchMirrorImages && !images.isEmpty && !store.encoder().isMirrorInvariant
            var queries: [BinaryCode] = []
            var realValues: [[Float]] = []
            var names: [String] = [], labels: [String?] = [], buffers: [PixelBuffer] = [], previews: [PixelBuffer] = []
            if !images.isEmpty {
                let inputs = try QueryImages(inputs: images, limit: limit, decoder: try store.imageDecoder())
                // A search that matches mirror images encodes each image with its mirror image itself.
                if !searchesMirrorImages {
                    // Each row: the code's values, then the encoder's separate refinement vector if it keeps one.
                    let rows = try store.queryRows(of: inputs.buffers)
                    let width = max(1, rows.count / max(1, inputs.buffers.count))
                    realValues = stride(from: 0, to: rows.count, by: width).map { Array(rows[$0..<($0 + width)]) }
                    queries = realValues.map { BinaryCode(signsOf: Array($0.prefix(store.bitCount))) }
                    if hammingOnly { realValues = [] }
                }
                (names, labels, buffers, previews) = (inputs.names, inputs.labels, inputs.buffers, inputs.previews)
            } else if let code {
                queries = [try BinaryCode(hex: code)]
            } else if let codes {
                let matrix = try NumPyByteMatrix(contentsOf: codes)
                queries = try (0..<matrix.rows).map { try BinaryCode(bytes: matrix.row($0)) }
            }
            var seconds = 0.0
            var paths: [String: Int] = [:]
            var precisionSum = 0.0, labelledQueries = 0
            let thumbnailSide = try store.thumbnailSide()
            var contactSheet = sheet.map { _ in ContactSheet(tile: max(32, thumbnailSide)) }
            let queryCount = searchesMirrorImages ? buffers.count : queries.count
            for index in 0..<queryCount {
                let started = DispatchTime.now().uptimeNanoseconds
                let result: StoreSearchResult
                if searchesMirrorImages, index < buffers.count {
                    let refinement = hammingOnly ? nil : refinementOptions
                    result = try radius.map { try store.search(image: buffers[index], radius: $0, method: method, refinement: refinement, matchingMirrorImages: true) }
                        ?? store.search(image: buffers[index], k: k ?? 10, method: method, refinement: refinement, matchingMirrorImages: true)
                } else if index < realValues.count {
                    result = try radius.map { try store.search(realValues: realValues[index], radius: $0, method: method) }
                        ?? store.search(realValues: realValues[index], of: buffers[index], k: k ?? 10, method: method,
                                        refinement: refinementOptions)
                } else {
                    result = try radius.map { try store.search(code: queries[index], radius: $0, method: method) }
                        ?? store.search(code: queries[index], k: k ?? 10, method: method)
                }
                seconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                paths[result.statistics.path.rawValue, default: 0] += 1
                if contactSheet != nil, index < min(sheetRows, buffers.count) {
                    contactSheet!.rows.append(ContactSheet.Row(query: previews[index], results: try result.hits.map { (try store.thumbnail(id: $0.id), $0.distance) }))
                }
                if index < labels.count, let label = labels[index], !result.hits.isEmpty {
                    let matching = result.hits.filter { Payload.text($0.payload) == label }.count
                    precisionSum += Double(matching) / Double(result.hits.count)
                    labelledQueries += 1
                }
                if json {
                    Console.out(try JSON.encode(QueryLine(query: index, image: index < names.count ? names[index] : nil, result: result)))
                } else {
                    if queryCount > 1, index < names.count { Console.out("# \(names[index])") }
                    Self.printTable(index: queryCount > 1 && names.isEmpty ? index : nil, result: result)
                }
            }
            if let sheet, let contactSheet {
                try Data(try contactSheet.render().pngData()).write(to: URL(fileURLWithPath: sheet))
                let missing = contactSheet.rows.reduce(0) { $0 + $1.results.filter { $0.image == nil }.count }
                Console.log("wrote the contact sheet \(sheet) (\(contactSheet.rows.count) queries\(queryCount > contactSheet.rows.count ? " of \(queryCount); --sheet-rows shows more" : ""))")
                if missing > 0 {
                    Console.log("\(missing) results have no stored image and show as grey boxes: \(thumbnailSide == 0 ? "the store keeps no thumbnails (created with --thumbnail-size 0, or by a version before thumbnails)" : "they were inserted as codes, not images")")
                }
            }
            if labelledQueries > 0 {
                Console.log(String(format: "precision of the results against the labels (payload = the query's label): %.3f over %d queries",
                                   precisionSum / Double(labelledQueries), labelledQueries))
            }
            if codes != nil || json || queryCount > 1 {
                func rounded(_ value: Double, _ digits: Double) -> Double { (value * digits).rounded() / digits }
                let summary = QuerySummary(
                    queries: queryCount, searchSeconds: rounded(seconds, 1e6),
                    millisecondsPerQuery: queryCount == 0 ? 0 : rounded(seconds * 1000 / Double(queryCount), 1e4), paths: paths,
                    labelPrecision: labelledQueries > 0 ? rounded(precisionSum / Double(labelledQueries), 1e4) : nil)
                let line = try JSON.encode(["summary": summary])
                if json { Console.out(line) } else { Console.log("summary: \(line)") }
            }
        }
    }

    static func printTable(index: Int?, result: StoreSearchResult) {
        if let index { Console.out("# query \(index)") }
        let refined = result.hits.contains { $0.score != nil }
        Console.out(refined ? "rank\tdistance\tscore\tkey\tpayload" : "rank\tdistance\tkey\tpayload")
        for (rank, hit) in result.hits.enumerated() {
            let score = hit.score.map { String(format: "%.4f\t", $0) } ?? ""
            Console.out("\(rank + 1)\t\(hit.distance)\t\(score)\(hit.key)\t\(Payload.text(hit.payload))")
        }
        let s = result.statistics
        Console.log("\(result.hits.count) results via \(s.path.rawValue): \(s.bucketsProbed) buckets probed, \(s.candidates) candidates, \(s.distancesComputed) distances computed"
                    + (refined ? ", \(s.refinedCandidates) refined by similarity" : ""))
    }
}

/// One line of `query --json`: the query's position (and image, when it came from a file or a
/// data set) beside the encoded ``StoreSearchResult`` (`hits`, `statistics`).
struct QueryLine: Encodable {
    var query: Int
    var image: String?
    var result: StoreSearchResult

    private enum CodingKeys: String, CodingKey { case query, image }

    func encode(to encoder: Encoder) throws {
        try result.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(query, forKey: .query)
        try container.encodeIfPresent(image, forKey: .image)
    }
}

/// The last line of `query --json` (under `summary`): time spent searching, the planner's
/// choices, and the precision against labels when the queries had them.
struct QuerySummary: Encodable {
    var queries: Int
    var searchSeconds: Double
    var millisecondsPerQuery: Double
    /// Queries answered by each path (`mih`, `scan`).
    var paths: [String: Int]
    var labelPrecision: Double?
}

/// Query images from the command line: image files, folders, data sets (each image a query,
/// named FILE#INDEX, with its label when the data set has labels).
struct QueryImages {
    var buffers: [PixelBuffer] = []
    /// Each query as the contact sheet shows it: in colour where ``buffers`` holds only the luma.
    var previews: [PixelBuffer] = []
    var names: [String] = []
    var labels: [String?] = []

    /// `decoder`: as the store decodes what it ingests (``Store/imageDecoder(maximumPixels:)``), so that a
    /// stored file queried again is decoded, and encoded, as it was stored.
    init(inputs: [String], limit: Int?, decoder: ImageDecoder) throws {
        for input in inputs {
            if let listing = try ImageFiles.expand(input) {
                for file in listing.images.prefix(limit ?? .max) {
                    let decoded = try decoder.decodeForEncoding(contentsOf: file)
                    buffers.append(decoded.image)
                    previews.append(decoded.thumbnailSource ?? decoded.image)
                    names.append(file)
                    labels.append(nil)
                }
                continue
            }
            let set = try ImageSet(contentsOf: input)
            let setLabels = LabelSet.labels(of: set, at: input)
            for index in 0..<min(limit ?? set.count, set.count) {
                buffers.append(set.pixelBuffer(index))
                previews.append(buffers[buffers.count - 1])
                names.append("\(input)#\(index)")
                labels.append(setLabels.map { String($0[index]) })
            }
        }
    }
}
