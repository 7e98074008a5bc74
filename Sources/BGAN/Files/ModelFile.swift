import Foundation
import NeuralNet

/// How raw pixels become the encoder's input: the model's input geometry and scaling. Stored in
/// the model file, so the store and the encoder cannot disagree about it.
public struct Preprocessing: Codable, Sendable, Equatable {
    /// Channels the model sees: 1 (gray) or 3 (RGB); others are converted.
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Crop the largest centred region of the model's aspect ratio before resizing.
    public var centerCrop: Bool
    /// 8-bit values are multiplied by this (1/255 maps them to [0, 1]).
    public var scale: Float

    /// Model files spell the crop's key "centreCrop": the files are data and keep their bytes.
    enum CodingKeys: String, CodingKey {
        case channels, height, width, scale
        case centerCrop = "centreCrop"
    }

    public init(channels: Int, height: Int, width: Int, centerCrop: Bool = false, scale: Float = 1.0 / 255) {
        self.channels = channels
        self.height = height
        self.width = width
        self.centerCrop = centerCrop
        self.scale = scale
    }
}

/// A trained encoder as one file: magic `BGANMODL`, format version (`UInt32`), a JSON header
/// (architecture, preprocessing, training settings, β, whether outputs average the mirror
/// image's) with its length (`UInt32`), the encoder's parameters as a `ParameterFile` blob with
/// its length (`UInt64`), and a SHA-256 digest of every byte before it. The digest is the model's
/// identity: a store is stamped with it.
///
/// Files are format version 1; 2 when ``Header/averagesMirrorImages`` is set; 3 when the encoder
/// standardises its input (``BGANArchitecture/standardizesInput``), with or without mirror
/// averaging; 4 when that standardisation is robust (``BGANArchitecture/standardizesRobustly``);
/// 5 when its stores keep another refinement vector than the outputs (``Header/refinementVectors``,
/// ``Header/refinementPixels``), whatever else it uses:
/// each file has the lowest version whose readers know every setting it uses. A build that reads
/// only older versions would ignore the setting and give other codes, so it refuses the file.
public struct ModelFile: Sendable {
    public struct Header: Codable, Sendable, Equatable {
        public var architecture: BGANArchitecture
        public var preprocessing: Preprocessing
        /// Free-form training settings (epochs, batch, learning rate, loss weights, seed, data).
        public var training: [String: String]
        /// β of the smoothed sign when training ended (inference uses sign(h) regardless).
        public var beta: Float
        /// Whether the encoder's outputs (the real values h and the hidden layer) are the mean of
        /// the image's and its left-right mirror image's, so that an image and its mirror image
        /// get one code: `h(x) = (f(x) + f(mirror(x))) / 2` for the network f. Written to the
        /// file only when set (key `mirrorAveraging`), so files without it keep their bytes.
        public var averagesMirrorImages: Bool
        /// What a store bound to the model keeps per item to re-rank its exact Hamming
        /// candidates: the real-valued outputs whose signs are the code (the default), or the
        /// wider hidden layer under them. Chosen per model on its validation data (docs/photos.md,
        /// "Refining by the hidden layer"). Written to the file only when it is the hidden layer
        /// (key `refinementVectors`), so files without it keep their bytes.
        public var refinementVectors: RefinementVectors
        /// A small copy of the encoder's standardised input that stores keep beside that layer in
        /// each refinement vector, or nil (the default): pixels tell apart look-alikes the layers
        /// map together, such as sibling tiles of one photograph re-saved at a low JPEG quality
        /// (docs/photos.md, "Pixels in the refinement vector"). Written only when set (key
        /// `refinementPixels`).
        public var refinementPixels: PixelSignature?

        public init(architecture: BGANArchitecture, preprocessing: Preprocessing, training: [String: String], beta: Float,
                    averagesMirrorImages: Bool = false, refinementVectors: RefinementVectors = .outputs, refinementPixels: PixelSignature? = nil) {
            self.architecture = architecture
            self.preprocessing = preprocessing
            self.training = training
            self.beta = beta
            self.averagesMirrorImages = averagesMirrorImages
            self.refinementVectors = refinementVectors
            self.refinementPixels = refinementPixels
        }

