import Foundation
import Testing
@testable import LMDBStorage
import TestSupport

@Suite struct ConcurrencyTests {
    let directory = TemporaryDirectory()

    /// The writer commits `a = b = i` in each transaction; a reader that ever sees `a != b`, or a
    /// value going backwards, saw a torn snapshot. The map starts tiny so it grows under the readers.
    @Test func eightReadersAlwaysSeeConsistentSnapshots() throws {
        var options = EnvironmentOptions()
        options.mapSize = 64 << 10
        options.syncMode = .noSync
        let env = try Environment(path: directory.sub("env"), options: options, tables: [TableSpec("pairs")])
        let pairs = try env.table("pairs")
        let rounds: UInt64 = 400
        let failures = LockedCounter()
        let snapshotsRead = LockedCounter()
        let done = LockedFlag()

        var threads: [Thread] = []
        let finished = DispatchGroup()
        for _ in 0..<8 {
            finished.enter()
            let thread = Thread {
                defer { finished.leave() }
                var last: UInt64 = 0
                while !done.value {
                    do {
                        let (a, b, padding) = try env.read { txn in
                            (try txn.get(pairs, key: "a")?.uint64Value ?? 0,
                             try txn.get(pairs, key: "b")?.uint64Value ?? 0,
                             try txn.statistics(of: pairs).entries)
                        }
                        if a != b || a < last || (a > 0 && padding != Int(a) + 2) { failures.increment() }
                        last = a
                        snapshotsRead.increment()
                    } catch {
                        failures.increment()
                    }
                }
            }
            threads.append(thread)
            thread.start()
        }
        for i in 1...rounds {
            try env.write { txn in
                try txn.put(pairs, key: "a", value: i)
                try txn.put(pairs, key: "pad-\(i)", value: [UInt8](repeating: 7, count: 1500))
                try txn.put(pairs, key: "b", value: i)
            }
        }
        done.set()
        finished.wait()
        #expect(failures.value == 0)
        #expect(snapshotsRead.value > 0)
        #expect(env.mapGrowths > 0, "the map should have grown while readers were active")
    }

    @Test func writesFromManyThreadsAreSerialized() throws {
        let env = try Environment(path: directory.sub("env"), tables: [TableSpec("counter")])
        let counter = try env.table("counter")
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<50 {
                try! env.write { txn in
                    let current = try txn.get(counter, key: "n")?.uint64Value ?? 0
                    try txn.put(counter, key: "n", value: current + 1)
                }
            }
        }
        #expect(try env.read { txn in try txn.get(counter, key: "n")?.uint64Value } == 200)
    }
}

/// Reader slots: when every slot is held, a new reader gets an error that says what to do.
@Suite struct ReaderSlotTests {
    let directory = TemporaryDirectory()

    @Test func aFullReaderTableIsAClearErrorAndFreesUpAgain() throws {
        var options = EnvironmentOptions()
        options.maxReaders = 2
        let env = try Environment(path: directory.sub("env"), options: options, tables: [TableSpec("t")])
        // LMDB rounds the slot count up to fill the lock file's pages.
        let slots = env.info().maxReaders
        #expect(slots >= 2 && slots < 1_000)
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        for _ in 0..<slots {
            finished.enter()
            Thread {
                defer { finished.leave() }
                try? env.read { _ in
                    holding.signal()
                    release.wait()
                }
            }.start()
        }
        for _ in 0..<slots { holding.wait() }
        let error = #expect(throws: StorageError.self) { try env.read { _ in } }
        #expect(error?.code == .readersFull)
        #expect(error?.message.contains("maxReaders") == true && error?.message.contains("stale") == true, "\(error?.message ?? "")")
        for _ in 0..<slots { release.signal() }
        finished.wait()
        try env.read { _ in }
    }
}
