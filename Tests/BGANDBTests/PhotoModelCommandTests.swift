import BGAN
import Foundation
import PixelIO
import Testing
import TestSupport

/// `--encoder photo` binds and runs the bundled photo model: a store of colour images made with
/// it finds a stored image, and a darker, lower-contrast or mirrored copy of it, first.
@Suite struct PhotoModelCommandTests {
    let directory = TemporaryDirectory("photo-cli")
    static let fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

    /// Eight 48×40 colour images (test images, each channel drawn from another of them) and, for
    /// the first, a darker and lower-contrast copy and its mirror image.
    func images() throws -> (folder: String, copies: String) {
        let set = try ImageSet(contentsOf: Self.fashion)
        let folder = directory.sub("photos"), copies = directory.sub("copies")
        for path in [folder, copies] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        func colour(_ index: Int) throws -> PixelBuffer {
            let planes = (0..<3).map { Array(set.image(3 * index + $0)) }
            var bytes = [UInt8](repeating: 0, count: 48 * 40 * 3)
            for y in 0..<40 {
                for x in 0..<48 {
                    for c in 0..<3 { bytes[(y * 48 + x) * 3 + c] = 30 + planes[c][(y * 28 / 40) * 28 + x * 28 / 48] / 2 }
                }
            }
            return try PixelBuffer(width: 48, height: 40, format: .rgb, bytes: bytes)
        }
        for index in 0..<8 { try Data(try colour(index).pngData()).write(to: URL(fileURLWithPath: "\(folder)/\(index).png")) }
        let first = try colour(0)
        let duller = try PixelBuffer(width: 48, height: 40, format: .rgb, bytes: first.bytes.map { UInt8(20 + 0.7 * (Float($0) - 20)) })
        try Data(try duller.pngData()).write(to: URL(fileURLWithPath: "\(copies)/0.duller.png"))
        try Data(try first.oriented(.mirrored).pngData()).write(to: URL(fileURLWithPath: "\(copies)/0.mirror.png"))
        return (folder, copies)
    }

    /// A folder `name` of three test images (28×28 gray garments) saved as `format` PNGs.
    func grayImages(_ name: String, savedAs format: PixelFormat) throws -> String {
        let gray = directory.sub(name)
        try FileManager.default.createDirectory(atPath: gray, withIntermediateDirectories: true)
        let set = try ImageSet(contentsOf: Self.fashion)
        for index in 0..<3 {
            let image = try PixelBuffer(width: 28, height: 28, format: .gray, bytes: Array(set.image(index)))
            try Data(try image.converted(to: format).pngData()).write(to: URL(fileURLWithPath: "\(gray)/\(index).png"))
        }
        return gray
    }

    @Test func aPhotoStoreFindsAStoredImageAndItsCopiesFirst() throws {
        let (folder, copies) = try images()
        let store = directory.sub("photos.bgan")
        let created = try CLI.run(["create", store, "--encoder", "photo"])
        try #require(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.contains("64-bit codes") && created.stderr.contains("3×32×32 input"), "\(created.stderr)")
        #expect(created.stderr.contains(try DefaultModel.loadPhotoModel().digest.prefix(16)))
        let ingested = try CLI.run(["ingest", store, folder])
        try #require(ingested.status == 0, "\(ingested.stderr)")
        for (query, expected) in [("\(folder)/3.png", "3.png"), ("\(copies)/0.duller.png", "0.png"), ("\(copies)/0.mirror.png", "0.png")] {
            let hits = try CLI.run(["query", store, query, "-k", "1", "--json"])
            try #require(hits.status == 0, "\(hits.stderr)")
            #expect(hits.stdout.contains("\"key\":\"\(expected)\""), "\(query): \(hits.stdout)")
        }
        let encoded = try CLI.run(["encode", "--encoder", "photo", "\(folder)/3.png"])
        #expect(encoded.status == 0 && encoded.stdout.split(separator: "\t")[0].count == 16, "64 bits in hex: \(encoded.stdout)")
    }

