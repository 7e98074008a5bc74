@testable import NeuralNet

/// Central finite differences against a layer's backward pass.
///
/// The loss is `Σ r·y` for a fixed random `r`, accumulated in Double; the analytic gradients come
/// from `backward(r)`. Returns the largest relative difference over sampled positions of the
/// input and of every trainable parameter tensor, with `max(|analytic|, |numeric|, floor)` as the
/// scale: relative for every gradient above `floor`, so a small gradient wrong by a large factor
/// fails instead of passing under an absolute tolerance (the scale was `max(1, …)`). The floor,
/// 1e-2, sits above the noise of a Float32 forward pass's finite differences: a convolution's
/// bias ahead of batch normalisation has an exact gradient of 0 and a numeric one of ~1e-4.
func gradientCheck(_ layer: Layer, parameters: ParameterStore, input: Tensor, seed: UInt64 = 99,
                   step: Float = 1e-2, samples: Int = 60, floor: Double = 1e-2) throws -> (worst: Float, where: String) {
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
        let difference = abs(Double(analytic) - numeric) / max(abs(Double(analytic)), abs(numeric), floor)
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

/// Where two arrays first differ, in words; nil when they are equal bit for bit (a short message
/// where `==` on arrays would print both whole).
func firstDifference(_ values: [Float], _ expected: [Float]) -> String? {
    guard values.count == expected.count else { return "\(values.count) values, expected \(expected.count)" }
    guard let i = values.indices.first(where: { values[$0].bitPattern != expected[$0].bitPattern }) else { return nil }
    return "value \(i): \(values[i]), expected \(expected[i])"
}
