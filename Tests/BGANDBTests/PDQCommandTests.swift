import Foundation
import Testing
import TestSupport

/// `bgan-db encode --encoder pdq`: the reference's PDQ hashes, into a store of 256-bit codes.
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

    @Test func pdqTakesNoModel() throws {
        let refused = try CLI.run(["encode", "--encoder", "pdq", "--model", "x.bganmodel", Self.folder])
        #expect(refused.status == 64 && refused.stderr.contains("--encoder pdq takes no --model"), "\(refused.stderr)")
    }
}
