import Foundation
import NeuralNet

/// Mean losses over a stretch of training, at a point measured in epochs (1.5 = halfway
/// through the second epoch).
public struct LossPoint: Codable, Sendable, Equatable {
    public var epoch: Double
    public var losses: StepLosses
}

/// A whole training run over an image set: batches drawn per ``TrainingSettings/sampling``,
/// β stepped per the schedule, loss history, and checkpoints that resume exactly.
///
/// Everything random is derived from the seed and the position (epoch, step), or saved in the
/// checkpoint (the generator's noise), so a resumed run takes the very steps an uninterrupted
/// one takes.
public final class TrainingSession {
    public let settings: TrainingSettings
    public let networks: BGANNetworks
    public let trainer: BGANTrainer
    public let structure: NeighbourhoodStructure
    /// Images, `count × C × H × W`, scaled as the model sees them.
    let images: [Float]
    public let count: Int
    /// The epoch (0-based) of the next step; `settings.epochs` once finished.
    public private(set) var epoch = 0
    /// The next step within ``epoch``.
    public private(set) var step = 0
    /// Mean losses every ``pointInterval`` steps and at the end of every epoch.
    public private(set) var history: [LossPoint] = []
    private var pendingSum = StepLosses()
    private var pendingSteps = 0
    private var orderCache: (epoch: Int, order: [Int])?
    /// Steps averaged into one point of ``history``.
    public static let pointInterval = 100

    /// A new run on `images` (`count × C × H × W` values in the model's scale) with the structure
    /// S of the same images (which draws the partners of `neighbours` sampling, and gives the
    /// neighbourhood loss its targets unless `similarity` is given: then its cosines do).
    public init(settings: TrainingSettings, images: [Float], structure: NeighbourhoodStructure, similarity: SimilarityEmbedding? = nil) throws {
        let a = settings.architecture
        let itemSize = a.channels * a.height * a.width
        guard itemSize > 0, images.count % itemSize == 0 else {
            throw BGANError(.invalidArgument, "\(images.count) values are not a whole number of \(a.channels)×\(a.height)×\(a.width) images")
        }
        let count = images.count / itemSize
        self.count = count
        guard structure.count == count, similarity.map({ $0.count == count }) ?? true else {
            throw BGANError(.invalidArgument, "the neighbourhood structure covers \(structure.count) images and the similarity embedding \(similarity?.count ?? count); the training set holds \(count)")
        }
        try settings.validate(count: count)
        self.settings = settings
        self.images = images
        self.structure = structure
        networks = try BGANNetworks(architecture: a, beta: settings.beta(epoch: 0), seed: settings.seed)
        trainer = BGANTrainer(networks: networks, structure: structure, weights: settings.weights, learningRate: settings.learningRate,
                              epsilon: settings.epsilon, seed: settings.seed)
        trainer.similarityEmbedding = similarity
        if settings.generativeOnAnchors == true, settings.sampling != .shuffled { trainer.generativeImages = settings.batch / 2 }
        if settings.weights.dissimilarQuantile > 0 {
            trainer.unrelatedBelow = Self.pairDistanceQuantile(images, itemSize: itemSize, quantile: settings.weights.dissimilarQuantile, seed: settings.seed)
        }
    }

    /// The `quantile` of squared distances between 20,000 random pairs of images (seeded).
    static func pairDistanceQuantile(_ images: [Float], itemSize: Int, quantile: Float, seed: UInt64) -> Float {
        let count = images.count / itemSize
        var rng = SeededGenerator(seed: mix(seed, 0x9a1, 0x7))
        var distances: [Float] = []
        for _ in 0..<20_000 {
            let i = Int(rng.next() % UInt64(count)), j = Int(rng.next() % UInt64(count))
            guard i != j else { continue }
            var distance: Float = 0
            for k in 0..<itemSize {
                let d = images[i * itemSize + k] - images[j * itemSize + k]
                distance += d * d
            }
            distances.append(distance)
        }
        distances.sort()
        return distances.isEmpty ? 0 : distances[min(distances.count - 1, Int(Float(distances.count) * min(quantile, 1)))]
    }

    public var stepsPerEpoch: Int { settings.stepsPerEpoch(count: count) }
    public var isFinished: Bool { epoch >= settings.epochs }
    /// Steps taken since the run began.
    public var stepsTaken: Int { epoch * stepsPerEpoch + step }
    public var totalSteps: Int { settings.epochs * stepsPerEpoch }

