import HammingSearch
import PixelIO

extension EvaluationProtocol {
    /// The validation protocol: the last `heldOut` of `images` become the queries, the rest the
    /// database. Choose settings on it (train on the rest, with `--limit`), and touch the test
    /// queries once per final recipe.
    /// - Throws: `DatasetError` `.unsupported` when no database image would be left.
    public static func validation(holdingOut heldOut: Int, of images: LabelledImages, duplicateCount: Int = 1000,
                                  seed: UInt64 = 2026, refinement: Refinement.Options = .init()) throws -> EvaluationProtocol {
        guard heldOut >= 1, heldOut < images.images.count else {
            throw DatasetError(.unsupported, "holding out \(heldOut) of \(images.images.count) images as queries leaves no database (or no queries)")
        }
        let split = images.images.count - heldOut
        return EvaluationProtocol(database: images.images.subset(0..<split), databaseLabels: Array(images.labels[0..<split]),
                                  queries: images.images.subset(split..<images.images.count), queryLabels: Array(images.labels[split...]),
                                  duplicateCount: duplicateCount, seed: seed, refinement: refinement)
    }

    /// The test protocol: `queries` searched against `database` (Fashion-MNIST: the 10,000 test
    /// images against the 60,000 training images).
    /// - Throws: `DatasetError` `.unsupported` when the two hold images of different sizes.
    public static func test(database: LabelledImages, queries: LabelledImages, duplicateCount: Int = 1000,
                            seed: UInt64 = 2026, refinement: Refinement.Options = .init()) throws -> EvaluationProtocol {
        let (d, q) = (database.images, queries.images)
        guard d.channels == q.channels, d.height == q.height, d.width == q.width else {
            throw DatasetError(.unsupported, "database images are \(d.channels)×\(d.height)×\(d.width) but queries are \(q.channels)×\(q.height)×\(q.width)")
        }
        return EvaluationProtocol(database: d, databaseLabels: database.labels, queries: q, queryLabels: queries.labels,
                                  duplicateCount: duplicateCount, seed: seed, refinement: refinement)
    }
}

/// Images with one label each, as the evaluation reads them: an IDX image file with its label
/// file, or a CIFAR-10 batch, which holds its labels.
public struct LabelledImages: Sendable {
    public var images: ImageSet
    public var labels: [UInt8]

    public init(images: ImageSet, labels: [UInt8]) {
        precondition(labels.count == images.count, "one label per image")
        self.images = images
        self.labels = labels
    }

    /// Reads `path` and its labels: those of `labels` when given, else those the file holds
    /// (CIFAR-10), else the IDX label file named like it ("labels" for "images").
    /// - Throws: `DatasetError` for unreadable files or a label count that is not the image count.
    public init(contentsOf path: String, labels: String? = nil) throws {
        images = try ImageSet(contentsOf: path)
        if labels == nil, let own = images.labels {
            self.labels = own
            return
        }
        let labelPath = labels ?? LabelSet.labelPath(for: path)
        let labelSet = try LabelSet(contentsOf: labelPath)
        guard labelSet.labels.count == images.count else {
            throw DatasetError(.malformed, "\(labelPath) has \(labelSet.labels.count) labels for the \(images.count) images of \(path)")
        }
        self.labels = labelSet.labels
    }
}
