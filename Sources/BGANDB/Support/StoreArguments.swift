import Foundation
import ArgumentParser
import BGANStore

/// The STORE argument every subcommand takes.
struct StoreLocation: ParsableArguments {
    @Argument(help: "The store's directory.")
    var store: String

    func open(readOnly: Bool = false, writeMap: Bool = false) throws -> Store {
        var options = StoreOptions()
        options.readOnly = readOnly
        options.writeMap = writeMap
        options.logger = Console.storeLogger
        return try Store(openingAt: store, options: options)
    }
}

extension SearchMethod: ExpressibleByArgument {}

