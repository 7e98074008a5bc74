/// The pass the per-sample standardisations share: checks that `input` (`N × …`) holds samples,
/// then calls `standardise` with each sample's index, its values and the part of the output (a
/// copy of the input's shape) that it writes them to, sample by sample in order.
func standardizingEachSample(of input: Tensor, layer name: String,
                             _ standardise: (_ sample: Int, _ values: UnsafeBufferPointer<Float>, _ output: UnsafeMutableBufferPointer<Float>) -> Void) throws -> Tensor {
    let (samples, size) = (input.batch, input.itemSize)
    guard samples > 0, size > 0 else {
        throw NeuralNetError.shape("\(name) forward", expected: "[N, …] with N and each sample's size positive", got: input.shape)
    }
    var output = input
    input.storage.withUnsafeBufferPointer { x in
        output.storage.withUnsafeMutableBufferPointer { y in
            for n in 0..<samples {
                let part = (n * size)..<((n + 1) * size)
                standardise(n, UnsafeBufferPointer(rebasing: x[part]), UnsafeMutableBufferPointer(rebasing: y[part]))
            }
        }
    }
    return output
}

/// What the per-sample standardisations' backward passes take from the output's gradient `g` over
/// one sample's positions `range`: the sum of `g` and of `g · y`, counting only positions whose
/// output `y` lies strictly within `limit` of 0 (a clipped output passes nothing back; `.infinity`
/// counts every position).
@inline(__always)
func outputGradientSums(_ g: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>, _ range: Range<Int>,
                        within limit: Float = .infinity) -> (sum: Double, projected: Double) {
    var sum: Double = 0, projected: Double = 0
    for i in range where abs(y[i]) < limit {
        sum += Double(g[i])
        projected += Double(g[i]) * Double(y[i])
    }
    return (sum, projected)
}
