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
        try DigestedFile.bytes(magic: Self.checkpointMagic, version: Self.checkpointVersion, header: try checkpointHeader(), blobs: checkpointBlobs())
    }

    /// Writes ``checkpoint()`` to `path` as a whole or not at all, a piece at a time: S (over a
    /// gigabyte for a million images) is copied from where it is kept, never held twice.
    /// - Throws: ``FileError`` `.unwritable` when the folder has no room (`path` is then unchanged).
    public func writeCheckpoint(to path: String) throws {
        try DigestedFile.write(to: path, magic: Self.checkpointMagic, version: Self.checkpointVersion, header: try checkpointHeader(),
                               blobs: checkpointBlobs())
    }

    private func checkpointHeader() throws -> Data {
        try DigestedFile.json(CheckpointHeader(settings: settings, epoch: epoch, step: step, noiseState: trainer.noiseGenerator.state,
                                               history: history, pendingSum: pendingSum, pendingSteps: pendingSteps,
                                               imageCount: count, imageFingerprint: try imageFingerprint.value(of: images)))
    }

    /// The networks' blobs are made one at a time as the file is written.
    private func checkpointBlobs() -> [[DigestedFile.Piece]] {
        let networks = networks, trainer = trainer
        return [
            [.deferred { ParameterFile.encode(networks.encoderParameters) }],
            [.deferred { ParameterFile.encode(networks.generatorParameters) }],
            [.deferred { ParameterFile.encode(networks.discriminatorParameters) }],
            [.deferred { CheckpointCodec.encode(trainer.encoderOptimizer) }],
            [.deferred { CheckpointCodec.encode(trainer.generatorOptimizer) }],
            [.deferred { CheckpointCodec.encode(trainer.discriminatorOptimizer) }],
            CheckpointCodec.encode(structure),
            CheckpointCodec.encode(trainer.similarityEmbedding),
            [.bytes(CheckpointCodec.encode(anchorCodes: trainer.anchorCodes))],
        ]
    }

    /// The blobs of a checkpoint that hold S and the similarity targets, read where they lie
    /// rather than into memory.
    static let structureBlob = 6, similarityBlob = 7

    /// Continues the run saved in the checkpoint file at `path` on the same images, reading S
    /// and the similarity targets from that file as batches need them. The file may be replaced
    /// by a rename while the run goes on (as the run's own checkpoints replace it): what was
    /// opened stays readable. A file overwritten in place is read as it now is, and refused
    /// (`FileError`) where that no longer fits.
    /// - Throws: a damaged or foreign checkpoint, or images other than those it was trained on.
    public convenience init(checkpointAt path: String, images: ImageRows) throws {
        let file = try DigestedFile(path: path, magic: Self.checkpointMagic, versions: Self.checkpointVersion...Self.checkpointVersion, blobCount: 9,
                                    inPlace: [Self.structureBlob, Self.similarityBlob], kind: "a training checkpoint", invalid: .invalidCheckpoint)
        try self.init(checkpoint: file, source: path) { _ in images }
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
        let file = try DigestedFile(bytes: bytes, magic: Self.checkpointMagic, versions: Self.checkpointVersion...Self.checkpointVersion, blobCount: 9,
                                    kind: "a training checkpoint", source: source, invalid: .invalidCheckpoint)
        try self.init(checkpoint: file, source: source, images: imagesFor)
    }

    private convenience init(checkpoint file: DigestedFile, source: String, images imagesFor: (TrainingSettings) throws -> ImageRows) throws {
        let header = try file.decodeHeader(CheckpointHeader.self, source: source)
        let images = try imagesFor(header.settings)
        try CheckpointCodec.requireSameImages(images, count: header.imageCount, fingerprint: header.imageFingerprint, source: source)
        let structure = if let opened = file.file, let extent = file.extents[Self.structureBlob] {
            try CheckpointCodec.structure(in: opened, at: extent, source: source)
        } else {
            try CheckpointCodec.decodeStructure(file.blobs[Self.structureBlob], source: source)
        }
        let similarity = if let opened = file.file, let extent = file.extents[Self.similarityBlob] {
            try CheckpointCodec.similarity(in: opened, at: extent, source: source)
        } else {
            try CheckpointCodec.decodeSimilarity(file.blobs[Self.similarityBlob], source: source)
        }
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

    /// Writes ``checkpoint()`` (a few megabytes) to `path` as a whole or not at all.
    /// - Throws: ``FileError`` `.unwritable` when the folder has no room (`path` is then unchanged).
    public func writeCheckpoint(to path: String) throws {
        let bytes = try checkpoint()
        try DigestedFile.write(to: path, whole: bytes)
    }

    /// Continues the run saved in `bytes` on the same images.
    /// - Throws: a damaged or foreign checkpoint, or images other than those it was trained on.
    public convenience init(checkpoint bytes: [UInt8], images: [Float], source: String = "the checkpoint") throws {
        try self.init(checkpoint: bytes, source: source) { try TrainingSession.rows(images, architecture: $0.architecture) }
    }

    /// Continues the run saved in `bytes` on the same images, held as bytes or floats.
    /// - Throws: a damaged or foreign checkpoint, or images other than those it was trained on.
    /// - Parameter expected: when given, a checkpoint saved with other settings is refused
    ///   before anything is built from it (its partner lists, its networks).
    public convenience init(checkpoint bytes: [UInt8], images: ImageRows, source: String = "the checkpoint", expected: ContrastiveSettings? = nil) throws {
        try self.init(checkpoint: bytes, source: source, expected: expected) { _ in images }
    }

    private convenience init(checkpoint bytes: [UInt8], source: String, expected: ContrastiveSettings? = nil,
                             images imagesFor: (ContrastiveSettings) throws -> ImageRows) throws {
        let file = try DigestedFile(bytes: bytes, magic: Self.checkpointMagic, versions: Self.checkpointVersion...Self.checkpointVersion, blobCount: 2,
                                    kind: "a contrastive pre-training checkpoint", source: source, invalid: .invalidCheckpoint)
        let header = try file.decodeHeader(CheckpointHeader.self, source: source)
        if let expected, header.settings != expected {
            throw BGANError(.invalidArgument, "\(source) is left from a pre-training with other settings than this run's stage 1 (views, neighbour partners, epochs, seed, sizes or a standardised input); remove it to pre-train again")
        }
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
        // Values that do not fit an Int read as -1: refused below, never a trap.
        let steps = Int(exactly: try reader.read(UInt64.self)) ?? -1
        let count = Int(exactly: try reader.read(UInt64.self)) ?? -1
        guard steps >= 0, count == 0 || count == parameters, bytes.count == 16 + 8 * count else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: an optimiser state of \(count) values does not fit \(parameters) parameters")
        }
        let first = try (0..<count).map { _ in Float(bitPattern: try reader.read(UInt32.self)) }
        let second = try (0..<count).map { _ in Float(bitPattern: try reader.read(UInt32.self)) }
        try optimizer.restore(steps: steps, first: first, second: second)
    }

    /// S as the count (`UInt64`), `count + 1` row offsets (`UInt64`) and the similar items
    /// (`UInt32`): the layout S has in a file too, so a file-kept S is copied as it lies.
    static func encode(_ structure: NeighborhoodStructure) -> [DigestedFile.Piece] {
        switch structure.storage {
        case .memory(let offsets, let similar):
            var writer = LittleEndianWriter()
            writer.append(UInt64(structure.count))
            for offset in offsets { writer.append(UInt64(offset)) }
            for item in similar { writer.append(UInt32(bitPattern: item)) }
            return [.bytes(writer.bytes)]
        case .file(let file, let base):
            return [.stretch(file, offset: base, length: 8 * (structure.count + 2) + 4 * structure.pairCount)]
        }
    }

    /// The targets as their dimension (`UInt64`) and rows (`Float`): the layout file-kept targets
    /// have too, so they are copied as they lie.
    static func encode(_ similarity: SimilarityEmbedding?) -> [DigestedFile.Piece] {
        guard let similarity else { return [] }
        switch similarity.storage {
        case .memory(let values):
            var writer = LittleEndianWriter()
            writer.append(UInt64(similarity.dimension))
            return [.bytes(writer.bytes), .floats(values)]
        case .file(let file, let base):
            return [.stretch(file, offset: base, length: 8 + 4 * similarity.count * similarity.dimension)]
        }
    }

    /// Targets kept in a checkpoint file at `extent` (nothing when the extent is empty), read
    /// from there a batch's rows at a time.
    static func similarity(in file: PositionedFile, at extent: Range<Int>, source: String) throws -> SimilarityEmbedding? {
        guard !extent.isEmpty else { return nil }
        let claimed = extent.count >= 8 ? UInt64(littleEndian: try file.read(UInt64.self, count: 1, at: extent.lowerBound)[0]) : 0
        guard claimed >= 1, claimed <= 1 << 16, case let dimension = Int(claimed), (extent.count - 8) % (4 * dimension) == 0 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its similarity embedding is inconsistent")
        }
        return SimilarityEmbedding(count: (extent.count - 8) / (4 * dimension), dimension: dimension, file: file, base: extent.lowerBound)
    }

    static func decodeSimilarity(_ bytes: [UInt8], source: String) throws -> SimilarityEmbedding? {
        guard !bytes.isEmpty else { return nil }
        var reader = LittleEndianReader(bytes) { _ in BGANError(.invalidCheckpoint, "\(source) is refused: it ends inside a record") }
        let dimension = Int(exactly: try reader.read(UInt64.self)) ?? 0
        guard dimension >= 1, dimension <= 1 << 16, (bytes.count - 8) % (4 * dimension) == 0 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its similarity embedding is inconsistent")
        }
        let values = try (0..<((bytes.count - 8) / 4)).map { _ in Float(bitPattern: try reader.read(UInt32.self)) }
        return try SimilarityEmbedding(values: values, dimension: dimension)
    }

    /// ±1 codes as bits (1 for +1), eight to a byte; empty for none.
    static func encode(anchorCodes: AnchorCodes?) -> [UInt8] {
        guard let anchorCodes else { return [] }
        var writer = LittleEndianWriter()
        writer.append(UInt64(anchorCodes.count))
        writer.append(contentsOf: anchorCodes.packed)
        return writer.bytes
    }

    static func decodeAnchorCodes(_ bytes: [UInt8], source: String) throws -> AnchorCodes? {
        guard !bytes.isEmpty else { return nil }
        var reader = LittleEndianReader(bytes) { _ in BGANError(.invalidCheckpoint, "\(source) is refused: it ends inside a record") }
        let count = Int(exactly: try reader.read(UInt64.self)) ?? -1
        guard count >= 0, count <= (bytes.count - 8) * 8, bytes.count == 8 + (count + 7) / 8 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its anchor codes are inconsistent")
        }
        var packed = Array(try reader.readBytes((count + 7) / 8))
        // Bits past the last value are not part of the codes (older builds left them clear too).
        if count % 8 != 0, !packed.isEmpty { packed[packed.count - 1] &= UInt8((1 << (count % 8)) - 1) }
        return AnchorCodes(count: count, packed: packed)
    }

    /// S kept in a checkpoint file at `extent`, checked a megabyte at a time as
    /// ``decodeStructure(_:source:)`` checks it in memory, and read from there by row.
    /// (`rowsPerRead` and `valuesPerRead` set how much is checked at once.)
    static func structure(in file: PositionedFile, at extent: Range<Int>, source: String, rowsPerRead: Int = 1 << 17,
                          valuesPerRead: Int = 1 << 18) throws -> NeighborhoodStructure {
        func refuse(_ why: String) -> BGANError { BGANError(.invalidCheckpoint, "\(source) is refused: its neighbourhood structure \(why)") }
        guard extent.count >= 16 else { throw refuse("ends early") }
        let claimed = UInt64(littleEndian: try file.read(UInt64.self, count: 1, at: extent.lowerBound)[0])
        guard let count = Int(exactly: claimed), count <= Int(Int32.max), count <= (extent.count - 16) / 8 else {
            throw refuse("claims \(claimed) images")
        }
        let valuesStart = extent.lowerBound + 8 * (count + 2)
        var previous = 0, first = true
        for row in stride(from: 0, through: count, by: rowsPerRead) {
            let offsets = try file.read(UInt64.self, count: min(rowsPerRead, count + 1 - row), at: extent.lowerBound + 8 * (row + 1))
            for value in offsets {
                guard let offset = Int(exactly: UInt64(littleEndian: value)), offset >= previous, !first || offset == 0 else {
                    throw refuse("is inconsistent")
                }
                previous = offset
                first = false
            }
        }
        let total = previous
        guard total <= (extent.upperBound - valuesStart) / 4, extent.upperBound - valuesStart == 4 * total else { throw refuse("is inconsistent") }
        for start in stride(from: 0, to: total, by: valuesPerRead) {
            let values = try file.read(UInt32.self, count: min(valuesPerRead, total - start), at: valuesStart + 4 * start)
            guard values.allSatisfy({ Int(UInt32(littleEndian: $0)) < count }) else { throw refuse("names images beyond \(count)") }
        }
        return NeighborhoodStructure(count: count, pairCount: total, file: file, base: extent.lowerBound)
    }

    static func decodeStructure(_ bytes: [UInt8], source: String) throws -> NeighborhoodStructure {
        var reader = LittleEndianReader(bytes) { _ in BGANError(.invalidCheckpoint, "\(source) is refused: it ends inside a record") }
        let claimed = try reader.read(UInt64.self)
        guard let count = Int(exactly: claimed), count <= Int(Int32.max), count <= (bytes.count - 8) / 8 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its neighbourhood structure claims \(claimed) images")
        }
        let offsets = try (0...count).map { _ in Int(truncatingIfNeeded: try reader.read(UInt64.self)) }
        let total = offsets.last ?? 0
        guard offsets.first == 0, total >= 0, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }), bytes.count == 8 + 8 * (count + 1) + 4 * total else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its neighbourhood structure is inconsistent")
        }
        let similar = try (0..<total).map { _ in Int32(bitPattern: try reader.read(UInt32.self)) }
        guard similar.allSatisfy({ $0 >= 0 && Int($0) < count }) else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its neighbourhood structure names images beyond \(count)")
        }
        return NeighborhoodStructure(count: count, offsets: offsets, similar: similar)
    }
}
