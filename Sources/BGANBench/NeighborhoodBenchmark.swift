import ArgumentParser
import BGAN
import Foundation
import NeuralNet
import PixelIO

/// Time to build BGAN's neighbourhood structure on a real data set.
struct NeighborhoodBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbours",
        abstract: "K1-nearest-neighbour lists and the sparse similarity structure S on IDX images (pixels).")

    @Option(help: "IDX image file.")
    var images: String = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

    @Option(help: "Images to use (default: all).")
    var count: Int?

    @Option(help: "Neighbours per image.")
    var k1: Int = 20

    @Option(help: "Voters per image.")
    var k2: Int = 30

    @Option(help: "IDX label file: also report how often neighbours share a label (default: derived from --images; 'none' to skip).")
    var labels: String?

    func run() throws {
        let set = try ImageSet(contentsOf: images)
        let n = min(count ?? set.count, set.count)
        let dimension = set.valuesPerImage
        let features = set.scaledPixels(0..<n)
        print("OpenBLAS \(BLAS.coreName), \(BLAS.threads) threads; \(n) images of \(dimension) pixels; K1 = \(k1), K2 = \(k2)")
        var started = Date()
        let lists = NearestNeighborLists(features: features, dimension: dimension, k: k1)
        let listSeconds = Date().timeIntervalSince(started)
        started = Date()
        let structure = NeighborhoodStructure(neighbors: lists, k2: k2)
        let structureSeconds = Date().timeIntervalSince(started)
        let flops = 2 * Double(n) * Double(n) * Double(dimension)
        print(String(format: "nearest-neighbour lists: %.1f s (%.0f GFLOP/s in the distance products)", listSeconds, flops / listSeconds / 1e9))
        print(String(format: "structure S: %.1f s; %.0f similar images per image on average (%.2f%% of pairs)", structureSeconds,
                     structure.averageSimilar, 100 * structure.averageSimilar / Double(n)))
        let labelPath = labels ?? images.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
        guard labelPath != "none", let labelSet = try? LabelSet(contentsOf: labelPath) else { return }
        let label = labelSet.labels
        var listAgree = 0, listTotal = 0, similarAgree = 0, similarTotal = 0
        for i in 0..<n {
            for j in lists.of(i) where Int(j) != i {
                listTotal += 1
                if label[Int(j)] == label[i] { listAgree += 1 }
            }
            for j in structure.similarItems(of: i) where Int(j) != i {
                similarTotal += 1
                if label[Int(j)] == label[i] { similarAgree += 1 }
            }
        }
        print(String(format: "labels (%@): %.1f%% of K1-nearest neighbours and %.1f%% of similar pairs in S share the image's label",
                     labelPath, 100 * Double(listAgree) / Double(max(listTotal, 1)), 100 * Double(similarAgree) / Double(max(similarTotal, 1))))
    }
}
