import Foundation
import ArgumentParser
import BGANStore

/// The STORE argument every subcommand takes.
struct StoreLocation: ParsableArguments {
    @Argument(help: "The store's directory.")
    var store: String

    func open(readOnly: Bool = false, writeMap: Bool = false, sync: SyncMode = .full) throws -> Store {
        var options = StoreOptions()
        options.readOnly = readOnly
        options.writeMap = writeMap
        options.syncMode = sync
        options.logger = Console.storeLogger
        return try Store(openingAt: store, options: options)
    }
}

extension SearchMethod: ExpressibleByArgument {}


/// `--sync` of the commands that write: how much of their work a power cut may take back.
struct Durability: ParsableArguments {
    enum Choice: String, ExpressibleByArgument, CaseIterable {
        case full
        case noMetaSync = "no-meta-sync"
        case none

        var mode: SyncMode {
            switch self {
            case .full: .full
            case .noMetaSync: .noMetaSync
            case .none: .noSync
            }
        }
    }

    @Option(help: "Durability of each commit: full (a power cut loses nothing acknowledged), no-meta-sync (a power cut may take back the last commit) or none (flushing left to the system: a power cut may take back recent commits or damage the store; only for loads you can redo from scratch). A kill of the process alone loses nothing in any mode.")
    var sync: Choice = .full

    var mode: SyncMode { sync.mode }
}
