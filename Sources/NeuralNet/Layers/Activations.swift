#if canImport(Glibc)
import Glibc
#endif

/// An element-wise activation: `y = f(x)`, `∂x = f′ · ∂y`, with `f′` computed from the cached
/// input and output.
public class Activation: Layer {
    public let name: String
    private var cache = ForwardCache<(input: Tensor, output: Tensor)>()

    init(_ name: String) { self.name = name }

    func value(_ x: Float) -> Float { fatalError("subclass responsibility") }
    func derivative(input x: Float, output y: Float) -> Float { fatalError("subclass responsibility") }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        var output = input
        for i in output.storage.indices { output.storage[i] = value(input.storage[i]) }
        if training { cache.store((input, output)) }
        return output
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (input, output) = try cache.get(name)
        guard outputGradient.shape == input.shape else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe(input.shape), got: outputGradient.shape)
        }
        var inputGradient = outputGradient
        for i in inputGradient.storage.indices {
            inputGradient.storage[i] *= derivative(input: input.storage[i], output: output.storage[i])
        }
        return inputGradient
    }
}

/// `max(0, x)`.
public final class ReLU: Activation {
    public override init(_ name: String = "relu") { super.init(name) }
    override func value(_ x: Float) -> Float { max(0, x) }
    override func derivative(input x: Float, output y: Float) -> Float { x > 0 ? 1 : 0 }
}

/// `x` for `x > 0`, else `slope · x`.
public final class LeakyReLU: Activation {
    public let slope: Float
    public init(_ name: String = "leaky_relu", slope: Float = 0.2) {
        self.slope = slope
        super.init(name)
    }
    override func value(_ x: Float) -> Float { x > 0 ? x : slope * x }
    override func derivative(input x: Float, output y: Float) -> Float { x > 0 ? 1 : slope }
}

/// `x` for `x > 0`, else `α · (eˣ − 1)`.
public final class ELU: Activation {
    public let alpha: Float
    public init(_ name: String = "elu", alpha: Float = 1) {
        self.alpha = alpha
        super.init(name)
    }
    override func value(_ x: Float) -> Float { x > 0 ? x : alpha * (expf(x) - 1) }
    override func derivative(input x: Float, output y: Float) -> Float { x > 0 ? 1 : y + alpha }
}

/// `tanh(x)`.
public final class Tanh: Activation {
    public override init(_ name: String = "tanh") { super.init(name) }
    override func value(_ x: Float) -> Float { tanhf(x) }
    override func derivative(input x: Float, output y: Float) -> Float { 1 - y * y }
}

/// `1 / (1 + e⁻ˣ)`.
public final class Sigmoid: Activation {
    public override init(_ name: String = "sigmoid") { super.init(name) }
    override func value(_ x: Float) -> Float { x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)) }
    override func derivative(input x: Float, output y: Float) -> Float { y * (1 - y) }
}

/// BGAN's smoothed sign, `tanh(β · x / 2)` = `(1 − e^{−βx}) / (1 + e^{−βx})`; it approaches
/// `sign(x)` as β grows, which training does step by step (set ``beta`` between epochs).
public final class ScaledTanh: Activation {
    public var beta: Float
    public init(_ name: String = "smoothed_sign", beta: Float) {
        self.beta = beta
        super.init(name)
    }
    override func value(_ x: Float) -> Float { tanhf(beta * x / 2) }
    override func derivative(input x: Float, output y: Float) -> Float { beta / 2 * (1 - y * y) }
}
