import Basics
import Foundation
import NeuralNet

// Training checkpoints: a stopped run of either stage continues exactly where it stopped. Both
// are ``DigestedFile`` containers (magic, version, JSON header, blobs, SHA-256); the blobs are
// parameter files (``ParameterFile``) and the records of ``CheckpointCodec``.

extension TrainingSession {
    struct CheckpointHeader: Codable {
        var settings: TrainingSettings
        var epoch: Int
        var step: Int
        var noiseState: UInt64
        var history: [LossPoint]
        var pendingSum: StepLosses
        var pendingSteps: Int
        var imageCount: Int
        var imageFingerprint: UInt64
    }

    static let checkpointMagic = Array("BGANCKPT".utf8)
    /// 3 added the anchor codes.
    public static let checkpointVersion: UInt32 = 3

    /// Everything needed to continue the run exactly: settings, position, loss history, the
    /// three networks' parameters and optimiser states, the noise generator, S, the similarity
    /// targets and anchor codes, and a fingerprint of the images (which are not stored).
    public func checkpoint() throws -> [UInt8] {
        let header = CheckpointHeader(settings: settings, epoch: epoch, step: step, noiseState: trainer.noiseGenerator.state,
                                      history: history, pendingSum: pendingSum, pendingSteps: pendingSteps,
                                      imageCount: count, imageFingerprint: try imageFingerprint.value(of: images))
        let blobs = [
            ParameterFile.encode(networks.encoderParameters),
            ParameterFile.encode(networks.generatorParameters),
            ParameterFile.encode(networks.discriminatorParameters),
            CheckpointCodec.encode(trainer.encoderOptimizer),
            CheckpointCodec.encode(trainer.generatorOptimizer),
            CheckpointCodec.encode(trainer.discriminatorOptimizer),
            CheckpointCodec.encode(structure),
            CheckpointCodec.encode(trainer.similarityEmbedding),
            CheckpointCodec.encode(anchorCodes: trainer.anchorCodes),
        ]
        let body = DigestedFile.body(magic: Self.checkpointMagic, version: Self.checkpointVersion, header: try DigestedFile.json(header), blobs: blobs)
        return body + SHA256.hash(body)
    }

    /// Continues the run saved in `bytes` on the same images.
    /// - Throws: a damaged or foreign checkpoint, or images other than those it was trained on.
    public convenience init(checkpoint bytes: [UInt8], images: [Float], source: String = "the checkpoint") throws {
        try self.init(checkpoint: bytes, source: source) { try TrainingSession.rows(images, architecture: $0.architecture) }
    }

    /// Continues the run saved in `bytes` on the same images, held as bytes or floats.
    /// - Throws: a damaged or foreign checkpoint, or images other than those it was trained on.
    public convenience init(checkpoint bytes: [UInt8], images: ImageRows, source: String = "the checkpoint") throws {
        try self.init(checkpoint: bytes, source: source) { _ in images }
    }

    private convenience init(checkpoint bytes: [UInt8], source: String, images imagesFor: (TrainingSettings) throws -> ImageRows) throws {
        let file = try DigestedFile(bytes: bytes, magic: Self.checkpointMagic, version: Self.checkpointVersion, blobCount: 9,
                                    kind: "a training checkpoint", source: source, invalid: .invalidCheckpoint)
        let header = try file.decodeHeader(CheckpointHeader.self, source: source)
        let images = try imagesFor(header.settings)
        try CheckpointCodec.requireSameImages(images, count: header.imageCount, fingerprint: header.imageFingerprint, source: source)
        let structure = try CheckpointCodec.decodeStructure(file.blobs[6], source: source)
        let similarity = try CheckpointCodec.decodeSimilarity(file.blobs[7], source: source)
        let anchors = try CheckpointCodec.decodeAnchorCodes(file.blobs[8], source: source)
        try self.init(settings: header.settings, images: images, structure: structure, similarity: similarity, anchorCodes: anchors)
        try CheckpointCodec.requirePosition(epoch: header.epoch, step: header.step, pendingSteps: header.pendingSteps,
                                            epochs: settings.epochs, stepsPerEpoch: stepsPerEpoch, source: source)
        try file.decodeParameters(0, source: source, into: networks.encoderParameters)
        try file.decodeParameters(1, source: source, into: networks.generatorParameters)
        try file.decodeParameters(2, source: source, into: networks.discriminatorParameters)
        try CheckpointCodec.restore(trainer.encoderOptimizer, from: file.blobs[3], parameters: networks.encoderParameters.count, source: source)
        try CheckpointCodec.restore(trainer.generatorOptimizer, from: file.blobs[4], parameters: networks.generatorParameters.count, source: source)
        try CheckpointCodec.restore(trainer.discriminatorOptimizer, from: file.blobs[5], parameters: networks.discriminatorParameters.count, source: source)
        trainer.noiseGenerator = SeededGenerator(seed: header.noiseState)
        epoch = header.epoch
        step = header.step
        history = header.history
        pendingSum = header.pendingSum
        pendingSteps = header.pendingSteps
        networks.smoothedSign.beta = settings.beta(epoch: min(epoch, settings.epochs - 1))
    }
}

