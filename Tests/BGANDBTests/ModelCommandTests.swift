import BGAN
import Foundation
import PixelIO
import Testing
import TestSupport

/// `bgan-db model show` prints what a model file holds; `bgan-db model mirror-averaging` writes a
/// copy with the setting changed, which encodes a mirror image as the image.
@Suite struct ModelCommandTests {
    let directory = TemporaryDirectory("model-cli")
    static let fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

    func shown(_ path: String) throws -> [String: Any] {
        let show = try CLI.run(["model", "show", path])
        try #require(show.status == 0, "\(show.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
    }

    /// A folder of the first few test images, and of their mirror images.
    func imagesAndMirrors() throws -> (images: String, mirrors: String) {
        let set = try ImageSet(contentsOf: Self.fashion)
        let images = directory.sub("images"), mirrors = directory.sub("mirrors")
        for folder in [images, mirrors] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        for index in 0..<6 {
            let image = try PixelBuffer(width: 28, height: 28, format: .gray, bytes: Array(set.image(index)))
            try Data(try image.pngData()).write(to: URL(fileURLWithPath: images + "/\(index).png"))
            try Data(try image.oriented(.mirrored).pngData()).write(to: URL(fileURLWithPath: mirrors + "/\(index).png"))
        }
        return (images, mirrors)
    }

