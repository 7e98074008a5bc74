import Foundation
import Testing
import TestSupport
@testable import LMDBStorage

@Suite struct OpeningTests {
    let directory = TemporaryDirectory()

    @Test func secondOpenOfTheSamePathIsRefused() throws {
        let path = directory.sub("env")
        let first = try Environment(path: path)
        let error = #expect(throws: StorageError.self) { try Environment(path: path) }
        #expect(error?.code == .alreadyOpen)

        try FileManager.default.createSymbolicLink(atPath: directory.sub("alias"), withDestinationPath: path)
        let viaLink = #expect(throws: StorageError.self) { try Environment(path: directory.sub("alias")) }
        #expect(viaLink?.code == .alreadyOpen)

        first.close()
        let reopened = try Environment(path: path)
        #expect(reopened.path == path)
    }

    /// A deleted directory's inode number may be given to a new directory. While an environment
    /// that lived in the deleted one is open, the registry holds that directory, so the number is
    /// not reused: a directory made at the same path is a new one and opens. Deleting and making
    /// directories many times over checks that no new directory is ever taken for an open one.
    @Test func directoriesMadeWhereAnOpenStoreWasDeletedAlwaysOpen() throws {
        var doomed: [Environment] = []
        for round in 0..<64 {
            let path = directory.sub("round-\(round % 4)")
            doomed.append(try Environment(path: path))
            try FileManager.default.removeItem(atPath: path)
            let successor = try Environment(path: path)
            #expect(successor.path == path)
            successor.close()
            try FileManager.default.removeItem(atPath: path)
        }
        try expectFreshDirectoriesUnregistered()
        doomed.forEach { $0.close() }
        try expectFreshDirectoriesUnregistered()
    }

    /// Makes directories one after another and checks each while it exists: its inode number is
    /// its own then, so a registered entry with it would be a stale one. (Checked after removal,
    /// the number may already belong to a store another test has just opened.)
    private func expectFreshDirectoriesUnregistered() throws {
        for _ in 0..<50 {
            let path = directory.sub("probe")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            var info = stat()
            #expect(stat(path, &info) == 0)
            let identity = OpenPathRegistry.FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            #expect(!OpenPathRegistry.isRegistered(identity), "a fresh directory never carries the number of a registered one")
            try FileManager.default.removeItem(atPath: path)
        }
    }

    @Test func aDirectoryThatCannotBeOpenedIsReportedNotRegistered() throws {
        let file = directory.sub("plain-file")
        #expect(FileManager.default.createFile(atPath: file, contents: Data([1])))
        guard case .failed(let reason) = OpenPathRegistry.register(file) else {
            Issue.record("a plain file was registered as an environment's directory")
            return
        }
        #expect(reason == ENOTDIR)
    }

    @Test func anEnvironmentWhoseDirectoryWasDeletedStaysUsableAndClosesCleanly() throws {
        let path = directory.sub("doomed")
        let env = try Environment(path: path, tables: [TableSpec("items")])
        try FileManager.default.removeItem(atPath: path)
        try env.write { txn in try txn.put(try env.table("items"), key: "k", value: "v") }
        #expect(try env.read { txn in try txn.get(try env.table("items"), key: "k").map(Array.init) } == Array("v".utf8))
        env.close()
        let again = try Environment(path: path)
        again.close()
    }

