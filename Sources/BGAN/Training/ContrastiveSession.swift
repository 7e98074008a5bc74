import NeuralNet

/// Everything that decides a contrastive pre-training run, recorded in its checkpoints.
public struct ContrastiveSettings: Codable, Sendable, Equatable {
    public var architecture: BGANArchitecture
    public var epochs: Int
    /// Images per step; each gives two views, so the loss sees twice as many rows.
    public var batch: Int
    public var learningRate: Float
    /// τ of the contrastive loss.
    public var temperature: Float
    public var seed: UInt64
    public var augmentation: ViewAugmentation
    /// When set, a share of the second views show one of the image's nearest neighbours instead
    /// of the image itself (after NNCLR, Dwibedi et al. 2021): positives beyond what augmentation
    /// can make. Nil: plain SimCLR.
    public var neighborPartners: NeighborPartners?

    /// Which neighbours stand in for an image's second view, and how often.
    public struct NeighborPartners: Codable, Sendable, Equatable {
        /// The space the neighbours are found in (``FeatureSpace`` text).
        public var featureSpace: String
        /// A partner is drawn from the image's `count` nearest neighbours, itself excluded.
        public var count: Int
        /// Fraction of second views that show a neighbour, in [0, 1].
        public var share: Float

        public init(featureSpace: FeatureSpace, count: Int = 5, share: Float = 0.5) {
            self.featureSpace = featureSpace.description
            self.count = count
            self.share = share
        }

        /// How a model file's training notes say it (`neighbour_partners`).
        public var note: String { "\(share) of second views show one of the \(count) nearest neighbours in \(featureSpace)" }
    }

    public init(architecture: BGANArchitecture, epochs: Int = 10, batch: Int = 128, learningRate: Float = 1e-3, temperature: Float = 0.3,
                seed: UInt64 = 2026, augmentation: ViewAugmentation = ViewAugmentation()) {
        self.architecture = architecture
        self.epochs = epochs
        self.batch = batch
        self.learningRate = learningRate
        self.temperature = temperature
        self.seed = seed
        self.augmentation = augmentation
    }

    /// Checks the settings against a training set of `count` images.
    public func validate(count: Int) throws {
        try architecture.validate()
        try augmentation.validate()
        guard epochs >= 1, batch >= 2 else {
            throw BGANError(.invalidArgument, "contrastive pre-training needs at least 1 epoch and 2 images per step; got \(epochs) and \(batch)")
        }
        guard count >= batch else {
            throw BGANError(.invalidArgument, "\(count) images do not fill one batch of \(batch); lower the batch or use more images")
        }
        guard temperature > 0, temperature.isFinite, learningRate > 0 else {
            throw BGANError(.invalidArgument, "the temperature (\(temperature)) and the learning rate (\(learningRate)) must be positive")
        }
        if let partners = neighborPartners {
            guard partners.count >= 1, partners.share >= 0, partners.share <= 1, FeatureSpace(partners.featureSpace) != nil else {
                throw BGANError(.invalidArgument, "neighbour partners need at least 1 neighbour, a share from 0 to 1 and a feature space (\(FeatureSpace.syntax)); "
                                    + "got \(partners.count), \(partners.share) and '\(partners.featureSpace)'")
            }
        }
    }
}

/// Self-supervised pre-training of BGAN's encoder (SimCLR, Chen et al. 2020): each step takes a
/// batch of images, makes two random views of each (``ViewAugmentation``), and trains the
/// encoder's real-valued outputs `h` (before the smoothed sign) to pick out each view's partner
/// among all views of the batch (``Loss/normalizedTemperatureCrossEntropy(embeddings:temperature:)``).
///
/// The result is an encoder whose outputs ignore crops, flips and brightness and so group
/// images by what they show rather than by where their pixels lie: a better feature space for
/// BGAN's neighbourhood structure S than pixels, and a starting point for BGAN's own training.
/// Views are drawn from the seed and the position (epoch, step), so a run is reproducible.
public final class ContrastiveSession {
    public let settings: ContrastiveSettings
    public let networks: BGANNetworks
    public let optimizer: Adam
    /// The encoder up to `h`, sharing its layers with ``BGANNetworks/encoder``.
    let embedding: Sequential
    let images: ImageRows
    /// The images' fingerprint, which every checkpoint records: computed once, at the first.
    var imageFingerprint = ImageRows.FingerprintCache()
    /// Each image's nearest neighbours when ``ContrastiveSettings/neighborPartners`` is set.
    let partners: (any NeighborListReading)?
    public let count: Int
    public internal(set) var epoch = 0
    public internal(set) var step = 0
    /// Mean loss over every stretch of ``TrainingSession/pointInterval`` steps and at each epoch's end.
    public internal(set) var history: [Point] = []
    /// The mean contrastive loss over a stretch of steps ending at `epoch` (1.5: halfway through the second).
    public struct Point: Codable, Sendable, Equatable {
        public var epoch: Double
        public var loss: Float
    }

