import Basics

/// An element-wise activation `y = f(x)` whose backward pass is `∂x = f′ · ∂y`, with `f′` taken
/// from the cached input and output. Subclasses supply both as tight loops over buffers.
public class Activation: Layer {
    public let name: String
    private var cache = ForwardCache<(input: Tensor, output: Tensor)>()

    init(_ name: String) { self.name = name }

    /// Writes `f(x)` into `y`.
    func apply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) { fatalError("subclass responsibility") }
    /// Multiplies `g` by `f′` element-wise, given the input `x` and output `y`.
    func scaleGradient(_ g: UnsafeMutableBufferPointer<Float>, input x: UnsafeBufferPointer<Float>, output y: UnsafeBufferPointer<Float>) {
        fatalError("subclass responsibility")
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        var output = input
        input.storage.withUnsafeBufferPointer { x in output.storage.withUnsafeMutableBufferPointer { y in apply(x, y) } }
        if training { cache.store((input, output)) }
        return output
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (input, output) = try cache.get(name)
        guard outputGradient.shape == input.shape else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe(input.shape), got: outputGradient.shape)
        }
        var inputGradient = outputGradient
        inputGradient.storage.withUnsafeMutableBufferPointer { g in
            input.storage.withUnsafeBufferPointer { x in
                output.storage.withUnsafeBufferPointer { y in scaleGradient(g, input: x, output: y) }
            }
        }
        return inputGradient
    }
}

/// `max(0, x)`.
public final class ReLU: Activation {
    public override init(_ name: String = "relu") { super.init(name) }
    override func apply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<x.count { y[i] = max(0, x[i]) }
    }
    override func scaleGradient(_ g: UnsafeMutableBufferPointer<Float>, input x: UnsafeBufferPointer<Float>, output y: UnsafeBufferPointer<Float>) {
        for i in 0..<g.count where x[i] <= 0 { g[i] = 0 }
    }
}

/// `x` for `x > 0`, else `slope · x`.
public final class LeakyReLU: Activation {
    public let slope: Float
    public init(_ name: String = "leaky_relu", slope: Float = 0.2) {
        self.slope = slope
        super.init(name)
    }
    override func apply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        let slope = self.slope
        for i in 0..<x.count { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
    }
    override func scaleGradient(_ g: UnsafeMutableBufferPointer<Float>, input x: UnsafeBufferPointer<Float>, output y: UnsafeBufferPointer<Float>) {
        let slope = self.slope
        for i in 0..<g.count { g[i] *= x[i] > 0 ? 1 : slope }
    }
}

/// `x` for `x > 0`, else `α · (eˣ − 1)`.
public final class ELU: Activation {
    public let alpha: Float
    public init(_ name: String = "elu", alpha: Float = 1) {
        self.alpha = alpha
        super.init(name)
    }
    override func apply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        let alpha = self.alpha
        for i in 0..<x.count { y[i] = x[i] > 0 ? x[i] : alpha * (expf(x[i]) - 1) }
    }
    override func scaleGradient(_ g: UnsafeMutableBufferPointer<Float>, input x: UnsafeBufferPointer<Float>, output y: UnsafeBufferPointer<Float>) {
        let alpha = self.alpha
        for i in 0..<g.count { g[i] *= x[i] > 0 ? 1 : y[i] + alpha }
    }
}

/// `tanh(x)`.
public final class Tanh: Activation {
    public override init(_ name: String = "tanh") { super.init(name) }
    override func apply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<x.count { y[i] = tanhf(x[i]) }
    }
    override func scaleGradient(_ g: UnsafeMutableBufferPointer<Float>, input x: UnsafeBufferPointer<Float>, output y: UnsafeBufferPointer<Float>) {
        for i in 0..<g.count { g[i] *= 1 - y[i] * y[i] }
    }
}

/// `1 / (1 + e⁻ˣ)`.
public final class Sigmoid: Activation {
    public override init(_ name: String = "sigmoid") { super.init(name) }
    override func apply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<x.count { y[i] = x[i] >= 0 ? 1 / (1 + expf(-x[i])) : expf(x[i]) / (1 + expf(x[i])) }
    }
    override func scaleGradient(_ g: UnsafeMutableBufferPointer<Float>, input x: UnsafeBufferPointer<Float>, output y: UnsafeBufferPointer<Float>) {
        for i in 0..<g.count { g[i] *= y[i] * (1 - y[i]) }
    }
}

/// BGAN's smoothed sign, `tanh(β · x / 2)` = `(1 − e^{−βx}) / (1 + e^{−βx})`; it approaches
/// `sign(x)` as β grows, which training does step by step (set ``beta`` between epochs).
public final class ScaledTanh: Activation {
    public var beta: Float
    public init(_ name: String = "smoothed_sign", beta: Float) {
        self.beta = beta
        super.init(name)
    }
    override func apply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        let half = beta / 2
        for i in 0..<x.count { y[i] = tanhf(half * x[i]) }
    }
    override func scaleGradient(_ g: UnsafeMutableBufferPointer<Float>, input x: UnsafeBufferPointer<Float>, output y: UnsafeBufferPointer<Float>) {
        let half = beta / 2
        for i in 0..<g.count { g[i] *= half * (1 - y[i] * y[i]) }
    }
}
