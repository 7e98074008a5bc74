import Basics
import NeuralNet

extension NearestNeighborLists {
    /// How approximate lists are searched: an inverted file whose cells are k-means clusters of
    /// the features. Every item is filed in the cell of its nearest centroid and looks for its
    /// neighbours among the items of its `probes` nearest cells only.
    public struct InvertedFile: Sendable, Hashable, CustomStringConvertible {
        /// k-means clusters, each a cell.
        public var cells: Int
        /// Cells each item searches, its own included.
        public var probes: Int
        /// Rows k-means trains on (a random sample when there are more).
        public var trainingRows: Int
        /// Lloyd steps of the k-means.
        public var iterations: Int
        public var seed: UInt64

        public init(cells: Int, probes: Int, trainingRows: Int = 100_000, iterations: Int = 10, seed: UInt64 = 2026) {
            self.cells = cells
            self.probes = probes
            self.trainingRows = trainingRows
            self.iterations = iterations
            self.seed = seed
        }

        /// The settings for `count` items: 4·√count cells (so a cell holds about √count / 4
        /// items and the work grows as count^1.5, not count²), each item searching 16 of them;
        /// k-means trained for 8 steps on 25 rows per cell. Chosen on Fashion-MNIST's 60,000
        /// training images in pixels, where the lists keep ≥ 0.95 of the exact 20 nearest
        /// (docs/scaling.md).
        public static func recommended(count: Int) -> InvertedFile {
            let cells = max(1, Int((4 * Double(count).squareRoot()).rounded()))
            return InvertedFile(cells: cells, probes: min(16, cells), trainingRows: 25 * cells, iterations: 8)
        }

        public var description: String { "inverted file of \(cells) cells, \(probes) probed" }
    }

    /// Up to this many items, ``searching(_:dimension:k:)`` computes exact lists.
    public static let exactLimit = 100_000

    /// The lists training builds: exact up to ``exactLimit`` items (Fashion-MNIST's 60,000 and
    /// every bundled recipe), through the ``InvertedFile/recommended(count:)`` inverted file
    /// beyond, where N² distances would take hours.
    public static func searching(_ features: [Float], dimension: Int, k: Int) -> NearestNeighborLists {
        // An array's rows cannot fail to be read.
        try! searching(FeatureRows(features, dimension: dimension), k: k)
    }

    /// ``searching(_:dimension:k:)`` on rows read as they are needed: beyond ``exactLimit`` the
    /// inverted file reads a block or a cell's rows at a time, so rows kept in a file or gathered
    /// from images are never held whole.
    /// - Throws: what reading the rows throws.
    public static func searching(_ features: FeatureRows, k: Int) throws -> NearestNeighborLists {
        guard features.count > exactLimit else {
            return NearestNeighborLists(features: try features.allRows(), dimension: features.dimension, k: k)
        }
        return try NearestNeighborLists(rows: features, k: k, invertedFile: .recommended(count: features.count))
    }

    /// Approximate lists: the `k` nearest of every item among the items of its
    /// `invertedFile.probes` nearest cells (an item's own cell always among them, so every item
    /// is its own nearest). Each list is ordered by (distance, index) as exact lists are, and is
    /// exact whenever every true neighbour lies in a probed cell; an item whose probed cells
    /// hold fewer than `k` items gets an exact list. Cost: N · probes · (N / cells) distances
    /// against the exact N², through one sgemm per cell and block of searching items.
    public init(features: [Float], dimension: Int, k: Int, invertedFile: InvertedFile) {
        // An array's rows cannot fail to be read.
        try! self.init(rows: FeatureRows(features, dimension: dimension), k: k, invertedFile: invertedFile)
    }

    /// ``init(features:dimension:k:invertedFile:)`` on rows read as they are needed (a block of
    /// rows, a cell's rows), so that the features are never held whole: the same lists as from
    /// the same rows in an array.
    /// - Throws: what reading the rows throws.
    public init(rows features: FeatureRows, k: Int, invertedFile: InvertedFile) throws {
        let search = try InvertedFileSearch(features, k: k, invertedFile: invertedFile, probesInScratchFile: false)
        self.init(count: features.count, k: search.k, neighbors: try search.lists(of: 0..<features.count))
    }
}
