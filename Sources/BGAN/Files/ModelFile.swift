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
/// (architecture, preprocessing, training settings, β) with its length (`UInt32`), the encoder's
/// parameters as a `ParameterFile` blob with its length (`UInt64`), and a SHA-256 digest of every
/// byte before it. The digest is the model's identity: a store is stamped with it.
public struct ModelFile: Sendable {
    public struct Header: Codable, Sendable, Equatable {
        public var architecture: BGANArchitecture
        public var preprocessing: Preprocessing
        /// Free-form training settings (epochs, batch, learning rate, loss weights, seed, data).
        public var training: [String: String]
        /// β of the smoothed sign when training ended (inference uses sign(h) regardless).
        public var beta: Float

        public init(architecture: BGANArchitecture, preprocessing: Preprocessing, training: [String: String], beta: Float) {
            self.architecture = architecture
            self.preprocessing = preprocessing
            self.training = training
            self.beta = beta
        }
    }

    static let magic = Array("BGANMODL".utf8)
    public static let formatVersion: UInt32 = 1

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
        self.header = header
        parameters = ParameterFile.encode(encoderParameters)
        let body = Self.body(header: header, parameters: parameters)
        let hash = SHA256.hash(body)
        digest = SHA256.hexDigits(hash)
        fileBytes = body + hash
    }

    /// The file's bytes (for a parsed model, exactly the bytes it was parsed from).
    public func encoded() -> [UInt8] { fileBytes }

    static func body(header: Header, parameters: [UInt8]) -> [UInt8] {
        let json = (try? DigestedFile.json(header)) ?? Data()
        return DigestedFile.body(magic: magic, version: formatVersion, header: json, blobs: [parameters])
    }

    /// Parses and checks a model file.
    /// - Throws: ``BGANError`` `invalidModelFile` saying what is wrong: not a model,
    ///   truncated or altered (digest), another format version, an unreadable header.
    public init(bytes: [UInt8], source: String = "the model file") throws {
        let file = try DigestedFile(bytes: bytes, magic: Self.magic, version: Self.formatVersion, blobCount: 1, kind: "a model file", source: source,
                                    invalid: .invalidModelFile)
        header = try file.decodeHeader(Header.self, source: source)
        do {
            try header.architecture.validate()
        } catch {
            throw BGANError(.invalidModelFile, "\(source) is refused: its architecture is unusable", cause: error)
        }
        let p = header.preprocessing, a = header.architecture
        guard p.channels == a.channels, p.height == a.height, p.width == a.width, p.scale.isFinite else {
            throw BGANError(.invalidModelFile, "\(source) is refused: its preprocessing (\(p.channels)×\(p.height)×\(p.width), scale \(p.scale)) does not match its \(a.channels)×\(a.height)×\(a.width) input")
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
