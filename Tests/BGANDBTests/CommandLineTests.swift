import BGAN
import Foundation
import LMDBStorage
import Testing
import TestSupport

/// `bgan-db` end to end, as a script would run it: arguments in, stdout / stderr / exit status out.
@Suite struct CommandLineTests {
    let directory = TemporaryDirectory("cli")

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The bgan-db built next to this test bundle.
    static let executable: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("bgan-db").path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("bgan-db")
    }()

    @discardableResult
    func run(_ arguments: String...) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    func json(_ line: Substring) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func createPutQueryAsJSON() throws {
        let store = directory.sub("s")
        #expect(try run("create", store, "--bits", "16").status == 0)
        #expect(try run("put", store, "cat", "--code", "00ff", "--payload", "cat.jpg").status == 0)
        #expect(try run("put", store, "dog", "--code", "0f0f").status == 0)
        let query = try run("query", store, "--code", "00fe", "-k", "5", "--json")
        #expect(query.status == 0)
        let lines = query.stdout.split(separator: "\n")
        #expect(lines.count == 2, "one line for the query, one summary")
        let first = try json(lines[0])
        let neighbors = try #require(first["neighbors"] as? [[String: Any]])
        #expect(neighbors.map { $0["key"] as? String } == ["cat", "dog"])
        #expect(neighbors.map { $0["distance"] as? Int } == [1, 9])
        #expect(neighbors[0]["payload"] as? String == "cat.jpg")
        #expect((first["stats"] as? [String: Any])?["path"] as? String == "scan")
        #expect(try json(lines[1])["summary"] != nil)
        #expect(query.stderr.isEmpty || !query.stderr.contains("error"))
    }

    @Test func importExportRoundTripThroughNumPy() throws {
        let store = directory.sub("s")
        let codes = directory.sub("codes.npy")
        let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2), }"
        let padded = header + String(repeating: " ", count: 128 - 10 - header.utf8.count - 1) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(padded.utf8.count), 0] + Array(padded.utf8)
        bytes += [0x00, 0xFF, 0x0F, 0x0F, 0xF0, 0xF0]
        try Data(bytes).write(to: URL(fileURLWithPath: codes))
        try "a\nb\nc\n".write(toFile: directory.sub("keys.txt"), atomically: true, encoding: .utf8)
        #expect(try run("create", store, "--bits", "16").status == 0)
        let imported = try run("import", store, "--codes", codes, "--keys", directory.sub("keys.txt"))
        #expect(imported.status == 0)
        #expect(imported.stderr.contains("imported 3 codes"))
        #expect(try run("get", store, "b").stdout == "b\t0f0f\t\n")

        let exported = directory.sub("out.npy")
        #expect(try run("export", store, "--format", "npy", exported).status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: exported))
        #expect(Array(data.suffix(6)) == [0x00, 0xFF, 0x0F, 0x0F, 0xF0, 0xF0])
        #expect(try String(contentsOfFile: directory.sub("out.keys.txt"), encoding: .utf8) == "a\nb\nc\n")

        let ndjson = directory.sub("out.ndjson")
        #expect(try run("export", store, "--format", "ndjson", ndjson).status == 0)
        let first = try json(try String(contentsOfFile: ndjson, encoding: .utf8).split(separator: "\n")[0])
        #expect(first["key"] as? String == "a" && first["code_hex"] as? String == "00ff")
        #expect(first["code_u8"] as? [Int] == [0, 255])

        #expect(try run("verify", store).stdout.hasPrefix("ok"))
        let stats = try json(Substring(try run("stats", store, "--json").stdout))
        #expect(stats["items"] as? Int == 3 && stats["bits"] as? Int == 16)
    }

    @Test func errorsSayWhatAndExitNonZero() throws {
        let store = directory.sub("s")
        #expect(try run("create", store, "--bits", "16").status == 0)
        let wrongLength = try run("query", store, "--code", "00", "-k", "1")
        #expect(wrongLength.status == 1)
        #expect(wrongLength.stderr.contains("8-bit code") && wrongLength.stderr.contains("16-bit"))
        #expect(wrongLength.stdout.isEmpty)

        let usage = try run("query", store, "--code", "0000")
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("-k K or --radius R"))

        let missing = try run("stats", directory.sub("nothing"))
        #expect(missing.status == 1 && missing.stderr.contains("does not exist"))

        let again = try run("create", store, "--bits", "16")
        #expect(again.status == 1 && again.stderr.contains("already holds a store"))
    }

    @Test func verifyExitsThreeOnDamage() throws {
        let store = directory.sub("s")
        #expect(try run("create", store, "--bits", "8").status == 0)
        #expect(try run("put", store, "a", "--code", "01").status == 0)
        #expect(try run("put", store, "b", "--code", "02").status == 0)
        #expect(try run("verify", store).status == 0)
        do {
            // Damage the store behind its back: drop one key.
            let environment = try Environment(path: store, tables: [TableSpec("keys")])
            let keys = try environment.table("keys")
            try environment.write { txn in _ = try txn.delete(keys, key: "a") }
        }
        let damaged = try run("verify", store)
        #expect(damaged.status == 3)
        #expect(damaged.stdout.hasPrefix("DAMAGED"))
        #expect(damaged.stdout.contains("problem: item 0's key 'a' maps to nothing"))
        try FileManager.default.createDirectory(atPath: directory.sub("empty"), withIntermediateDirectories: false)
        let notAStore = try run("verify", directory.sub("empty"))
        #expect(notAStore.status == 1 && notAStore.stderr.contains("not a store"))
    }

    @Test func doctorReportsFastBLASKernels() throws {
        let doctor = try run("doctor", "--json")
        #expect(doctor.status == 0)
        let report = try json(Substring(doctor.stdout))
        let features = report["features"] as? [String] ?? []
        let core = report["blas_core"] as? String
        if features.contains("avx512f"), report["blas_core_chosen_by_user"] as? Bool == false {
            #expect(core == "SkylakeX", "bgan-db should have relaunched itself with fast kernels")
        }
        #expect(report["blas_core_recommended"] is NSNull || report["blas_core_chosen_by_user"] as? Bool == true)
        #expect((report["blas_threads"] as? Int ?? 0) >= 1)
    }

    @Test func trainWritesAModelFileThatParses() throws {
        let model = directory.sub("tiny.bgan")
        let outcome = try run("train", "--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--bits", "16",
                              "--out", model, "--limit", "48", "--batch", "16", "--k1", "5", "--k2", "3")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let file = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: model))))
        #expect(file.header.architecture.bits == 16)
        #expect(file.header.preprocessing.height == 28)
        #expect(outcome.stderr.contains(file.digest))
        let bad = try run("train", "--data", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "--bits", "12", "--out", model)
        #expect(bad.status == 64)
    }

    @Test func versionAndHelp() throws {
        #expect(try run("--version").stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let help = try run("--help")
        for command in ["create", "import", "query", "export", "stats", "verify", "reindex", "backup"] {
            #expect(help.stdout.contains(command))
        }
    }
}
