@testable import NeuralNet

/// Central finite differences against a layer's backward pass.
///
/// The loss is `Σ r·y` for a fixed random `r`, accumulated in Double; the analytic gradients come
/// from `backward(r)`. Returns the largest relative difference over the input and every
/// trainable parameter, with `max(1, |analytic|, |numeric|)` as the scale.
func gradientCheck(_ layer: Layer, parameters: ParameterStore, input: Tensor, seed: UInt64 = 99,
                   step: Float = 1e-2, samples: Int = 60) throws -> (worst: Float, where: String) {
    var rng = SeededGenerator(seed: seed)
    let output = try layer.forward(input, training: true)
    let projection = Tensor(shape: output.shape, storage: (0..<output.count).map { _ in rng.normal() })
    parameters.zeroGradients()
    let inputGradient = try layer.backward(projection)

    func loss(_ x: Tensor) throws -> Double {
        let y = try layer.forward(x, training: true)
        var sum: Double = 0
        for i in y.storage.indices { sum += Double(y.storage[i]) * Double(projection.storage[i]) }
        return sum
    }

    var worst: Float = 0
    var location = ""
    func record(_ analytic: Float, _ numeric: Double, _ label: String) {
        let difference = abs(Double(analytic) - numeric) / max(1, abs(Double(analytic)), abs(numeric))
        if Float(difference) > worst {
            worst = Float(difference)
            location = "\(label): analytic \(analytic), numeric \(numeric)"
        }
    }
    // The input, at sampled positions.
    for _ in 0..<min(samples, input.count) {
        let i = Int(rng.next() % UInt64(input.count))
        var plus = input, minus = input
        plus.storage[i] += step
        minus.storage[i] -= step
        record(inputGradient.storage[i], (try loss(plus) - loss(minus)) / Double(2 * step), "input[\(i)]")
    }
    // Every trainable parameter entry, at sampled positions.
    let analytic = parameters.gradients
    for entry in parameters.entries where entry.trainable {
        for _ in 0..<min(samples / 2 + 1, entry.count) {
            let i = entry.offset + Int(rng.next() % UInt64(entry.count))
            let saved = parameters.values[i]
            parameters.values[i] = saved + step
            let up = try loss(input)
            parameters.values[i] = saved - step
            let down = try loss(input)
            parameters.values[i] = saved
            record(analytic[i], (up - down) / Double(2 * step), "\(entry.name)[\(i - entry.offset)]")
        }
    }
    return (worst, location)
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in rng.normal() * scale })
}
