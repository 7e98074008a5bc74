import Foundation
import Testing
import TestSupport

/// `BGAN_DB_LOG=LEVEL` shows the library's own events on stderr; without it, none.
@Suite struct StoreLoggingTests {
    let directory = TemporaryDirectory("store-logging")

    @Test func theLibrarysEventsAppearAtTheAskedLevelOnly() throws {
        let store = directory.sub("s")
        #expect(try CLI.run(["create", store, "--bits", "64", "--bare"]).status == 0)
        let quiet = try CLI.run(["query", store, "--code", "00000000000000ff"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("opened"), "\(quiet.stderr)")
        let told = try CLI.run(["query", store, "--code", "00000000000000ff"], environment: ["BGAN_DB_LOG": "info"])
        let line = told.stderr.split(separator: "\n").first { $0.contains("opened") }.map(String.init) ?? ""
        #expect(told.status == 0 && line.contains("info") && line.contains("store=\(store)") && line.contains("bits=64"), "\(told.stderr)")
        let onlyWarnings = try CLI.run(["query", store, "--code", "00000000000000ff"], environment: ["BGAN_DB_LOG": "warning"])
        #expect(!onlyWarnings.stderr.contains("opened"), "\(onlyWarnings.stderr)")
    }
}
