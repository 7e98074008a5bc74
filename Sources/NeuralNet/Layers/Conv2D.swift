import CConvolutionKernels

/// 2-D convolution: im2col, then one matrix product per batch chunk through sgemm, or, for
/// patches of at most `smallPatchLimit` values, the small-patch kernels image by image.
/// Input `(N, C, H, W)`, output `(N, K, OH, OW)`; weight `(K, C, k, k)`, bias `(K)`.
public final class Conv2D: ConvolutionLayer, Layer {
    /// Whether backward computes the gradient with respect to the input. A network's first
    /// layer, whose input is data, needs none: without it, backward skips one of its two matrix
    /// products and the folding back, and returns zeros.
    public var needsInputGradient = true
    /// The unfolded input of the last training forward pass is moved into the cache, so a later
    /// forward pass (say, in inference) cannot overwrite what backward needs.
    private var cache = ForwardCache<(input: [Int], geometry: ConvolutionGeometry, columns: [Float])>()
    // Work buffers kept between calls: fresh multi-megabyte arrays would cost page faults each time.
    private var columns: [Float] = []
    private var product: [Float] = []
    private var columnGradient: [Float] = []
    private var channelMajorGradient: [Float] = []

    public init(_ name: String, inputChannels: Int, outputChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                parameters: ParameterStore, rng: inout SeededGenerator) {
        super.init(name, inputChannels: inputChannels, outputChannels: outputChannels, kernel: kernel, stride: stride, padding: padding,
                   weightShape: [outputChannels, inputChannels, kernel, kernel], parameters: parameters, rng: &rng)
    }

    /// Floats of unfolded input per chunk of the batch: bounds the work buffers (8 MiB) while
    /// keeping the products wide. A batch of 64 Fashion-MNIST-sized images is one chunk; measured
    /// against 2 MiB chunks, conv2 went from 40–47% to 50–57% of the raw sgemm rate.
    public var chunkFloats = 1 << 21

    /// The largest patch (C·k·k) computed by the small-patch kernels (`SmallPatchKernel`) instead
    /// of sgemm; 0 sends every convolution through sgemm. With a patch of 16 (a gray image, 4×4
    /// kernel) sgemm and the layout moves around it are bound by memory: the kernels ran the
    /// encoder's conv1 at 86–88% of the raw sgemm rate against ~50% through sgemm. At 48 (RGB)
    /// sgemm won, 62% against 41% (`bgan-bench nn`, batch 64, 2026-11-29). On a CPU without
    /// AVX-512 the default is 0: the portable kernel was never measured against sgemm there.
    public var smallPatchLimit = SmallPatchKernel.best == .avx512 ? 16 : 0

    /// The small-patch kernel this layer runs.
    public var smallPatchKernel = SmallPatchKernel.best

    /// Batch items per chunk.
    func chunkItems(_ g: ConvolutionGeometry, batch: Int) -> Int {
        max(1, min(batch, chunkFloats / max(g.patchSize * g.outputArea, 1)))
    }

