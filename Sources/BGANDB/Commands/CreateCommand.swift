import ArgumentParser
import BGANStore

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an empty store for codes of a given length.")

    @Argument(help: "Directory of the new store (created if missing; must not hold a store).")
    var store: String

    @Option(help: "Code length in bits: a multiple of 8 from 8 to 1024.")
    var bits: Int

    @Option(help: "Multi-index tables m (default: about bits / log2 N, re-chosen as the store grows).")
    var substrings: Int?

    func run() throws {
        try Console.reportingErrors {
            let created = try Store.create(at: store, bitCount: bits, substrings: substrings)
            Console.log("created \(created.path): \(bits)-bit codes, \(substrings.map { "\($0) substrings" } ?? "automatic substrings")")
        }
    }
}
