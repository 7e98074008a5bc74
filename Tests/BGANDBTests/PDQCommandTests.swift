import Foundation
import BGAN
import Testing
import TestSupport

/// `bgan-db encode --encoder pdq`: the reference's PDQ hashes, into a store of 256-bit codes;
/// `bgan-db create --encoder pdq`: a store that hashes the images it ingests and is queried by.
@Suite struct PDQCommandTests {
    let directory = TemporaryDirectory("pdq-cli")
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fixtures/pdq").standardized.path

    @Test func hashesPrintAsTheReferenceAndFindThemselvesInAStore() throws {
        let vectors = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.folder + "/pdq-vectors.json"))) as! [[String: Any]]
        let expected = try #require(vectors.first { $0["file"] as? String == "scene-200x300.png" }?["hex"] as? String)
        let image = Self.folder + "/scene-200x300.png"
        let plain = try CLI.run(["encode", "--encoder", "pdq", image])
        #expect(plain.status == 0 && plain.stdout == "\(expected)\t\(image)\n", "\(plain.stdout) \(plain.stderr)")
        let json = try CLI.run(["encode", "--encoder", "pdq", "--json", Self.folder])
        let lines = json.stdout.split(separator: "\n")
        #expect(json.status == 0 && lines.count == vectors.count, "one line per image of the folder: \(json.stderr)")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["quality"] as? Int == 100 && (first["code"] as? String)?.count == 64)

        let store = directory.sub("photos")
        #expect(try CLI.run(["create", store, "--bits", "256", "--bare"]).status == 0)
        #expect(try CLI.run(["put", store, "scene", "--code", expected]).status == 0)
        let found = try CLI.run(["query", store, "--code", expected, "-k", "1"])
        #expect(found.status == 0 && found.stdout.contains("scene") && found.stdout.contains("0"), "\(found.stdout) \(found.stderr)")
    }

    @Test func aStoreBoundToPDQIngestsAndIsQueriedByImage() throws {
        let store = directory.sub("bound")
        let created = try CLI.run(["create", store, "--encoder", "pdq"])
        #expect(created.status == 0 && created.stderr.contains("256-bit codes, bound to the encoder pdq 1"), "\(created.stderr)")
        let ingested = try CLI.run(["ingest", store, Self.folder, "--keep-going"])
        #expect(ingested.status == 0 && ingested.stderr.contains("encoder pdq 1"), "\(ingested.stderr)")
        #expect(ingested.stderr.contains("ingested 5 new images, 0 already stored, 2 rejected"), "the script and the JSON are passed over: \(ingested.stderr)")
        let image = Self.folder + "/scene-97x211.png"
        let found = try CLI.run(["query", store, image, "-k", "2"])
        let rows = found.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("rank") }
        #expect(found.status == 0 && rows.first?.contains("scene-97x211.png") == true, "\(found.stdout) \(found.stderr)")
        #expect(rows.first?.split(separator: "\t").dropFirst().first == "0", "the stored image itself, at distance 0: \(found.stdout)")
        let stats = try CLI.run(["stats", store])
        #expect(stats.stdout.contains("encoder          pdq 1"), "\(stats.stdout)")
        #expect(try CLI.run(["verify", store]).status == 0)
        // A model for a PDQ store is refused before anything is written.
        let model = try CLI.run(["ingest", store, Self.folder, "--model", try DefaultModel.locate(bits: 64).path])
        #expect(model.status == 1 && model.stderr.contains("bound to the encoder 'pdq 1'"), "\(model.stderr)")
    }

    @Test func createWithPDQTakesNoModelAndNoOtherLength() throws {
        let withModel = try CLI.run(["create", directory.sub("a"), "--encoder", "pdq", "--model", "x.bganmodel"])
        #expect(withModel.status == 64 && withModel.stderr.contains("drop --model"), "\(withModel.stderr)")
        let withBits = try CLI.run(["create", directory.sub("b"), "--encoder", "pdq", "--bits", "64"])
        #expect(withBits.status == 64 && withBits.stderr.contains("256-bit codes"), "\(withBits.stderr)")
    }

    @Test func pdqTakesNoModel() throws {
        let refused = try CLI.run(["encode", "--encoder", "pdq", "--model", "x.bganmodel", Self.folder])
        #expect(refused.status == 64 && refused.stderr.contains("--encoder pdq takes no --model"), "\(refused.stderr)")
    }
}