        enum CodingKeys: String, CodingKey {
            case architecture, preprocessing, training, beta, refinementVectors, refinementPixels
            case averagesMirrorImages = "mirrorAveraging"
        }

        /// Values in each item's refinement vector when it is not the outputs alone: the layer's
        /// (`bits` or `hiddenUnits`), plus `channels × side²` pixels; nil when stores keep the
        /// outputs themselves.
        public var refinementWidth: Int? {
            guard refinementVectors != .outputs || refinementPixels != nil else { return nil }
            let layer = refinementVectors == .hiddenLayer ? architecture.hiddenUnits : architecture.bits
            return layer + (refinementPixels.map { architecture.channels * $0.side * $0.side } ?? 0)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            architecture = try container.decode(BGANArchitecture.self, forKey: .architecture)
            preprocessing = try container.decode(Preprocessing.self, forKey: .preprocessing)
            training = try container.decode([String: String].self, forKey: .training)
            beta = try container.decode(Float.self, forKey: .beta)
            averagesMirrorImages = try container.decodeIfPresent(Bool.self, forKey: .averagesMirrorImages) ?? false
            refinementVectors = try container.decodeIfPresent(RefinementVectors.self, forKey: .refinementVectors) ?? .outputs
            refinementPixels = try container.decodeIfPresent(PixelSignature.self, forKey: .refinementPixels)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(architecture, forKey: .architecture)
            try container.encode(preprocessing, forKey: .preprocessing)
            try container.encode(training, forKey: .training)
            try container.encode(beta, forKey: .beta)
            if averagesMirrorImages { try container.encode(true, forKey: .averagesMirrorImages) }
            if refinementVectors != .outputs { try container.encode(refinementVectors, forKey: .refinementVectors) }
            try container.encodeIfPresent(refinementPixels, forKey: .refinementPixels)
        }

        /// The format version a file of this header is written in: the lowest whose readers know
        /// every setting the header uses.
        public var formatVersion: UInt32 {
            refinementVectors == .hiddenLayer || refinementPixels != nil ? 5
                : architecture.standardizesRobustly ? 4 : architecture.standardizesInput ? 3 : averagesMirrorImages ? 2 : 1
        }

        /// The settings that raise the format version, in words (for the message refusing a
        /// file whose version disagrees with them).
        var versionedSettings: String {
            let settings = (averagesMirrorImages ? ["mirror averaging"] : [])
                + (architecture.standardizesInput ? [architecture.standardizesRobustly ? "a robustly standardised input" : "a standardised input"] : [])
                + (refinementVectors == .hiddenLayer ? ["refinement by the hidden layer"] : [])
                + (refinementPixels != nil ? ["pixels in the refinement vector"] : [])
            return settings.isEmpty ? "neither mirror averaging nor a standardised input" : settings.joined(separator: " and ")
        }
    }

    /// The vectors a store keeps per item, and a search by image compares, to re-rank the exact
    /// Hamming candidates (``Header/refinementVectors``).
    public enum RefinementVectors: String, Codable, Sendable, CaseIterable {
        /// The code layer's real-valued outputs (`bits` values, one byte each in a store).
        case outputs
        /// The hidden layer under the code layer (`hiddenUnits` values), mirror-averaged as the
        /// outputs are: a wider view of the image, which tells apart look-alikes whose outputs
        /// nearly coincide (sibling tiles of one photograph), at `hiddenUnits` bytes an item.
        case hiddenLayer = "hidden-layer"
    }

    /// Pixels kept in each refinement vector beside the layer (``Header/refinementPixels``): the
    /// encoder's input as its first layer sees it (standardised by the model's own
    /// standardisation, or by the plain per-image mean and deviation for a model without one),
    /// averaged over `side × side` blocks per channel and, for a model that averages mirror
    /// images, with its mirror image. The refinement vector is then `[l / |l|, √weight · p / |p|]`
    /// for the layer l and the pixels p, so its cosine is `(cos_l + weight · cos_p) / (1 + weight)`.
    public struct PixelSignature: Codable, Sendable, Equatable {
        /// Side of the pooled image; it divides the input's height and width.
        public var side: Int
        /// Weight of the pixels' cosine against the layer's (positive).
        public var weight: Float

