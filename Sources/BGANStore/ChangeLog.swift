import HammingSearch
import LMDBStorage

/// Where a store's change log stands (``StoreSchema/MetaKey/changeLog``): the number of its
/// last change, and the number up to which changes are no longer in the log.
struct ChangeLogState: Equatable {
    /// The last change's number; a cursor taken now is this number.
    var last: UInt64
    /// Changes numbered up to this are gone from the log (trimmed, or made before it began).
    var trimmedThrough: UInt64

    init(last: UInt64, trimmedThrough: UInt64) {
        self.last = last
        self.trimmedThrough = trimmedThrough
    }

    /// The state in the meta table, or nil when the store keeps no change log.
    init?(reading txn: borrowing Transaction, table: Table) throws {
        guard let last = try Self.counter(StoreSchema.MetaKey.changeLog, txn, table) else { return nil }
        let trimmed = try Self.counter(StoreSchema.MetaKey.changesTrimmedThrough, txn, table) ?? 0
        guard trimmed <= last else {
            throw StoreError(.corrupted, "the store's change log is trimmed through change \(trimmed), after its last change \(last); verify the store (`Store.verify()`)")
        }
        self.init(last: last, trimmedThrough: trimmed)
    }

    func write(_ txn: borrowing Transaction, table: Table) throws {
        try txn.put(table, key: StoreSchema.MetaKey.changeLog, value: last.littleEndian)
        try txn.put(table, key: StoreSchema.MetaKey.changesTrimmedThrough, value: trimmedThrough.littleEndian)
    }

    private static func counter(_ key: String, _ txn: borrowing Transaction, _ table: Table) throws -> UInt64? {
        guard let bytes = try txn.get(table, key: key) else { return nil }
        guard let value = bytes.uint64Value else {
            throw StoreError(.corrupted, "the store's meta record '\(key)' is \(bytes.count) bytes, not 8")
        }
        return UInt64(littleEndian: value)
    }
}

/// One entry of the `changes` table: what one write did to some items. A write logs its new
/// ids as one range, each replaced item by id, each removed item by id and key (the key is gone
/// from the store afterwards, and a consumer may hold items by key).
enum ChangeLogEntry: Equatable {
    case inserted(Range<UInt32>)
    case replaced(UInt32)
    case removed(UInt32, key: String)

    private enum Kind: UInt8 { case inserted = 1, replaced = 2, removed = 3 }

    /// Kind byte, then little-endian ids: first and count, an id, or an id and the key's UTF-8.
    var encoded: [UInt8] {
        func bytes(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        switch self {
        case .inserted(let ids):
            return [Kind.inserted.rawValue] + bytes(ids.lowerBound) + bytes(UInt32(ids.count))
        case .replaced(let id):
            return [Kind.replaced.rawValue] + bytes(id)
        case .removed(let id, let key):
            return [Kind.removed.rawValue] + bytes(id) + Array(key.utf8)
        }
    }

    init(decoding bytes: UnsafeRawBufferPointer, number: UInt64) throws {
        func damaged() -> StoreError {
            StoreError(.corrupted, "change \(number) in the store's change log is damaged (\(bytes.count) bytes); verify the store (`Store.verify()`)")
        }
        guard bytes.count >= 5, let kind = Kind(rawValue: bytes[0]) else { throw damaged() }
        let id = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 1, as: UInt32.self))
        guard UInt64(id) < StoreSchema.idCapacity else { throw damaged() }
        switch kind {
        case .inserted:
            guard bytes.count == 9 else { throw damaged() }
            let count = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 5, as: UInt32.self))
            guard UInt64(id) + UInt64(count) <= StoreSchema.idCapacity else { throw damaged() }
            self = .inserted(id..<(id + count))
        case .replaced:
            guard bytes.count == 5 else { throw damaged() }
            self = .replaced(id)
        case .removed:
            guard let key = String(validating: UnsafeRawBufferPointer(rebasing: bytes[5...]), as: UTF8.self), !key.isEmpty else { throw damaged() }
            self = .removed(id, key: key)
        }
    }

    /// The ids the entry names.
    var ids: Range<UInt32> {
        switch self {
        case .inserted(let ids): return ids
        case .replaced(let id), .removed(let id, _): return id..<(id + 1)
        }
    }
}

