import NeuralNet

/// A model loaded for inference: images in the model's geometry and scale → codes as signs.
/// A model that averages mirror images (``ModelFile/Header/averagesMirrorImages``) runs its
/// network on each image and on its mirror image and gives the mean of the two.
public final class ImageEncoder {
    public let model: ModelFile
    let encoder: Sequential
    /// Images per forward pass: bounds the memory of the layers' work buffers.
    public static let batchSize = 256

    /// - Throws: when the model's parameters do not fit its architecture.
    public init(model: ModelFile) throws {
        self.model = model
        encoder = try model.encoderNetwork()
    }

    public var bits: Int { model.header.architecture.bits }
    /// Units of the encoder's hidden layer: the width of ``hiddenFeatures(of:)-([Float])``'s rows.
    public var hiddenUnits: Int { model.header.architecture.hiddenUnits }
    /// Values per image: channels × height × width.
    public var valuesPerImage: Int {
        let a = model.header.architecture
        return a.channels * a.height * a.width
    }

    /// The codes of images given as `count × C × H × W` values already in the model's scale
    /// (see ``Preprocessing``), as `count × bits` values of ±1 (`sign(h)`).
    /// - Throws: when the values are not whole images of the model's geometry.
    public func signs(of pixels: [Float]) throws -> [Float] {
        try outputs(of: pixels).map { $0 > 0 ? 1 : -1 }
    }

    /// The encoder's real-valued outputs `h` before the sign (`count × bits`), for images given
    /// as in ``signs(of:)-([Float])``: embeddings whose signs are the codes.
    public func realValuedOutputs(of pixels: [Float]) throws -> [Float] {
        try outputs(of: pixels)
    }

    /// The encoder's hidden layer (after its normalisation and activation, under the code layer:
    /// `count × hiddenUnits`), for images given as in ``signs(of:)-([Float])``: the wider
    /// representation the code layer projects, as embeddings for other tools.
    public func hiddenFeatures(of pixels: [Float]) throws -> [Float] {
        try outputs(of: pixels, layers: .hidden)
    }

    /// For each image, its ``realValuedOutputs(of:)`` (`bits` values) followed by its
    /// ``hiddenFeatures(of:)`` (`hiddenUnits` values), from one pass of the network:
    /// `count × (bits + hiddenUnits)` values, for images given as in ``signs(of:)-([Float])``.
    public func outputsAndHiddenFeatures(of pixels: [Float]) throws -> [Float] {
        try outputs(of: pixels, layers: .outputsThenHidden)
    }

    /// Which layers a pass returns, and the values it gives each image.
    private enum Rows {
        case outputs, hidden, outputsThenHidden
    }

    private func outputs(of pixels: [Float], layers: Rows = .outputs) throws -> [Float] {
        let size = valuesPerImage, a = model.header.architecture
        guard pixels.count % size == 0 else {
            throw BGANError(.invalidArgument, "\(pixels.count) values are not whole \(a.channels)×\(a.height)×\(a.width) images of this model")
        }
        let count = pixels.count / size
        let width = switch layers {
        case .outputs: bits
        case .hidden: hiddenUnits
        case .outputsThenHidden: bits + hiddenUnits
        }
        var outputs: [Float] = []
        outputs.reserveCapacity(count * width)
        for start in stride(from: 0, to: count, by: Self.batchSize) {
            let n = min(Self.batchSize, count - start)
            let images = Array(pixels[(start * size)..<((start + n) * size)])
            func pass(_ images: [Float]) throws -> [Float] {
                let batch = Tensor(shape: [n, a.channels, a.height, a.width], storage: images)
                switch layers {
                case .outputs: return try BGANNetworks.preSignOutputs(of: batch, encoder: encoder).storage
                case .hidden: return try BGANNetworks.hiddenFeatures(of: batch, encoder: encoder).storage
                case .outputsThenHidden:
                    let (hidden, outputs) = try BGANNetworks.hiddenFeaturesAndOutputs(of: batch, encoder: encoder)
                    return Self.rows(outputs.storage, width: bits, then: hidden.storage, width: hiddenUnits)
                }
            }
            let passed = try pass(images)
            guard model.header.averagesMirrorImages else {
                outputs += passed
                continue
            }
            // The mirror images in a pass of their own, each at its image's row: a batch of the
            // same shape, so an image and its mirror image get the same sum whichever is queried.
            let mirrored = try pass(Self.mirrorImages(of: images, width: a.width))
            outputs += zip(passed, mirrored).map { ($0 + $1) / 2 }
        }
        return outputs
    }

    /// Each row of `first` (`firstWidth` values) followed by the same row of `second`.
    static func rows(_ first: [Float], width firstWidth: Int, then second: [Float], width secondWidth: Int) -> [Float] {
        let count = first.count / firstWidth
        var rows: [Float] = []
        rows.reserveCapacity(first.count + second.count)
        for row in 0..<count {
            rows += first[(row * firstWidth)..<((row + 1) * firstWidth)]
            rows += second[(row * secondWidth)..<((row + 1) * secondWidth)]
        }
        return rows
    }

    /// Every row of `width` values reversed: of images laid out channel by channel, row by row
    /// (`C × H × W`), their left-right mirror images.
    static func mirrorImages(of values: [Float], width: Int) -> [Float] {
        var mirrored = values
        for row in stride(from: 0, to: values.count, by: width) {
            for x in 0..<width { mirrored[row + x] = values[row + width - 1 - x] }
        }
        return mirrored
    }
}