        public init(side: Int, weight: Float) {
            self.side = side
            self.weight = weight
        }

        /// Whether it fits an input of `height × width`: `side` at least 1 and dividing both, `weight` positive and finite.
        public func fits(height: Int, width: Int) -> Bool {
            side >= 1 && height % side == 0 && width % side == 0 && weight > 0 && weight.isFinite
        }
    }

    static let magic = Array("BGANMODL".utf8)
    /// The newest format version this build reads and writes (it reads every older one).
    public static let formatVersion: UInt32 = 5

    public let header: Header
    /// The encoder's parameters, as `ParameterFile` bytes.
    public let parameters: [UInt8]
    /// Lower-case hex SHA-256 of the file's contents before the digest.
    public let digest: String
    /// The file, byte for byte: a parsed model is never re-serialised, so its identity (the
    /// digest) cannot change when a newer build writes its header differently.
    private let fileBytes: [UInt8]

    /// The file of `networks`' encoder.
    public init(header: Header, encoder networks: BGANNetworks) {
        self.init(header: header, encoderParameters: networks.encoderParameters)
    }

    /// The file of an encoder with these parameters (laid out as ``BGANNetworks`` builds them
    /// for `header`'s architecture).
    public init(header: Header, encoderParameters: ParameterStore) {
        self.init(header: header, parameterBytes: ParameterFile.encode(encoderParameters))
    }

    private init(header: Header, parameterBytes: [UInt8]) {
        let a = header.architecture
        precondition(header.refinementPixels.map { $0.fits(height: a.height, width: a.width) } ?? true,
                     "a pixel signature of side \(header.refinementPixels?.side ?? 0) and weight \(header.refinementPixels?.weight ?? 0) does not fit a \(a.height)×\(a.width) input")
        self.header = header
        parameters = parameterBytes
        let body = Self.body(header: header, parameters: parameters)
        let hash = SHA256.hash(body)
        digest = SHA256.hexDigits(hash)
        fileBytes = body + hash
    }

    /// The file's bytes (for a parsed model, exactly the bytes it was parsed from).
    public func encoded() -> [UInt8] { fileBytes }

    /// This model with its outputs averaged with the mirror image's (``Header/averagesMirrorImages``)
    /// or not: the same weights in a new file, so a new digest (a store bound to one refuses the
    /// other, as their codes differ). The training note ``changedAfterTrainingNote`` says the
    /// setting differs from the one the model was trained with; changing it back removes the
    /// note, so the round trip gives the original file, byte for byte (and its digest).
    public func averagingMirrorImages(_ averages: Bool) -> ModelFile {
        guard averages != header.averagesMirrorImages else { return self }
        var changed = header
        changed.averagesMirrorImages = averages
        if changed.training.removeValue(forKey: Self.changedAfterTrainingNote) == nil {
            changed.training[Self.changedAfterTrainingNote] = averages ? "set after training, on the trained weights" : "removed after training"
        }
        return ModelFile(header: changed, parameterBytes: parameters)
    }

    /// The training note of a model whose mirror averaging was changed after training.
    public static let changedAfterTrainingNote = "mirror_averaging"

    /// This model with stores refining by `vectors` (``Header/refinementVectors``) and, with
    /// `pixels`, keeping that signature of the input beside it (``Header/refinementPixels``): the
    /// same weights and codes in a new file, so a new digest (a store bound to one refuses the
    /// other, as their refinement vectors differ). The training note ``refinementChosenNote``
    /// records the setting the model was trained with; changing back to it removes the note, so
    /// the round trip gives the original file, byte for byte.
    /// - Precondition: `pixels` fits the model's input (``PixelSignature/fits(height:width:)``).
    public func refining(by vectors: RefinementVectors, pixels: PixelSignature? = nil) -> ModelFile {
        guard vectors != header.refinementVectors || pixels != header.refinementPixels else { return self }
        var changed = header
        changed.refinementVectors = vectors
        changed.refinementPixels = pixels
        let trained = header.training[Self.refinementChosenNote]
            ?? Self.refinementSetting(header.refinementVectors, pixels: header.refinementPixels) + Self.whenTrained
        changed.training[Self.refinementChosenNote] = Self.refinementSetting(vectors, pixels: pixels) + Self.whenTrained == trained ? nil : trained
        return ModelFile(header: changed, parameterBytes: parameters)
    }

