import Basics

/// An element-wise activation `y = f(x)` whose backward pass is `∂x = f′ · ∂y`, with `f′` taken
/// from the cached input and output. Subclasses supply both as tight loops over `count` values,
/// which write straight into new storage: one pass over the tensor, not a copy of it and then a
/// pass over the copy.
public class Activation: Layer {
    public let name: String
    private var cache = ForwardCache<(input: Tensor, output: Tensor)>()

    init(_ name: String) { self.name = name }

    /// Writes `f(x)` into `y`, `count` values.
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) { fatalError("subclass responsibility") }
    /// Writes `∂y · f′` into `gx`, `count` values, given the input `x` and output `y`.
    func gradient(_ gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>,
                  count: Int) {
        fatalError("subclass responsibility")
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        let count = input.count
        let storage = input.storage.withUnsafeBufferPointer { x in
            [Float](unsafeUninitializedCapacity: count) { y, initialized in
                if count > 0 { apply(x.baseAddress!, y.baseAddress!, count: count) }
                initialized = count
            }
        }
        let output = Tensor(shape: input.shape, storage: storage)
        if training { cache.store((input, output)) }
        return output
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (input, output) = try cache.get(name)
        guard outputGradient.shape == input.shape else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe(input.shape), got: outputGradient.shape)
        }
        let count = input.count
        let storage = outputGradient.storage.withUnsafeBufferPointer { gy in
            input.storage.withUnsafeBufferPointer { x in
                output.storage.withUnsafeBufferPointer { y in
                    [Float](unsafeUninitializedCapacity: count) { gx, initialized in
                        if count > 0 { gradient(gy.baseAddress!, input: x.baseAddress!, output: y.baseAddress!, into: gx.baseAddress!, count: count) }
                        initialized = count
                    }
                }
            }
        }
        return Tensor(shape: input.shape, storage: storage)
    }
}

/// `max(0, x)`.
public final class ReLU: Activation {
    public override init(_ name: String = "relu") { super.init(name) }
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = max(0, x[i]) }
    }
    override func gradient(_ gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>,
                           count: Int) {
        for i in 0..<count { gx[i] = x[i] <= 0 ? 0 : gy[i] }
    }
}

/// `x` for `x > 0`, else `slope · x`.
public final class LeakyReLU: Activation {
    public let slope: Float
    public init(_ name: String = "leaky_relu", slope: Float = 0.2) {
        self.slope = slope
        super.init(name)
    }
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let slope = self.slope
        for i in 0..<count { y[i] = x[i] > 0 ? x[i] : slope * x[i] }
    }
    override func gradient(_ gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>,
                           count: Int) {
        let slope = self.slope
        for i in 0..<count { gx[i] = gy[i] * (x[i] > 0 ? 1 : slope) }
    }
}

/// `x` for `x > 0`, else `α · (eˣ − 1)`.
public final class ELU: Activation {
    public let alpha: Float
    public init(_ name: String = "elu", alpha: Float = 1) {
        self.alpha = alpha
        super.init(name)
    }
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let alpha = self.alpha
        for i in 0..<count { y[i] = x[i] > 0 ? x[i] : alpha * (expf(x[i]) - 1) }
    }
    override func gradient(_ gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>,
                           count: Int) {
        let alpha = self.alpha
        for i in 0..<count { gx[i] = gy[i] * (x[i] > 0 ? 1 : y[i] + alpha) }
    }
}

/// `tanh(x)`.
public final class Tanh: Activation {
    public override init(_ name: String = "tanh") { super.init(name) }
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = tanhf(x[i]) }
    }
    override func gradient(_ gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>,
                           count: Int) {
        for i in 0..<count { gx[i] = gy[i] * (1 - y[i] * y[i]) }
    }
}

/// `1 / (1 + e⁻ˣ)`.
public final class Sigmoid: Activation {
    public override init(_ name: String = "sigmoid") { super.init(name) }
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = x[i] >= 0 ? 1 / (1 + expf(-x[i])) : expf(x[i]) / (1 + expf(x[i])) }
    }
    override func gradient(_ gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>,
                           count: Int) {
        for i in 0..<count { gx[i] = gy[i] * (y[i] * (1 - y[i])) }
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
    override func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let half = beta / 2
        for i in 0..<count { y[i] = tanhf(half * x[i]) }
    }
    override func gradient(_ gy: UnsafePointer<Float>, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>,
                           count: Int) {
        let half = beta / 2
        for i in 0..<count { gx[i] = gy[i] * (half * (1 - y[i] * y[i])) }
    }
}