/// One item's net change between a cursor and now, as ``Store/forEachChange(since:_:)`` gives it.
public enum StoreChange: Sendable, Equatable {
    /// The item is live now and was inserted or written since the cursor: here it is as stored.
    case upserted(StoredItem)
    /// The item was live at the cursor and has been removed since. Ids are never handed out
    /// twice, so a consumer may hold items by id or by key.
    case removed(id: UInt32, key: String)
}

/// The net changes since a cursor, gathered (`Store.changes(since:)`).
public struct StoreChanges: Sendable, Equatable {
    /// An item live at the old cursor and removed since.
    public struct Removal: Sendable, Equatable {
        public var id: UInt32
        public var key: String
    }

    /// The cursor these changes bring a consumer to: pass it to the next call.
    public var cursor: UInt64
    /// Items live at the old cursor and removed since, in id order.
    public var removed: [Removal] = []
    /// Items inserted or written since the old cursor and live now, in id order.
    public var upserted: [StoredItem] = []
}

extension Store {
    // MARK: Reading the log

    /// The store's change cursor: the number of its last change, what a consumer that holds
    /// every item as it is now passes to ``forEachChange(since:_:)`` later. Nil when the store
    /// keeps no change log (`enableChangeLog()`).
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func changeCursor() throws -> UInt64? {
        try environment.read { txn in try readMeta(txn).changeLog?.last }
    }

    /// Calls `body` with each item's net change since `cursor`, from one consistent read of the
    /// store: first every removal (id order), then every insert or rewrite (id order), each item
    /// once as it is now. Applied in that order to a copy that matched the store at `cursor`,
    /// they make it match the store at the returned cursor.
    ///
    /// - Parameters:
    ///   - cursor: a cursor from `changeCursor()`, an earlier call, or the export that filled
    ///     the consumer (``ExportReport/cursor``); 0 for an empty consumer.
    ///   - body: called with each change, removals first; an error it throws ends the walk.
    /// - Returns: the cursor to pass next time.
    /// - Throws: `StoreError` `.changesUnavailable` when the store keeps no change log, its log
    ///   was trimmed past `cursor` (`trimChanges(through:)`) or began after it, or `cursor` is
    ///   beyond the store's last change (another store's cursor, or a restore from an older
    ///   backup): the consumer then needs a full export.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call changes(since:), which runs on the store's BlockingPool")
    public func forEachChange(since cursor: UInt64, _ body: (StoreChange) throws -> Void) throws -> UInt64 {
        try environment.read { txn in
            let meta = try readMeta(txn)
            guard let log = meta.changeLog else {
                throw StoreError(.changesUnavailable, "\(path) keeps no change log; enable one (`bgan-db changes STORE --enable`, `Store.enableChangeLog()`), then fill the consumer from a full export and sync from its cursor")
            }
            guard cursor <= log.last else {
                throw StoreError(.changesUnavailable, "cursor \(cursor) is beyond \(path)'s last change \(log.last): it belongs to another store, or the store was restored from an older copy; fill the consumer from a full export")
            }
            guard cursor >= log.trimmedThrough else {
                throw StoreError(.changesUnavailable, "\(path)'s change log no longer holds the changes after cursor \(cursor) (it begins after change \(log.trimmedThrough): trimmed, re-encoded, or started after the cursor was taken); fill the consumer from a full export and sync from its cursor")
            }
            let window = try ChangeWindow(reading: txn, table: tables.changes, after: cursor)
            for (id, key) in window.removedBeforeWindow() {
                try body(.removed(id: id, key: key))
            }
            let chunks = try StoreSnapshot(reading: txn, tables: tables, path: path, includingIndex: false).withoutIndex().indexSnapshot().chunks
            for ids in window.writtenRanges() {
                try forEachRecord(from: ids.lowerBound, txn, chunks: chunks) { id, record in
                    guard id < ids.upperBound else { return false }
                    try body(.upserted(try item(id: id, record: record, txn)))
                    return true
                }
            }
            return log.last
        }
    }

