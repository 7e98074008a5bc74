@testable import BGAN
import Foundation
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
        #expect(try bytes.floats() == set.scaledPixels(0..<40))
        #expect(try bytes.gather([39, 0, 7]) == floats.gather([39, 0, 7]))
        #expect(try bytes.floats(3..<9) == set.scaledPixels(3..<9))
        #expect(try bytes.fingerprint() == floats.fingerprint())
        #expect(try bytes.fingerprint() != ImageRows(set, count: 39).fingerprint())
        #expect(try bytes.squaredDistance(1, 4) == floats.squaredDistance(1, 4) && bytes.squaredDistance(2, 2) == 0)
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
        while !a.isFinished { #expect(try a.runStep() == (try b.runStep())) }
        #expect(a.networks.encoderParameters.values == b.networks.encoderParameters.values)
    }

    /// `set` as an IDX image file, gzip-compressed or not.
    static func idxFile(_ set: ImageSet, at path: String, compressed: Bool) throws {
        var bytes: [UInt8] = [0, 0, 8, 3]
        for dimension in [set.count, set.height, set.width] {
            bytes += withUnsafeBytes(of: UInt32(dimension).bigEndian, Array.init)
        }
        bytes += set.pixels
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        if compressed {
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
            gzip.arguments = ["-f", path]
            try gzip.run()
            gzip.waitUntilExit()
            #expect(gzip.terminationStatus == 0)
        }
    }

    /// A folder of image files is decoded into a temporary file, image by image, and read from
    /// there: the same values as decoding each file and preprocessing it in memory.
    @Test func aDecodedFolderIsStreamedFromATemporaryFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("folder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var rng = SeededGenerator(seed: 8)
        var images: [PixelBuffer] = []
        for index in 0..<7 {
            let image = try PixelBuffer(width: 12 + index, height: 10, format: .rgb,
                                        bytes: (0..<((12 + index) * 10 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            images.append(image)
            try Data(try image.pngData()).write(to: URL(fileURLWithPath: directory + "/image-\(index).png"))
        }
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: directory + "/image-3b.png"))
        let geometry = try #require(TrainingData.Geometry("3x8x8"))
        let data = try TrainingData.load(directory, geometry: geometry, limit: 6)
        #expect(data.rows.isStreamed && data.count == 6 && data.channels == 3 && data.height == 8 && data.width == 8)
        let preprocessing = Preprocessing(channels: 3, height: 8, width: 8, centerCrop: true)
        #expect(data.preprocessing == preprocessing)
        // The damaged file (between images 3 and 4 in path order) is skipped; the limit keeps six decoded ones.
        let expected = images.prefix(6).flatMap { preprocessing.planes(from: $0).map { Float($0) * (1.0 / 255) } }
        #expect(try data.rows.floats() == expected)
    }

    /// Large JPEGs in a folder are decoded for training as a store without thumbnails decodes
    /// them when it ingests (the smallest DCT scale that covers the model's input), so the model
    /// learns from the pixels it will be given: close to a full-size decode's, not equal to it.
    @Test func largeJPEGsAreDecodedForTrainingAsAStoreDecodesThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jpegs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var rng = SeededGenerator(seed: 12)
        let width = 640, height = 480
        var bytes: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let wave = sin(Double(x) / 23) + cos(Double(y) / 17 + Double(x) / 41)
                for c in 0..<3 { bytes.append(UInt8(max(0, min(255, 120 + 50 * wave + Double(30 * c) + 8 * Double(rng.normal()))))) }
            }
        }
        let jpeg = try PixelBuffer(width: width, height: height, format: .rgb, bytes: bytes).jpegData(quality: 90)
        try Data(jpeg).write(to: URL(fileURLWithPath: directory + "/photo.jpg"))
        let geometry = try #require(TrainingData.Geometry(channels: 3, height: 16, width: 16))
        let data = try TrainingData.load(directory, geometry: geometry)
        let scaled = try ImageDecoder(minimumSide: 16).decode(jpeg)
        #expect(scaled.width == 80 && scaled.height == 60, "an eighth: the smallest scale that keeps 16 pixels a side")
        let preprocessing = Preprocessing(channels: 3, height: 16, width: 16, centerCrop: true)
        let asIngested = preprocessing.planes(from: scaled).map { Float($0) * (1.0 / 255) }
        let fullSize = preprocessing.planes(from: try ImageDecoder().decode(jpeg)).map { Float($0) * (1.0 / 255) }
        let rows = try data.rows.floats()
        #expect(rows == asIngested)
        #expect(rows != fullSize, "a full-size decode would give other pixels")
        let meanDifference = zip(rows, fullSize).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(rows.count) * 255
        #expect(meanDifference < 2, "\(meanDifference) levels from the full-size decode on average")
    }

    /// Images streamed from an IDX file on disk read exactly as the same images held in memory,
    /// whether the file is compressed (inflated into an unlinked temporary file) or not.
    @Test(arguments: [false, true]) func imagesStreamedFromAnIDXFileReadAsHeldOnes(compressed: Bool) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rows-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let set = Self.set(seed: 4)
        let path = directory + "/images-idx3-ubyte"
        try Self.idxFile(set, at: path, compressed: compressed)
        let data = try TrainingData.load(compressed ? path + ".gz" : path, limit: 40)
        #expect(data.rows.isStreamed && data.count == 40 && data.channels == 1 && data.height == 8 && data.width == 8)
        let held = ImageRows(set, count: 40)
        #expect(try data.rows.floats() == held.floats())
        #expect(try data.rows.gather([39, 0, 7, 7]) == held.gather([39, 0, 7, 7]))
        #expect(try data.rows.fingerprint() == held.fingerprint())
        if compressed {
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("bgan-scratch-") }
            #expect(leftovers.isEmpty, "the inflated copy is unlinked at once")
        }

        let structure = NeighborhoodStructure(neighbors: NearestNeighborLists(features: set.scaledPixels(0..<40), dimension: 64, k: 4), k2: 3)
        let settings = TrainingSettings(architecture: Self.architecture, epochs: 1, batch: 10, learningRate: 1e-2, seed: 3,
                                        weights: LossWeights(), sampling: .neighbors)
        let streamed = try TrainingSession(settings: settings, images: data.rows, structure: structure)
        let inMemory = try TrainingSession(settings: settings, images: held, structure: structure)
        while !streamed.isFinished { #expect(try streamed.runStep() == (try inMemory.runStep())) }
        #expect(streamed.networks.encoderParameters.values == inMemory.networks.encoderParameters.values)
    }

    @Test func aTruncatedOrForeignIDXFileIsRefusedWithItsReason() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rows-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/images-idx3-ubyte"
        try Self.idxFile(Self.set(seed: 5), at: path, compressed: false)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count - 3).write(to: URL(fileURLWithPath: path))
        let truncated = #expect(throws: DatasetError.self) { try IDXImageFile(path: path) }
        #expect(truncated?.description.contains("truncated") == true)
        try Data([0, 0, 8, 1, 0, 0, 0, 2, 7, 7]).write(to: URL(fileURLWithPath: path))
        let labels = #expect(throws: DatasetError.self) { try IDXImageFile(path: path) }
        #expect(labels?.description.contains("label file") == true)
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
