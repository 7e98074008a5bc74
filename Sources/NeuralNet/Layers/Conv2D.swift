/// 2-D convolution by im2col and one matrix product per batch.
/// Input `(N, C, H, W)`, output `(N, K, OH, OW)`; weight `(K, C, k, k)`, bias `(K)`.
public final class Conv2D: Layer {
    public let name: String
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    let store: ParameterStore
    let weight: Int
    let bias: Int
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
        precondition(kernel >= 1 && stride >= 1 && padding >= 0, "\(name): kernel \(kernel), stride \(stride), padding \(padding) is not a convolution")
        self.name = name
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        store = parameters
        let fanIn = inputChannels * kernel * kernel
        weight = parameters.add("\(name).weight", shape: [outputChannels, inputChannels, kernel, kernel]) { _ in Initialization.he(fanIn: fanIn, &rng) }
        bias = parameters.add("\(name).bias", shape: [outputChannels]) { _ in 0 }
    }

    /// Floats of unfolded input per chunk of the batch: bounds the work buffers (8 MiB) while
    /// keeping the products wide. A batch of 64 Fashion-MNIST-sized images is one chunk; measured
    /// against 2 MiB chunks, conv2 went from 40–47% to 50–57% of the raw sgemm rate.
    public var chunkFloats = 1 << 21

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
        let columnsWide = n * g.outputArea
        resize(&columns, to: g.patchSize * columnsWide)
        // (K, C·k·k) · (C·k·k, N·area) = (K, N·area), then to (N, K, area) adding the bias. The
        // batch goes in chunks whose columns fit in the caches: unfolded, then multiplied while hot.
        resize(&product, to: outputChannels * columnsWide)
        let outputCount = n * outputChannels * g.outputArea
        var outputStorage: [Float] = []
        let chunk = chunkItems(g, batch: n)
        store.values.withUnsafeBufferPointer { values in
            input.storage.withUnsafeBufferPointer { x in
                columns.withUnsafeMutableBufferPointer { cols in
                    product.withUnsafeMutableBufferPointer { out in
                        let (xs, cs, os) = (x.baseAddress!, cols.baseAddress!, out.baseAddress!)
                        for first in Swift.stride(from: 0, to: n, by: chunk) {
                            let items = first..<min(n, first + chunk)
                            parallelRanges(items.count) { part in
                                for item in part { g.im2col(xs + (first + item) * g.imageSize, into: cs, rowStride: columnsWide, item: first + item) }
                            }
                            let offset = first * g.outputArea
                            BLAS.gemm(m: outputChannels, n: items.count * g.outputArea, k: g.patchSize, a: values.baseAddress! + weight,
                                      lda: g.patchSize, b: cs + offset, ldb: columnsWide, c: os + offset, ldc: columnsWide)
                        }
                    }
                }
            }
            // Every output value is written by the layout move: no zero-filling first.
            product.withUnsafeBufferPointer { source in
                outputStorage = [Float](unsafeUninitializedCapacity: outputCount) { target, count in
                    ChannelMajor.toBatchMajor(source.baseAddress!, target.baseAddress!, batch: n, channels: outputChannels,
                                              area: g.outputArea, bias: values.baseAddress! + bias)
                    count = outputCount
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

    public func backward(_ outputGradient: Tensor) throws -> Tensor {
        let (inputShape, g, columns) = try cache.get(name)
        let n = inputShape[0]
        guard outputGradient.shape == [n, outputChannels, g.outputHeight, g.outputWidth] else {
            throw NeuralNetError.shape("\(name) backward", expected: "(\(n), \(outputChannels), \(g.outputHeight), \(g.outputWidth))", got: outputGradient.shape)
        }
        let columnsWide = n * g.outputArea
        resize(&channelMajorGradient, to: outputChannels * columnsWide)
        resize(&columnGradient, to: g.patchSize * columnsWide)
        var inputGradient = Tensor(zeros: inputShape)
        let chunk = chunkItems(g, batch: n)
        store.values.withUnsafeBufferPointer { values in
            store.gradients.withUnsafeMutableBufferPointer { gradients in
                // To channels first, summing the bias gradient on the way.
                outputGradient.storage.withUnsafeBufferPointer { source in
                    channelMajorGradient.withUnsafeMutableBufferPointer { target in
                        ChannelMajor.fromBatchMajor(source.baseAddress!, target.baseAddress!, batch: n, channels: outputChannels, area: g.outputArea,
                                                    addingSumsTo: gradients.baseAddress! + bias)
                    }
                }
                channelMajorGradient.withUnsafeBufferPointer { gy in
                    columns.withUnsafeBufferPointer { cols in
                        columnGradient.withUnsafeMutableBufferPointer { gcols in
                            inputGradient.storage.withUnsafeMutableBufferPointer { gx in
                                let (ys, cs, gs, xs) = (gy.baseAddress!, cols.baseAddress!, gcols.baseAddress!, gx.baseAddress!)
                                for first in Swift.stride(from: 0, to: n, by: chunk) {
                                    let items = first..<min(n, first + chunk)
                                    let offset = first * g.outputArea, wide = items.count * g.outputArea
                                    // ∂W += gy · colsᵀ : (K, chunk) · (chunk, C·k·k)
                                    BLAS.gemm(transposeB: true, m: outputChannels, n: g.patchSize, k: wide, a: ys + offset, lda: columnsWide,
                                              b: cs + offset, ldb: columnsWide, beta: 1, c: gradients.baseAddress! + weight, ldc: g.patchSize)
                                    guard needsInputGradient else { continue }
                                    // ∂cols = Wᵀ · gy : (C·k·k, K) · (K, chunk), folded back while hot
                                    BLAS.gemm(transposeA: true, m: g.patchSize, n: wide, k: outputChannels, a: values.baseAddress! + weight,
                                              lda: g.patchSize, b: ys + offset, ldb: columnsWide, c: gs + offset, ldc: columnsWide)
                                    parallelRanges(items.count) { part in
                                        for item in part { g.col2im(gs, rowStride: columnsWide, item: first + item, into: xs + (first + item) * g.imageSize) }
                                    }
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
}