    /// ``forEachChange(since:_:)`` gathered into one value.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func changes(since cursor: UInt64) throws -> StoreChanges {
        var changes = StoreChanges(cursor: cursor)
        changes.cursor = try forEachChange(since: cursor) { change in
            switch change {
            case .upserted(let item): changes.upserted.append(item)
            case .removed(let id, let key): changes.removed.append(StoreChanges.Removal(id: id, key: key))
            }
        }
        return changes
    }

    // MARK: Keeping the log

    /// Starts logging every change to the items, so consumers (a replica, a distributed
    /// engine) can sync from a cursor instead of re-reading the store. Once on, the log stays on
    /// and the store is on-disk format 3, which builds before change logs refuse to open (they
    /// would write without logging). A store that holds items starts its log at change 1, after
    /// them: consumers first fill from a full export. Does nothing when the log is on already.
    /// - Returns: the store's change cursor.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func enableChangeLog() throws -> UInt64 {
        try writing { txn in
            var meta = try readMeta(txn)
            if let log = meta.changeLog { return log.last }
            let start: UInt64 = meta.liveCount == 0 ? 0 : 1
            meta.changeLog = ChangeLogState(last: start, trimmedThrough: start)
            try meta.write(txn, table: tables.meta)
            return start
        }
    }

    /// Deletes the log's changes up to `cursor` (every consumer has synced past it), keeping
    /// the log from growing without end. Consumers behind `cursor` then need a full export.
    /// - Returns: how many log entries were deleted.
    /// - Throws: `StoreError` `.changesUnavailable` when the store keeps no change log;
    ///   `.invalidArgument` when `cursor` is beyond its last change.
    @discardableResult
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func trimChanges(through cursor: UInt64) throws -> Int {
        try writing { txn in
            var meta = try readMeta(txn)
            guard var log = meta.changeLog, let table = tables.changes else {
                throw StoreError(.changesUnavailable, "\(path) keeps no change log to trim")
            }
            guard cursor <= log.last else {
                throw StoreError(.invalidArgument, "cursor \(cursor) is beyond \(path)'s last change \(log.last); trim through at most \(log.last)")
            }
            guard cursor > log.trimmedThrough else { return 0 }
            var numbers: [UInt64] = []
            try txn.withCursor(table) { entries in
                var entry = try entries.first()
                while let (key, _) = entry, let number = key.uint64Value, number <= cursor {
                    numbers.append(number)
                    entry = try entries.next()
                }
            }
            for number in numbers { try txn.delete(table, key: number) }
            let deleted = numbers.count
            log.trimmedThrough = cursor
            meta.changeLog = log
            try meta.write(txn, table: tables.meta)
            return deleted
        }
    }

    /// Makes the log begin after change `number` + 1, empty: what a re-encoding does to the new
    /// store, whose items all have new ids, so that no cursor of the old one syncs from it.
    func restartChangeLog(after number: UInt64) throws {
        try writing { txn in
            var meta = try readMeta(txn)
            meta.changeLog = ChangeLogState(last: number + 1, trimmedThrough: number + 1)
            if let table = tables.changes { try txn.clear(table) }
            try meta.write(txn, table: tables.meta)
        }
    }

    /// What is wrong with the change log, for ``verify()``: entries in a store without a log,
    /// entries numbered outside the log's span, damaged ones, ids never handed out.
    func changeLogProblems(_ txn: borrowing Transaction, meta: StoreMeta) throws -> [String] {
        guard let table = tables.changes else { return [] }
        var problems: [String] = []
        try txn.withCursor(table) { entries in
            var entry = try entries.first()
            while let (key, value) = entry, problems.count < 20 {
                defer { entry = try? entries.next() }
                guard let number = key.uint64Value else {
                    problems.append("the change log holds a \(key.count)-byte key; change numbers are 8 bytes")
                    continue
                }
                guard let log = meta.changeLog else {
                    problems.append("change \(number) is logged, but the store keeps no change log")
                    continue
                }
                if number <= log.trimmedThrough || number > log.last {
                    problems.append("change \(number) lies outside the log's span (after \(log.trimmedThrough), up to \(log.last))")
                }
                do {
                    let change = try ChangeLogEntry(decoding: value, number: number)
                    if change.ids.upperBound > meta.idLimit {
                        problems.append("change \(number) names ids up to \(change.ids.upperBound - 1), past the id limit \(meta.idLimit)")
                    }
                } catch {
                    problems.append("\(error)")
                }
            }
        }
        return problems
    }

    /// Appends `entry` to the log of a store that keeps one, inside the write that made the change.
    func logChange(_ entry: ChangeLogEntry, _ meta: inout StoreMeta, _ txn: borrowing Transaction) throws {
        guard var log = meta.changeLog, !entry.ids.isEmpty else { return }
        guard let table = tables.changes else {
            throw StoreError(.corrupted, "\(path) keeps a change log but has no changes table; verify the store (`Store.verify()`)")
        }
        log.last += 1
        try txn.put(table, key: log.last, value: entry.encoded, flags: .append)
        meta.changeLog = log
    }
}

