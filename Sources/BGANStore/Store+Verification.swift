import PerceptualHash
import BGAN
import HammingSearch
import LMDBStorage
import PixelIO

/// What `Store.verify()` found.
public struct VerificationReport: Sendable, Codable {
    /// Live items checked.
    public var items = 0
    /// Entries checked in the multi-index tables.
    public var indexEntries = 0
    /// Index entries of removed or changed items, awaiting the next rebuild (not an error).
    public var staleEntries = 0
    /// Everything found wrong; empty for a healthy store.
    public var problems: [String] = []

    public var isHealthy: Bool { problems.isEmpty }
}

extension Store {
    /// Checks every invariant of the store in one read transaction: keys and items map to each
    /// other one to one; exactly the items' ids are marked live in the code chunks; the counters
    /// agree; every live item is found in every multi-index table under its current code (or is
    /// listed as moved or as newer than the index), and the index lists nothing else but stale
    /// entries, whose number the store records; a bound model is intact, matches its digest
    /// stamp and makes codes of the store's length; thumbnails are PNGs and refinement vectors have
    /// the encoder's width (one byte per bit, or its ``ImageCodeEncoder/refinementWidth``; one
    /// width for all when the encoder cannot be resolved), both kept for live items only;
    /// change-log entries are well formed, numbered within the log and name handed-out ids.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func verify() throws -> VerificationReport {
        // Resolved before the read: the width the encoder's refinement vectors have, or nil when
        // it cannot be resolved (an application's encoder not given, a damaged model).
        let resolvedWidth: Int? = (try? imageSettings().encoder).map { $0.refinementWidth ?? bitCount }
        return try environment.read { txn in
            var report = VerificationReport()
            func problem(_ text: String) { if report.problems.count < 100 { report.problems.append(text) } }
            let base = try StoreSnapshot(reading: txn, tables: tables, path: path, includingIndex: false)
            let meta = base.meta
            let codes = try base.withoutIndex().indexSnapshot()

            // Items ↔ keys, and live bits. Below `rowKeyed` the live bits are the items (RowKeys.swift):
            // a record there only carries a payload, under the id's own number as key.
            let rowKeyed = meta.rowKeyedIDs
            var recordIDs = Set<UInt32>()
            var rowKeyedRecords = 0
            try txn.withCursor(tables.items) { cursor in
                var entry = try cursor.first()
                while let (key, value) = entry {
                    guard let id = key.uint32Value else {
                        problem("the items table holds a \(key.count)-byte key; item ids are 4 bytes")
                        entry = try cursor.next()
                        continue
                    }
                    recordIDs.insert(id)
                    do {
                        let record = try ItemRecord(decoding: value, id: id)
                        let mapped = try txn.get(tables.keys, key: record.key).map { $0.count == 4 ? $0.loadUnaligned(as: UInt32.self) : UInt32.max }
                        if id < rowKeyed {
                            rowKeyedRecords += 1
                            if record.key != String(id) { problem("row-keyed item \(id)'s record names it '\(record.key.prefix(60))'") }
                            if let mapped { problem("row-keyed item \(id)'s key also maps to \(mapped) in the keys table") }
                        } else if mapped != id {
                            problem("item \(id)'s key '\(record.key.prefix(60))' maps to \(mapped.map(String.init) ?? "nothing")")
                        }
                    } catch {
                        problem("\(error)")
                    }
                    if id >= meta.idLimit { problem("item \(id) is at or past the id limit \(meta.idLimit)") }
                    if !codes.chunks.isLive(id) { problem("item \(id) is not marked live in its code chunk") }
                    entry = try cursor.next()
                }
            }
            var liveMarked = 0
            var liveRowKeyed = 0
            codes.chunks.forEachLive(below: UInt32.max) { id, _ in
                liveMarked += 1
                if id < rowKeyed {
                    liveRowKeyed += 1
                } else if !recordIDs.contains(id) {
                    problem("id \(id) is marked live but has no item")
                }
            }
            let namedItems = recordIDs.count - rowKeyedRecords
            let itemCount = namedItems + liveRowKeyed
            let isItem = { (id: UInt32) in id < rowKeyed ? codes.chunks.isLive(id) : recordIDs.contains(id) }
            report.items = itemCount
            let keyCount = try txn.statistics(of: tables.keys).entries
            if keyCount != namedItems { problem("\(keyCount) keys but \(namedItems) items with a record of their own") }
            if rowKeyed > 0 {
                try txn.withCursor(tables.keys) { cursor in
                    var entry = try cursor.first()
                    while let (key, _) = entry {
                        if let row = RowKeys.row(named: String(decoding: key, as: UTF8.self), below: rowKeyed), codes.chunks.isLive(row) {
                            problem("key '\(row)' names both row-keyed item \(row) and an entry of the keys table")
                        }
                        entry = try cursor.next()
                    }
                }
            }
            if meta.liveCount != itemCount { problem("meta counts \(meta.liveCount) live items but there are \(itemCount)") }
            if liveMarked != itemCount { problem("\(liveMarked) ids are marked live for \(itemCount) items") }

            // The bound model: present with its stamp or absent with it, intact, of the store's length.
            let modelBytes = try txn.get(tables.meta, key: StoreSchema.MetaKey.model).map { Array($0) }
            let stamp = try txn.get(tables.meta, key: StoreSchema.MetaKey.modelDigest).map { String(decoding: $0, as: UTF8.self) }
            switch (modelBytes, stamp) {
            case (nil, nil): break
            case let (bytes?, stamp?):
                do {
                    let model = try ModelFile(bytes: bytes, source: "the stored model")
                    if model.digest != stamp { problem("the stored model's digest \(model.digest.prefix(16))… differs from the store's stamp \(stamp.prefix(16))…") }
                    if model.header.architecture.bits != meta.bitCount { problem("the stored model makes \(model.header.architecture.bits)-bit codes; the store holds \(meta.bitCount)-bit codes") }
                } catch {
                    problem("the stored model is damaged: \(error)")
                }
            default:
                problem("the store has a model without a digest stamp, or a stamp without a model")
            }
            if let stamp = try txn.get(tables.meta, key: StoreSchema.MetaKey.encoder).map({ Array($0) }) {
                if modelBytes != nil { problem("the store is stamped with both a model and the encoder '\(String(decoding: stamp, as: UTF8.self))'") }
                if let identity = try? Self.decodeIdentity(stamp, path: path) {
                    if identity.name == ModelEncoder.identityName { problem("the encoder stamp names a model (\(identity)) but the store holds none") }
                    if identity == PDQEncoder.identity && meta.bitCount != PDQ.bitCount { problem("the store is bound to PDQ but holds \(meta.bitCount)-bit codes, not \(PDQ.bitCount)") }
                } else {
                    problem("the encoder stamp is damaged")
                }
            }

            // Tables of what images leave beside their codes: entries of live items only, each well formed.
            var vectorWidth = resolvedWidth
            let imageExtras: [(table: Table?, what: String, malformed: (UInt32, UnsafeRawBufferPointer) -> String?)] = [
                (tables.thumbnails, "thumbnail", { id, value in
                    ImageDecoder.format(of: Array(value.prefix(8))) != .png ? "item \(id)'s thumbnail is not a PNG" : nil }),
                (tables.refinements, "refinement vector", { id, value in
                    let expected = vectorWidth ?? value.count
                    vectorWidth = expected
                    return value.count != expected ? "item \(id)'s refinement vector has \(value.count) bytes, not \(expected)" : nil }),
            ]
            for extra in imageExtras {
                guard let table = extra.table else { continue }
                try txn.withCursor(table) { cursor in
                    var entry = try cursor.first()
                    while let (key, value) = entry {
                        guard let id = key.uint32Value else {
                            problem("a \(extra.what) has a \(key.count)-byte key; item ids are 4 bytes")
                            entry = try cursor.next()
                            continue
                        }
                        if !isItem(id) { problem("a \(extra.what) is kept for id \(id), which is not a live item") }
                        if let complaint = extra.malformed(id, value) { problem(complaint) }
                        entry = try cursor.next()
                    }
                }
            }

            for complaint in try changeLogProblems(txn, meta: meta) { problem(complaint) }

            // The index, which may itself be what is damaged.
            let snapshot: StoreSnapshot
            let index: IndexSnapshot
            do {
                snapshot = try StoreSnapshot(reading: txn, tables: tables, path: path)
                index = try snapshot.indexSnapshot()
            } catch {
                problem("the multi-index cannot be read (\(error)); rebuild it (`Store.rebuildIndex()`)")
                return report
            }

            // Moved ids.
            let moved = Set(snapshot.movedIDs)
            for id in moved where id >= meta.segmentEnd || !isItem(id) {
                problem("moved id \(id) is not a live item covered by the index")
            }

            // The segment: every covered, unmoved live item under its current code, in every table.
            guard let segment = index.segment else {
                if meta.segmentEnd != 0 || meta.staleEntries != 0 { problem("no index is built but meta says it covers ids below \(meta.segmentEnd)") }
                return report
            }
            let layout = segment.layout
            var expected = 0
            codes.chunks.forEachLive(below: meta.segmentEnd) { id, _ in if isItem(id) && !moved.contains(id) { expected += 1 } }
            var staleInTable0 = 0
            for (table, segmentTable) in segment.tables.enumerated() {
                var found = 0
                var stale = 0
                var wrongFingerprints = 0
                for value in 0..<(UInt32(1) << UInt32(layout.lengths[table])) {
                    let bucket = segmentTable.bucket(value)
                    for (position, id) in zip((bucket.baseAddress! - segmentTable.ids)..., bucket) {
                        report.indexEntries += 1
                        guard let code = index.chunks.code(of: id), id < meta.segmentEnd else {
                            problem("table \(table) lists id \(id), which has no code below the index end")
                            continue
                        }
                        if !isItem(id) || moved.contains(id) {
                            stale += 1
                        } else if layout.value(of: code, table: table) == value {
                            found += 1
                            if let fingerprints = segmentTable.fingerprints, fingerprints[position] != layout.fingerprint(of: code, table: table) {
                                wrongFingerprints += 1
                            }
                        } else {
                            problem("table \(table) lists item \(id) under \(value), not under its code's substring")
                        }
                    }
                }
                if found != expected { problem("table \(table) lists \(found) of the \(expected) items it should") }
                if wrongFingerprints > 0 { problem("table \(table) holds \(wrongFingerprints) fingerprints that differ from their items' codes; rebuild the index (`Store.rebuildIndex()`)") }
                if table == 0 { staleInTable0 = stale } else if stale != staleInTable0 { problem("table \(table) has \(stale) stale entries, table 0 has \(staleInTable0)") }
            }
            report.staleEntries = staleInTable0
            if staleInTable0 != meta.staleEntries { problem("meta counts \(meta.staleEntries) stale index entries, the tables hold \(staleInTable0)") }
            return report
        }
    }
}
