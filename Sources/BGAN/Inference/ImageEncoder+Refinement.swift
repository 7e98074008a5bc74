import NeuralNet

/// The vectors a store bound to the model keeps per image to re-rank its exact Hamming
/// candidates, when they are not the outputs themselves (`ModelFile.Header.refinementVectors`,
/// `refinementPixels`): the hidden layer, or a layer with a small copy of the input beside it.
extension ImageEncoder {
    /// Values of the refinement vector a store bound to the model keeps per image when it is not
    /// the outputs themselves (`ModelFile.Header.refinementWidth`), else nil.
    public var refinementWidth: Int? { model.header.refinementWidth }

    /// For each image, its ``realValuedOutputs(of:)`` followed by the refinement vector a store
    /// bound to the model keeps (``refinementWidth`` values: the hidden layer or the outputs as
    /// `ModelFile.Header.refinementVectors` says, with the pixel signature of
    /// `ModelFile.Header.refinementPixels` beside it, each part then at unit length and the pixels
    /// scaled by √weight); the outputs alone for a model whose stores keep those. One pass of the
    /// network. For images given as in ``signs(of:)-([Float])``.
    public func outputsAndRefinementVectors(of pixels: [Float]) throws -> [Float] {
        let header = model.header
        guard refinementWidth != nil else { return try realValuedOutputs(of: pixels) }
        let byHidden = header.refinementVectors == .hiddenLayer
        let layers = byHidden ? try outputsAndHiddenFeatures(of: pixels) : try realValuedOutputs(of: pixels)
        let layersWidth = byHidden ? bits + hiddenUnits : bits
        guard let signature = header.refinementPixels else { return layers }
        let signatures = try pixelSignatures(of: pixels, signature)
        let signatureWidth = header.architecture.channels * signature.side * signature.side
        let count = layers.count / layersWidth
        var rows: [Float] = []
        rows.reserveCapacity(count * (bits + refinementWidth!))
        for image in 0..<count {
            let row = layers[(image * layersWidth)..<((image + 1) * layersWidth)]
            rows += row.prefix(bits)
            rows += Self.unitLength(byHidden ? row.dropFirst(bits) : row.prefix(bits), times: 1)
            rows += Self.unitLength(signatures[(image * signatureWidth)..<((image + 1) * signatureWidth)], times: signature.weight.squareRoot())
        }
        return rows
    }

    /// `values` scaled to length `times` (left as they are when all zero).
    static func unitLength<C: Collection>(_ values: C, times: Float) -> [Float] where C.Element == Float {
        let norm = values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? values.map { $0 * times / norm } : Array(values)
    }

    /// Each image's input as the encoder's first layer sees it (the model's standardisation, or
    /// the plain one for a model without), averaged over `signature.side²` blocks per channel and,
    /// for a model that averages mirror images, with its mirror image: `count × C × side × side`.
    func pixelSignatures(of pixels: [Float], _ signature: ModelFile.PixelSignature) throws -> [Float] {
        let a = model.header.architecture, size = valuesPerImage, side = signature.side
        let standardisation: any Layer = a.standardizesInput ? encoder.layers[0] : SampleStandardization("refinement.pixels")
        let count = pixels.count / size
        let blockHeight = a.height / side, blockWidth = a.width / side
        var signatures: [Float] = []
        signatures.reserveCapacity(count * a.channels * side * side)
        for start in stride(from: 0, to: count, by: Self.batchSize) {
            let n = min(Self.batchSize, count - start)
            let batch = Tensor(shape: [n, a.channels, a.height, a.width], storage: Array(pixels[(start * size)..<((start + n) * size)]))
            let standardised = try standardisation.forward(batch, training: false).storage
            for image in 0..<n {
                for channel in 0..<a.channels {
                    let plane = (image * a.channels + channel) * a.height * a.width
                    var pooled = [Float](repeating: 0, count: side * side)
                    for y in 0..<a.height {
                        for x in 0..<a.width { pooled[(y / blockHeight) * side + x / blockWidth] += standardised[plane + y * a.width + x] }
                    }
                    let scale = 1 / Float(blockHeight * blockWidth)
                    for y in 0..<side {
                        for x in 0..<side {
                            let value = pooled[y * side + x] * scale
                            signatures.append(model.header.averagesMirrorImages ? (value + pooled[y * side + side - 1 - x] * scale) / 2 : value)
                        }
                    }
                }
            }
        }
        return signatures
    }
}
