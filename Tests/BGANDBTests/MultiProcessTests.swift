import BGANStore
import LMDBStorage
import Foundation
import PixelIO
import Testing
import TestSupport

/// Readers in other processes while this process writes and the map grows under them.
@Suite struct MultiProcessTests {
    let directory = TemporaryDirectory("processes")

    /// Parallel bulk loads started at once on a path that holds no store, each with `ingest
    /// --create`: one makes the store, the others wait for it and ingest into it. Before creates
    /// took the directory's lock, some failed ("already holds a store", "the path does not
    /// exist": a failing create removed the directory another was filling).
    @Test func parallelIngestsWithCreateShareOneStore() throws {
        let store = directory.sub("shared.bgan")
        var rng = SeededGenerator(seed: 12)
        let runs = try (0..<6).map { run -> (Process, String) in
            let folder = directory.sub("part\(run)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for index in 0..<2 {
                let bytes = (0..<(40 * 32 * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let image = try PixelBuffer(width: 40, height: 32, format: .rgb, bytes: bytes)
                try Data(try image.pngData()).write(to: URL(fileURLWithPath: "\(folder)/\(run)-\(index).png"))
            }
            let process = Process()
            process.executableURL = CLI.executable
            process.arguments = ["ingest", store, folder, "--create"]
            let log = directory.sub("part\(run).log")
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            return (process, log)
        }
        for (process, _) in runs { try process.run() }
        for (process, _) in runs { process.waitUntilExit() }
        let logs = try runs.map { try String(contentsOfFile: $0.1, encoding: .utf8) }
        for (run, log) in zip(runs, logs) { #expect(run.0.terminationStatus == 0, "\(log)") }
        #expect(logs.filter { $0.contains("bound to the bundled photo model") }.count == 1, "one run made the store")
        let stored = try Store(openingAt: store)
        #expect(try stored.count() == 12)
        #expect(try stored.verify().problems == [])
    }

    @Test func twoReaderProcessesWhileAThirdWrites() throws {
        let path = directory.sub("s")
        var options = StoreOptions()
        options.initialMapSize = 1 << 20
        let store = try Store.create(at: path, bitCount: 64, options: options)
        var rng = SeededGenerator(seed: 77)
        try store.write((0..<2000).map { StoreItem(key: "seed-\($0)", code: randomCode(bits: 64, rng: &rng)) })
        // Queries: a small .npy of 50 codes.
        let queries = (0..<50).map { _ in randomCode(bits: 64, rng: &rng) }
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (50, 8), }"
        let padded = header + String(repeating: " ", count: 128 - 10 - header.utf8.count - 1) + "\n"
        let npy = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(padded.utf8.count), 0] + Array(padded.utf8) + queries.flatMap(\.bytes)
        try Data(npy).write(to: URL(fileURLWithPath: directory.sub("q.npy")))

        // Each reader process runs the 50 queries 20 times over (a shell loop), while we write.
        let readers = (0..<2).map { _ -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "for i in $(seq 20); do \"$0\" query \"$1\" --codes \"$2\" -k 5 --json || exit 9; done",
                                 CLI.executable.path, path, directory.sub("q.npy")]
            process.standardOutput = Pipe()
            process.standardError = FileHandle.nullDevice
            return process
        }
        for reader in readers { try reader.run() }
        // Drain the readers' output as it comes, so that they never block on a full pipe.
        let outputs = CollectedOutputs()
        let collect = DispatchGroup()
        for reader in readers {
            let pipe = reader.standardOutput as! Pipe
            collect.enter()
            DispatchQueue.global().async {
                outputs.append(pipe.fileHandleForReading.readDataToEndOfFile())
                collect.leave()
            }
        }
        // Write batches big enough to grow the 1 MiB map several times while the readers run.
        var batch = 0
        while readers.contains(where: \.isRunning), batch < 400 {
            try store.write((0..<500).map { StoreItem(key: "b\(batch)-\($0)", code: randomCode(bits: 64, rng: &rng), payload: [UInt8](repeating: 1, count: 64)) })
            batch += 1
        }
        for reader in readers { reader.waitUntilExit() }
        collect.wait()
        for reader in readers { #expect(reader.terminationStatus == 0, "a reader process failed") }
        for output in outputs.all {
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
            #expect(lines.count == 20 * 51, "50 result lines and a summary per run")
            let results = lines.filter { $0.hasPrefix("{\"hits\"") }
            #expect(results.count == 20 * 50)
            #expect(results.allSatisfy { $0.components(separatedBy: "\"distance\"").count - 1 == 5 })
        }
        #expect(batch > 0)
        #expect(try store.statistics().mapBytes > 1 << 20, "the map should have grown under the readers")
        #expect(try store.verify().problems == [])
        #expect(try store.count() == 2000 + batch * 500)
    }
}

final class CollectedOutputs: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [Data] = []
    func append(_ data: Data) { lock.withLock { collected.append(data) } }
    var all: [Data] { lock.withLock { collected } }
}

