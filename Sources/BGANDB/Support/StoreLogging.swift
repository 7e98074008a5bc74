import Basics
import Foundation
import Logging

extension Console {
    /// The logger `bgan-db` hands the stores it opens: the library's events (map grown, index
    /// rebuilt, slow queries…) on stderr at the level `BGAN_DB_LOG` names (trace, debug, info,
    /// notice, warning, error, critical); nothing when it is unset or names no level.
    static let storeLogger: Logger = {
        guard let name = ProcessInfo.processInfo.environment["BGAN_DB_LOG"], let level = Logger.Level(rawValue: name.lowercased()) else {
            return .disabled
        }
        var logger = Logger(label: "bgan-db") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = level
        return logger
    }()
}
