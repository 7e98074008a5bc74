import BGAN
import Foundation
import Testing
import TestSupport

/// Every class of bad input in `Fixtures/bad/` (and the ones that must be made at run time: links,
/// permissions, full disks), fed to `bgan-db`: each is refused with an error that says what and
/// why, and nothing already stored is lost or half-written.
@Suite struct BadInputTests {
    let directory = TemporaryDirectory("bad")
    static let bad = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/bad")
    static func fixture(_ name: String) -> String { bad.appendingPathComponent(name).path }
    static let data = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    static let runningAsRoot = geteuid() == 0

    @discardableResult
    func run(_ arguments: String...) throws -> CLI.Outcome { try CLI.run(arguments) }

    /// A store bound to the bundled 64-bit model holding `count` Fashion-MNIST test images.
    func store(_ name: String, holding count: Int = 20) throws -> String {
        let path = directory.sub(name)
        #expect(try run("create", path, "--bits", "64").status == 0)
        if count > 0 { #expect(try run("ingest", path, Self.data, "--limit", "\(count)").status == 0) }
        return path
    }

    /// The store still holds `count` items and passes `verify`.
    func expectIntact(_ store: String, count: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let stats = try run("stats", store, "--json")
        let items = (try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])?["items"] as? Int
        #expect(items == count, "items: \(stats.stdout) \(stats.stderr)", sourceLocation: sourceLocation)
        #expect(try run("verify", store).status == 0, sourceLocation: sourceLocation)
    }

