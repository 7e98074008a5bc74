import ArgumentParser
import BGAN
import Foundation
import NeuralNet
import PixelIO

/// Time to build BGAN's neighbourhood structure on a real data set.
struct NeighbourhoodBenchmark: ParsableCommand {
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

    func run() throws {
        let set = try GrayImageSet(contentsOf: images)
        let n = min(count ?? set.count, set.count)
        let dimension = set.height * set.width
        let features = set.scaledPixels(0..<n)
        print("OpenBLAS \(BLAS.coreName), \(BLAS.threads) threads; \(n) images of \(dimension) pixels; K1 = \(k1), K2 = \(k2)")
        var started = Date()
        let lists = NearestNeighbourLists(features: features, dimension: dimension, k: k1)
        let listSeconds = Date().timeIntervalSince(started)
        started = Date()
        let structure = NeighbourhoodStructure(neighbours: lists, k2: k2)
        let structureSeconds = Date().timeIntervalSince(started)
        let flops = 2 * Double(n) * Double(n) * Double(dimension)
        print(String(format: "nearest-neighbour lists: %.1f s (%.0f GFLOP/s in the distance products)", listSeconds, flops / listSeconds / 1e9))
        print(String(format: "structure S: %.1f s; %.0f similar images per image on average (%.2f%% of pairs)", structureSeconds,
                     structure.averageSimilar, 100 * structure.averageSimilar / Double(n)))
    }
}
