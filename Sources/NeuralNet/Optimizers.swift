import Basics

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
        let correction1 = 1 - pow(beta1, Float(steps))
        let correction2 = 1 - pow(beta2, Float(steps))
        let (beta1, beta2, epsilon, learningRate) = (self.beta1, self.beta2, self.epsilon, self.learningRate)
        // Through raw buffers: element-wise access to class-held arrays pays an exclusivity check each.
        parameters.values.withUnsafeMutableBufferPointer { values in
            parameters.gradients.withUnsafeBufferPointer { gradients in
                firstMoment.withUnsafeMutableBufferPointer { first in
                    secondMoment.withUnsafeMutableBufferPointer { second in
                        for entry in parameters.entries where entry.trainable {
                            for i in entry.offset..<(entry.offset + entry.count) {
                                let g = gradients[i]
                                first[i] = beta1 * first[i] + (1 - beta1) * g
                                second[i] = beta2 * second[i] + (1 - beta2) * g * g
                                values[i] -= learningRate * (first[i] / correction1) / ((second[i] / correction2).squareRoot() + epsilon)
                            }
                        }
                    }
                }
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