    func codes(_ model: String, _ folder: String) throws -> [Substring] {
        let encoded = try CLI.run(["encode", "--model", model, folder])
        try #require(encoded.status == 0, "\(encoded.stderr)")
        return encoded.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] }
    }

    @Test func aCopyWithMirrorAveragingCodesMirrorImagesAsTheImages() throws {
        let plain = directory.sub("plain.bganmodel"), averaging = directory.sub("averaging.bganmodel")
        let bundled = try DefaultModel.load(bits: 32)
        try Data(bundled.averagingMirrorImages(false).encoded()).write(to: URL(fileURLWithPath: plain))
        let written = try CLI.run(["model", "mirror-averaging", "on", plain, "--out", averaging])
        #expect(written.status == 0, "\(written.stderr)")

        let before = try shown(plain), after = try shown(averaging)
        #expect(before["mirrorAveraging"] as? Bool == false && before["formatVersion"] as? Int == 1)
        #expect(after["mirrorAveraging"] as? Bool == true && after["formatVersion"] as? Int == 2)
        let digest = try #require(after["digest"] as? String)
        #expect(digest != before["digest"] as? String && written.stderr.contains(digest))
        let header = try #require(after["header"] as? [String: Any])
        #expect((header["architecture"] as? [String: Any])?["bits"] as? Int == 32 && header["mirrorAveraging"] as? Bool == true)

        let (images, mirrors) = try imagesAndMirrors()
        #expect(try codes(averaging, images) == (try codes(averaging, mirrors)))
        #expect(try codes(plain, images) != (try codes(plain, mirrors)), "the plain model tells them apart")

        // Off again: the plain model's bytes, so its digest.
        let undone = directory.sub("undone.bganmodel")
        #expect(try CLI.run(["model", "mirror-averaging", "off", averaging, "--out", undone]).status == 0)
        let undoneShown = try shown(undone)
        #expect(undoneShown["mirrorAveraging"] as? Bool == false && undoneShown["digest"] as? String == before["digest"] as? String)
        #expect(try codes(undone, mirrors) == (try codes(plain, mirrors)))
    }

    @Test func badRequestsAreRefusedWithoutWriting() throws {
        let model = directory.sub("m.bganmodel")
        try Data(try DefaultModel.load(bits: 32).encoded()).write(to: URL(fileURLWithPath: model))
        let overwrite = try CLI.run(["model", "mirror-averaging", "on", model, "--out", model])
        #expect(overwrite.status == 64 && overwrite.stderr.contains("--out is the model itself"), "\(overwrite.stderr)")
        let setting = try CLI.run(["model", "mirror-averaging", "maybe", model, "--out", directory.sub("x.bganmodel")])
        #expect(setting.status == 64 && setting.stderr.contains("on") && setting.stderr.contains("off"), "\(setting.stderr)")
        let missing = try CLI.run(["model", "show", directory.sub("absent.bganmodel")])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read the model file"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.sub("x.bganmodel")))
    }

    /// `model refinement hidden-layer` writes a copy whose stores keep the hidden layer: same
    /// codes, a store bound to it keeps `hiddenUnits` bytes an item and finds a stored image first.
    @Test func aCopyRefiningByTheHiddenLayer() throws {
        let plain = directory.sub("plain-r.bganmodel"), hidden = directory.sub("hidden.bganmodel")
        try Data(try DefaultModel.load(bits: 32).encoded()).write(to: URL(fileURLWithPath: plain))
        let written = try CLI.run(["model", "refinement", "hidden-layer", plain, "--out", hidden])
        #expect(written.status == 0, "\(written.stderr)")
        let before = try shown(plain), after = try shown(hidden)
        #expect(before["refinementVectors"] as? String == "outputs" && after["refinementVectors"] as? String == "hidden-layer")
        let digest = try #require(after["digest"] as? String)
        #expect(after["formatVersion"] as? Int == 5 && written.stderr.contains(digest))
        let (images, _) = try imagesAndMirrors()
        #expect(try codes(hidden, images) == (try codes(plain, images)), "codes stay the outputs' signs")

        let store = directory.sub("hidden-store")
        #expect(try CLI.run(["create", store, "--model", hidden]).status == 0)
        #expect(try CLI.run(["ingest", store, images]).status == 0)
        let query = try CLI.run(["query", store, images + "/3.png", "-k", "2", "--json"])
        try #require(query.status == 0, "\(query.stderr)")
        let row = try #require(try JSONSerialization.jsonObject(with: Data(query.stdout.split(separator: "\n")[0].utf8)) as? [String: Any])
        let first = try #require((row["hits"] as? [[String: Any]])?.first)
        #expect((first["key"] as? String)?.hasSuffix("3.png") == true && (first["score"] as? Double).map { $0 > 0.999 } == true, "\(row)")
        let verified = try CLI.run(["verify", store])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let units = try DefaultModel.load(bits: 32).header.architecture.hiddenUnits
        let stats = try CLI.run(["stats", store])
        #expect(stats.stdout.contains("6 vectors of \(units) bytes"), "\(stats.stdout)")

        let back = directory.sub("back.bganmodel")
        #expect(try CLI.run(["model", "refinement", "outputs", hidden, "--out", back]).status == 0)
        #expect(try shown(back)["digest"] as? String == before["digest"] as? String, "set back: the original file")
        let bad = try CLI.run(["model", "refinement", "hidden", plain, "--out", directory.sub("y.bganmodel")])
        #expect(bad.status == 64 && bad.stderr.contains("hidden-layer"), "\(bad.stderr)")

        // Pixels beside the layer: a side that divides the 28×28 input, a positive weight.
        let withPixels = directory.sub("pixels.bganmodel")
        let pixels = try CLI.run(["model", "refinement", "hidden-layer", plain, "--pixel-side", "7", "--pixel-weight", "0.5", "--out", withPixels])
        #expect(pixels.status == 0 && pixels.stderr.contains("pixels 7×7, weight 0.5"), "\(pixels.stderr)")
        let header = try #require(try shown(withPixels)["header"] as? [String: Any])
        #expect((header["refinementPixels"] as? [String: Any])?["side"] as? Int == 7)
        let misfit = try CLI.run(["model", "refinement", "hidden-layer", plain, "--pixel-side", "5", "--out", directory.sub("z.bganmodel")])
        #expect(misfit.status == 64 && misfit.stderr.contains("does not divide the model's 28×28 input"), "\(misfit.stderr)")
        let weightless = try CLI.run(["model", "refinement", "outputs", plain, "--pixel-side", "7", "--pixel-weight", "0", "--out", directory.sub("z.bganmodel")])
        #expect(weightless.status == 64 && weightless.stderr.contains("--pixel-weight positive"), "\(weightless.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.sub("z.bganmodel")))

        // The bundled photo model, copied with pixels beside its hidden layer (what docs/photos.md suggests).
        let photo = directory.sub("photo-pixels.bganmodel")
        let copied = try CLI.run(["model", "refinement", "hidden-layer", "--encoder", "photo", "--pixel-side", "8", "--out", photo])
        #expect(copied.status == 0, "\(copied.stderr)")
        let photoShown = try shown(photo)
        #expect(photoShown["refinementVectors"] as? String == "hidden-layer" && (photoShown["refinementPixels"] as? [String: Any])?["side"] as? Int == 8)
        let neither = try CLI.run(["model", "refinement", "hidden-layer", "--out", directory.sub("z.bganmodel")])
        #expect(neither.status == 64 && neither.stderr.contains("--encoder photo"), "\(neither.stderr)")
    }
}