    /// The training note of a model whose refinement vectors were changed after training: the
    /// setting it was trained with, e.g. "outputs when trained".
    public static let refinementChosenNote = "refinement_vectors"
    static let whenTrained = " when trained"

    /// A refinement setting in words: "hidden-layer", "outputs + pixels 8×8, weight 0.5"…
    public static func refinementSetting(_ vectors: RefinementVectors, pixels: PixelSignature?) -> String {
        vectors.rawValue + (pixels.map { " + pixels \($0.side)×\($0.side), weight \($0.weight)" } ?? "")
    }

    static func body(header: Header, parameters: [UInt8]) -> [UInt8] {
        let json = (try? DigestedFile.json(header)) ?? Data()
        return DigestedFile.body(magic: magic, version: header.formatVersion, header: json, blobs: [parameters])
    }

    /// Parses and checks a model file.
    /// - Throws: ``BGANError`` `invalidModelFile` saying what is wrong: not a model,
    ///   truncated or altered (digest), another format version, an unreadable header.
    public init(bytes: [UInt8], source: String = "the model file") throws {
        let file = try DigestedFile(bytes: bytes, magic: Self.magic, versions: 1...Self.formatVersion, blobCount: 1, kind: "a model file", source: source,
                                    invalid: .invalidModelFile)
        header = try file.decodeHeader(Header.self, source: source)
        guard file.version == header.formatVersion else {
            // Builds that read only older versions would ignore a setting and give other codes.
            throw BGANError(.invalidModelFile, "\(source) is refused: its header asks for \(header.versionedSettings), which makes format version "
                                + "\(header.formatVersion), but it is format version \(file.version): the file was altered or written by another tool")
        }
        do {
            try header.architecture.validate()
        } catch {
            throw BGANError(.invalidModelFile, "\(source) is refused: its architecture is unusable", cause: error)
        }
        let p = header.preprocessing, a = header.architecture
        guard p.channels == a.channels, p.height == a.height, p.width == a.width, p.scale.isFinite else {
            throw BGANError(.invalidModelFile, "\(source) is refused: its preprocessing (\(p.channels)×\(p.height)×\(p.width), scale \(p.scale)) does not match its \(a.channels)×\(a.height)×\(a.width) input")
        }
        if let pixels = header.refinementPixels, !pixels.fits(height: a.height, width: a.width) {
            throw BGANError(.invalidModelFile, "\(source) is refused: its pixel signature (side \(pixels.side), weight \(pixels.weight)) does not fit its \(a.height)×\(a.width) input: the side must divide both and the weight be positive")
        }
        guard header.beta.isFinite else {
            throw BGANError(.invalidModelFile, "\(source) is refused: its β (\(header.beta)) is not a number")
        }
        parameters = file.blobs[0]
        digest = file.digest
        fileBytes = bytes
    }

    /// The encoder alone with this model's weights: what inference needs (the generator and the
    /// discriminator, twice its size, are not built).
    /// - Throws: when the parameters do not fit the header's architecture.
    public func encoderNetwork() throws -> Sequential {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 0)
        let (encoder, _) = BGANNetworks.makeEncoder(header.architecture, parameters: store, beta: header.beta, rng: &rng)
        try decodeParameters(into: store)
        return encoder
    }

    /// Networks with this model's encoder weights (generator and discriminator freshly initialised).
    /// - Throws: when the parameters do not fit the header's architecture.
    public func networks() throws -> BGANNetworks {
        let networks = try BGANNetworks(architecture: header.architecture, beta: header.beta, seed: 0)
        try decodeParameters(into: networks.encoderParameters)
        return networks
    }

    private func decodeParameters(into store: ParameterStore) throws {
        do {
            try ParameterFile.decode(parameters, into: store)
        } catch {
            throw BGANError(.invalidModelFile, "the model \(digest.prefix(16))… is refused: its parameters do not fit its architecture", cause: error)
        }
    }
}
