/// A fully connected layer: `y = x · Wᵀ + b`. Input `(N, in)`, output `(N, out)`;
/// weight `(out, in)`, bias `(out)`.
public final class Linear: Layer {
    public let name: String
    public let inputs: Int
    public let outputs: Int
    let store: ParameterStore
    let weight: Int
    let bias: Int
    private var cache = ForwardCache<Tensor>()

    public init(_ name: String, inputs: Int, outputs: Int, parameters: ParameterStore, rng: inout SeededGenerator) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        store = parameters
        weight = parameters.add("\(name).weight", shape: [outputs, inputs]) { _ in Initialization.glorot(fanIn: inputs, fanOut: outputs, &rng) }
        bias = parameters.add("\(name).bias", shape: [outputs]) { _ in 0 }
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.shape.count == 2, input.shape[1] == inputs else {
            throw NeuralNetError.shape(name, expected: "(N, \(inputs))", got: input.shape)
        }
        let n = input.batch
        var output = Tensor(zeros: [n, outputs])
        store.values.withUnsafeBufferPointer { values in
            for row in 0..<n { for j in 0..<outputs { output.storage[row * outputs + j] = values[bias + j] } }
            input.storage.withUnsafeBufferPointer { x in
                output.storage.withUnsafeMutableBufferPointer { y in
                    // (N, in) · (out, in)ᵀ + y
                    BLAS.gemm(transposeB: true, m: n, n: outputs, k: inputs, a: x.baseAddress!, lda: inputs,
                              b: values.baseAddress! + weight, ldb: inputs, beta: 1, c: y.baseAddress!, ldc: outputs)
                }
            }
        }
        if training { cache.store(input) }
        return output
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let input = try cache.get(name)
        let n = input.batch
        guard outputGradient.shape == [n, outputs] else {
            throw NeuralNetError.shape("\(name) backward", expected: "(\(n), \(outputs))", got: outputGradient.shape)
        }
        var inputGradient = Tensor(zeros: input.shape)
        store.values.withUnsafeBufferPointer { values in
            store.gradients.withUnsafeMutableBufferPointer { gradients in
                outputGradient.storage.withUnsafeBufferPointer { gy in
                    input.storage.withUnsafeBufferPointer { x in
                        if store.accumulatesGradients {
                            // ∂W += gyᵀ · x : (out, N) · (N, in)
                            BLAS.gemm(transposeA: true, m: outputs, n: inputs, k: n, a: gy.baseAddress!, lda: outputs,
                                      b: x.baseAddress!, ldb: inputs, beta: 1, c: gradients.baseAddress! + weight, ldc: inputs)
                            for row in 0..<n { for j in 0..<outputs { gradients[bias + j] += gy[row * outputs + j] } }
                        }
                        inputGradient.storage.withUnsafeMutableBufferPointer { gx in
                            // ∂x = gy · W : (N, out) · (out, in)
                            BLAS.gemm(m: n, n: inputs, k: outputs, a: gy.baseAddress!, lda: outputs,
                                      b: values.baseAddress! + weight, ldb: inputs, c: gx.baseAddress!, ldc: inputs)
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}