/// `bgan-bench stress`, short: 8 reader threads search while a writer inserts and deletes groups
/// of items and rebuilds the index; and its self-check, which must catch torn writes.
@Suite struct StoreStressTests {
    @Test func readersSeeWholeGroupsWhileTheWriterWorks() throws {
        let outcome = try CLI.run(["stress", "--seconds", "4", "--prefill", "300"], program: CLI.bench)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout.contains(" 0 inconsistent snapshots, 0 errors") && outcome.stdout.contains("verify ok"), "\(outcome.stdout)")
    }

    @Test func theHarnessCatchesGroupsWrittenInTwoTransactions() throws {
        let outcome = try CLI.run(["stress", "--seconds", "3", "--prefill", "200", "--torn-writes"], program: CLI.bench)
        #expect(outcome.status != 0 && outcome.stdout.contains("of 8 items visible"), "\(outcome.stdout)")
    }
}

/// Reader slots left by a process killed while it read: LMDB clears its reader table when the
/// first process opens an environment nobody has open, so stale slots matter while another
/// process keeps the store open, as this test does; its statistics call clears them.
@Suite struct StaleReaderTests {
    let directory = TemporaryDirectory("stale")

    @Test func slotsOfAKilledReaderAreClearedWhileOthersKeepTheStoreOpen() throws {
        // A reader holds its slot only inside a read (the store's transactions do not keep
        // slots between reads), so on a loaded machine a kill can land when no reader is
        // inside one: up to three runs, each of which must leave a healthy store.
        var cleared = 0
        for attempt in 1...3 where cleared == 0 {
            cleared = try clearedSlotsAfterKillingReaders(at: directory.sub("store-\(attempt)"))
        }
        #expect(cleared >= 1, "the killed readers held slots in none of three runs")
    }

    /// Starts a stress run on a new store at `path`, kills it while its readers read, and returns
    /// how many stale reader slots a store open in this process clears.
    private func clearedSlotsAfterKillingReaders(at path: String) throws -> Int {
        let process = Process()
        process.executableURL = CLI.bench
        process.arguments = ["stress", "--store", path, "--seconds", "60", "--prefill", "100", "--readers", "4"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // No sleeps: the stress run says when its store exists and when its readers are reading.
        var lines = LineReader(output.fileHandleForReading)
        let created = lines.next(where: { $0.hasPrefix("store ") })
        try #require(created != nil, "the stress run creates its store")
        let opened = try Store(openingAt: path)
        try #require(lines.next(where: { $0 == "readers running" }) != nil, "the stress run's readers start")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let cleared = try opened.statistics().staleReadersCleared
        #expect(try opened.statistics().staleReadersCleared == 0, "cleared once")
        #expect(try opened.verify().isHealthy)
        return cleared
    }

    /// `bgan-db stats`, the documented cure for a full reader table, must answer while another
    /// process is inside a write (a long import): it opens the store read-only, which begins no
    /// write transaction. Here this test process holds the write lock and stats runs as a child.
    @Test func statsAnswersWhileAnotherProcessIsInsideAWrite() throws {
        let path = directory.sub("busy")
        do {
            let store = try Store.create(at: path, bitCount: 64)
            defer { store.close() }
            var rng = SeededGenerator(seed: 4)
            try store.write((0..<100).map { StoreItem(key: "k\($0)", code: randomCode(bits: 64, rng: &rng)) })
        }
        let environment = try Environment(path: path, tables: [])
        defer { environment.close() }
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), writerDone = DispatchSemaphore(value: 0)
        Thread {
            try? environment.write { _ in
                inside.signal()
                release.wait()
            }
            writerDone.signal()
        }.start()
        inside.wait()
        let answered = DispatchSemaphore(value: 0)
        let outcome = LockedBox<CLI.Outcome?>(nil)
        Thread {
            outcome.value = try? CLI.run(["stats", path, "--json"])
            answered.signal()
        }.start()
        let inTime = answered.wait(timeout: .now() + 30) == .success
        release.signal()
        writerDone.wait()
        if !inTime { answered.wait() }
        #expect(inTime, "stats waited for the writer")
        let stats = try #require(outcome.value)
        #expect(stats.status == 0 && stats.stdout.contains("\"items\":100"), "\(stats.stdout) \(stats.stderr)")
    }
}

/// A `Store` an application keeps open for its whole life must see what other processes commit,
/// even when they grow the memory map far past the size this process mapped.
@Suite struct LongLivedStoreTests {
    let directory = TemporaryDirectory("long-lived")