    /// Two files whose names differ only in Unicode normalisation are two keys (LMDB compares
    /// bytes), not "another source already gives the key".
    @Test func namesThatDifferOnlyInNormalisationAreTwoItems() throws {
        let store = try store("unicode", holding: 0)
        let folder = directory.sub("unicode-images")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, name) in ["caf\u{E9}.pgm", "cafe\u{301}.pgm"].enumerated() {
            let pixels = [UInt8](repeating: UInt8(40 + 100 * index), count: 28 * 28)
            try Data(Array("P5\n28 28\n255\n".utf8) + pixels).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 2)
        let ingest = try run("ingest", store, folder)
        #expect(ingest.status == 0 && !ingest.stderr.contains("already gives"), "\(ingest.stderr)")
        try expectIntact(store, count: 2)
    }

    @Test func brokenImagesAreRejectedOneByOneWithTheirReason() throws {
        let store = try store("images")
        let ingest = try run("ingest", store, Self.fixture("images"))
        #expect(ingest.status == 1, "rejects make the exit status 1")
        let expected = [
            "truncated.png": "damaged or truncated PNG",
            "zero-bytes.png": "not a PNG, JPEG, WebP, BMP, PGM or PPM image",
            "wrong-magic.png": "not a PNG, JPEG, WebP, BMP, PGM or PPM image",
            "not-an-image.txt": "not a PNG, JPEG, WebP, BMP, PGM or PPM image",
            "huge-dimensions.png": "declares 100000×100000 pixels, more than the limit",
            "huge-dimensions.pgm": "declares 100000×100000 pixels, more than the limit",
            "huge-dimensions.jpg": "declares 65000×65000 pixels, more than the limit",
            "truncated.pgm": "truncated PGM file",
            "bad-colour-type.png": "not a readable PNG",
        ]
        for (file, reason) in expected {
            #expect(ingest.stderr.contains { _ in true } && ingest.stderr.split(separator: "\n").contains { $0.contains(file) && $0.contains(reason) },
                    "\(file) should be rejected with '\(reason)': \(ingest.stderr)")
        }
        #expect(ingest.stderr.contains("ingested 0 new images, 0 already stored, \(expected.count) rejected"), "\(ingest.stderr)")
        for file in expected.keys {
            let put = try run("put", store, "key", "--image", Self.fixture("images/\(file)"))
            #expect(put.status == 1 && put.stderr.contains(file), "\(put.stderr)")
        }
        try expectIntact(store, count: 20)
    }

    @Test func linksLoopsAndUnreadableFilesInAFolderAreReportedAndSkipped() throws {
        let folder = directory.sub("folder")
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        let good = Self.bad.deletingLastPathComponent().appendingPathComponent("images/gray8.png").path
        try FileManager.default.copyItem(atPath: good, toPath: folder + "/good.png")
        try FileManager.default.createSymbolicLink(atPath: folder + "/loop-a.png", withDestinationPath: folder + "/loop-b.png")
        try FileManager.default.createSymbolicLink(atPath: folder + "/loop-b.png", withDestinationPath: folder + "/loop-a.png")
        try FileManager.default.createSymbolicLink(atPath: folder + "/dangling.png", withDestinationPath: folder + "/missing.png")
        try FileManager.default.createSymbolicLink(atPath: folder + "/sub/up", withDestinationPath: "..")
        try FileManager.default.copyItem(atPath: good, toPath: folder + "/unreadable.png")
        chmod(folder + "/unreadable.png", 0)
        let store = try store("links", holding: 0)
        // As root every file is readable: the unreadable file is then tried as an unprivileged user.
        if Self.runningAsRoot { chown(store, CLI.nobody, CLI.nobody); for file in ["data.mdb", "lock.mdb"] { chown(store + "/" + file, CLI.nobody, CLI.nobody) } }
        let ingest = try CLI.run(["ingest", store, folder], asUser: Self.runningAsRoot ? CLI.nobody : nil)
        #expect(ingest.status == 1, "\(ingest.stderr)")
        #expect(ingest.stderr.contains("ingested 1 new images"), "\(ingest.stderr)")
        for link in ["loop-a.png", "loop-b.png", "dangling.png", "sub/up"] {
            #expect(ingest.stderr.split(separator: "\n").contains { $0.contains(link) && $0.contains("symbolic link") }, "\(link): \(ingest.stderr)")
        }
        #expect(ingest.stderr.split(separator: "\n").contains { $0.contains("unreadable.png") && $0.lowercased().contains("permission") },
                "\(ingest.stderr)")
        // Keys are paths inside the folder, from the walk: no link was followed out of it.
        let exported = directory.sub("keys.ndjson")
        #expect(try run("export", store, "--format", "ndjson", exported).status == 0)
        let keys = try String(contentsOfFile: exported, encoding: .utf8).split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["key"] as? String
        }
        #expect(keys == ["good.png"], "\(keys)")
        try expectIntact(store, count: 1)
    }

    @Test(arguments: [
        ("models/truncated.bganmodel", "digest does not match its contents"),
        ("models/bit-flipped.bganmodel", "digest does not match its contents"),
        ("models/version-6.bganmodel", "format version 6; this build reads versions 1 to 5 (a newer build wrote it)"),
        ("models/huge-architecture.bganmodel", "architecture is unusable"),
        ("models/mirror-averaging-version-1.bganmodel", "asks for mirror averaging, which makes format version 2, but it is format version 1"),
        ("models/standardised-input-version-2.bganmodel", "asks for a standardised input, which makes format version 3, but it is format version 2"),
        ("models/not-a-model.bganmodel", "too short to be a model file"),
    ])
    func damagedForeignOrHostileModelFilesAreRefusedBeforeAnyWrite(file: String, reason: String) throws {
        let path = directory.sub("never-created")
        let create = try run("create", path, "--model", Self.fixture(file))
        #expect(create.status == 1 && create.stderr.contains(reason), "\(create.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path), "nothing is created")
        let store = try store("bound")
        let ingest = try run("ingest", store, Self.data, "--limit", "40", "--model", Self.fixture(file))
        #expect(ingest.status == 1 && ingest.stderr.contains(reason), "\(ingest.stderr)")
        try expectIntact(store, count: 20)
    }

    @Test func aModelOfAnotherCodeLengthOrStoreIsRefusedNamingBothDigests() throws {
        let store = try store("other-model")
        let model16 = try ModelFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixture("models/valid-16bit.bganmodel")))))
        let ingest = try run("ingest", store, Self.data, "--limit", "40", "--model", Self.fixture("models/valid-16bit.bganmodel"))
        #expect(ingest.status == 1 && ingest.stderr.contains(String(model16.digest.prefix(16))), "\(ingest.stderr)")
        #expect(ingest.stderr.contains(String(try DefaultModel.load(bits: 64).digest.prefix(16))), "\(ingest.stderr)")
        let reencode = try run("reencode", store, "--model", Self.fixture("models/huge-architecture.bganmodel"))
        #expect(reencode.status == 1 && reencode.stderr.contains("architecture is unusable"), "\(reencode.stderr)")
        try expectIntact(store, count: 20)
    }

    @Test func codesOfTheWrongLengthAreRefused() throws {
        let store = try store("codes")
        let imported = try run("import", store, "--codes", Self.fixture("codes/32-bit-codes.npy"))
        #expect(imported.status == 1 && imported.stderr.contains("32 bits") && imported.stderr.contains("64-bit"), "\(imported.stderr)")
        let query = try run("query", store, "--code", "00ff00ff")
        #expect(query.status == 1 && query.stderr.contains("32-bit code was given to a store of 64-bit codes"), "\(query.stderr)")
        let put = try run("put", store, "k", "--code", "00ff")
        #expect(put.status == 1 && put.stderr.contains("16-bit code"), "\(put.stderr)")
        try expectIntact(store, count: 20)
    }

    @Test func pathsThatAreNotStoresAreNamedAsSuch() throws {
        let plain = directory.sub("plain")
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: URL(fileURLWithPath: plain + "/notes.txt"))
        for path in [plain, plain + "/notes.txt", directory.sub("missing")] {
            let stats = try run("stats", path)
            #expect(stats.status == 1 && (stats.stderr.contains("not a store") || stats.stderr.contains("does not exist")), "\(path): \(stats.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.sub("missing")), "reading a missing store creates nothing")
        let exists = try run("create", try store("twice"), "--bits", "64")
        #expect(exists.status == 1 && exists.stderr.contains("already holds a store"), "\(exists.stderr)")
    }

    @Test func storesAreNotWorldAccessibleAndOtherUsersAreToldWhy() throws {
        let store = try store("private")
        for file in ["", "/data.mdb", "/lock.mdb"] {
            let mode = try FileManager.default.attributesOfItem(atPath: store + file)[.posixPermissions] as? Int ?? 0o777
            #expect(mode & 0o007 == 0, "\(store + file) is \(String(mode, radix: 8)): nothing for other users")
        }
        // Another user (nobody, when the tests run as root) cannot open it, and is told why.
        guard Self.runningAsRoot else { return }
        let stats = try CLI.run(["stats", store], asUser: CLI.nobody)
        #expect(stats.status == 1 && stats.stderr.lowercased().contains("permission"), "\(stats.stderr)")
        // A store whose directory the user may read but not write: a read needs the lock file.
        chmod(store, 0o755)
        for file in ["data.mdb", "lock.mdb"] { chmod(store + "/" + file, 0o644) }
        let query = try CLI.run(["query", store, Self.data, "--limit", "1"], asUser: CLI.nobody)
        #expect(query.status == 1 && query.stderr.lowercased().contains("permission"), "\(query.stderr)")
        try expectIntact(store, count: 20)
        // A store inside a directory this user may not enter is unreachable, not missing.
        let closed = directory.sub("closed")
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: true)
        let inside = closed + "/store"
        #expect(try run("create", inside, "--bits", "64").status == 0)
        chmod(closed, 0o700)
        chmod(directory.path, 0o755)
        let hidden = try CLI.run(["stats", inside], asUser: CLI.nobody)
        #expect(hidden.status == 1 && hidden.stderr.contains("permissionDenied: \(inside) cannot be reached"), "\(hidden.stderr)")
        let missing = try CLI.run(["stats", directory.sub("no-such-store")], asUser: CLI.nobody)
        #expect(missing.status == 1 && missing.stderr.contains("notAStore:"), "\(missing.stderr)")
    }

    /// Runs `body` with a 3 MiB tmpfs mounted at `sub(name)`, unmounted afterwards; does nothing
    /// where mounting fails.
    func onTinyFileSystem(_ name: String, _ body: (String) throws -> Void) throws {
        let mountPoint = directory.sub(name)
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { return }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mountPoint]
            try? umount.run()
            umount.waitUntilExit()
        }
        try body(mountPoint)
    }

    /// A backup onto a 3 MiB tmpfs that cannot hold it fails with the reason and leaves neither a
    /// data.mdb nor a partial file behind; the same command into a roomy folder then works.
    @Test(.enabled(if: runningAsRoot, "mounting a small file system needs root"))
    func aBackupThatDoesNotFitLeavesNothingBehind() throws {
        let store = try store("big", holding: 2000)
        try onTinyFileSystem("tiny-backup") { mountPoint in
            let full = try run("backup", store, mountPoint + "/copy")
            #expect(full.status == 1 && full.stderr.contains("backup"), "\(full.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint + "/copy") == [], "no data.mdb, no partial file")
        }
        #expect(try run("backup", store, directory.sub("roomy")).status == 0)
        try expectIntact(directory.sub("roomy"), count: 2000)
    }

    /// A 3 MiB tmpfs fills up during an ingestion: the batch that does not fit fails with a
    /// clear error, the batches before it stay, and a store that cannot be created leaves nothing.
    @Test(.enabled(if: runningAsRoot, "mounting a small file system needs root"))
    func aFullDiskFailsTheBatchNotTheStore() throws {
        try onTinyFileSystem("tiny") { mountPoint in try fillTinyFileSystem(mountPoint) }
    }

    func fillTinyFileSystem(_ mountPoint: String) throws {
        let store = mountPoint + "/store"
        #expect(try run("create", store, "--bits", "16", "--model", Self.fixture("models/valid-16bit.bganmodel")).status == 0)
        let ingest = try run("ingest", store, Self.data)
        #expect(ingest.status == 1 && ingest.stderr.contains("disk may be full"), "\(ingest.stderr)")
        let stats = try run("stats", store, "--json")
        let items = (try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])?["items"] as? Int ?? -1
        #expect(items > 0 && items < 10_000 && items % 512 == 0, "whole batches of 512 stay: \(items)")
        #expect(try run("verify", store).status == 0)
        // The disk is full now: a new store (with a 6.7 MB model) cannot be made, and leaves nothing.
        let second = try run("create", mountPoint + "/second", "--bits", "64")
        #expect(second.status == 1, "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: mountPoint + "/second"), "a store is created whole or not at all")
    }
}
