/// Inverted dropout: in training each value is zeroed with probability `rate` and the rest scaled
/// by `1 / (1 − rate)`; in inference the layer is the identity. The mask comes from a seeded
/// generator, so runs are reproducible.
public final class Dropout: Layer {
    public let name: String
    public let rate: Float
    private var rng: SeededGenerator
    private var cache = ForwardCache<[Float]>()

    public init(_ name: String = "dropout", rate: Float, seed: UInt64) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        self.name = name
        self.rate = rate
        rng = SeededGenerator(seed: seed)
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        guard training, rate > 0 else { return input }
        let keep = 1 / (1 - rate)
        var mask = [Float](repeating: 0, count: input.count)
        var output = input
        for i in mask.indices {
            mask[i] = rng.unit() < rate ? 0 : keep
            output.storage[i] *= mask[i]
        }
        cache.store(mask)
        return output
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        guard rate > 0 else { return outputGradient }
        let mask = try cache.get(name)
        guard mask.count == outputGradient.count else {
            throw NeuralNetError(.shapeMismatch, "\(name) backward: gradient of \(outputGradient.count) values for a mask of \(mask.count)")
        }
        var inputGradient = outputGradient
        for i in mask.indices { inputGradient.storage[i] *= mask[i] }
        return inputGradient
    }
}

/// Gives each batch item a new shape of the same size (`Reshape([C·H·W])` flattens).
public final class Reshape: Layer {
    public let name: String
    /// Shape of one item.
    public let itemShape: [Int]
    private var cache = ForwardCache<[Int]>()

    public init(_ name: String = "reshape", to itemShape: [Int]) {
        self.name = name
        self.itemShape = itemShape
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.itemSize == itemShape.reduce(1, *) else {
            throw NeuralNetError.shape(name, expected: "items of \(itemShape.reduce(1, *)) values to make \(Tensor.describe(itemShape))", got: input.shape)
        }
        if training { cache.store(input.shape) }
        return input.reshaped([input.batch] + itemShape)
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let shape = try cache.get(name)
        guard outputGradient.count == shape.reduce(1, *) else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe([shape[0]] + itemShape), got: outputGradient.shape)
        }
        return outputGradient.reshaped(shape)
    }
}