    var pendingSum: Float = 0
    var pendingSteps = 0
    private var order: (epoch: Int, indices: [Int])?

    /// A new run on `images` (`count × C × H × W` values in [0, 1]). With
    /// ``ContrastiveSettings/neighborPartners`` set, `partners` holds every image's nearest
    /// neighbours in that feature space (``partnerLists(for:images:)``), nearest first, itself first.
    public convenience init(settings: ContrastiveSettings, images: [Float], partners: (any NeighborListReading)? = nil) throws {
        try self.init(settings: settings, images: try TrainingSession.rows(images, architecture: settings.architecture), partners: partners)
    }

    /// A new run on `images` (held as bytes or floats, views made a batch at a time).
    public init(settings: ContrastiveSettings, images: ImageRows, partners: (any NeighborListReading)? = nil) throws {
        let a = settings.architecture
        try images.requireShape(channels: a.channels, height: a.height, width: a.width)
        count = images.count
        try settings.validate(count: count)
        if settings.neighborPartners != nil {
            guard let partners, partners.count == count, partners.k >= 2 else {
                throw BGANError(.invalidArgument, "neighbour partners are asked for but no neighbour lists of the \(count) images were given")
            }
        }
        self.settings = settings
        self.images = images
        self.partners = settings.neighborPartners == nil ? nil : partners
        let networks = try BGANNetworks(architecture: a, seed: settings.seed)
        self.networks = networks
        embedding = Sequential("encoder.embedding", networks.encoder.layers.filter { $0 !== networks.smoothedSign })
        optimizer = Adam(learningRate: settings.learningRate, epsilon: 1e-8)
    }

    public var stepsPerEpoch: Int { count / settings.batch }
    public var totalSteps: Int { settings.epochs * stepsPerEpoch }
    public var stepsTaken: Int { epoch * stepsPerEpoch + step }
    public var isFinished: Bool { epoch >= settings.epochs }

    /// Takes the next step and returns its loss.
    @discardableResult
    public func runStep() throws -> Float {
        precondition(!isFinished, "the pre-training run has finished")
        let a = settings.architecture
        let indices = batchIndices()
        let views = try makeViews(indices: indices)
        let e = networks.encoderParameters
        e.zeroGradients()
        let h = try embedding.forward(Tensor(shape: [2 * indices.count, a.channels, a.height, a.width], storage: views), training: true)
        let loss = try Loss.normalizedTemperatureCrossEntropy(embeddings: h, temperature: settings.temperature)
        _ = try embedding.backward(loss.gradient)
        optimizer.step(e)
        pendingSum += loss.value
        pendingSteps += 1
        step += 1
        if step == stepsPerEpoch || pendingSteps == TrainingSession.pointInterval {
            history.append(Point(epoch: Double(epoch) + Double(step) / Double(stepsPerEpoch), loss: pendingSum / Float(pendingSteps)))
            pendingSum = 0
            pendingSteps = 0
        }
        if step == stepsPerEpoch {
            epoch += 1
            step = 0
        }
        return loss.value
    }

    /// The images of this step, from a fresh seeded shuffle each epoch.
    private func batchIndices() -> [Int] {
        if order?.epoch != epoch {
            var rng = SeededGenerator(seed: SeededGenerator.seed(mixing: settings.seed, UInt64(epoch), 0xc0de))
            var indices = Array(0..<count)
            indices.shuffle(using: &rng)
            order = (epoch, indices)
        }
        return Array(order!.indices[(step * settings.batch)..<((step + 1) * settings.batch)])
    }

