import Basics
import Foundation

/// Features averaged along the data's nearest-neighbour graph, step by step:
/// `F ← ½·F + ½·(mean of F over each image's nearest neighbors)`.
///
/// Each step lets an image's features drift toward those of its neighbourhood, so images joined
/// by chains of near neighbours draw together while isolated ones keep their place: a cheap
/// diffusion over the graph, with no N × N matrix (N × k neighbour lists only).
public enum GraphSmoothing {
    /// `features` (`count × dimension`, row-major, one row per image of `neighbors`) after `steps` steps.
    public static func smooth(_ features: [Float], dimension: Int, neighbors: NearestNeighborLists, steps: Int) -> [Float] {
        precondition(features.count == neighbors.count * dimension, "\(features.count) values are not \(neighbors.count) rows of \(dimension)")
        var current = features
        var next = [Float](repeating: 0, count: features.count)
        let k = neighbors.k, count = neighbors.count
        for _ in 0..<steps {
            current.withUnsafeBufferPointer { source in
                next.withUnsafeMutableBufferPointer { target in
                    neighbors.neighbors.withUnsafeBufferPointer { lists in
                        let weight = 0.5 / Float(k)
                        parallelRanges(count, tasks: ProcessInfo.processInfo.activeProcessorCount, minimumPerTask: 1024) { (images: Range<Int>) in
                            for i in images {
                                let row = target.baseAddress! + i * dimension, own = source.baseAddress! + i * dimension
                                for d in 0..<dimension { row[d] = 0.5 * own[d] }
                                for j in lists[(i * k)..<((i + 1) * k)] {
                                    let other = source.baseAddress! + Int(j) * dimension
                                    for d in 0..<dimension { row[d] += weight * other[d] }
                                }
                            }
                        }
                    }
                }
            }
            swap(&current, &next)
        }
        return current
    }
}