/// The log's entries after a cursor, reduced to what a consumer needs: which ids were removed
/// and which were inserted or rewritten.
private struct ChangeWindow {
    /// Ids inserted after the cursor, as sorted, disjoint ranges (writes hand out ids upwards).
    private var inserted: [Range<UInt32>] = []
    private var replaced: Set<UInt32> = []
    private var removed: [UInt32: String] = [:]

    init(reading txn: borrowing Transaction, table: Table?, after cursor: UInt64) throws {
        guard let table else { return }
        try txn.withCursor(table) { entries in
            var entry = try entries.seek(atLeast: cursor &+ 1)
            while let (key, value) = entry {
                guard let number = key.uint64Value else {
                    throw StoreError(.corrupted, "the store's change log holds a \(key.count)-byte key; verify the store (`Store.verify()`)")
                }
                switch try ChangeLogEntry(decoding: value, number: number) {
                case .inserted(let ids):
                    if let last = inserted.last, last.upperBound == ids.lowerBound {
                        inserted[inserted.count - 1] = last.lowerBound..<ids.upperBound
                    } else {
                        inserted.append(ids)
                    }
                case .replaced(let id): replaced.insert(id)
                case .removed(let id, let key): removed[id] = key
                }
                entry = try entries.next()
            }
        }
    }

    private func wasInserted(_ id: UInt32) -> Bool {
        var low = 0, high = inserted.count
        while low < high {
            let middle = (low + high) / 2
            if inserted[middle].upperBound <= id { low = middle + 1 } else { high = middle }
        }
        return low < inserted.count && inserted[low].contains(id)
    }

    /// Removed ids a consumer at the cursor holds (inserted before it), with their keys, in id order.
    func removedBeforeWindow() -> [(UInt32, String)] {
        removed.filter { !wasInserted($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Every id inserted or rewritten, as sorted disjoint ranges: live ones among them are the upserts.
    func writtenRanges() -> [Range<UInt32>] {
        let singles = replaced.filter { !wasInserted($0) }.map { $0..<($0 + 1) }
        var merged: [Range<UInt32>] = []
        for range in (inserted + singles).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, last.upperBound >= range.lowerBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}

extension Store {
    /// `changeCursor()` on the store's ``BlockingPool``.
    public func changeCursor() async throws -> UInt64? {
        try await offPool { try $0.changeCursor() }
    }

    /// `changes(since:)` on the store's ``BlockingPool``.
    public func changes(since cursor: UInt64) async throws -> StoreChanges {
        try await offPool { try $0.changes(since: cursor) }
    }

    /// `enableChangeLog()` on the store's ``BlockingPool``.
    @discardableResult
    public func enableChangeLog() async throws -> UInt64 {
        try await offPool { try $0.enableChangeLog() }
    }

    /// `trimChanges(through:)` on the store's ``BlockingPool``.
    @discardableResult
    public func trimChanges(through cursor: UInt64) async throws -> Int {
        try await offPool { try $0.trimChanges(through: cursor) }
    }
}
