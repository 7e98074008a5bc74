@testable import BGAN
import NeuralNet
import PixelIO
import Testing

/// Training images held as bytes read exactly as their float copy would, so a session trained
/// on either is the same run, and a checkpoint of one resumes on the other.
@Suite struct ImageRowsTests {
    /// 48 8-bit 8×8 images of three kinds (a bright top, middle or bottom band) with noise.
    static func set(seed: UInt64) -> ImageSet {
        var rng = SeededGenerator(seed: seed)
        let pixels = (0..<48).flatMap { i in
            (0..<64).map { p in UInt8(min(255, max(0, (p / 8 / 3 == i % 3 ? 215 : 40) + 20 * rng.normal()))) }
        }
        return ImageSet(count: 48, channels: 1, height: 8, width: 8, pixels: pixels)
    }

    static let architecture = BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16)

    @Test func bytesReadAsTheirScaledFloats() throws {
        let set = Self.set(seed: 1)
        let bytes = ImageRows(set, count: 40)
        let floats = try ImageRows(floats: set.scaledPixels(0..<40), valuesPerImage: 64)
        #expect(bytes.count == 40 && bytes.valuesPerImage == 64)
        #expect(bytes.floats() == set.scaledPixels(0..<40))
        #expect(bytes.gather([39, 0, 7]) == floats.gather([39, 0, 7]))
        #expect(bytes.floats(3..<9) == set.scaledPixels(3..<9))
        #expect(bytes.fingerprint() == floats.fingerprint())
        #expect(bytes.fingerprint() != ImageRows(set, count: 39).fingerprint())
        #expect(bytes.squaredDistance(1, 4) == floats.squaredDistance(1, 4) && bytes.squaredDistance(2, 2) == 0)
        #expect(throws: BGANError.self) { try ImageRows(floats: [0.5, 0.5, 0.5], valuesPerImage: 2) }
    }

    @Test func aSessionOnBytesIsTheSessionOnFloatsAndResumesAcrossThem() throws {
        let set = Self.set(seed: 2)
        let floats = set.scaledPixels()
        let settings = TrainingSettings(architecture: Self.architecture, epochs: 2, batch: 12, learningRate: 1e-2, seed: 11,
                                        weights: LossWeights(), sampling: .neighbors)
        let structure = NeighborhoodStructure(neighbors: NearestNeighborLists(features: floats, dimension: 64, k: 4), k2: 3)
        let onFloats = try TrainingSession(settings: settings, images: floats, structure: structure)
        while !onFloats.isFinished { try onFloats.runStep() }
        let onBytes = try TrainingSession(settings: settings, images: ImageRows(set), structure: structure)
        for _ in 0..<3 { try onBytes.runStep() }
        let resumed = try TrainingSession(checkpoint: try onBytes.checkpoint(), images: floats)
        while !resumed.isFinished { try resumed.runStep() }
        #expect(resumed.networks.encoderParameters.values == onFloats.networks.encoderParameters.values, "bit-exact encoder")
        #expect(resumed.history == onFloats.history)

        var contrastive = ContrastiveSettings(architecture: Self.architecture, epochs: 1, batch: 12, learningRate: 1e-2, temperature: 0.5, seed: 5)
        contrastive.neighborPartners = .init(featureSpace: .pixels, count: 3, share: 0.5)
        let partners = try ContrastiveSession.partnerLists(for: contrastive, images: ImageRows(set))
        #expect(partners?.count == 48)
        let a = try ContrastiveSession(settings: contrastive, images: ImageRows(set), partners: partners)
        let b = try ContrastiveSession(settings: contrastive, images: floats, partners: partners)
        while !a.isFinished { #expect(try a.runStep() == b.runStep()) }
        #expect(a.networks.encoderParameters.values == b.networks.encoderParameters.values)
    }

    @Test func imagesOfAnotherGeometryAreRefused() throws {
        let settings = TrainingSettings(architecture: BGANArchitecture(channels: 1, height: 12, width: 12, bits: 16, filters: 4, hiddenUnits: 16,
                                                                       featureUnits: 16),
                                        epochs: 1, batch: 12, learningRate: 1e-2, seed: 11, weights: LossWeights(), sampling: .shuffled)
        let set = Self.set(seed: 3)
        let structure = NeighborhoodStructure(neighbors: NearestNeighborLists(features: set.scaledPixels(), dimension: 64, k: 4), k2: 3)
        let error = #expect(throws: BGANError.self) { try TrainingSession(settings: settings, images: ImageRows(set), structure: structure) }
        #expect(error?.description.contains("64 values each") == true)
    }
}
