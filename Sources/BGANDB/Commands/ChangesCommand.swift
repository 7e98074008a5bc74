import ArgumentParser
import BGANStore

struct ChangesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes",
        abstract: "Start, inspect or trim a store's change log, which syncs replicas and distributed engines.",
        discussion: """
        A store with a change log numbers every change to its items; a consumer filled from a \
        full export (which prints the change cursor) stays in sync with `export --format ndjson \
        --since CURSOR`, which writes only the removals and upserts after it. --enable starts the \
        log (on-disk format 3: builds from before change logs refuse the store); a store that \
        holds items starts at cursor 1, so consumers fill from a full export first. \
        --trim-through CURSOR deletes the log up to a cursor every consumer has passed; older \
        cursors then need a full export. Without options: print where the log stands.
        """)

    @OptionGroup var location: StoreLocation

    @Flag(help: "Start the change log (does nothing if it is on).")
    var enable = false

    @Option(help: "Delete the log's changes up to this cursor.")
    var trimThrough: UInt64?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        try Console.reportingErrors {
            let writes = enable || trimThrough != nil
            let store = try location.open(readOnly: !writes)
            if enable {
                let cursor = try store.enableChangeLog()
                Console.log("change log on at cursor \(cursor)")
            }
            if let trimThrough {
                let deleted = try store.trimChanges(through: trimThrough)
                Console.log("trimmed \(deleted) changes through cursor \(trimThrough)")
            }
            let statistics = try store.statistics().changeLog
            if json {
                Console.out(try JSON.encode(statistics))
            } else if let statistics {
                Console.out("cursor \(statistics.cursor), \(statistics.entries) entries, trimmed through \(statistics.trimmedThrough)")
            } else {
                Console.out("no change log (start one with --enable)")
            }
        }
    }
}
