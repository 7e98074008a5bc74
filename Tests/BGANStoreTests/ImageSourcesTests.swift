import Foundation
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// Image sources as the library lists them for bulk ingestion: keys, payloads, what is passed over.
@Suite struct ImageSourcesTests {
    let directory = TemporaryDirectory("sources")
    static let fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

    func pgm(_ path: String, value: UInt8) throws {
        try Data(Array("P5\n4 4\n255\n".utf8) + [UInt8](repeating: value, count: 16)).write(to: URL(fileURLWithPath: path))
    }

    @Test func foldersAndDataSetsGiveKeyedUnits() throws {
        let folder = directory.sub("photos")
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        try pgm(folder + "/a.pgm", value: 10)
        try pgm(folder + "/sub/b.pgm", value: 200)
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        try Data(Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: folder + "/anim.gif"))
        var rejected: [SkippedInput] = []
        let units = try ImageSources([folder]).units(payload: .path, rejected: &rejected)
        #expect(units.map(\.key) == ["a.pgm", "sub/b.pgm"])
        #expect(units.map { String(decoding: $0.payload, as: UTF8.self) } == [folder + "/a.pgm", folder + "/sub/b.pgm"])
        #expect(try units[1].load().bytes.allSatisfy { $0 == 200 })
        #expect(rejected.map(\.name) == [folder + "/anim.gif", folder + "/notes.txt"])
        #expect(rejected[0].reason == "a GIF image, which is not supported; convert it to PNG or JPEG")
        #expect(rejected[1].reason.contains("not a PNG, JPEG, WebP, BMP, PGM or PPM"))

        var none: [SkippedInput] = []
        let labelled = try ImageSources([Self.fashion]).units(payload: .auto, rejected: &none)
        #expect(labelled.count == 10_000 && labelled[3].key == "t10k-images-idx3-ubyte.gz#3")
        let labels = try LabelSet(contentsOf: LabelSet.labelPath(for: Self.fashion)).labels
        #expect(labelled[3].payload == Array(String(labels[3]).utf8), "the label file beside the images gives the payload")

        var twice: [SkippedInput] = []
        let again = try ImageSources([folder, folder + "/a.pgm"]).units(payload: .none, rejected: &twice)
        #expect(again.count == 2 && twice.contains { $0.reason.contains("another source already gives the key 'a.pgm'") })
    }

    @Test func missingSourcesAndMissingLabelsAreErrors() throws {
        var rejected: [SkippedInput] = []
        let missing = #expect(throws: DatasetError.self) { try ImageSources([directory.sub("nowhere")]).units(payload: .auto, rejected: &rejected) }
        #expect(missing?.code == .unreadable && missing?.message.contains("does not exist") == true)
        let alone = directory.sub("t10k-images-idx3-ubyte.gz")
        try FileManager.default.copyItem(atPath: Self.fashion, toPath: alone)
        let unlabelled = #expect(throws: DatasetError.self) { try ImageSources([alone]).units(payload: .label, rejected: &rejected) }
        #expect(unlabelled?.code == .unsupported && unlabelled?.message.contains("t10k-labels-idx1-ubyte.gz") == true, "\(unlabelled?.message ?? "")")
        #expect(try ImageSources([alone]).units(payload: .auto, rejected: &rejected).first?.payload == [], "auto: no label, no payload")
    }
}
