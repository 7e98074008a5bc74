import BGAN
import Basics
import Foundation
import Logging
import PixelIO

/// What ``Reencoding/run(shouldStop:progress:)`` did.
public struct ReencodingReport: Codable, Sendable {
    /// Items encoded with the new model in this run.
    public var encoded = 0
    /// Items found already encoded (an interrupted earlier run).
    public var alreadyEncoded = 0
    /// Items of the store so far.
    public var total = 0
    /// Keys of items with no image to encode (inserted as codes, or kept without thumbnails,
    /// and not given by the image source), or whose image failed to load, with the reason.
    public var missing: [SkippedInput] = []
    /// Whether `shouldStop` ended the run; running it again goes on.
    public var stopped = false
    /// Whether the store now holds the new codes (the swap is done).
    public var finished = false
    /// Whether the store was bound to the new model before this run (nothing was done).
    public var wasBoundAlready = false
}

/// Moves a store to another encoder model, resumably: every item is encoded again with the new
/// model from its stored thumbnail (or from the original images, through ``imageSource``) into
/// a new store beside it (`STORE.reencode`), keeping keys, payloads and thumbnails; when every
/// item is there, the directories are swapped (the old one goes to `STORE.reencode-old` and is
/// removed unless ``keepOld``). An interruption at any point leaves the old store whole and in
/// place until the swap, which a later run completes; running again goes on where it stopped.
///
/// Stop writers to the store while it is re-encoded: a change after the start is detected and
/// refused before the swap. Readers in other processes keep the files they opened (the old
/// store) until they reopen the path.
public struct Reencoding: Sendable {
    /// The store to move.
    public let path: String
    public let model: ModelFile
    /// Images per transaction.
    public var batchSize = 512
    /// Swap even when some items have no image, leaving them out (they are listed).
    public var dropMissing = false
    /// Keep the old store in `STORE.reencode-old` after the swap.
    public var keepOld = false
    /// Where an item's pixels come from, by key, before its thumbnail is tried: for stores
    /// that keep no thumbnails, or to encode from the full-size originals.
    public var imageSource: (@Sendable (String) -> (@Sendable () throws -> PixelBuffer)?)?
    /// Where the run reports the swap (notice). Silent by default.
    public var logger: Logger = .disabled

    /// The new store while it is being filled.
    public var workPath: String { Self.trimmed(path) + ".reencode" }
    /// The old store between the swap and its removal.
    public var oldPath: String { Self.trimmed(path) + ".reencode-old" }

    /// Meta key of the work store: the old store's last transaction when the run began.

    public init(path: String, model: ModelFile) {
        self.path = path
        self.model = model
    }

    /// Encodes what is left, then swaps when every item is there.
    /// - Throws: `StoreError` `.incomplete` (nothing lost; the message says how to go on)
    ///   when items have no image and ``dropMissing`` is off, or the store was written to since
    ///   the re-encoding began; `StoreError` `.modelMismatch` when a
    ///   re-encoding to another model is under way; the store's errors.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func run(shouldStop: () -> Bool = { false }, progress: (ReencodingReport) -> Void = { _ in }) throws -> ReencodingReport {
        let files = FileManager.default
        let lock = try lockRun()
        defer { close(lock) }
        var report = ReencodingReport()
        // A swap cut short: the new store only waits to be moved into place.
        if !files.fileExists(atPath: path), files.fileExists(atPath: oldPath), files.fileExists(atPath: workPath) {
            try finishSwap()
            report.finished = true
            return report
        }
        var readOnly = StoreOptions()
        readOnly.readOnly = true
        let old = try Store(openingAt: path, options: readOnly)
        defer { old.close() }
        if try old.modelDigest() == model.digest {
            // Done before, perhaps up to the removal of the old store.
            if files.fileExists(atPath: oldPath), !keepOld { try files.removeItem(atPath: oldPath) }
            report.total = try old.count()
            report.finished = true
            report.wasBoundAlready = true
            return report
        }
        guard !files.fileExists(atPath: oldPath) else {
            throw StoreError(.alreadyExists, "\(oldPath) holds the old store of an earlier re-encoding (kept, or left by one interrupted after its swap); move or delete it, then run again")
        }
        if try old.retirement() != nil {
            // Killed between retiring the old store and moving it away: the work store is whole
            // (retiring comes after every check), so only the swap is left.
            let work = try Store(openingAt: workPath, options: readOnly)
            let ready = try work.modelDigest() == model.digest
            work.close()
            guard ready else {
                throw StoreError(.modelMismatch, "\(path) was retired by a re-encoding to another model, whose finished work waits in \(workPath); run that re-encoding again to complete its swap")
            }
            old.close()
            try files.moveItem(atPath: path, toPath: oldPath)
            try finishSwap()
            let swapped = try Store(openingAt: path, options: readOnly)
            defer { swapped.close() }
            report.total = try swapped.count()
            report.finished = true
            return report
        }
        let stamp = try sourceStamp(of: old)
        let work = try openOrCreateWork(like: old, stamp: stamp)
        defer { work.close() }