    /// The neighbour lists a run with `settings` needs: nil without neighbour partners.
    public static func partnerLists(for settings: ContrastiveSettings, images: [Float]) throws -> (any NeighborListReading)? {
        try partnerLists(for: settings, images: try TrainingSession.rows(images, architecture: settings.architecture))
    }

    /// The neighbour lists a run with `settings` needs on `images`: nil without neighbour partners.
    /// Beyond ``NearestNeighborLists/exactLimit`` images they are approximate and kept in a
    /// temporary file (``NeighborListFile``), made a range of images at a time, and a step reads
    /// its batch's lists from there.
    public static func partnerLists(for settings: ContrastiveSettings, images: ImageRows) throws -> (any NeighborListReading)? {
        guard let wanted = settings.neighborPartners else { return nil }
        guard let space = FeatureSpace(wanted.featureSpace) else {
            throw BGANError(.invalidArgument, "neighbour partners come from '\(wanted.featureSpace)', which is not a feature space (\(FeatureSpace.syntax))")
        }
        let a = settings.architecture
        // Beyond the exact lists' limit pixels are read from the images cell by cell, not copied whole
        // as floats, and a model's features go to a temporary file in TMPDIR.
        let features = try space.rows(of: images, channels: a.channels, height: a.height, width: a.width,
                                      inScratchFile: images.count > NearestNeighborLists.exactLimit)
        return try TrainingLists(features, k: wanted.count + 1).reading
    }

    /// The image each second view shows: the image itself, or for a share of them (with
    /// neighbour partners) one of its nearest neighbours, drawn from their own seeded stream so
    /// that the views themselves stay those of plain SimCLR.
    func partnerImages(of indices: [Int]) throws -> [Int] {
        guard let wanted = settings.neighborPartners, let partners else { return indices }
        var rng = SeededGenerator(seed: SeededGenerator.seed(mixing: settings.seed, UInt64(epoch) &+ 0x9a27, UInt64(step)))
        return try indices.map { index in
            let neighbors = try partners.list(of: index).filter { Int($0) != index }.prefix(wanted.count)
            guard !neighbors.isEmpty, Float.random(in: 0..<1, using: &rng) < wanted.share else { return index }
            return Int(neighbors.randomElement(using: &rng)!)
        }
    }

    /// Two views of each image: the first views of all images, then the second views in the
    /// same order (rows i and i + N are partners).
    private func makeViews(indices: [Int]) throws -> [Float] {
        let a = settings.architecture
        let size = a.channels * a.height * a.width
        var rng = SeededGenerator(seed: SeededGenerator.seed(mixing: settings.seed, UInt64(epoch) &+ 0x5eed, UInt64(step)))
        var views = [Float](repeating: 0, count: 2 * indices.count * size)
        let shown = indices + (try partnerImages(of: indices))
        try views.withUnsafeMutableBufferPointer { target in
            try settings.augmentation.views(count: shown.count, channels: a.channels, height: a.height, width: a.width,
                                            into: target, rng: &rng) { try images.copy(shown[$0], into: $1) }
        }
        return views
    }

    /// The pre-trained encoder as a model file (β 2; its codes are `sign(h)` like any model's).
    public func model(preprocessing: Preprocessing, notes: [String: String] = [:]) -> ModelFile {
        var training = notes
        let s = settings
        training["stage"] = "contrastive pre-training"
        training["epochs"] = "\(s.epochs)"
        training["batch"] = "\(s.batch)"
        training["learning_rate"] = "\(s.learningRate)"
        training["temperature"] = "\(s.temperature)"
        training["seed"] = "\(s.seed)"
        training["views"] = s.augmentation.note
        training["images"] = "\(count)"
        if let partners = s.neighborPartners {
            training["neighbour_partners"] = partners.note
        }
        let header = ModelFile.Header(architecture: s.architecture, preprocessing: preprocessing, training: training, beta: networks.smoothedSign.beta)
        return ModelFile(header: header, encoder: networks)
    }
}