extension ContrastiveSession {
    struct CheckpointHeader: Codable {
        var settings: ContrastiveSettings
        var epoch: Int
        var step: Int
        var history: [Point]
        var pendingSum: Float
        var pendingSteps: Int
        var imageCount: Int
        var imageFingerprint: UInt64
    }

    static let checkpointMagic = Array("BGANCPRE".utf8)
    public static let checkpointVersion: UInt32 = 1

    /// Settings, position, loss history, the encoder and its optimiser state, and a fingerprint
    /// of the images: enough to continue exactly (views come from the seed and the position).
    public func checkpoint() throws -> [UInt8] {
        let header = CheckpointHeader(settings: settings, epoch: epoch, step: step, history: history, pendingSum: pendingSum,
                                      pendingSteps: pendingSteps, imageCount: count, imageFingerprint: try imageFingerprint.value(of: images))
        let blobs = [ParameterFile.encode(networks.encoderParameters), CheckpointCodec.encode(optimizer)]
        let body = DigestedFile.body(magic: Self.checkpointMagic, version: Self.checkpointVersion, header: try DigestedFile.json(header), blobs: blobs)
        return body + SHA256.hash(body)
    }

    /// Continues the run saved in `bytes` on the same images.
    /// - Throws: a damaged or foreign checkpoint, or images other than those it was trained on.
    public convenience init(checkpoint bytes: [UInt8], images: [Float], source: String = "the checkpoint") throws {
        try self.init(checkpoint: bytes, source: source) { try TrainingSession.rows(images, architecture: $0.architecture) }
    }

    /// Continues the run saved in `bytes` on the same images, held as bytes or floats.
    /// - Throws: a damaged or foreign checkpoint, or images other than those it was trained on.
    public convenience init(checkpoint bytes: [UInt8], images: ImageRows, source: String = "the checkpoint") throws {
        try self.init(checkpoint: bytes, source: source) { _ in images }
    }

    private convenience init(checkpoint bytes: [UInt8], source: String, images imagesFor: (ContrastiveSettings) throws -> ImageRows) throws {
        let file = try DigestedFile(bytes: bytes, magic: Self.checkpointMagic, version: Self.checkpointVersion, blobCount: 2,
                                    kind: "a contrastive pre-training checkpoint", source: source, invalid: .invalidCheckpoint)
        let header = try file.decodeHeader(CheckpointHeader.self, source: source)
        let images = try imagesFor(header.settings)
        try CheckpointCodec.requireSameImages(images, count: header.imageCount, fingerprint: header.imageFingerprint, source: source)
        try self.init(settings: header.settings, images: images, partners: try Self.partnerLists(for: header.settings, images: images))
        try CheckpointCodec.requirePosition(epoch: header.epoch, step: header.step, pendingSteps: header.pendingSteps,
                                            epochs: settings.epochs, stepsPerEpoch: stepsPerEpoch, source: source)
        try file.decodeParameters(0, source: source, into: networks.encoderParameters)
        try CheckpointCodec.restore(optimizer, from: file.blobs[1], parameters: networks.encoderParameters.count, source: source)
        epoch = header.epoch
        step = header.step
        history = header.history
        pendingSum = header.pendingSum
        pendingSteps = header.pendingSteps
    }
}

/// The byte records inside checkpoints (optimiser states, S, similarity targets) and the
/// fingerprint that ties a checkpoint to its images. Little-endian, bounds-checked: a damaged
/// record is refused as ``BGANError`` `invalidCheckpoint`, never read out of bounds.
enum CheckpointCodec {
    /// Refuses to resume on images other than the checkpoint's (by count and fingerprint).
    static func requireSameImages(_ images: ImageRows, count: Int, fingerprint: UInt64, source: String) throws {
        guard try images.fingerprint() == fingerprint else {
            throw BGANError(.otherTrainingImages, "\(source) was trained on other images (\(count) of them, another fingerprint): resume it with the same images, in the same order and with the same preprocessing")
        }
    }

