import Testing
@testable import NeuralNet

/// The small-patch convolution kernels against the sgemm path and against finite differences,
/// each kernel on its own layer (the AVX-512 one runs as portable on a CPU without it). The
/// shapes have output areas that are not multiples of 16, output channels and patches that are
/// not multiples of 4, stride 2, padding and batch 1.
@Suite struct SmallPatchKernelTests {
    static let shapes = [
        (batch: 1, channels: 1, size: 5, filters: 1, kernel: 3, stride: 1, padding: 0),
        (batch: 3, channels: 1, size: 28, filters: 6, kernel: 4, stride: 2, padding: 1),
        (batch: 2, channels: 1, size: 9, filters: 5, kernel: 3, stride: 2, padding: 1),
        (batch: 2, channels: 4, size: 7, filters: 3, kernel: 2, stride: 1, padding: 0),
    ]

    struct Run { let output, inputGradient, parameterGradients: [Float] }

    func run(_ s: (batch: Int, channels: Int, size: Int, filters: Int, kernel: Int, stride: Int, padding: Int),
             smallPatches: Bool, kernel: SmallPatchKernel, needsInputGradient: Bool = true) throws -> Run {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 40)
        let layer = Conv2D("conv", inputChannels: s.channels, outputChannels: s.filters, kernel: s.kernel, stride: s.stride,
                           padding: s.padding, parameters: store, rng: &rng)
        for i in store.values.indices { store.values[i] += 0.1 * Float(i % 7) }  // non-zero biases too
        layer.smallPatchLimit = smallPatches ? 16 : 0
        layer.smallPatchKernel = kernel
        layer.needsInputGradient = needsInputGradient
        let output = try layer.forward(randomTensor([s.batch, s.channels, s.size, s.size + 1], seed: 41), training: true)
        let inputGradient = try layer.backward(randomTensor(output.shape, seed: 42))
        return Run(output: output.storage, inputGradient: inputGradient.storage, parameterGradients: store.gradients)
    }

    @Test(arguments: SmallPatchKernel.allCases)
    func kernelsMatchTheMatrixProducts(kernel: SmallPatchKernel) throws {
        for shape in Self.shapes {
            let small = try run(shape, smallPatches: true, kernel: kernel), products = try run(shape, smallPatches: false, kernel: kernel)
            for (name, a, b) in [("output", small.output, products.output), ("input gradient", small.inputGradient, products.inputGradient),
                                 ("parameter gradients", small.parameterGradients, products.parameterGradients)] {
                #expect(a.count == b.count)
                let scale = max(b.map(abs).max() ?? 1, 1)
                let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * scale, "\(name) of \(shape): largest difference \(worst) (values up to \(scale))")
            }
            #expect(small.inputGradient.contains { $0 != 0 })
        }
    }

    @Test(arguments: SmallPatchKernel.allCases)
    func gradientsMatchFiniteDifferences(kernel: SmallPatchKernel) throws {
        for (index, s) in Self.shapes.enumerated() where s.size < 28 {
            let store = ParameterStore()
            var rng = SeededGenerator(seed: 43)
            let layer = Conv2D("conv", inputChannels: s.channels, outputChannels: s.filters, kernel: s.kernel, stride: s.stride,
                               padding: s.padding, parameters: store, rng: &rng)
            layer.smallPatchLimit = 16
            layer.smallPatchKernel = kernel
            let check = try gradientCheck(layer, parameters: store, input: randomTensor([s.batch, s.channels, s.size, s.size + 1], seed: UInt64(44 + index)))
            #expect(check.worst < 1e-2, "\(s): \(check.where)")
        }
    }

    /// Without the input gradient the small-patch path computes the same parameter gradients to the bit.
    @Test func skippingTheInputGradientKeepsTheParameterGradients() throws {
        let shape = Self.shapes[1]
        let full = try run(shape, smallPatches: true, kernel: .best), skipped = try run(shape, smallPatches: true, kernel: .best, needsInputGradient: false)
        #expect(skipped.parameterGradients == full.parameterGradients)
        #expect(skipped.inputGradient.allSatisfy { $0 == 0 })
    }

    @Test func theBestKernelUsesTheWidestVectorsTheCPUHas() {
        #expect(SmallPatchKernel.best == (BLASCore.cpuFeatures().contains("avx512f") ? .avx512 : .portable))
    }
}