        report.total = try old.count()
        var nextID: UInt32 = 0
        while true {
            let page = try old.items(fromID: nextID, limit: 65_536)
            guard let last = page.last else { break }
            nextID = last.id &+ 1
            var units: [IngestionUnit] = []
            for item in page {
                if let load = imageSource?(item.key) {
                    units.append(IngestionUnit(key: item.key, payload: item.payload, name: item.key, load: load))
                } else if try old.hasThumbnail(id: item.id) {
                    let id = item.id
                    units.append(IngestionUnit(key: item.key, payload: item.payload, name: item.key) {
                        guard let image = try old.thumbnail(id: id) else { throw StoreError(.corrupted, "item \(id)'s thumbnail vanished") }
                        return image
                    })
                } else {
                    report.missing.append(SkippedInput(item.key, "no image: inserted as a code, or stored without a thumbnail"))
                }
            }
            let before = report
            let pageReport = try BulkIngestion(store: work, batchSize: batchSize).run(units, shouldStop: shouldStop) { partial in
                var current = before
                current.encoded += partial.added
                current.alreadyEncoded += partial.alreadyStored
                progress(current)
            }
            report.encoded += pageReport.added
            report.alreadyEncoded += pageReport.alreadyStored
            report.missing += pageReport.rejected
            if pageReport.stopped {
                report.stopped = true
                return report
            }
            if last.id == UInt32.max { break }
        }
        guard report.missing.isEmpty || dropMissing else {
            throw StoreError(.incomplete, "\(report.missing.count) of \(report.total) items have no image to encode with the new model (first: '\(report.missing[0].name.prefix(60))': \(report.missing[0].reason)); the \(report.encoded + report.alreadyEncoded) encoded are kept in \(workPath). Give the original images (`imageSource`), or leave those items out (`dropMissing`)")
        }
        guard try sourceStamp(of: old) == stamp else {
            throw StoreError(.incomplete, "\(path) was written to while it was re-encoded; stop its writers, delete \(workPath) and run again")
        }
        let expected = report.total - report.missing.count
        guard try work.count() == expected else {
            throw StoreError(.corrupted, "\(workPath) holds \(try work.count()) items where \(expected) were expected; delete it and run again")
        }
        if let oldCursor = try old.changeCursor() {
            // Every item has a new id and code: the log goes on after the old one's last change,
            // so every consumer's cursor asks for a full export instead of a wrong sync.
            try work.restartChangeLog(after: oldCursor)
        }
        old.close()
        work.close()
        try retireOldStore(expecting: stamp)
        try files.moveItem(atPath: path, toPath: oldPath)
        try finishSwap()
        report.finished = true
        return report
    }

    /// Marks the old store retired, in one write that first checks nothing was written since the
    /// re-encoding read it: a process that keeps the old store open and writes after the swap
    /// gets `StoreError` `.retired` instead of writing into files that are moved away.
    private func retireOldStore(expecting stamp: [UInt8]) throws {
        let old = try Store(openingAt: path)
        defer { old.close() }
        try old.writing { txn in
            // The stamp names the last committed transaction; this one comes right after it.
            guard Self.stamp(lastTransaction: txn.id - 1) == stamp else {
                throw StoreError(.incomplete, "\(path) was written to while it was re-encoded; stop its writers, delete \(workPath) and run again")
            }
            try txn.put(old.tables.meta, key: StoreSchema.MetaKey.retired,
                        value: Array("re-encoded to model \(model.digest.prefix(16))…; the new store took its place".utf8))
        }
    }

    /// Holds `STORE.reencode.lock` (an exclusive `flock`) for the whole run, so that a second
    /// re-encoding of the same store refuses to start instead of racing this one's swap.
    private func lockRun() throws -> Int32 {
        let lockPath = Self.trimmed(path) + ".reencode.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw StoreError(.permissionDenied, "cannot create \(lockPath) to lock the re-encoding (errno \(errno)); check the folder's permissions") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError(.incomplete, "another re-encoding of \(path) is running (it holds \(lockPath)); wait for it to finish")
        }
        return fd
    }

    /// Moves the work store into place and removes the old one (unless kept).
    private func finishSwap() throws {
        try FileManager.default.moveItem(atPath: workPath, toPath: path)
        if !keepOld { try FileManager.default.removeItem(atPath: oldPath) }
        logger.notice("re-encoded store swapped in", metadata: ["store": "\(path)", "model": "\(model.digest.prefix(16))", "old_kept": "\(keepOld ? oldPath : "no")"])
    }

    private func openOrCreateWork(like old: Store, stamp: [UInt8]) throws -> Store {
        if FileManager.default.fileExists(atPath: workPath) {
            let work: Store
            do {
                work = try Store(openingAt: workPath)
            } catch let error as StoreError where error.code == .notAStore {
                // The work store's create was cut short (a power loss before its first commit
                // reached the disk, found by the power-loss trials): nothing was re-encoded into it.
                logger.notice("taking over an interrupted create of the re-encoding's work store", metadata: ["store": "\(workPath)"])
                return try createWork(like: old, stamp: stamp)
            }
            do {
                try work.requireModel(model)
            } catch {
                work.close()
                throw StoreError(.modelMismatch, "\(workPath) holds a re-encoding of \(path) to another model; finish it with that model, or delete \(workPath)", cause: error)
            }
            let recorded = try work.environment.read { txn in try txn.get(work.tables.meta, key: StoreSchema.MetaKey.reencodeSource).map { Array($0) } }
            if recorded == nil, try work.count() == 0 {
                // Created, but cut before the source's stamp was written: nothing re-encoded yet.
                try work.environment.write { txn in try txn.put(work.tables.meta, key: StoreSchema.MetaKey.reencodeSource, value: stamp) }
                return work
            }
            guard recorded == stamp else {
                work.close()
                throw StoreError(.incomplete, "\(path) changed since the re-encoding in \(workPath) began; stop its writers, delete \(workPath) and run again")
            }
            return work
        }
        return try createWork(like: old, stamp: stamp)
    }

    /// A new work store for the model, with the old store's substrings and thumbnail side, stamped
    /// with the old store's last transaction.
    private func createWork(like old: Store, stamp: [UInt8]) throws -> Store {
        let requested = try old.statistics().requestedSubstrings
        let substrings = requested > 0 && requested <= model.header.architecture.bits ? requested : nil
        let work = try Store.create(at: workPath, model: model, substrings: substrings, thumbnailSide: try old.thumbnailSide())
        try work.environment.write { txn in try txn.put(work.tables.meta, key: StoreSchema.MetaKey.reencodeSource, value: stamp) }
        return work
    }

    /// The old store's last committed transaction: every write changes it.
    private func sourceStamp(of store: Store) throws -> [UInt8] {
        Self.stamp(lastTransaction: store.environment.info().lastTransactionID)
    }

    /// How a store's state is stamped: its last committed transaction.
    private static func stamp(lastTransaction id: Int) -> [UInt8] {
        Array("txn \(id)".utf8)
    }

    private static func trimmed(_ path: String) -> String {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }
}

extension Store {
    /// Whether item `id` has a thumbnail, without decoding it.
    func hasThumbnail(id: UInt32) throws -> Bool {
        guard let table = tables.thumbnails else { return false }
        return try environment.read { txn in try txn.get(table, key: id) != nil }
    }
}
