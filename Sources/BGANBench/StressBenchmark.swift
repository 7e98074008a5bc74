import ArgumentParser
import BGANStore
import Dispatch
import Foundation
import HammingSearch
import Synchronization

/// Readers querying while a writer inserts, deletes and rebuilds the index: every query must see
/// a consistent snapshot. Items come in groups of eight that share a code and are inserted and
/// deleted in one transaction each, so a radius-0 search for a group's code must find all eight
/// of its items or none; every hit's payload names its group, whose code must be at exactly the
/// reported distance. Exits 1 on any inconsistency or error.
struct StressBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Reader threads query a store while a writer inserts, deletes and reindexes; checks every snapshot.")

    @Option(help: "How long the writer runs, in seconds.")
    var seconds: Double = 180

    @Option(help: "Reader threads.")
    var readers: Int = 8

    @Option(help: "Groups of eight items stored before the readers start.")
    var prefill: Int = 2_000

    @Option(help: "Where to put the store (a temporary directory by default; removed afterwards).")
    var store: String?

    @Flag(help: "Self-check of the harness: write each new group in two transactions, which the readers must catch.")
    var tornWrites = false

    static let groupSize = 8

    /// The code shared by group `g`'s items.
    static func code(ofGroup group: Int) -> BinaryCode {
        var rng = SeededGenerator(seed: 0xB6A5 ^ UInt64(group) &* 0x9E37_79B9_7F4A_7C15)
        return try! BinaryCode(bitCount: 64, words: [rng.next()])
    }

    static func items(ofGroup group: Int) -> [StoreItem] {
        let payload = withUnsafeBytes(of: UInt64(group).littleEndian, Array.init)
        return (0..<groupSize).map { StoreItem(key: "g\(group)-\($0)", code: code(ofGroup: group), payload: payload) }
    }

    func run() throws {
        let path = store ?? NSTemporaryDirectory() + "bgan-bench-stress-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        defer { if store == nil { try? FileManager.default.removeItem(atPath: path) } }
        let target = try Store.create(at: path, bitCount: 64)
        for start in stride(from: 0, to: prefill, by: 250) {
            _ = try target.write((start..<min(prefill, start + 250)).flatMap(Self.items(ofGroup:)))
        }
        print("store \(path): \(prefill * Self.groupSize) items in groups of \(Self.groupSize); \(readers) readers for \(Int(seconds)) s")
        fflush(nil)

        let counters = StressCounters()
        counters.groups.store(prefill, ordering: .releasing)
        let finished = DispatchGroup()
        for reader in 0..<readers {
            finished.enter()
            Thread {
                defer { finished.leave() }
                Self.read(target, seed: UInt64(reader), counters: counters)
            }.start()
        }
        // Say when the readers are reading, so a harness can act on it (kill the process, say)
        // without guessing at a delay.
        while counters.queries.load(ordering: .acquiring) < readers { usleep(1_000) }
        print("readers running")
        fflush(nil)
        let writes = try write(target, counters: counters)
        counters.stop.store(true, ordering: .releasing)
        finished.wait()

        let report = try target.verify()
        let queries = counters.queries.load(ordering: .acquiring)
        let inconsistent = counters.inconsistent.load(ordering: .acquiring), errors = counters.errors.load(ordering: .acquiring)
        print(String(format: "writer: %d transactions (%d groups inserted, %d deleted, %d index rebuilds) in %.0f s",
                     writes.transactions, writes.inserted, writes.deleted, writes.rebuilds, seconds))
        print("readers: \(queries) queries (\(queries / max(Int(seconds), 1))/s), \(inconsistent) inconsistent snapshots, \(errors) errors")
        print("final store: \(try target.count()) items, verify \(report.isHealthy ? "ok" : "FAILED: \(report.problems.prefix(3))")")
        if let first = counters.firstProblem.withLock({ $0 }) { print("first problem: \(first)") }
        if inconsistent > 0 || errors > 0 || !report.isHealthy { throw ExitCode.failure }
    }

    struct WriterTally { var transactions = 0, inserted = 0, deleted = 0, rebuilds = 0 }

    /// Inserts 16 groups, deletes 8 random live groups, and every 50 rounds rebuilds the index.
    private func write(_ target: Store, counters: StressCounters) throws -> WriterTally {
        var tally = WriterTally()
        var live = Array(0..<prefill)
        var next = prefill
        var rng = SeededGenerator(seed: 42)
        let deadline = Date().addingTimeInterval(seconds)
        var round = 0
        while Date() < deadline {
            round += 1
            let fresh = (next..<(next + 16)).flatMap(Self.items(ofGroup:))
            if tornWrites {
                _ = try target.write(fresh.enumerated().filter { $0.offset % Self.groupSize < Self.groupSize / 2 }.map(\.element))
                counters.groups.store(next + 16, ordering: .releasing)
                _ = try target.write(fresh.enumerated().filter { $0.offset % Self.groupSize >= Self.groupSize / 2 }.map(\.element))
                tally.transactions += 1
            } else {
                _ = try target.write(fresh)
            }
            live += next..<(next + 16)
            next += 16
            counters.groups.store(next, ordering: .releasing)
            var doomed: [Int] = []
            for _ in 0..<8 where !live.isEmpty { doomed.append(live.remove(at: Int(rng.next() % UInt64(live.count)))) }
            _ = try target.remove(keys: doomed.flatMap { group in (0..<Self.groupSize).map { "g\(group)-\($0)" } })
            tally.transactions += 2
            tally.inserted += 16
            tally.deleted += doomed.count
            if round % 50 == 0 {
                try target.rebuildIndex(substrings: .automatic)
                tally.rebuilds += 1
                tally.transactions += 1
            }
        }
        return tally
    }

    /// Until told to stop: radius-0 searches for groups (all eight or none) and 10-NN searches
    /// for random codes (every hit at its group code's distance, in order).
    private static func read(_ target: Store, seed: UInt64, counters: StressCounters) {
        var rng = SeededGenerator(seed: seed)
        func problem(_ text: String) {
            counters.inconsistent.add(1, ordering: .relaxed)
            counters.firstProblem.withLock { if $0 == nil { $0 = text } }
        }
        while !counters.stop.load(ordering: .acquiring) {
            let groups = counters.groups.load(ordering: .acquiring)
            let group = Int(rng.next() % UInt64(groups))
            do {
                let exact = try target.search(code: code(ofGroup: group), radius: 0)
                let members = exact.hits.filter { $0.key.hasPrefix("g\(group)-") }.count
                if members != 0 && members != groupSize { problem("group \(group): \(members) of \(groupSize) items visible") }
                let query = try BinaryCode(bitCount: 64, words: [rng.next()])
                let nearest = try target.search(code: query, k: 10)
                var previous = 0
                for hit in nearest.hits {
                    guard hit.payload.count == 8 else { problem("item \(hit.key) has a \(hit.payload.count)-byte payload"); break }
                    let owner = Int(hit.payload.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
                    let distance = query.distance(to: code(ofGroup: owner))
                    if distance != hit.distance || !hit.key.hasPrefix("g\(owner)-") || hit.distance < previous {
                        problem("hit \(hit.key) at distance \(hit.distance): its group \(owner) is at \(distance)")
                    }
                    previous = hit.distance
                }
                counters.queries.add(2, ordering: .relaxed)
            } catch {
                counters.errors.add(1, ordering: .relaxed)
                counters.firstProblem.withLock { if $0 == nil { $0 = "\(error)" } }
            }
        }
    }
}

final class StressCounters: Sendable {
    let queries = Atomic<Int>(0)
    let inconsistent = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let groups = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
    let firstProblem = Mutex<String?>(nil)
}
