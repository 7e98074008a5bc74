import ArgumentParser
import LMDBStorage

@main
struct BGANDB: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bgan-db", abstract: "BGANStore admin tool.", version: "0.1.0")
}
