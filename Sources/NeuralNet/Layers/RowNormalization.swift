import Foundation

/// Scales each item's values to unit root mean square: `y = x / r` with
/// `r = √(mean(x²) + ε)` over the item's values, the same in training and inference (no
/// parameters, no running statistics). Every item then has length √n, so what a layer above sees
/// of it is its direction alone — the cosine geometry in which nearest neighbours were found.
///
/// Backward: `∂x = (∂y − y · mean(y · ∂y)) / r`, item by item.
public final class RowNormalization: Layer {
    public let name: String
    /// Added to the mean square, so an item of zeros gives zeros instead of a division by zero.
    public let epsilon: Float
    private var cache = ForwardCache<(output: Tensor, inverseRoots: [Float])>()

    public init(_ name: String = "row_normalization", epsilon: Float = 1e-6) {
        precondition(epsilon > 0 && epsilon.isFinite, "row normalisation needs a positive ε, not \(epsilon)")
        self.name = name
        self.epsilon = epsilon
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        let items = input.batch, width = input.itemSize
        guard width > 0 else { throw NeuralNetError.shape(name, expected: "items of at least one value", got: input.shape) }
        var output = input
        var inverseRoots = [Float](repeating: 0, count: items)
        input.storage.withUnsafeBufferPointer { x in
            output.storage.withUnsafeMutableBufferPointer { y in
                for item in 0..<items {
                    let row = item * width
                    var squares: Double = 0
                    for i in row..<(row + width) { squares += Double(x[i]) * Double(x[i]) }
                    let inverse = Float(1 / (squares / Double(width) + Double(epsilon)).squareRoot())
                    inverseRoots[item] = inverse
                    for i in row..<(row + width) { y[i] = x[i] * inverse }
                }
            }
        }
        if training { cache.store((output, inverseRoots)) }
        return output
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (output, inverseRoots) = try cache.get(name)
        guard outputGradient.shape == output.shape else {
            throw NeuralNetError.shape("\(name) backward", expected: Tensor.describe(output.shape), got: outputGradient.shape)
        }
        let width = output.itemSize
        var inputGradient = outputGradient
        output.storage.withUnsafeBufferPointer { y in
            inputGradient.storage.withUnsafeMutableBufferPointer { g in
                for item in inverseRoots.indices {
                    let row = item * width
                    var projection: Double = 0
                    for i in row..<(row + width) { projection += Double(y[i]) * Double(g[i]) }
                    let meanProjection = Float(projection / Double(width)), inverse = inverseRoots[item]
                    for i in row..<(row + width) { g[i] = (g[i] - y[i] * meanProjection) * inverse }
                }
            }
        }
        return inputGradient
    }
}
