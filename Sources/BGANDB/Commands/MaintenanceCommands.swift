import ArgumentParser
import BGANStore
import Foundation

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print counts, sizes and multi-index occupancy (clears stale reader slots too).")

    @OptionGroup var location: StoreLocation

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        try Console.reportingErrors {
            // Read-only: a writable open begins a write transaction (to open the tables), which
            // would wait for a running import, while stats is what one runs to look at a busy store.
            let stats = try location.open(readOnly: true).statistics()
            if json {
                Console.out(try JSON.encode(stats))
                return
            }
            let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
            Console.out("store            \(stats.path)")
            Console.out("items            \(stats.items)")
            Console.out("bits             \(stats.bits)")
            Console.out("encoder          \(stats.modelDigest.map { "model \($0)" } ?? stats.encoder.map { "\($0)" } ?? "none (bare codes)")")
            Console.out("thumbnails       \(stats.thumbnailSide > 0 ? "up to \(stats.thumbnailSide) px, \(stats.thumbnails) kept" : "none kept\(stats.thumbnails > 0 ? " (\(stats.thumbnails) from before)" : "")")")
            Console.out("refinement       \(stats.refinementVectors) vectors\(stats.refinementVectorBytes.map { " of \($0) bytes" } ?? "") (searches by image re-rank by them)")
            let choice = stats.requestedSubstrings == 0 ? "automatic" : "fixed at \(stats.requestedSubstrings)"
            if stats.substrings == 0 {
                Console.out("substrings (m)   no index yet: searches scan (\(choice))")
            } else {
                Console.out("substrings (m)   \(stats.substrings) of \(stats.substringBits.map(String.init).joined(separator: "/")) bits (\(choice))")
            }
            Console.out("indexed          \(stats.indexedItems) (\(stats.unindexedItems) scanned until the next rebuild, \(stats.staleIndexEntries) stale entries)")
            for (table, occupancy) in stats.tables.enumerated() {
                Console.out("table \(table)          \(occupancy.nonemptyBuckets)/\(occupancy.buckets) buckets used, largest \(occupancy.largestBucket)")
            }
            if let log = stats.changeLog {
                Console.out("change log       cursor \(log.cursor), \(log.entries) entries (trimmed through \(log.trimmedThrough))")
            } else {
                Console.out("change log       none (`bgan-db changes STORE --enable` starts one)")
            }
            Console.out("used             \(mib(stats.usedBytes)) (\(String(format: "%.1f", stats.bytesPerItem)) bytes per item)")
            Console.out("file / map       \(mib(stats.fileBytes)) / \(mib(stats.mapBytes)) of address space")
            for (name, bytes) in stats.tableBytes.sorted(by: { $0.key < $1.key }) {
                Console.out("  \(name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(mib(bytes))")
            }
            if stats.staleReadersCleared > 0 { Console.log("cleared \(stats.staleReadersCleared) stale reader slots") }
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every invariant of a store; exit 3 if anything is wrong.")

    @OptionGroup var location: StoreLocation

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        var healthy = true
        try Console.reportingErrors {
            let report = try location.open(readOnly: true).verify()
            healthy = report.isHealthy
            if json {
                Console.out(try JSON.encode(report))
            } else {
                Console.out("\(report.isHealthy ? "ok" : "DAMAGED"): \(report.items) items, \(report.indexEntries) index entries (\(report.staleEntries) stale, awaiting a rebuild)")
                report.problems.forEach { Console.out("problem: \($0)") }
            }
        }
        if !healthy { throw ExitCode(3) }
    }
}

struct ReindexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reindex",
        abstract: "Rebuild the multi-index now, optionally with another number of tables.")

    @OptionGroup var location: StoreLocation

    @Option(help: "Tables m, or 'auto' for about bits / log2 N (default: keep the current choice).")
    var substrings: String?

    @OptionGroup var durability: Durability

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open(sync: durability.mode)
            let choice: SubstringChoice
            switch substrings {
            case nil: choice = .unchanged
            case "auto"?: choice = .automatic
            case let text?:
                guard let m = Int(text) else { throw ValidationError("--substrings takes a number or 'auto', not '\(text)'") }
                choice = .fixed(m)
            }
            let started = Date()
            try store.rebuildIndex(substrings: choice)
            let stats = try store.statistics()
            Console.log(String(format: "reindexed %d items into %d tables in %.2fs", stats.items, stats.substrings, Date().timeIntervalSince(started)))
        }
    }
}

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a store while it stays in use (a consistent snapshot).")

    @OptionGroup var location: StoreLocation

    @Argument(help: "Destination directory (new or empty).")
    var destination: String

    @Flag(help: "Leave free pages out: a smaller copy, slower to make.")
    var compact = false

    func run() throws {
        try Console.reportingErrors {
            try location.open(readOnly: true).backup(to: destination, compact: compact)
            Console.log("backed up \(location.store) to \(destination)\(compact ? " (compacted)" : "")")
        }
    }
}