    @Test func readOnlyEnvironmentRefusesWrites() throws {
        let path = directory.sub("env")
        do {
            let env = try Environment(path: path, tables: [TableSpec("items")])
            try env.write { txn in try txn.put(try env.table("items"), key: "k", value: "v") }
        }
        var options = EnvironmentOptions()
        options.readOnly = true
        let env = try Environment(path: path, options: options, tables: [TableSpec("items")])
        let items = try env.table("items")
        #expect(try env.read { txn in try txn.get(items, key: "k")?.stringValue } == "v")
        let error = #expect(throws: StorageError.self) {
            try env.write { txn in try txn.put(items, key: "k", value: "w") }
        }
        #expect(error?.code == .readOnly)
        #expect(error?.message.contains("read-only") == true)
    }

    @Test func writingInAReadTransactionIsRefused() throws {
        let env = try Environment(path: directory.sub("env"), tables: [TableSpec("items")])
        let items = try env.table("items")
        let error = #expect(throws: StorageError.self) {
            try env.read { txn in try txn.put(items, key: "k", value: "v") }
        }
        #expect(error?.code == .readOnly)
    }

    @Test func nestedWritesAreRefused() throws {
        let env = try Environment(path: directory.sub("env"), tables: [TableSpec("items")])
        let items = try env.table("items")
        let error = #expect(throws: StorageError.self) {
            try env.write { _ in try env.write { txn in try txn.put(items, key: "k", value: "v") } }
        }
        #expect(error?.code == .nestedWrite)
    }

    @Test func readOnlyOpenOfAMissingStoreSaysSo() throws {
        var options = EnvironmentOptions()
        options.readOnly = true
        let error = #expect(throws: StorageError.self) { try Environment(path: directory.sub("nothing"), options: options) }
        #expect(error?.code == .notFound)

        try FileManager.default.createDirectory(atPath: directory.sub("empty"), withIntermediateDirectories: false)
        let empty = #expect(throws: StorageError.self) { try Environment(path: directory.sub("empty"), options: options) }
        #expect(empty?.code == .notFound)
        #expect(empty?.message.contains("not a store") == true)
    }

    @Test func aFileIsNotAnEnvironment() throws {
        let file = directory.sub("file")
        _ = FileManager.default.createFile(atPath: file, contents: Data("hello".utf8))
        let error = #expect(throws: StorageError.self) { try Environment(path: file) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func garbageDataFileIsRefused() throws {
        let path = directory.sub("env")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: path + "/data.mdb", contents: Data(repeating: 0x5A, count: 16_384))
        let error = #expect(throws: StorageError.self) { try Environment(path: path) }
        #expect(error?.code == .versionMismatch)
    }

    @Test func tablesNotOpenedAtStartUpAreNamedInTheError() throws {
        let env = try Environment(path: directory.sub("env"), tables: [TableSpec("items")])
        let error = #expect(throws: StorageError.self) { try env.table("other") }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("'other'") == true)
    }

    @Test func readOnlyOpenOfAMissingTableIsRefused() throws {
        let path = directory.sub("env")
        _ = try Environment(path: path, tables: [TableSpec("items")])
        var options = EnvironmentOptions()
        options.readOnly = true
        let error = #expect(throws: StorageError.self) {
            try Environment(path: path, options: options, tables: [TableSpec("items"), TableSpec("missing")])
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("'missing'") == true)
        // The failed open released the path: another open succeeds.
        _ = try Environment(path: path, options: options, tables: [TableSpec("items")])
    }

    @Test func aTableAddedLaterIsSkippedReadOnlyAndCreatedOnAWritableOpen() throws {
        let path = directory.sub("env")
        var existing = EnvironmentOptions()
        existing.createsTables = false
        do { _ = try Environment(path: path, tables: [TableSpec("items")]) }
        var readOnly = existing
        readOnly.readOnly = true
        let later = TableSpec("thumbnails", flags: [.integerKey], addedLater: true)
        do {
            let old = try Environment(path: path, options: readOnly, tables: [TableSpec("items"), later])
            #expect(old.tableIfPresent("thumbnails") == nil)
            #expect(old.tableIfPresent("items") != nil)
        }
        do {
            let upgraded = try Environment(path: path, options: existing, tables: [TableSpec("items"), later])
            let table = try #require(upgraded.tableIfPresent("thumbnails"))
            try upgraded.write { txn in try txn.put(table, key: UInt32(7), value: [UInt8]([1, 2, 3])) }
        }
        let reopened = try Environment(path: path, options: readOnly, tables: [TableSpec("items"), later])
        let table = try #require(reopened.tableIfPresent("thumbnails"))
        #expect(try reopened.read { txn in try txn.get(table, key: UInt32(7)).map { Array($0) } } == [1, 2, 3])
    }

    @Test func tableFlagsMustMatchHowTheTableWasCreated() throws {
        let path = directory.sub("env")
        do { _ = try Environment(path: path, tables: [TableSpec("t", flags: [.duplicateSort])]) }
        let error = #expect(throws: StorageError.self) { try Environment(path: path, tables: [TableSpec("t", flags: [.integerKey])]) }
        #expect(error?.code == .versionMismatch)
    }

    @Test func badKeySizesAreRefusedWithTheirCode() throws {
        let env = try Environment(path: directory.sub("env"), tables: [TableSpec("items")])
        let items = try env.table("items")
        for key in [[UInt8](), [UInt8](repeating: 1, count: 600)] {
            let error = #expect(throws: StorageError.self) { try env.write { txn in try txn.put(items, key: key, value: "v") } }
            #expect(error?.code == .badValueSize)
        }
    }

    @Test func closedEnvironmentRefusesTransactions() throws {
        let env = try Environment(path: directory.sub("env"))
        env.close()
        let error = #expect(throws: StorageError.self) { try env.read { _ in 0 } }
        #expect(error?.code == .closed)
    }

    @Test func newFilesAreNotWorldAccessible() throws {
        let path = directory.sub("env")
        _ = try Environment(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path + "/data.mdb")
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o777
        #expect(mode & 0o007 == 0)
    }
}