    @Test func aStoreKeptOpenSearchesExactlyAfterAnotherProcessGrowsTheMap() throws {
        let path = directory.sub("store")
        var options = StoreOptions()
        options.initialMapSize = 1 << 20
        let store = try Store.create(at: path, bitCount: 64, options: options)
        defer { store.close() }
        var rng = SeededGenerator(seed: 77)
        let first = makeCodes(500, bits: 64, distribution: .clustered, rng: &rng)
        try store.write(first.enumerated().map { StoreItem(key: "\($0.offset)", code: $0.element) })
        var oracle = FlatIndex(bitCount: 64)
        first.forEach { oracle.append($0) }
        let query = flip(first[42], probability: 0.05, rng: &rng)
        #expect(try store.search(code: query, k: 5).hits.map(\.id) == (try oracle.nearest(to: query, k: 5)).neighbors.map(\.id))
        let mappedBefore = try store.statistics().mapBytes

        // Another process replaces nothing and adds 60,000 codes: several MiB, many map growths.
        let more = makeCodes(60_000, bits: 64, distribution: .uniform, rng: &rng)
        let file = directory.sub("more.npy")
        try NumPyByteMatrix(rows: more.count, columns: 8, bytes: Data(more.flatMap(\.bytes))).encoded().write(to: URL(fileURLWithPath: file))
        let keys = directory.sub("keys.txt")
        try (500..<60_500).map(String.init).joined(separator: "\n").appending("\n").write(toFile: keys, atomically: true, encoding: .utf8)
        let imported = try CLI.run(["import", path, "--codes", file, "--keys", keys])
        #expect(imported.status == 0, "\(imported.stderr)")
        more.forEach { oracle.append($0) }

        #expect(try store.count() == 60_500)
        #expect(try store.statistics().mapBytes > mappedBefore, "the other process grew the map")
        for probe in [query, more[59_999], flip(more[12_345], probability: 0.1, rng: &rng)] {
            for method in SearchMethod.allCases {
                let hits = try store.search(code: probe, k: 10, method: method).hits
                #expect(hits.map { Neighbor(id: $0.id, distance: $0.distance) } == (try oracle.nearest(to: probe, k: 10)).neighbors, "\(method)")
            }
        }
        // And this process can still write after the growth.
        try store.insert(StoreItem(key: "last", code: query))
        #expect(try store.search(code: query, k: 1).hits.first?.key == "last")
    }
}

/// A search must not wait for a long read (an export, a backup) of the same process when
/// another process makes the store larger than this process's map: adopting the larger map
/// (`MDB_MAP_RESIZED`) has to wait for every open transaction of the process, so the default
/// map is large enough never to need it. A small map shows the wait the default avoids.
@Suite struct ReadersDuringGrowthTests {
    let directory = TemporaryDirectory("growth-readers")

    /// Seconds a new count took while another thread held a read and another process imported
    /// 10⁶ codes (about 100 MiB, past the 64 MiB map stores started with before), or nil when it
    /// had not finished after `patience` seconds.
    func secondsForANewRead(initialMapSize: Int?, patience: Double) throws -> Double? {
        let path = directory.sub("store-\(initialMapSize ?? 0)")
        var options = StoreOptions()
        options.initialMapSize = initialMapSize
        let store = try Store.create(at: path, bitCount: 64, options: options)
        defer { store.close() }
        var rng = SeededGenerator(seed: 9)
        try store.write((0..<100).map { StoreItem(key: "k\($0)", code: randomCode(bits: 64, rng: &rng)) })

        let reading = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), readerDone = DispatchSemaphore(value: 0)
        Thread {
            _ = try? store.withSearchIndex { _ in
                reading.signal()
                release.wait()
            }
            readerDone.signal()
        }.start()
        reading.wait()

        let more = (0..<1_000_000).map { _ in randomCode(bits: 64, rng: &rng) }
        let file = directory.sub("more-\(initialMapSize ?? 0).npy")
        try NumPyByteMatrix(rows: more.count, columns: 8, bytes: Data(more.flatMap(\.bytes))).encoded().write(to: URL(fileURLWithPath: file))
        let imported = try CLI.run(["import", path, "--codes", file])
        #expect(imported.status == 0, "\(imported.stderr)")

