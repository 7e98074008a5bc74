import BGAN
import Foundation
import NeuralNet
import PixelIO
import Testing

@Suite struct DefaultModelTests {
    @Test(arguments: DefaultModel.bundledBits)
    func bundledModelsAreFoundAndFitFashionMNIST(bits: Int) throws {
        let url = try DefaultModel.locate(bits: bits, environment: [:])
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? .max
        #expect(size < 8 << 20, "each bundled model stays under 8 MiB: \(size) bytes")
        let model = try DefaultModel.load(bits: bits)
        let a = model.header.architecture
        #expect(a.bits == bits && a.channels == 1 && a.height == 28 && a.width == 28)
        #expect(model.header.preprocessing == Preprocessing(channels: 1, height: 28, width: 28))
        let encoder = try ImageEncoder(model: model)
        // Near-identical images get near-identical codes; a different image does not.
        var rng = SeededGenerator(seed: 1)
        let image = (0..<784).map { i in (i / 28 > 6 && i / 28 < 22 && i % 28 > 8 && i % 28 < 20) ? 0.8 + 0.05 * rng.unit() : 0.02 * rng.unit() }
        let nudged = image.map { min(1, $0 + 0.01 * rng.unit()) }
        let other = (0..<784).map { i in i % 28 < 14 ? Float(0.9) : 0 }
        let signs = try encoder.signs(of: image + nudged + other)
        func distance(_ a: Int, _ b: Int) -> Int { (0..<bits).filter { signs[a * bits + $0] != signs[b * bits + $0] }.count }
        #expect(signs.allSatisfy { $0 == 1 || $0 == -1 })
        #expect(distance(0, 1) <= bits / 16, "a 1% nudge moves at most \(bits / 16) bits: \(distance(0, 1))")
        #expect(distance(0, 2) > distance(0, 1))
    }

    /// Colour images suit the photo model, gray ones (gray RGB included) the 64-bit Fashion-MNIST model.
    @Test func theSuitedModelFollowsColour() throws {
        let gray = try PixelBuffer(width: 2, height: 1, format: .rgb, bytes: [9, 9, 9, 200, 200, 200])
        let colour = try PixelBuffer(width: 2, height: 1, format: .rgb, bytes: [9, 9, 9, 200, 100, 50])
        #expect(try DefaultModel.suited(to: gray).digest == DefaultModel.load(bits: 64).digest)
        #expect(try DefaultModel.suited(to: colour).digest == DefaultModel.loadPhotoModel().digest)
    }

    @Test func theEnvironmentVariableComesFirstAndMissingModelsAreExplained() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("default-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent(DefaultModel.fileName(bits: 32))
        try FileManager.default.copyItem(at: try DefaultModel.locate(bits: 32, environment: [:]), to: copy)
        #expect(try DefaultModel.locate(bits: 32, environment: [DefaultModel.environmentVariable: folder.path]) == copy)
        let missing = #expect(throws: BGANError.self) {
            try DefaultModel.locate(bits: 48, environment: [DefaultModel.environmentVariable: folder.path])
        }
        #expect(missing?.code == .modelNotFound)
        #expect(missing?.message.contains(folder.path) == true && missing?.message.contains(DefaultModel.environmentVariable) == true,
                "\(missing?.message ?? "")")
        let unreadable = #expect(throws: BGANError.self) { try DefaultModel.load(path: folder.appendingPathComponent("nope").path, bits: 32) }
        #expect(unreadable?.code == .modelNotFound)
        #expect(missing?.message.hasPrefix("no default model for 48-bit codes: fashion-mnist-48.bganmodel is in none of") == true)
    }

    @Test func thePhotoModelIsFoundFitsAndFollowsTheEnvironmentVariable() throws {
        let url = try DefaultModel.locatePhotoModel(environment: [:])
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? .max
        #expect(size < 8 << 20, "each bundled model stays under 8 MiB: \(size) bytes")
        let model = try DefaultModel.loadPhotoModel()
        let a = model.header.architecture
        #expect(a.bits == DefaultModel.photoBits && a.channels == 3 && a.height == 32 && a.width == 32 && a.standardizesInput)
        #expect(model.header.averagesMirrorImages && model.header.preprocessing.centerCrop)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("photo-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent(DefaultModel.photoFileName)
        try FileManager.default.copyItem(at: url, to: copy)
        #expect(try DefaultModel.locatePhotoModel(environment: [DefaultModel.environmentVariable: folder.path]) == copy)
    }
}
