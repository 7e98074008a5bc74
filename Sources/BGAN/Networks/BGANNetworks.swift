import NeuralNet

/// Input geometry and sizes of BGAN's three networks. Images are `channels × height × width`,
/// with height and width multiples of 4 (two stride-2 stages): 28×28×1 for Fashion-MNIST,
/// 32×32×3 for CIFAR-style RGB.
public struct BGANArchitecture: Codable, Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Code length L.
    public var bits: Int
    /// Filters of the first convolution; the second has twice as many.
    public var filters: Int
    /// Units of the encoder's hidden layer (and of the generator's first layer). Most of a
    /// model file's bytes are this layer's weights: 512 keeps a 28×28 model under 8 MiB.
    public var hiddenUnits: Int
    /// Units of the discriminator's feature layer D_l (the reference code: 1024).
    public var featureUnits: Int
    /// Whether the encoder first brings each image to mean 0 and deviation 1 over all its values
    /// (``SampleStandardization``), so that its codes ignore brightness and contrast changes
    /// (not in the paper; for photographs). Written only when set (key `standardisedInput`), so
    /// architectures without it keep their bytes.
    public var standardizesInput: Bool
    /// With ``standardizesInput``: whether the mean and deviation are those of the values
    /// winsorised at their 5th and 95th percentiles, the results then clipped to ±3
    /// (``RobustSampleStandardization``), instead of the plain mean and deviation. A few extreme
    /// values — black corners of a photo turned in place, a caption's strokes — then neither
    /// shrink the rest of a nearly flat photo nor stand out more in it than in a textured one. Written only when set (key `robustStandardisation`, model
    /// format version 4), so architectures without it keep their bytes.
    public var standardizesRobustly: Bool

    public init(channels: Int, height: Int, width: Int, bits: Int, filters: Int = 32, hiddenUnits: Int = 512, featureUnits: Int = 1024,
                standardizesInput: Bool = false, standardizesRobustly: Bool = false) {
        self.channels = channels
        self.height = height
        self.width = width
        self.bits = bits
        self.filters = filters
        self.hiddenUnits = hiddenUnits
        self.featureUnits = featureUnits
        self.standardizesInput = standardizesInput
        self.standardizesRobustly = standardizesRobustly
    }

    enum CodingKeys: String, CodingKey {
        case channels, height, width, bits, filters, hiddenUnits, featureUnits
        case standardizesInput = "standardisedInput"
        case standardizesRobustly = "robustStandardisation"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        channels = try container.decode(Int.self, forKey: .channels)
        height = try container.decode(Int.self, forKey: .height)
        width = try container.decode(Int.self, forKey: .width)
        bits = try container.decode(Int.self, forKey: .bits)
        filters = try container.decode(Int.self, forKey: .filters)
        featureUnits = try container.decode(Int.self, forKey: .featureUnits)
        // Files written before the encoder's hidden layer had a size of its own used D_l's.
        hiddenUnits = try container.decodeIfPresent(Int.self, forKey: .hiddenUnits) ?? featureUnits
        standardizesInput = try container.decodeIfPresent(Bool.self, forKey: .standardizesInput) ?? false
        standardizesRobustly = try container.decodeIfPresent(Bool.self, forKey: .standardizesRobustly) ?? false
    }

    /// Writes `standardisedInput` and `robustStandardisation` only when set, so architectures
    /// without them keep their bytes (and model files their digests).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(channels, forKey: .channels)
        try container.encode(height, forKey: .height)
        try container.encode(width, forKey: .width)
        try container.encode(bits, forKey: .bits)
        try container.encode(filters, forKey: .filters)
        try container.encode(hiddenUnits, forKey: .hiddenUnits)
        try container.encode(featureUnits, forKey: .featureUnits)
        if standardizesInput { try container.encode(true, forKey: .standardizesInput) }
        if standardizesRobustly { try container.encode(true, forKey: .standardizesRobustly) }
    }

    /// Checks the geometry.
    public func validate() throws {
        guard channels >= 1, height >= 4, width >= 4, height % 4 == 0, width % 4 == 0 else {
            throw BGANError(.invalidArgument, "images of \(channels)×\(height)×\(width) do not fit BGAN's networks: height and width must be multiples of 4")
        }
        guard bits >= 8, bits <= 1024, bits % 8 == 0 else {
            throw BGANError(.invalidArgument, "\(bits)-bit codes are not supported; use a multiple of 8 from 8 to 1024")
        }
        guard filters >= 1, hiddenUnits >= 1, featureUnits >= 1 else {
            throw BGANError(.invalidArgument, "filters (\(filters)), hidden units (\(hiddenUnits)) and feature units (\(featureUnits)) must be positive")
        }
        // Limits that keep a model file's header from asking for more memory than any real model
        // needs: it is checked before a single parameter is allocated.
        guard channels <= Self.maximumChannels, height <= Self.maximumSide, width <= Self.maximumSide else {
            throw BGANError(.invalidArgument, "images of \(channels)×\(height)×\(width) are beyond the supported \(Self.maximumChannels) channels and \(Self.maximumSide)×\(Self.maximumSide) pixels")
        }
        guard filters <= Self.maximumFilters, hiddenUnits <= Self.maximumUnits, featureUnits <= Self.maximumUnits else {
            throw BGANError(.invalidArgument, "filters (\(filters)), hidden units (\(hiddenUnits)) or feature units (\(featureUnits)) are beyond the supported \(Self.maximumFilters) filters and \(Self.maximumUnits) units")
        }
        try Self.validate(standardizesRobustly: standardizesRobustly, standardizesInput: standardizesInput)
        guard parameterEstimate <= Self.maximumParameters else {
            throw BGANError(.invalidArgument, "the three networks would hold about \(parameterEstimate) parameters, beyond the supported \(Self.maximumParameters) (\(Self.maximumParameters * 4 >> 20) MiB); use fewer filters or units, or smaller images")
        }
    }

    /// Checks that a robust standardisation comes with a standardised input.
    public static func validate(standardizesRobustly: Bool, standardizesInput: Bool) throws {
        guard !standardizesRobustly || standardizesInput else {
            throw BGANError(.invalidArgument, "a robust standardisation is a way of standardising the input, and the input is not standardised: give --standardise-input too, or drop --robust-standardisation")
        }
    }

    public static let maximumChannels = 4
    public static let maximumSide = 1024
    public static let maximumFilters = 1024
    public static let maximumUnits = 1 << 16
    /// Weights of all three networks together.
    public static let maximumParameters = 1 << 27

    /// About the number of weights of the encoder, generator and discriminator together (the
    /// matrices; biases and normalisation add a few thousand). Every factor is bounded first, so
    /// the products cannot overflow.
    var parameterEstimate: Int {
        let convolutions = 16 * channels * filters + 32 * filters * filters
        return 3 * convolutions + 2 * bottleneck * hiddenUnits + 2 * hiddenUnits * bits + bottleneck * featureUnits
    }

    /// Values of the feature maps after the second stride-2 stage.
    var bottleneck: Int { 2 * filters * (height / 4) * (width / 4) }
}

