/// A layer of a network: a forward pass that caches what the backward pass needs, and a backward
/// pass that returns the gradient with respect to its input and *adds* the gradients of its
/// parameters into the ``ParameterStore``.
public protocol Layer: AnyObject {
    /// A name used in error messages and parameter names.
    var name: String { get }
    /// Computes the output; `training` selects batch statistics, dropout masks and caching.
    func forward(_ input: Tensor, training: Bool) throws -> Tensor
    /// Given ∂loss/∂output of the last `forward`, returns ∂loss/∂input.
    func backward(_ outputGradient: Tensor) throws -> Tensor
}

/// Layers applied in order.
public final class Sequential: Layer {
    public let name: String
    public private(set) var layers: [Layer]

    public init(_ name: String, _ layers: [Layer]) {
        self.name = name
        self.layers = layers
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        var x = input
        for layer in layers { x = try layer.forward(x, training: training) }
        return x
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        var g = outputGradient
        for layer in layers.reversed() { g = try layer.backward(g) }
        return g
    }
}

/// Keeps what one forward pass saw, for its backward pass.
struct ForwardCache<Value> {
    private var value: Value?
    mutating func store(_ value: Value) { self.value = value }
    func get(_ layer: String) throws -> Value {
        guard let value else { throw NeuralNetError(.noForward, "\(layer): backward called without a training forward pass") }
        return value
    }
    /// Forgets the cached value (so its storage is no longer shared).
    mutating func clear() { value = nil }
}
