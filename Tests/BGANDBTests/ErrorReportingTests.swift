import Foundation
import Testing
import TestSupport

/// How `bgan-db` reports the three kinds of failure (README "Exit status"): library errors with
/// their code, chain of causes and the command that acts on the remedy (status 1); run-time
/// failures of the command itself (status 1, no usage text); bad usage (status 64, usage text).
@Suite struct ErrorReportingTests {
    let directory = TemporaryDirectory("errors")

    @Test func aLibraryErrorPrintsItsCodeMessageAndTheCommandForItsRemedy() throws {
        let missing = directory.sub("nowhere")
        let query = try CLI.run(["query", missing, "--code", "00000000000000ff"])
        #expect(query.status == 1)
        #expect(query.stderr.contains("notAStore: \(missing) does not exist"), "\(query.stderr)")
        #expect(query.stderr.contains("hint: `bgan-db create STORE --bits 64`"), "\(query.stderr)")
        #expect(!query.stderr.contains("USAGE"), "a run-time failure is not a usage error: \(query.stderr)")
        #expect(!query.stderr.contains("raised at"), "locations only with BGAN_DB_TRACE=1")
    }

    @Test func aCauseIsKeptAndTracedToWhereEachLinkWasRaised() throws {
        let store = directory.sub("bare")
        #expect(try CLI.run(["create", store, "--bits", "64", "--bare"]).status == 0)
        let image = directory.sub("one.pgm")
        try Data("P5\n28 28\n255\n".utf8 + [UInt8](repeating: 7, count: 28 * 28)).write(to: URL(fileURLWithPath: image))
        let put = try CLI.run(["put", store, "k", "--image", image], environment: ["BGAN_DB_TRACE": "1"])
        #expect(put.status == 1)
        #expect(put.stderr.contains("noModel:") && put.stderr.contains("hint: `bgan-db create STORE --bits 64` binds"), "\(put.stderr)")
        #expect(put.stderr.contains("raised at BGANStore/") && put.stderr.contains("(store.noModel)"), "\(put.stderr)")
    }

    /// One error of each module as the CLI prints it: its code, its message, status 1.
    @Test func everyModulesErrorsReachTheConsoleWithTheirCode() throws {
        let store = directory.sub("each")
        #expect(try CLI.run(["create", store, "--bits", "64"]).status == 0)
        let hex = try CLI.run(["query", store, "--code", "zz", "-k", "1"])
        #expect(hex.status == 1 && hex.stderr.contains("error: invalidHex: 'zz' holds a character that is not a hex digit"), "\(hex.stderr)")
        let modelFile = directory.sub("short.bganmodel")
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: modelFile))
        let model = try CLI.run(["create", directory.sub("other"), "--model", modelFile])
        #expect(model.status == 1 && model.stderr.contains("error: invalidModelFile: \(modelFile) is refused: it is 7 bytes"), "\(model.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.sub("other")), "a refused model creates nothing")
        let image = directory.sub("cut.pgm")
        try Data("P5\n28 28\n255\nabc".utf8).write(to: URL(fileURLWithPath: image))
        let put = try CLI.run(["put", store, "k", "--image", image])
        #expect(put.status == 1 && put.stderr.contains("error: malformed: \(image) is a truncated PGM file"), "\(put.stderr)")
        let missing = try CLI.run(["stats", directory.sub("nothing-here")])
        #expect(missing.status == 1 && missing.stderr.contains("error: notAStore:"), "\(missing.stderr)")
        // The storage layer's error, with LMDB's own return code kept as its cause.
        let foreign = directory.sub("foreign")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 20_000).write(to: URL(fileURLWithPath: foreign + "/data.mdb"))
        let storage = try CLI.run(["stats", foreign])
        #expect(storage.status == 1 && storage.stderr.contains("error: versionMismatch: opening the environment failed for \(foreign)")
                && storage.stderr.contains("← -30793: MDB_INVALID"), "\(storage.stderr)")
    }

    @Test func aRuntimeFailureOfTheCommandIsStatusOneWithoutUsage() throws {
        let resume = try CLI.run(["train", "--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--limit", "64",
                                  "--recipe", "paper", "--bits", "16", "--out", directory.sub("m.bganmodel"),
                                  "--resume", directory.sub("no-such.checkpoint")])
        #expect(resume.status == 1, "\(resume.stderr)")
        #expect(resume.stderr.contains("cannot read the checkpoint"), "\(resume.stderr)")
        #expect(!resume.stderr.contains("USAGE"), "\(resume.stderr)")
    }

    @Test func contradictoryArgumentsAreAUsageErrorWithStatus64() throws {
        let both = try CLI.run(["query", directory.sub("s"), "--code", "00", "-k", "3", "--radius", "2"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("give -k K or --radius R, not both") && both.stderr.contains("Usage"), "\(both.stderr)")
    }
}