    /// Refuses a saved position outside the run its settings describe.
    static func requirePosition(epoch: Int, step: Int, pendingSteps: Int, epochs: Int, stepsPerEpoch: Int, source: String) throws {
        guard epoch <= epochs, step < stepsPerEpoch, pendingSteps >= 0 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its position (epoch \(epoch), step \(step)) is outside the run")
        }
    }


    static func encode(_ optimizer: Adam) -> [UInt8] {
        let state = optimizer.state
        var writer = LittleEndianWriter()
        writer.append(UInt64(state.steps))
        writer.append(UInt64(state.first.count))
        for value in state.first { writer.append(value) }
        for value in state.second { writer.append(value) }
        return writer.bytes
    }

    static func restore(_ optimizer: Adam, from bytes: [UInt8], parameters: Int, source: String) throws {
        var reader = LittleEndianReader(bytes) { _ in BGANError(.invalidCheckpoint, "\(source) is refused: it ends inside a record") }
        let steps = Int(try reader.read(UInt64.self))
        let count = Int(try reader.read(UInt64.self))
        guard count == 0 || count == parameters, bytes.count == 16 + 8 * count else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: an optimiser state of \(count) values does not fit \(parameters) parameters")
        }
        let first = try (0..<count).map { _ in Float(bitPattern: try reader.read(UInt32.self)) }
        let second = try (0..<count).map { _ in Float(bitPattern: try reader.read(UInt32.self)) }
        try optimizer.restore(steps: steps, first: first, second: second)
    }

    static func encode(_ structure: NeighborhoodStructure) -> [UInt8] {
        var writer = LittleEndianWriter()
        writer.append(UInt64(structure.count))
        for offset in structure.offsets { writer.append(UInt64(offset)) }
        for item in structure.similar { writer.append(UInt32(bitPattern: item)) }
        return writer.bytes
    }

    static func encode(_ similarity: SimilarityEmbedding?) -> [UInt8] {
        guard let similarity else { return [] }
        var writer = LittleEndianWriter()
        writer.append(UInt64(similarity.dimension))
        for value in similarity.values { writer.append(value) }
        return writer.bytes
    }

    static func decodeSimilarity(_ bytes: [UInt8], source: String) throws -> SimilarityEmbedding? {
        guard !bytes.isEmpty else { return nil }
        var reader = LittleEndianReader(bytes) { _ in BGANError(.invalidCheckpoint, "\(source) is refused: it ends inside a record") }
        let dimension = Int(try reader.read(UInt64.self))
        guard dimension >= 1, dimension <= 1 << 16, (bytes.count - 8) % (4 * dimension) == 0 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its similarity embedding is inconsistent")
        }
        let values = try (0..<((bytes.count - 8) / 4)).map { _ in Float(bitPattern: try reader.read(UInt32.self)) }
        return try SimilarityEmbedding(values: values, dimension: dimension)
    }

    /// ±1 codes as bits (1 for +1), eight to a byte; empty for none.
    static func encode(anchorCodes: [Float]?) -> [UInt8] {
        guard let anchorCodes else { return [] }
        var writer = LittleEndianWriter()
        writer.append(UInt64(anchorCodes.count))
        var bytes = [UInt8](repeating: 0, count: (anchorCodes.count + 7) / 8)
        for (i, value) in anchorCodes.enumerated() where value > 0 { bytes[i / 8] |= 1 << UInt8(i % 8) }
        writer.append(contentsOf: bytes)
        return writer.bytes
    }

    static func decodeAnchorCodes(_ bytes: [UInt8], source: String) throws -> [Float]? {
        guard !bytes.isEmpty else { return nil }
        var reader = LittleEndianReader(bytes) { _ in BGANError(.invalidCheckpoint, "\(source) is refused: it ends inside a record") }
        let count = Int(try reader.read(UInt64.self))
        guard count >= 0, count <= (bytes.count - 8) * 8, bytes.count == 8 + (count + 7) / 8 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its anchor codes are inconsistent")
        }
        let packed = Array(try reader.readBytes((count + 7) / 8))
        return (0..<count).map { packed[$0 / 8] & (1 << UInt8($0 % 8)) != 0 ? 1 : -1 }
    }

    static func decodeStructure(_ bytes: [UInt8], source: String) throws -> NeighborhoodStructure {
        var reader = LittleEndianReader(bytes) { _ in BGANError(.invalidCheckpoint, "\(source) is refused: it ends inside a record") }
        let count = Int(try reader.read(UInt64.self))
        guard count >= 0, count <= (bytes.count - 8) / 8 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its neighbourhood structure claims \(count) images")
        }
        let offsets = try (0...count).map { _ in Int(try reader.read(UInt64.self)) }
        let total = offsets.last ?? 0
        guard offsets.first == 0, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }), bytes.count == 8 + 8 * (count + 1) + 4 * total else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its neighbourhood structure is inconsistent")
        }
        let similar = try (0..<total).map { _ in Int32(bitPattern: try reader.read(UInt32.self)) }
        guard similar.allSatisfy({ $0 >= 0 && Int($0) < count }) else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its neighbourhood structure names images beyond \(count)")
        }
        return NeighborhoodStructure(count: count, offsets: offsets, similar: similar)
    }
}
