import Basics
import CTrainingKernels

/// Updates the trainable values of a ``ParameterStore`` from its gradients.
public protocol Optimizer: AnyObject {
    /// One update step; gradients are left as they are (zero them before the next backward pass).
    func step(_ parameters: ParameterStore)
}

/// Adam (Kingma & Ba) with bias correction. The BGAN reference trains with ε = 1.0, far above the
/// usual 1e-8, which damps steps of parameters with small gradients.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Steps taken; part of a checkpoint, so training resumes exactly.
    public private(set) var steps = 0
    private(set) var firstMoment: [Float] = []
    private(set) var secondMoment: [Float] = []
    /// The kernel of the update (the best the CPU has; tests compare both).
    var kernel = TrainingKernel.best

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public func step(_ parameters: ParameterStore) {
        if firstMoment.count != parameters.count {
            precondition(steps == 0, "Adam state of \(firstMoment.count) values restored for \(parameters.count) parameters")
            firstMoment = [Float](repeating: 0, count: parameters.count)
            secondMoment = [Float](repeating: 0, count: parameters.count)
        }
        steps += 1
        let rule = AdamRule(beta1: beta1, beta2: beta2, epsilon: epsilon, learningRate: learningRate,
                            correction1: 1 - pow(beta1, Float(steps)), correction2: 1 - pow(beta2, Float(steps)), kernel: kernel)
        let pieces = Self.pieces(of: parameters.entries.filter(\.trainable))
        guard !pieces.isEmpty else { return }
        // Through raw buffers: element-wise access to class-held arrays pays an exclusivity check each.
        parameters.values.withUnsafeMutableBufferPointer { values in
            parameters.gradients.withUnsafeBufferPointer { gradients in
                firstMoment.withUnsafeMutableBufferPointer { first in
                    secondMoment.withUnsafeMutableBufferPointer { second in
                        let (values, gradients, first, second) = (values.baseAddress!, gradients.baseAddress!, first.baseAddress!, second.baseAddress!)
                        // Every value is updated on its own, so pieces run on any thread in any order
                        // and the result is the same as one pass in order.
                        let total = pieces.reduce(0) { $0 + $1.count }
                        parallelRanges(pieces.count, tasks: total >= Self.parallelMinimum ? BLAS.threads : 1) { range in
                            for piece in pieces[range] {
                                rule.update(values + piece.lowerBound, gradients + piece.lowerBound, first + piece.lowerBound,
                                            second + piece.lowerBound, count: piece.count)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Below this many trainable values a step runs on the calling thread.
    static let parallelMinimum = 1 << 16
    /// Values per piece of work: small enough to share among threads, large enough to stream.
    static let pieceSize = 1 << 14

    /// The trainable entries' ranges of values cut into pieces of at most ``pieceSize``.
    static func pieces(of entries: [ParameterStore.Entry]) -> [Range<Int>] {
        entries.flatMap { entry in
            stride(from: entry.offset, to: entry.offset + entry.count, by: pieceSize).map { start in
                start..<min(start + pieceSize, entry.offset + entry.count)
            }
        }
    }

    /// The optimiser's state, for checkpoints: steps, then both moments.
    public var state: (steps: Int, first: [Float], second: [Float]) { (steps, firstMoment, secondMoment) }

    /// Restores ``state``.
    /// - Throws: `invalidArgument` when the moments differ in size or `steps` is negative.
    public func restore(steps: Int, first: [Float], second: [Float]) throws {
        guard steps >= 0, first.count == second.count else {
            throw NeuralNetError(.invalidArgument, "Adam state with \(steps) steps and moments of \(first.count) and \(second.count) values cannot be restored")
        }
        self.steps = steps
        firstMoment = first
        secondMoment = second
    }
}

/// One Adam update of a run of values (`bgan_adam_update`: each value by the scalar formula, in
/// its order, without fused multiply-adds, so the portable and AVX-512 kernels agree bit for bit
/// with the textbook loop).
struct AdamRule {
    let beta1: Float, beta2: Float, epsilon: Float, learningRate: Float
    let correction1: Float, correction2: Float
    let kernel: TrainingKernel

    func update(_ values: UnsafeMutablePointer<Float>, _ gradients: UnsafePointer<Float>, _ first: UnsafeMutablePointer<Float>,
                _ second: UnsafeMutablePointer<Float>, count: Int) {
        bgan_adam_update(kernel.c, count, values, gradients, first, second, beta1, beta2, 1 - beta1, 1 - beta2,
                         learningRate, correction1, correction2, epsilon)
    }
}

/// Stochastic gradient descent with momentum and optional weight decay.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private var velocity: [Float] = []

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: ParameterStore) {
        if velocity.count != parameters.count { velocity = [Float](repeating: 0, count: parameters.count) }
        let (momentum, weightDecay, learningRate) = (self.momentum, self.weightDecay, self.learningRate)
        parameters.values.withUnsafeMutableBufferPointer { values in
            parameters.gradients.withUnsafeBufferPointer { gradients in
                velocity.withUnsafeMutableBufferPointer { velocity in
                    for entry in parameters.entries where entry.trainable {
                        for i in entry.offset..<(entry.offset + entry.count) {
                            velocity[i] = momentum * velocity[i] + gradients[i] + weightDecay * values[i]
                            values[i] -= learningRate * velocity[i]
                        }
                    }
                }
            }
        }
    }
}
