import Logging

extension Logger {
    /// A logger that drops everything: the default of every library option that takes a
    /// logger, so the library says nothing unless the application hands it one.
    ///
    /// (swift-log's own default, without a bootstrap, prints to stdout; a library must not.)
    public static var disabled: Logger {
        Logger(label: "bganstore", factory: { _ in SwiftLogNoOpLogHandler() })
    }
}
