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

/// A payload given on the command line: UTF-8 text.
func payloadText(_ payload: [UInt8]) -> String {
    String(validating: payload, as: UTF8.self) ?? payload.map { String(format: "%02x", $0) }.joined()
}