    func geometry(for shape: [Int]) throws -> ConvolutionGeometry {
        guard shape.count == 4, shape[1] == inputChannels, shape[2] + 2 * padding >= kernel, shape[3] + 2 * padding >= kernel else {
            throw NeuralNetError.shape(name, expected: "(N, \(inputChannels), H, W) with H, W + 2·\(padding) ≥ \(kernel)", got: shape)
        }
        return ConvolutionGeometry(channels: inputChannels, height: shape[2], width: shape[3], kernel: kernel, stride: stride, padding: padding)
    }

    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        let g = try geometry(for: input.shape)
        let n = input.batch
        resize(&columns, to: g.patchSize * n * g.outputArea)
        let outputCount = n * outputChannels * g.outputArea
        var outputStorage: [Float] = []
        store.values.withUnsafeBufferPointer { values in
            input.storage.withUnsafeBufferPointer { x in
                columns.withUnsafeMutableBufferPointer { cols in
                    // Every output value is written: no zero-filling first.
                    outputStorage = [Float](unsafeUninitializedCapacity: outputCount) { target, count in
                        if g.patchSize <= smallPatchLimit {
                            forwardSmallPatch(g, batch: n, input: x.baseAddress!, columns: cols.baseAddress!, values: values.baseAddress!,
                                              output: target.baseAddress!)
                        } else {
                            forwardByMatrixProducts(g, batch: n, input: x.baseAddress!, columns: cols.baseAddress!, values: values.baseAddress!,
                                                    output: target.baseAddress!)
                        }
                        count = outputCount
                    }
                }
            }
        }
        let output = Tensor(shape: [n, outputChannels, g.outputHeight, g.outputWidth], storage: outputStorage)
        if training {
            cache.store((input.shape, g, columns))
            columns = []
        }
        return output
    }

    /// Each image unfolded and combined into its output at once, on every core.
    private func forwardSmallPatch(_ g: ConvolutionGeometry, batch n: Int, input xs: UnsafePointer<Float>, columns cs: UnsafeMutablePointer<Float>,
                                   values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let columnsWide = n * g.outputArea
        parallelRanges(n, tasks: BLAS.threads) { items in
            for item in items {
                g.im2col(xs + item * g.imageSize, into: cs, rowStride: columnsWide, item: item)
                bgan_conv_combine(smallPatchKernel.c, outputChannels, g.patchSize, g.outputArea, values + weight, g.patchSize, 1,
                                  cs + item * g.outputArea, columnsWide, values + bias, output + item * outputChannels * g.outputArea, g.outputArea)
            }
        }
    }

    /// (K, C·k·k) · (C·k·k, N·area) = (K, N·area), then to (N, K, area) adding the bias. The batch
    /// goes in chunks whose columns fit in the caches: unfolded, then multiplied while hot.
    private func forwardByMatrixProducts(_ g: ConvolutionGeometry, batch n: Int, input xs: UnsafePointer<Float>, columns cs: UnsafeMutablePointer<Float>,
                                         values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let columnsWide = n * g.outputArea
        resize(&product, to: outputChannels * columnsWide)
        let chunk = chunkItems(g, batch: n)
        product.withUnsafeMutableBufferPointer { out in
            let os = out.baseAddress!
            for first in Swift.stride(from: 0, to: n, by: chunk) {
                let items = first..<min(n, first + chunk)
                parallelRanges(items.count, tasks: BLAS.threads) { part in
                    for item in part { g.im2col(xs + (first + item) * g.imageSize, into: cs, rowStride: columnsWide, item: first + item) }
                }
                let offset = first * g.outputArea
                BLAS.gemm(m: outputChannels, n: items.count * g.outputArea, k: g.patchSize, a: values + weight,
                          lda: g.patchSize, b: cs + offset, ldb: columnsWide, c: os + offset, ldc: columnsWide)
            }
            ChannelMajor.toBatchMajor(os, output, batch: n, channels: outputChannels, area: g.outputArea, bias: values + bias)
        }
    }

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (inputShape, g, columns) = try cache.get(name)
        let n = inputShape[0]
        guard outputGradient.shape == [n, outputChannels, g.outputHeight, g.outputWidth] else {
            throw NeuralNetError.shape("\(name) backward", expected: "(\(n), \(outputChannels), \(g.outputHeight), \(g.outputWidth))", got: outputGradient.shape)
        }
        resize(&columnGradient, to: g.patchSize * n * g.outputArea)
        var inputGradient = Tensor(zeros: inputShape)
        store.values.withUnsafeBufferPointer { values in
            store.gradients.withUnsafeMutableBufferPointer { gradients in
                outputGradient.storage.withUnsafeBufferPointer { gy in
                    columns.withUnsafeBufferPointer { cols in
                        columnGradient.withUnsafeMutableBufferPointer { gcols in
                            inputGradient.storage.withUnsafeMutableBufferPointer { gx in
                                let pointers = BackwardPointers(outputGradient: gy.baseAddress!, columns: cols.baseAddress!, values: values.baseAddress!,
                                                                gradients: gradients.baseAddress!, columnGradient: gcols.baseAddress!,
                                                                inputGradient: gx.baseAddress!)
                                if g.patchSize <= smallPatchLimit {
                                    backwardSmallPatch(g, batch: n, pointers)
                                } else {
                                    backwardByMatrixProducts(g, batch: n, pointers)
                                }
                            }
                        }
                    }
                }
            }
        }
        // Hand the unfolding buffer back for reuse by the next forward pass.
        cache.clear()
        self.columns = columns
        return inputGradient
    }

    /// What both backward passes read and write.
    private struct BackwardPointers {
        let outputGradient: UnsafePointer<Float>
        let columns: UnsafePointer<Float>
        let values: UnsafePointer<Float>
        let gradients: UnsafeMutablePointer<Float>
        let columnGradient: UnsafeMutablePointer<Float>
        let inputGradient: UnsafeMutablePointer<Float>
    }

    /// Parameter gradients straight from the NCHW output gradient, split by output channel over
    /// the cores; the input gradient image by image, unfolded and folded back while hot.
    private func backwardSmallPatch(_ g: ConvolutionGeometry, batch n: Int, _ p: BackwardPointers) {
        let columnsWide = n * g.outputArea
        if store.accumulatesGradients {
            parallelRanges(outputChannels, tasks: BLAS.threads) { rows in
                bgan_conv_accumulate_gradients(smallPatchKernel.c, rows.lowerBound, rows.upperBound, outputChannels, g.patchSize, g.outputArea, n,
                                               p.outputGradient, p.columns, columnsWide, p.gradients + weight, p.gradients + bias)
            }
        }
        guard needsInputGradient else { return }
        parallelRanges(n, tasks: BLAS.threads) { items in
            for item in items {
                bgan_conv_combine(smallPatchKernel.c, g.patchSize, outputChannels, g.outputArea, p.values + weight, 1, g.patchSize,
                                  p.outputGradient + item * outputChannels * g.outputArea, g.outputArea, nil,
                                  p.columnGradient + item * g.outputArea, columnsWide)
                g.col2im(p.columnGradient, rowStride: columnsWide, item: item, into: p.inputGradient + item * g.imageSize)
            }
        }
    }

    /// The output gradient moved to channels first (summing the bias gradient on the way), then
    /// ∂W += gy · colsᵀ and ∂cols = Wᵀ · gy chunk by chunk, each chunk folded back while hot.
    private func backwardByMatrixProducts(_ g: ConvolutionGeometry, batch n: Int, _ p: BackwardPointers) {
        let columnsWide = n * g.outputArea
        resize(&channelMajorGradient, to: outputChannels * columnsWide)
        let chunk = chunkItems(g, batch: n)
        channelMajorGradient.withUnsafeMutableBufferPointer { target in
            let ys = target.baseAddress!
            let accumulates = store.accumulatesGradients
            if accumulates {
                ChannelMajor.fromBatchMajor(p.outputGradient, ys, batch: n, channels: outputChannels, area: g.outputArea, addingSumsTo: p.gradients + bias)
            } else {
                ChannelMajor.fromBatchMajor(p.outputGradient, ys, batch: n, channels: outputChannels, area: g.outputArea)
            }
            for first in Swift.stride(from: 0, to: n, by: chunk) {
                let items = first..<min(n, first + chunk)
                let offset = first * g.outputArea, wide = items.count * g.outputArea
                if accumulates {
                    // ∂W += gy · colsᵀ : (K, chunk) · (chunk, C·k·k)
                    BLAS.gemm(transposeB: true, m: outputChannels, n: g.patchSize, k: wide, a: ys + offset, lda: columnsWide,
                              b: p.columns + offset, ldb: columnsWide, beta: 1, c: p.gradients + weight, ldc: g.patchSize)
                }
                guard needsInputGradient else { continue }
                // ∂cols = Wᵀ · gy : (C·k·k, K) · (K, chunk)
                BLAS.gemm(transposeA: true, m: g.patchSize, n: wide, k: outputChannels, a: p.values + weight,
                          lda: g.patchSize, b: ys + offset, ldb: columnsWide, c: p.columnGradient + offset, ldc: columnsWide)
                parallelRanges(items.count, tasks: BLAS.threads) { part in
                    for item in part { g.col2im(p.columnGradient, rowStride: columnsWide, item: first + item, into: p.inputGradient + (first + item) * g.imageSize) }
                }
            }
        }
    }
}
