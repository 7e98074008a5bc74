import ArgumentParser
import BGAN
import Foundation
import NeuralNet
import PixelIO

/// Time, memory and recall of BGAN's neighbourhood structure on a real data set, exact and
/// through the inverted file, up to sizes beyond the data set (augmented copies).
struct NeighborhoodBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbours",
        abstract: "K1-nearest-neighbour lists and the sparse similarity structure S on IDX images (pixels).",
        discussion: """
            Exact lists compare every image with every other (N² distances); approximate lists search \
            an inverted file of k-means cells (N^1.5). Recall is the share of the exact K1 lists the \
            approximate ones keep: over every image when the exact lists are computed too, else over \
            a sample of images whose exact lists are computed alone. Beyond the data set's size the \
            images are augmented copies of it (shifted up to 2 pixels, brightness ×0.8–1.1, noise).
            """)

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case exact, approximate, both
    }

    @Option(help: "IDX image file.")
    var images: String = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

    @Option(help: "Images to use (default: all; more than the file holds: augmented copies fill up).")
    var count: Int?

    @Option(help: "Neighbours per image.")
    var k1: Int = 20

    @Option(help: "Voters per image.")
    var k2: Int = 30

    @Option(help: "Lists to build: exact, approximate or both (default: both up to 100,000 images, approximate beyond).")
    var method: Method?

    @Option(help: "Inverted-file cells (default: 4·√N).")
    var cells: Int?

    @Option(parsing: .upToNextOption, help: "Cells each image searches; several values: one approximate run each (default: the recommended).")
    var probes: [Int] = []

    @Option(help: "Images whose exact lists measure recall when the exact lists of all are not built.")
    var recallSample: Int = 1_000

    @Option(help: "IDX label file: also report how often neighbours share a label (default: derived from --images; 'none' to skip).")
    var labels: String?

    func run() throws {
        let set = try ImageSet(contentsOf: images)
        let n = count ?? set.count
        let dimension = set.valuesPerImage
        let features = Self.features(of: set, count: n)
        let method = method ?? (n <= 100_000 ? .both : .approximate)
        var file = NearestNeighborLists.InvertedFile.recommended(count: n)
        if let cells { file.cells = cells }
        print("OpenBLAS \(BLAS.coreName), \(BLAS.threads) threads; \(n) images of \(dimension) pixels"
              + (n > set.count ? " (\(set.count) from the file, the rest augmented copies)" : "") + "; K1 = \(k1), K2 = \(k2)")
        print(String(format: "resident memory with the images loaded: %.2f GB peak", Self.peakResidentGB()))

        var exact: NearestNeighborLists?
        if method != .approximate {
            let started = Date()
            exact = NearestNeighborLists(features: features, dimension: dimension, k: k1)
            let seconds = Date().timeIntervalSince(started)
            let flops = 2 * Double(n) * Double(n) * Double(dimension)
            print(String(format: "exact lists: %.1f s (%.0f GFLOP/s in the distance products)", seconds, flops / seconds / 1e9))
        }
        // Beyond the exact lists' limit, as training does: lists made a range of images at a time
        // into a temporary file, and S from that file.
        let inFiles = n > NearestNeighborLists.exactLimit
        var approximate: NearestNeighborLists?, listFile: NeighborListFile?
        for probes in method == .exact ? [] : probes.isEmpty ? [file.probes] : probes {
            file.probes = probes
            let started = Date()
            if inFiles {
                listFile = try NeighborListFile(rows: FeatureRows(features, dimension: dimension), k: k1, invertedFile: file,
                                                workingBytes: NeighborhoodStructure.trainingWorkingBytes)
            } else {
                approximate = NearestNeighborLists(features: features, dimension: dimension, k: k1, invertedFile: file)
            }
            print(String(format: "approximate lists (%@%@): %.1f s", file.description, inFiles ? ", in a temporary file" : "",
                         Date().timeIntervalSince(started)))
            if let listFile { approximate = try listFile.inMemory() }
            let recall = exact.map { Self.recall(approximate!, against: $0) }
                ?? sampledRecall(approximate!, features: features, dimension: dimension)
            print(String(format: "recall of the exact K1 lists: %.4f (%@)", recall.value, recall.over))
        }
        let lists = approximate ?? exact!
        let started = Date()
        let structure = try listFile.map { try NeighborhoodStructure(neighbors: $0, k2: k2, scratchWorkingBytes: NeighborhoodStructure.trainingWorkingBytes) }
            ?? NeighborhoodStructure(neighbors: lists, k2: k2)
        print(String(format: "structure S from the %@ lists%@: %.1f s; %.0f similar images per image on average (%.2f%% of pairs)",
                     approximate == nil ? "exact" : "approximate", structure.isKeptInFile ? " (in a temporary file)" : "", Date().timeIntervalSince(started),
                     structure.averageSimilar, 100 * structure.averageSimilar / Double(n)))
        print(String(format: "resident memory: %.2f GB peak", Self.peakResidentGB()))
        try reportLabels(lists: lists, structure: structure, set: set, count: n)
    }

    /// The pixels of the first `count` images scaled to [0, 1]; past the file's end,
    /// ``AugmentedCopies`` of its images.
    static func features(of set: ImageSet, count: Int) -> [Float] {
        var features = set.scaledPixels(0..<min(count, set.count))
        guard count > set.count else { return features }
        features.reserveCapacity(count * set.valuesPerImage)
        var rng = SeededGenerator(seed: 19)
        for copy in set.count..<count {
            features += AugmentedCopies.values(of: set, copy: copy, rng: &rng)
        }
        return features
    }

    static func recall(_ approximate: NearestNeighborLists, against exact: NearestNeighborLists) -> (value: Double, over: String) {
        var found = 0
        for i in 0..<exact.count { found += Set(approximate.of(i)).intersection(exact.of(i)).count }
        return (Double(found) / Double(exact.count * exact.k), "all \(exact.count) images")
    }

    func sampledRecall(_ approximate: NearestNeighborLists, features: [Float], dimension: Int) -> (value: Double, over: String) {
        let n = approximate.count
        var rng = SeededGenerator(seed: 7)
        let rows = (0..<min(recallSample, n)).map { _ in Int(rng.next() % UInt64(n)) }
        let queries = gatherRows(rows, of: features, dimension: dimension)
        let started = Date()
        let exact = NearestNeighborLists(queries: queries, of: features, dimension: dimension, k: approximate.k)
        var found = 0
        for (position, row) in rows.enumerated() { found += Set(approximate.of(row)).intersection(exact.of(position)).count }
        return (Double(found) / Double(rows.count * exact.k),
                String(format: "a sample of %d images, their exact lists in %.1f s", rows.count, Date().timeIntervalSince(started)))
    }

    func reportLabels(lists: NearestNeighborLists, structure: NeighborhoodStructure, set: ImageSet, count n: Int) throws {
        let labelPath = labels ?? images.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
        guard labelPath != "none", let labelSet = try? LabelSet(contentsOf: labelPath) else { return }
        let label = { (i: Int) in labelSet.labels[i % labelSet.labels.count] }
        var listAgree = 0, listTotal = 0, similarAgree = 0, similarTotal = 0
        for i in 0..<n {
            for j in lists.of(i) where Int(j) != i {
                listTotal += 1
                if label(Int(j)) == label(i) { listAgree += 1 }
            }
            for j in try structure.similarItems(of: i) where Int(j) != i {
                similarTotal += 1
                if label(Int(j)) == label(i) { similarAgree += 1 }
            }
        }
        print(String(format: "labels (%@): %.1f%% of K1-nearest neighbours and %.1f%% of similar pairs in S share the image's label",
                     labelPath, 100 * Double(listAgree) / Double(max(listTotal, 1)), 100 * Double(similarAgree) / Double(max(similarTotal, 1))))
    }

    static func peakResidentGB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1_048_576
    }
}