/// BGAN's encoder E, generator G and discriminator D (Song, "Binary Generative Adversarial
/// Networks for Image Retrieval"), each with its own parameters so each has its own optimiser.
///
/// - E: two stride-2 convolutions (batch norm, leaky ReLU), a hidden layer, the code layer and the
///   smoothed sign `tanh(β·h/2)`; at inference the code is `sign(h)`.
/// - G: from a code, two fully connected layers, two stride-2 transposed convolutions, sigmoid.
/// - D: two stride-2 convolutions and the feature layer D_l (used by the content loss), then a
///   logit.
public final class BGANNetworks {
    public let architecture: BGANArchitecture
    public let encoderParameters = ParameterStore()
    public let generatorParameters = ParameterStore()
    public let discriminatorParameters = ParameterStore()
    /// Images → smoothed codes `(N, L)`.
    public let encoder: Sequential
    /// The encoder's last layer: set its ``ScaledTanh/beta`` to follow the continuation schedule.
    public let smoothedSign: ScaledTanh
    /// Codes `(N, L)` → images `(N, C, H, W)` in (0, 1).
    public let generator: Sequential
    /// Images → the feature layer D_l `(N, featureUnits)`.
    public let discriminatorFeatures: Sequential
    /// D_l → one logit per image (real vs generated).
    public let discriminatorHead: Linear
    /// The discriminator's first layer, which sees the images: its input gradient is wanted only
    /// when a generator or encoder learns through the discriminator.
    public let discriminatorInput: Conv2D