    /// Takes the next step; at the end of an epoch moves to the next one.
    @discardableResult
    public func runStep() throws -> StepLosses {
        precondition(!isFinished, "the training run has finished")
        networks.smoothedSign.beta = settings.beta(epoch: epoch)
        let indices = batchIndices(epoch: epoch, step: step)
        var batch: [Float] = []
        let itemSize = images.count / count
        batch.reserveCapacity(indices.count * itemSize)
        for index in indices { batch += images[(index * itemSize)..<((index + 1) * itemSize)] }
        if settings.augmentationShift > 0 {
            var rng = SeededGenerator(seed: Self.mix(settings.seed, UInt64(epoch) &+ 0xa0, UInt64(step)))
            Self.augment(&batch, architecture: settings.architecture, shift: settings.augmentationShift, rng: &rng)
        }
        if let views = settings.views {
            var rng = SeededGenerator(seed: Self.mix(settings.seed, UInt64(epoch) &+ 0xb1, UInt64(step)))
            let a = settings.architecture
            let source = batch
            source.withUnsafeBufferPointer { images in
                batch.withUnsafeMutableBufferPointer { target in
                    for start in stride(from: 0, to: source.count, by: itemSize) {
                        views.view(of: UnsafeBufferPointer(rebasing: images[start..<(start + itemSize)]),
                                   into: UnsafeMutableBufferPointer(rebasing: target[start..<(start + itemSize)]),
                                   channels: a.channels, height: a.height, width: a.width, rng: &rng)
                    }
                }
            }
        }
        let a = settings.architecture
        let losses = try trainer.step(images: Tensor(shape: [indices.count, a.channels, a.height, a.width], storage: batch), indices: indices)
        pendingSum.add(losses)
        pendingSteps += 1
        step += 1
        if step == stepsPerEpoch || pendingSteps == Self.pointInterval {
            history.append(LossPoint(epoch: Double(epoch) + Double(step) / Double(stepsPerEpoch), losses: pendingSum.scaled(1 / Float(pendingSteps))))
            pendingSum = StepLosses()
            pendingSteps = 0
        }
        if step == stepsPerEpoch {
            epoch += 1
            step = 0
            networks.smoothedSign.beta = settings.beta(epoch: min(epoch, settings.epochs - 1))
        }
        return losses
    }

    /// The training-set positions of the batch at (`epoch`, `step`).
    func batchIndices(epoch: Int, step: Int) -> [Int] {
        if orderCache?.epoch != epoch {
            var rng = SeededGenerator(seed: Self.mix(settings.seed, UInt64(epoch), 0x0bde))
            var order = Array(0..<count)
            order.shuffle(using: &rng)
            orderCache = (epoch, order)
        }
        let order = orderCache!.order
        switch settings.sampling {
        case .shuffled:
            return Array(order[(step * settings.batch)..<((step + 1) * settings.batch)])
        case .neighbours, .neighboursAndViews:
            let half = settings.batch / 2
            let anchors = Array(order[(step * half)..<((step + 1) * half)])
            var rng = SeededGenerator(seed: Self.mix(settings.seed, UInt64(epoch), UInt64(step) &+ 1))
            let partners = anchors.enumerated().map { position, anchor -> Int in
                if settings.sampling == .neighboursAndViews, position % 2 == 1 { return anchor }
                let similar = structure.similarItems(of: anchor).filter { Int($0) != anchor }
                return similar.isEmpty ? Int(rng.next() % UInt64(count)) : Int(similar[Int(rng.next() % UInt64(similar.count))])
            }
            return anchors + partners
        }
    }