        let counted = LockedBox<Int?>(nil), done = DispatchSemaphore(value: 0)
        let started = Date()
        Thread {
            counted.value = try? store.count()
            done.signal()
        }.start()
        let inTime = done.wait(timeout: .now() + patience) == .success
        let seconds = Date().timeIntervalSince(started)
        release.signal()
        readerDone.wait()
        if !inTime { done.wait() }
        #expect(counted.value == 1_000_100, "the new read sees the other process's import once it runs")
        return inTime ? seconds : nil
    }

    @Test func aNewReadDoesNotWaitForALongReadWhenAnotherProcessGrowsTheStore() throws {
        let seconds = try secondsForANewRead(initialMapSize: nil, patience: 10)
        #expect(seconds.map { $0 < 1 } == true, "a count took \(seconds.map { "\($0) s" } ?? "more than 10 s") behind a held read")
    }

    @Test func withASmallMapTheNewReadWaitsForTheLongOne() throws {
        #expect(try secondsForANewRead(initialMapSize: 1 << 20, patience: 1) == nil,
                "adopting the grown map waits for the held read: what the default map avoids")
    }
}

/// Two processes writing the same store, one killed in the middle: LMDB's writer lock is a
/// robust mutex, so the survivor goes on, and every write a process was told succeeded stays.
@Suite struct TwoWriterProcessesTests {
    let directory = TemporaryDirectory("two-writers")

    @Test func aKilledWriterLosesNothingItWasToldAndTheOtherGoesOn() throws {
        let path = directory.sub("store")
        #expect(try CLI.run(["create", path, "--bits", "16"]).status == 0)
        // Each writer puts 60 keys one process at a time and notes each key after its put exits 0.
        func writer(_ name: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "for i in $(seq 60); do \"$0\" put \"$1\" \"$2-$i\" --code $(printf %04x $i) --payload \"$2\" || exit 9; echo \"$2-$i\"; done",
                                 CLI.executable.path, path, name]
            process.standardOutput = Pipe()
            process.standardError = FileHandle.nullDevice
            return process
        }
        let victim = try writer("victim"), survivor = try writer("survivor")
        try victim.run()
        try survivor.run()
        var victimLines = LineReader((victim.standardOutput as! Pipe).fileHandleForReading)
        var acknowledged: [String] = []
        while acknowledged.count < 15, let line = victimLines.next(where: { _ in true }) { acknowledged.append(line) }
        // Kill the victim's shell and the put it is running, wherever that put is.
        let children = try CLI.run(["-P", "\(victim.processIdentifier)"], program: URL(fileURLWithPath: "/usr/bin/pgrep")).stdout
        for child in children.split(separator: "\n").compactMap({ Int32($0) }) { kill(child, SIGKILL) }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        acknowledged += victimLines.remainder().split(separator: "\n").map(String.init)
        var survivorLines = LineReader((survivor.standardOutput as! Pipe).fileHandleForReading)
        let survived = survivorLines.remainder().split(separator: "\n").map(String.init)
        survivor.waitUntilExit()
        #expect(survivor.terminationStatus == 0 && survived.count == 60, "the other writer finished: \(survived.count) puts")
        #expect(acknowledged.count >= 15 && acknowledged.count < 60, "the victim was killed midway (\(acknowledged.count) puts acknowledged)")

        let store = try Store(openingAt: path)
        defer { store.close() }
        for key in acknowledged + survived {
            #expect(try store.item(forKey: key) != nil, "\(key) was acknowledged")
        }
        let count = try store.count()
        #expect(count >= 60 + acknowledged.count && count <= 60 + acknowledged.count + 1, "at most the killed put itself may have committed: \(count)")
        #expect(try store.verify().isHealthy)
        try store.insert(StoreItem(key: "after", code: try BinaryCode(hex: "ffff")))
        #expect(try store.item(forKey: "after") != nil, "the store takes writes after the kill")
    }
}

/// Lines of a child's output as they come, for tests that wait for a state instead of a delay.
struct LineReader {
    let handle: FileHandle
    private var pending = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    /// The next line that satisfies `predicate`, or nil when the output ends first.
    mutating func next(where predicate: (String) -> Bool) -> String? {
        while true {
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending = Data(pending[(newline + 1)...])
                if predicate(line) { return line }
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            pending += chunk
        }
    }

    /// Everything not read yet, up to the end of the output.
    mutating func remainder() -> String {
        pending += handle.readDataToEndOfFile()
        defer { pending = Data() }
        return String(decoding: pending, as: UTF8.self)
    }
}

/// Settings that are process-wide (OpenBLAS's thread count) are tested in child processes, so
/// suites running in parallel in the test process never see them change.
@Suite struct ProcessSettingsTests {
    @Test(arguments: [1, 2])
    func theBLASThreadCountCanBeSet(threads: Int) throws {
        let process = Process()
        process.executableURL = CLI.bench
        process.arguments = ["nn", "--threads", "\(threads)", "--seconds", "0.01", "--rounds", "1", "--batch", "2", "--only", "none"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains(", \(threads) threads;"), "\(text.prefix(200))")
    }
}