    /// Builds the networks with seeded initial weights.
    public init(architecture a: BGANArchitecture, beta: Float = 2, seed: UInt64) throws {
        try a.validate()
        architecture = a
        var rng = SeededGenerator(seed: seed)
        let quarter = [2 * a.filters, a.height / 4, a.width / 4]
        (encoder, smoothedSign) = Self.makeEncoder(a, parameters: encoderParameters, beta: beta, rng: &rng)
        generator = Sequential("generator", [
            Linear("generator.fc1", inputs: a.bits, outputs: a.hiddenUnits, parameters: generatorParameters, rng: &rng),
            BatchNormalization("generator.bn1", channels: a.hiddenUnits, parameters: generatorParameters),
            ReLU("generator.act1"),
            Linear("generator.fc2", inputs: a.hiddenUnits, outputs: a.bottleneck, parameters: generatorParameters, rng: &rng),
            BatchNormalization("generator.bn2", channels: a.bottleneck, parameters: generatorParameters),
            ReLU("generator.act2"),
            Reshape("generator.unflatten", to: quarter),
            ConvTranspose2D("generator.deconv1", inputChannels: 2 * a.filters, outputChannels: a.filters, kernel: 4, stride: 2, padding: 1, parameters: generatorParameters, rng: &rng),
            BatchNormalization("generator.bn3", channels: a.filters, parameters: generatorParameters),
            ReLU("generator.act3"),
            ConvTranspose2D("generator.deconv2", inputChannels: a.filters, outputChannels: a.channels, kernel: 4, stride: 2, padding: 1, parameters: generatorParameters, rng: &rng),
            Sigmoid("generator.output"),
        ])
        discriminatorInput = Conv2D("discriminator.conv1", inputChannels: a.channels, outputChannels: a.filters, kernel: 4, stride: 2, padding: 1,
                                    parameters: discriminatorParameters, rng: &rng)
        discriminatorFeatures = Sequential("discriminator", [
            discriminatorInput,
            LeakyReLU("discriminator.act1"),
            Conv2D("discriminator.conv2", inputChannels: a.filters, outputChannels: 2 * a.filters, kernel: 4, stride: 2, padding: 1, parameters: discriminatorParameters, rng: &rng),
            BatchNormalization("discriminator.bn2", channels: 2 * a.filters, parameters: discriminatorParameters),
            LeakyReLU("discriminator.act2"),
            Reshape("discriminator.flatten", to: [a.bottleneck]),
            Linear("discriminator.features", inputs: a.bottleneck, outputs: a.featureUnits, parameters: discriminatorParameters, rng: &rng),
            BatchNormalization("discriminator.bn3", channels: a.featureUnits, parameters: discriminatorParameters),
            LeakyReLU("discriminator.act3"),
        ])
        discriminatorHead = Linear("discriminator.logit", inputs: a.featureUnits, outputs: 1, parameters: discriminatorParameters, rng: &rng)
    }

    /// The encoder E with its parameters in `parameters`, seeded from `rng`; and its smoothed sign.
    static func makeEncoder(_ a: BGANArchitecture, parameters: ParameterStore, beta: Float,
                            rng: inout SeededGenerator) -> (Sequential, ScaledTanh) {
        let smoothedSign = ScaledTanh("encoder.smoothed_sign", beta: beta)
        // The encoder's input is data: nothing upstream wants its gradient.
        let firstConvolution = Conv2D("encoder.conv1", inputChannels: a.channels, outputChannels: a.filters, kernel: 4, stride: 2, padding: 1,
                                      parameters: parameters, rng: &rng)
        firstConvolution.needsInputGradient = false
        let standardization: [Layer] = !a.standardizesInput ? []
            : a.standardizesRobustly ? [RobustSampleStandardization("encoder.standardise")] : [SampleStandardization("encoder.standardise")]
        let encoder = Sequential("encoder", standardization + [
            firstConvolution,
            BatchNormalization("encoder.bn1", channels: a.filters, parameters: parameters),
            LeakyReLU("encoder.act1"),
            Conv2D("encoder.conv2", inputChannels: a.filters, outputChannels: 2 * a.filters, kernel: 4, stride: 2, padding: 1, parameters: parameters, rng: &rng),
            BatchNormalization("encoder.bn2", channels: 2 * a.filters, parameters: parameters),
            LeakyReLU("encoder.act2"),
            Reshape("encoder.flatten", to: [a.bottleneck]),
            Linear("encoder.hidden", inputs: a.bottleneck, outputs: a.hiddenUnits, parameters: parameters, rng: &rng),
            BatchNormalization("encoder.bn3", channels: a.hiddenUnits, parameters: parameters),
            LeakyReLU("encoder.act3"),
            Linear("encoder.code", inputs: a.hiddenUnits, outputs: a.bits, parameters: parameters, rng: &rng),
            smoothedSign,
        ])
        return (encoder, smoothedSign)
    }

