import Foundation
import Testing
import TestSupport
@testable import LMDBStorage

@Suite struct MaintenanceTests {
    let directory = TemporaryDirectory()

    func populated() throws -> Environment {
        let env = try Environment(path: directory.sub("env"), tables: [TableSpec("items")])
        let items = try env.table("items")
        try env.write { txn in
            for i in 0..<2_000 as Range<UInt64> { try txn.put(items, key: i.bigEndianKey, value: [UInt8](repeating: UInt8(i % 256), count: 500)) }
        }
        // Delete most of it: a compacting copy then leaves the free pages out.
        try env.write { txn in
            for i in 0..<1_800 as Range<UInt64> { try txn.delete(items, key: i.bigEndianKey) }
        }
        return env
    }

    func contents(_ env: Environment) throws -> [[UInt8]: [UInt8]] {
        let items = try env.table("items")
        return try env.read { txn in
            try txn.withCursor(items) { cursor in
                var all: [[UInt8]: [UInt8]] = [:]
                var entry = try cursor.first()
                while let e = entry {
                    all[Array(e.key)] = Array(e.value)
                    entry = try cursor.next()
                }
                return all
            }
        }
    }

    @Test(arguments: [false, true])
    func backupOpensAndHoldsTheSameData(compact: Bool) throws {
        let env = try populated()
        try env.backup(to: directory.sub("copy"), compact: compact)
        let copy = try Environment(path: directory.sub("copy"), tables: [TableSpec("items")])
        #expect(try contents(copy) == contents(env))
        #expect(try contents(copy).count == 200)
        if compact {
            #expect(try copy.fileSize() < env.fileSize())
        }
    }

    @Test func backupRefusesToOverwriteAStore() throws {
        let env = try populated()
        try env.backup(to: directory.sub("copy"))
        let error = #expect(throws: StorageError.self) { try env.backup(to: directory.sub("copy")) }
        #expect(error?.code == .keyExists)
    }

    /// A backup into a folder that already exists gets the environment's permissions, not the
    /// umask's, and leaves nothing half-written behind.
    @Test func backupsArePrivateAndLeaveNoPartialFile() throws {
        let env = try populated()
        let folder = directory.sub("existing")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let previous = umask(0o022)
        defer { umask(previous) }
        try env.backup(to: folder)
        var info = stat()
        #expect(stat(folder + "/data.mdb", &info) == 0 && info.st_mode & 0o777 == 0o640, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["data.mdb"])
    }

    @Test func aFailedBackupLeavesNoDataFileAndARetryWorks() throws {
        let env = try populated()
        let folder = directory.sub("blocked")
        try FileManager.default.createDirectory(atPath: folder + "/data.mdb.partial", withIntermediateDirectories: true)
        let error = #expect(throws: StorageError.self) { try env.backup(to: folder) }
        #expect(error?.message.contains("creating the backup file") == true, "\(error?.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: folder + "/data.mdb"))
        try FileManager.default.removeItem(atPath: folder + "/data.mdb.partial")
        try env.backup(to: folder)
        let copy = try Environment(path: folder, tables: [TableSpec("items")])
        #expect(try contents(copy).count == 200)
    }

    @Test func statisticsAndInfoDescribeTheEnvironment() throws {
        let env = try populated()
        let items = try env.table("items")
        let stats = try env.read { txn in try txn.statistics(of: items) }
        #expect(stats.entries == 200)
        #expect(stats.pageSize == 4096)
        #expect(stats.bytes > 200 * 500)
        let info = env.info()
        #expect(info.maxReaders == 126)
        #expect(info.lastTransactionID >= 3)
        #expect(try env.statistics().entries == 1, "the main tree holds one named table")
        #expect(try env.clearStaleReaders() == 0)
        #expect(Environment.libraryVersion.contains("0.9"))
    }
}