    /// Flips each image left-right with probability ½ and shifts it by up to `shift` pixels in
    /// each direction, filling with the image's corner value.
    static func augment(_ batch: inout [Float], architecture a: BGANArchitecture, shift: Int, rng: inout SeededGenerator) {
        let plane = a.height * a.width, size = a.channels * plane
        var source = [Float](repeating: 0, count: size)
        for start in stride(from: 0, to: batch.count, by: size) {
            let flip = rng.next() & 1 == 1
            let dy = Int(rng.next() % UInt64(2 * shift + 1)) - shift, dx = Int(rng.next() % UInt64(2 * shift + 1)) - shift
            for i in 0..<size { source[i] = batch[start + i] }
            for c in 0..<a.channels {
                let fill = source[c * plane]
                for y in 0..<a.height {
                    for x in 0..<a.width {
                        let sy = y - dy, sx0 = x - dx
                        let sx = flip ? a.width - 1 - sx0 : sx0
                        let inside = sy >= 0 && sy < a.height && sx >= 0 && sx < a.width
                        batch[start + c * plane + y * a.width + x] = inside ? source[c * plane + sy * a.width + sx] : fill
                    }
                }
            }
        }
    }

    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var generator = SeededGenerator(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ (c &* 0xC2B2_AE3D_27D4_EB4F))
        return generator.next()
    }

    /// The trained encoder as a model file.
    public func model(preprocessing: Preprocessing) -> ModelFile {
        var training = settings.notes
        let s = settings
        training["epochs"] = "\(s.epochs)"
        training["batch"] = "\(s.batch)"
        training["learning_rate"] = "\(s.learningRate)"
        training["adam_epsilon"] = "\(s.epsilon)"
        training["seed"] = "\(s.seed)"
        training["sampling"] = s.sampling.rawValue
        training["augmentation_shift"] = "\(s.augmentationShift)"
        if s.generativeOnAnchors == true, s.sampling != .shuffled { training["generative_images"] = "anchors (\(s.batch / 2) per batch)" }
        if let views = s.views {
            training["views"] = "minimum area \(views.minimumArea), maximum aspect \(views.maximumAspect), flips \(views.flips), brightness \(views.brightness), noise \(views.noise)"
        }
        training["beta_schedule"] = s.betaSchedule.map { "\($0)" }.joined(separator: ",")
        training["weights"] = "neighbourhood \(s.weights.neighbourhood), quantisation \(s.weights.quantization), content \(s.weights.content), pixel \(s.weights.pixel), adversarial \(s.weights.adversarial), dissimilar target \(s.weights.dissimilarTarget), dissimilar beyond quantile \(s.weights.dissimilarQuantile), similar pair weight \(s.weights.similarPairWeight)"
        training["images"] = "\(count)"
        let header = ModelFile.Header(architecture: s.architecture, preprocessing: preprocessing, training: training,
                                      beta: networks.smoothedSign.beta)
        return ModelFile(header: header, encoder: networks)
    }

    // MARK: Checkpoints

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
    public static let checkpointVersion: UInt32 = 2

    /// Everything needed to continue the run exactly: settings, position, loss history, the
    /// three networks' parameters and optimiser states, the noise generator, S, and a
    /// fingerprint of the images (which are not stored).
    public func checkpoint() throws -> [UInt8] {
        let header = CheckpointHeader(settings: settings, epoch: epoch, step: step, noiseState: trainer.noiseGenerator.state,
                                      history: history, pendingSum: pendingSum, pendingSteps: pendingSteps,
                                      imageCount: count, imageFingerprint: Self.fingerprint(images))
        let blobs = [
            ParameterFile.encode(networks.encoderParameters),
            ParameterFile.encode(networks.generatorParameters),
            ParameterFile.encode(networks.discriminatorParameters),
            Self.encode(trainer.encoderOptimizer),
            Self.encode(trainer.generatorOptimizer),
            Self.encode(trainer.discriminatorOptimizer),
            Self.encode(structure),
            Self.encode(trainer.similarityEmbedding),
        ]
        let body = DigestedFile.body(magic: Self.checkpointMagic, version: Self.checkpointVersion, header: try DigestedFile.json(header), blobs: blobs)
        return body + SHA256.hash(body)
    }

    /// Continues the run saved in `bytes` on the same images.
    /// - Throws: a damaged or foreign checkpoint, or images other than those it was trained on.
    public convenience init(checkpoint bytes: [UInt8], images: [Float], source: String = "the checkpoint") throws {
        let file = try DigestedFile(bytes: bytes, magic: Self.checkpointMagic, version: Self.checkpointVersion, blobCount: 8,
                                    kind: "a training checkpoint", source: source, invalid: .invalidCheckpoint)
        let header = try file.decodeHeader(CheckpointHeader.self, source: source)
        guard Self.fingerprint(images) == header.imageFingerprint else {
            throw BGANError(.otherTrainingImages, "\(source) was trained on other images (\(header.imageCount) of them, another fingerprint): resume it with the same images, in the same order and with the same preprocessing")
        }
        let structure = try Self.decodeStructure(file.blobs[6], source: source)
        let similarity = try Self.decodeSimilarity(file.blobs[7], source: source)
        try self.init(settings: header.settings, images: images, structure: structure, similarity: similarity)
        guard header.epoch <= settings.epochs, header.step < stepsPerEpoch, header.pendingSteps >= 0 else {
            throw BGANError(.invalidCheckpoint, "\(source) is refused: its position (epoch \(header.epoch), step \(header.step)) is outside the run")
        }
        try file.decodeParameters(0, source: source, into: networks.encoderParameters)
        try file.decodeParameters(1, source: source, into: networks.generatorParameters)
        try file.decodeParameters(2, source: source, into: networks.discriminatorParameters)
        try Self.restore(trainer.encoderOptimizer, from: file.blobs[3], parameters: networks.encoderParameters.count, source: source)
        try Self.restore(trainer.generatorOptimizer, from: file.blobs[4], parameters: networks.generatorParameters.count, source: source)
        try Self.restore(trainer.discriminatorOptimizer, from: file.blobs[5], parameters: networks.discriminatorParameters.count, source: source)
        trainer.noiseGenerator = SeededGenerator(seed: header.noiseState)
        epoch = header.epoch
        step = header.step
        history = header.history
        pendingSum = header.pendingSum
        pendingSteps = header.pendingSteps
        networks.smoothedSign.beta = settings.beta(epoch: min(epoch, settings.epochs - 1))
    }

    /// FNV-1a over the values' bit patterns: enough to notice other data on resume.
    static func fingerprint(_ values: [Float]) -> UInt64 {
        var hash = FNV1a()
        for value in values { hash.combine(value.bitPattern) }
        return hash.value
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

    static func encode(_ structure: NeighbourhoodStructure) -> [UInt8] {
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

    static func decodeStructure(_ bytes: [UInt8], source: String) throws -> NeighbourhoodStructure {
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
        return NeighbourhoodStructure(count: count, offsets: offsets, similar: similar)
    }
}