    /// `sign(h)` of `encoder` in inference mode, as `N × L` values of ±1.
    static func codes(of images: Tensor, encoder: Sequential) throws -> Tensor {
        var h = try preSignOutputs(of: images, encoder: encoder)
        for i in h.storage.indices { h.storage[i] = h.storage[i] > 0 ? 1 : -1 }
        return h
    }

    /// `h` of `encoder` (whose last layer is the smoothed sign) in inference mode, `N × L`.
    static func preSignOutputs(of images: Tensor, encoder: Sequential) throws -> Tensor {
        var h = images
        for layer in encoder.layers.dropLast() { h = try layer.forward(h, training: false) }
        return h
    }

    /// The encoder's real-valued output `h` before the smoothed sign, in inference mode
    /// (`N × L`): features for a second round of the neighbourhood structure.
    public func preSignOutputs(of images: Tensor) throws -> Tensor {
        try Self.preSignOutputs(of: images, encoder: encoder)
    }

    /// The encoder's hidden layer (after its normalisation and activation, before the code
    /// layer) in inference mode, `N × hiddenUnits`: the representation a contrastive
    /// pre-training's output layer was trained on top of.
    public func hiddenFeatures(of images: Tensor) throws -> Tensor {
        try Self.hiddenFeatures(of: images, encoder: encoder)
    }

    /// What the names of the encoder's code-layer parameters start with: the layer
    /// ``TrainingPlan/freshCodeLayer`` draws anew and the only one ``TrainingSettings/codeLayerOnly``
    /// trains (every other encoder parameter lies below it).
    public static let encoderCodeLayer = "encoder.code."

    /// Position in ``encoder`` of its code layer (whose outputs the smoothed sign binarises):
    /// the layers before it are the trunk that ``BGANTrainer/trainsCodeLayerOnly`` keeps.
    public var encoderCodeLayerPosition: Int {
        guard let position = encoder.layers.firstIndex(where: { $0.name + "." == Self.encoderCodeLayer }) else {
            preconditionFailure("every encoder makeEncoder builds has a layer named \(Self.encoderCodeLayer.dropLast())")
        }
        return position
    }

    /// A copy of the encoder's parameters whose code has its bits in `order`, each bit's real
    /// value multiplied by `scales` (indexed by this encoder's bits; positive): bit `p` of the
    /// copy's code is bit `order[p]` of this encoder's, and its real value that bit's times
    /// `scales[order[p]]` (the code layer's output rows permuted and scaled; every other entry
    /// as it is). The signs, so the codes, are the same.
    public func encoderParameters(codeBitOrder order: [Int], scales: [Float]? = nil) -> ParameterStore {
        let bits = architecture.bits
        precondition(order.sorted() == Array(0..<bits), "a code-bit order is a permutation of the \(bits) bits")
        precondition(scales.map { $0.count == bits && $0.allSatisfy { $0 > 0 && $0.isFinite } } ?? true, "one positive scale per bit")
        let source = encoderParameters, copy = ParameterStore()
        for entry in source.entries {
            let permuted = entry.name.hasPrefix(Self.encoderCodeLayer)
            let rowLength = entry.count / bits
            copy.add(entry.name, shape: entry.shape, trainable: entry.trainable) { i in
                guard permuted else { return source.values[entry.offset + i] }
                let bit = order[i / rowLength]
                return source.values[entry.offset + bit * rowLength + i % rowLength] * (scales?[bit] ?? 1)
            }
        }
        return copy
    }

    /// The hidden layer of `encoder` (whose last two layers are the code layer and the smoothed
    /// sign) in inference mode, `N × hiddenUnits`.
    static func hiddenFeatures(of images: Tensor, encoder: Sequential) throws -> Tensor {
        var h = images
        for layer in encoder.layers.dropLast(2) { h = try layer.forward(h, training: false) }
        return h
    }

    /// The hidden layer and the real-valued outputs above it from one pass, in inference mode:
    /// what ``hiddenFeatures(of:encoder:)`` and ``preSignOutputs(of:encoder:)`` give, for the
    /// cost of one.
    static func hiddenFeaturesAndOutputs(of images: Tensor, encoder: Sequential) throws -> (hidden: Tensor, outputs: Tensor) {
        let hidden = try hiddenFeatures(of: images, encoder: encoder)
        return (hidden, try encoder.layers[encoder.layers.count - 2].forward(hidden, training: false))
    }

    /// The binary codes of `images` (`N × C × H × W`, values in [0, 1]): `sign(h)` of the
    /// encoder in inference mode, as `N × L` values of ±1.
    public func codes(of images: Tensor) throws -> Tensor {
        try Self.codes(of: images, encoder: encoder)
    }
}
