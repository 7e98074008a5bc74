/// 2-D transposed convolution (the adjoint of `Conv2D`, used to upsample in generators).
/// Input `(N, Cin, H, W)`, output `(N, Cout, OH, OW)` with `OH = (H − 1)·stride − 2·padding + kernel`;
/// weight `(Cin, Cout, k, k)`, bias `(Cout)`.
public final class ConvTranspose2D: ConvolutionLayer, Layer {
    /// The channels-first input of the last training forward pass is moved into the cache, so
    /// that backward reuses it and a later (inference) forward pass cannot overwrite it.
    private var cache = ForwardCache<(inputShape: [Int], geometry: ConvolutionGeometry, channelMajorInput: [Float])>()
    // Work buffers kept between calls: fresh multi-megabyte arrays would cost page faults each time.
    private var channelMajorInput: [Float] = []
    private var columns: [Float] = []
    private var gradientColumns: [Float] = []
    private var channelMajorInputGradient: [Float] = []

    public init(_ name: String, inputChannels: Int, outputChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                parameters: ParameterStore, rng: inout SeededGenerator) {
        super.init(name, inputChannels: inputChannels, outputChannels: outputChannels, kernel: kernel, stride: stride, padding: padding,
                   weightShape: [inputChannels, outputChannels, kernel, kernel], parameters: parameters, rng: &rng)
    }

    /// The geometry of the convolution this layer is the transpose of: over the *output* image.
    func geometry(for shape: [Int]) throws -> ConvolutionGeometry {
        guard shape.count == 4, shape[1] == inputChannels else {
            throw NeuralNetError.shape(name, expected: "(N, \(inputChannels), H, W)", got: shape)
        }
        let height = (shape[2] - 1) * stride - 2 * padding + kernel
        let width = (shape[3] - 1) * stride - 2 * padding + kernel
        guard height > 0, width > 0 else {
            throw NeuralNetError.shape(name, expected: "an input large enough for a positive output size", got: shape)
        }
        return ConvolutionGeometry(channels: outputChannels, height: height, width: width, kernel: kernel, stride: stride, padding: padding)
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        let g = try geometry(for: input.shape)
        let n = input.batch
        let area = input.shape[2] * input.shape[3]
        precondition(area == g.outputArea, "transposed-convolution geometry")
        let columnsWide = n * area
        resize(&channelMajorInput, to: inputChannels * columnsWide)
        input.storage.withUnsafeBufferPointer { source in
            channelMajorInput.withUnsafeMutableBufferPointer { target in
                ChannelMajor.fromBatchMajor(source.baseAddress!, target.baseAddress!, batch: n, channels: inputChannels, area: area)
            }
        }
        // cols = Wᵀ · x : (Cout·k·k, Cin) · (Cin, N·area)
        resize(&columns, to: g.patchSize * columnsWide)
        store.values.withUnsafeBufferPointer { values in
            channelMajorInput.withUnsafeBufferPointer { x in
                columns.withUnsafeMutableBufferPointer { cols in
                    BLAS.gemm(transposeA: true, m: g.patchSize, n: columnsWide, k: inputChannels, a: values.baseAddress! + weight,
                              lda: g.patchSize, b: x.baseAddress!, ldb: columnsWide, c: cols.baseAddress!, ldc: columnsWide)
                }
            }
        }
        // Each image starts as its bias (no zero-filling first) and gathers its columns back
        // while they are hot.
        let outputCount = n * g.imageSize
        var outputStorage: [Float] = []
        store.values.withUnsafeBufferPointer { values in
            columns.withUnsafeBufferPointer { cols in
                outputStorage = [Float](unsafeUninitializedCapacity: outputCount) { y, count in
                    let (cs, ys, bs) = (cols.baseAddress!, y.baseAddress!, values.baseAddress! + bias)
                    let plane = g.height * g.width
                    parallelRanges(n, tasks: BLAS.threads) { items in
                        for item in items {
                            let image = ys + item * g.imageSize
                            for c in 0..<outputChannels { (image + c * plane).initialize(repeating: bs[c], count: plane) }
                            g.col2im(cs, rowStride: columnsWide, item: item, into: image)
                        }
                    }
                    count = outputCount
                }
            }
        }
        let output = Tensor(shape: [n, outputChannels, g.height, g.width], storage: outputStorage)
        if training {
            cache.store((input.shape, g, channelMajorInput))
            channelMajorInput = []
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (inputShape, g, channelMajorInput) = try cache.get(name)
        let n = inputShape[0]
        guard outputGradient.shape == [n, outputChannels, g.height, g.width] else {
            throw NeuralNetError.shape("\(name) backward", expected: "(\(n), \(outputChannels), \(g.height), \(g.width))", got: outputGradient.shape)
        }
        let area = g.outputArea
        let columnsWide = n * area
        resize(&gradientColumns, to: g.patchSize * columnsWide)
        outputGradient.storage.withUnsafeBufferPointer { gy in
            gradientColumns.withUnsafeMutableBufferPointer { cols in
                let (ys, cs) = (gy.baseAddress!, cols.baseAddress!)
                parallelRanges(n, tasks: BLAS.threads) { items in
                    for item in items { g.im2col(ys + item * g.imageSize, into: cs, rowStride: columnsWide, item: item) }
                }
            }
        }
        resize(&channelMajorInputGradient, to: inputChannels * columnsWide)
        store.values.withUnsafeBufferPointer { values in
            store.gradients.withUnsafeMutableBufferPointer { gradients in
                gradientColumns.withUnsafeBufferPointer { gcols in
                    if store.accumulatesGradients {
                        channelMajorInput.withUnsafeBufferPointer { x in
                            // ∂W += x · gcolsᵀ : (Cin, N·area) · (N·area, Cout·k·k)
                            BLAS.gemm(transposeB: true, m: inputChannels, n: g.patchSize, k: columnsWide, a: x.baseAddress!, lda: columnsWide,
                                      b: gcols.baseAddress!, ldb: columnsWide, beta: 1, c: gradients.baseAddress! + weight, ldc: g.patchSize)
                        }
                    }
                    channelMajorInputGradient.withUnsafeMutableBufferPointer { gx in
                        // ∂x = W · gcols : (Cin, Cout·k·k) · (Cout·k·k, N·area)
                        BLAS.gemm(m: inputChannels, n: columnsWide, k: g.patchSize, a: values.baseAddress! + weight, lda: g.patchSize,
                                  b: gcols.baseAddress!, ldb: columnsWide, c: gx.baseAddress!, ldc: columnsWide)
                    }
                }
                guard store.accumulatesGradients else { return }
                outputGradient.storage.withUnsafeBufferPointer { gy in
                    let (ys, gs) = (gy.baseAddress!, gradients.baseAddress! + bias)
                    let plane = g.height * g.width
                    parallelRanges(outputChannels, tasks: BLAS.threads) { channels in
                        for c in channels {
                            var sum: Float = 0
                            for item in 0..<n { sum += vectorSum(ys + (item * outputChannels + c) * plane, count: plane) }
                            gs[c] += sum
                        }
                    }
                }
            }
        }
        var inputGradient = Tensor(zeros: inputShape)
        channelMajorInputGradient.withUnsafeBufferPointer { source in
            inputGradient.storage.withUnsafeMutableBufferPointer { target in
                ChannelMajor.toBatchMajor(source.baseAddress!, target.baseAddress!, batch: n, channels: inputChannels, area: area)
            }
        }
        // Hand the channels-first buffer back for reuse by the next forward pass.
        cache.clear()
        self.channelMajorInput = channelMajorInput
        return inputGradient
    }
}