    /// Colour photos ingested into a store whose model sees gray images get a note naming the
    /// photo encoders; gray images, or a photo store, get none.
    @Test func colourImagesIntoAGrayModelsStoreAreNoted() throws {
        let (folder, _) = try images()
        let gray = try grayImages("gray", savedAs: .gray)
        func ingest(_ create: [String], _ source: String, into name: String) throws -> String {
            let store = directory.sub(name)
            try #require(try CLI.run(["create", store] + create).status == 0)
            let outcome = try CLI.run(["ingest", store, source])
            try #require(outcome.status == 0, "\(outcome.stderr)")
            return outcome.stderr
        }
        let noted = try ingest(["--bits", "64"], folder, into: "garments.bgan")
        #expect(noted.contains("is a colour image, and this store's model sees every image as 28×28 gray") && noted.contains("--encoder photo"), "\(noted)")
        #expect(!(try ingest(["--bits", "64"], gray, into: "gray.bgan")).contains("note:"))
        #expect(!(try ingest(["--encoder", "photo"], folder, into: "photos.bgan")).contains("note:"))
    }

    /// `ingest --create` makes a missing store bound to the bundled model that suits the first
    /// image: the photo model for colour images, the 64-bit Fashion-MNIST model for gray ones
    /// (or `--model FILE`); a store that exists keeps its model, and sources without a decodable
    /// image make no store.
    @Test func ingestCreateBindsTheModelThatSuitsTheImages() throws {
        let (folder, _) = try images()
        let gray = try grayImages("gray-create", savedAs: .rgb)   // colourless all the same
        let photoDigest = try DefaultModel.loadPhotoModel().digest, fashionDigest = try DefaultModel.load(bits: 64).digest
        func digest(_ store: String) throws -> String? {
            let stats = try CLI.run(["stats", store])
            return stats.stdout.split(separator: "\n").first { $0.hasPrefix("encoder") }.map { String($0.split(separator: " ").last ?? "") }
        }

        let photos = directory.sub("created-photos.bgan")
        let missing = try CLI.run(["ingest", photos, folder])
        #expect(missing.status == 1 && missing.stderr.contains("--create") && !FileManager.default.fileExists(atPath: photos), "\(missing.stderr)")
        let created = try CLI.run(["ingest", photos, folder, "--create"])
        try #require(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.contains("for colour images") && created.stderr.contains("ingested 8 new images"), "\(created.stderr)")
        #expect(try digest(photos) == photoDigest)
        let hit = try CLI.run(["query", photos, "\(folder)/3.png", "-k", "1", "--json"])
        #expect(hit.status == 0 && hit.stdout.contains("\"key\":\"3.png\""), "\(hit.stdout) \(hit.stderr)")

        let garments = directory.sub("created-gray.bgan")
        let grayCreated = try CLI.run(["ingest", garments, gray, "--create"])
        try #require(grayCreated.status == 0, "\(grayCreated.stderr)")
        #expect(grayCreated.stderr.contains("for gray images") && !grayCreated.stderr.contains("note:"), "\(grayCreated.stderr)")
        #expect(try digest(garments) == fashionDigest)
        // The store exists now: --create leaves its model alone, and colour images get the note.
        let again = try CLI.run(["ingest", garments, folder, "--create"])
        #expect(again.status == 0 && !again.stderr.contains("bound to the bundled") && again.stderr.contains("note:"), "\(again.stderr)")
        #expect(try digest(garments) == fashionDigest)

        let chosen = directory.sub("created-chosen.bgan")
        let withModel = try CLI.run(["ingest", chosen, folder, "--create", "--model", try DefaultModel.locate(bits: 32).path])
        #expect(withModel.status == 0 && withModel.stderr.contains("(--model)"), "\(withModel.stderr)")
        #expect(try digest(chosen) == (try DefaultModel.load(bits: 32).digest))

        let broken = directory.sub("broken-only")
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: URL(fileURLWithPath: "\(broken)/cut.png"))
        let nothing = directory.sub("created-nothing.bgan")
        let refused = try CLI.run(["ingest", nothing, broken, "--create"])
        #expect(refused.status == 1 && refused.stderr.contains("holds none that decodes") && !FileManager.default.fileExists(atPath: nothing), "\(refused.stderr)")
    }

    /// A store made with another model moves to the bundled photo model with `reencode --encoder
    /// photo` (how a store made with an earlier photo model takes a new one), and `model show
    /// --encoder photo` prints the bundled photo model.
    @Test func reencodeAndModelShowNameThePhotoModel() throws {
        let (folder, _) = try images()
        let store = directory.sub("garments-first.bgan")
        try #require(try CLI.run(["create", store, "--bits", "64"]).status == 0)
        try #require(try CLI.run(["ingest", store, folder]).status == 0)
        let photoDigest = try DefaultModel.loadPhotoModel().digest
        let moved = try CLI.run(["reencode", store, "--encoder", "photo"])
        try #require(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("bound to model \(photoDigest.prefix(16))"), "\(moved.stderr)")
        let hit = try CLI.run(["query", store, "\(folder)/3.png", "-k", "1", "--json"])
        #expect(hit.status == 0 && hit.stdout.contains("\"key\":\"3.png\""), "\(hit.stdout) \(hit.stderr)")
        let encoded = try CLI.run(["encode", "--encoder", "photo", "--bits", "64", "\(folder)/3.png"])
        #expect(encoded.status == 0, "--bits 64 names the photo model's own length: \(encoded.stderr)")
        let shown = try CLI.run(["model", "show", "--encoder", "photo"])
        #expect(shown.status == 0 && shown.stdout.contains("\"digest\" : \"\(photoDigest)\""), "\(shown.stdout) \(shown.stderr)")
        for (arguments, message) in [(["reencode", store, "--encoder", "pdq"], "PDQ has none"),
                                     (["reencode", store, "--encoder", "photo", "--bits", "32"], "the photo model makes 64-bit codes, not 32: drop --bits"),
                                     (["reencode", store, "--encoder", "photo", "--model", "m.bganmodel"], "--encoder photo uses the bundled photo model: drop --model"),
                                     (["model", "show", "--encoder", "photo", "m.bganmodel"], "drop MODEL"),
                                     (["model", "show", "--encoder", "pdq"], "PDQ has no model file")] {
            let refused = try CLI.run(arguments)
            #expect(refused.status == 64 && refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
    }

    @Test func thePhotoEncoderTakesNoModelAndDoctorFindsIt() throws {
        let withModel = try CLI.run(["create", directory.sub("x.bgan"), "--encoder", "photo", "--model", "m.bganmodel"])
        #expect(withModel.status == 64 && withModel.stderr.contains("--encoder photo uses the bundled photo model: drop --model"), "\(withModel.stderr)")
        let bare = try CLI.run(["create", directory.sub("z.bgan"), "--encoder", "photo", "--bare"])
        #expect(bare.status == 64 && bare.stderr.contains("drop --bare"), "\(bare.stderr)")
        let otherLength = try CLI.run(["create", directory.sub("y.bgan"), "--encoder", "photo", "--bits", "32"])
        #expect(otherLength.status == 64 && otherLength.stderr.contains("the photo model makes 64-bit codes, not 32: drop --bits"), "\(otherLength.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.sub("y.bgan")))
        let encodeWithModel = try CLI.run(["encode", "--encoder", "photo", "--model", "m.bganmodel", "x.png"])
        #expect(encodeWithModel.status == 64 && encodeWithModel.stderr.contains("--encoder photo uses the bundled photo model: drop --model"), "\(encodeWithModel.stderr)")
        let encodeWithBits = try CLI.run(["encode", "--encoder", "photo", "--bits", "32", "x.png"])
        #expect(encodeWithBits.status == 64 && encodeWithBits.stderr.contains("the photo model makes 64-bit codes, not 32: drop --bits"), "\(encodeWithBits.stderr)")
        let doctor = try CLI.run(["doctor", "--json"])
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any])
        #expect((fields["photo_model"] as? String)?.hasSuffix(DefaultModel.photoFileName) == true, "\(fields)")
    }
}
