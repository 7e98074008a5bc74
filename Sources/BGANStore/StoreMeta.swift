import HammingSearch
import LMDBStorage

/// The store's settings and counters, kept in the `meta` table, one little-endian integer per key.
struct StoreMeta: Equatable {
    /// The version this record is written with: 3 once the store keeps a change log, else 2
    /// once it has row-keyed ids, else 1.
    var formatVersion: UInt32 {
        if changeLog != nil { return StoreSchema.changeLogFormatVersion }
        return rowKeyedIDs > 0 ? StoreSchema.rowKeyedFormatVersion : StoreSchema.formatVersion
    }
    /// Code length in bits.
    var bitCount: Int
    /// Substrings asked for by the user; 0 lets the store follow the log₂ N rule at each rebuild.
    var requestedSubstrings: Int
    /// Ids below this have been handed out.
    var idLimit: UInt32 = 0
    /// Live items.
    var liveCount = 0
    /// Substrings of the built segment (0: no segment).
    var segmentSubstrings = 0
    /// Items indexed by the segment.
    var segmentItems = 0
    /// First id the segment does not cover.
    var segmentEnd: UInt32 = 0
    /// Segment entries that no longer hold: items removed, or moved to another code, since the build.
    var staleEntries = 0
    /// Ids below this without an `items` record are items keyed by the id in decimal, with no
    /// payload (``StoreSchema/MetaKey/rowKeys``). Set once, by a bulk import into an empty store.
    var rowKeyedIDs: UInt32 = 0
    /// Where the store's change log stands, or nil when it keeps none (ChangeLog.swift).
    var changeLog: ChangeLogState?

    static let fields = StoreSchema.MetaKey.counters

    init(bitCount: Int, requestedSubstrings: Int) {
        self.bitCount = bitCount
        self.requestedSubstrings = requestedSubstrings
    }

    var values: [UInt64] {
        [UInt64(formatVersion), UInt64(bitCount), UInt64(requestedSubstrings), UInt64(idLimit), UInt64(liveCount),
         UInt64(segmentSubstrings), UInt64(segmentItems), UInt64(segmentEnd), UInt64(staleEntries)]
    }

    /// Reads the record, refusing a missing, short or foreign one.
    init(reading txn: borrowing Transaction, table: Table, path: String) throws {
        var values: [UInt64] = []
        for field in Self.fields {
            guard let bytes = try txn.get(table, key: field) else {
                if field == "format" {
                    throw StoreError(.notAStore, "\(path) holds an LMDB environment but no BGANStore metadata (a create that was interrupted leaves this); create the store there again (`Store.create(at:)`), which takes it over when it holds no data")
                }
                throw StoreError(.corrupted, "the store's meta record '\(field)' is missing; verify the store (`Store.verify()`) and restore from a backup")
            }
            guard let value = bytes.uint64Value else {
                throw StoreError(.corrupted, "the store's meta record '\(field)' is \(bytes.count) bytes, not 8")
            }
            values.append(UInt64(littleEndian: value))
        }
        let readable = StoreSchema.readableFormatVersions
        guard values[0] >= UInt64(readable.lowerBound), values[0] <= UInt64(readable.upperBound) else {
            throw StoreError(.unsupportedVersion, "\(path) has on-disk format \(values[0]); this build reads formats \(readable.lowerBound) to \(readable.upperBound). export the codes with the release that wrote it")
        }
        let rowKeys = try Self.rowKeyedIDs(reading: txn, table: table)
        if let rowKeys {
            guard UInt64(rowKeys) <= values[3] else {
                throw StoreError(.corrupted, "the store's meta record 'row-keys' (\(rowKeys)) is beyond the id limit \(values[3])")
            }
            rowKeyedIDs = rowKeys
        }
        changeLog = try ChangeLogState(reading: txn, table: table)
        if changeLog != nil {
            guard values[0] == UInt64(StoreSchema.changeLogFormatVersion) else {
                throw StoreError(.corrupted, "the store is format \(values[0]) but keeps a change log ('\(StoreSchema.MetaKey.changeLog)'), which only format 3 does")
            }
        } else {
            guard values[0] != UInt64(StoreSchema.changeLogFormatVersion) else {
                throw StoreError(.corrupted, "the store is format 3 but its meta record '\(StoreSchema.MetaKey.changeLog)' is missing")
            }
            guard (values[0] == UInt64(StoreSchema.rowKeyedFormatVersion)) == (rowKeyedIDs > 0) else {
                throw StoreError(.corrupted, "the store is format \(values[0]) but its meta record 'row-keys' is \(rowKeys == nil ? "missing" : "\(rowKeyedIDs)"); format 2 goes with row-keyed ids and only with them")
            }
        }
        guard values.allSatisfy({ $0 <= UInt64(UInt32.max) }) else {
            throw StoreError(.corrupted, "the store's meta records hold impossible values: \(values)")
        }
        bitCount = Int(values[1])
        requestedSubstrings = Int(values[2])
        idLimit = UInt32(truncatingIfNeeded: values[3])
        liveCount = Int(values[4])
        segmentSubstrings = Int(values[5])
        segmentItems = Int(values[6])
        segmentEnd = UInt32(truncatingIfNeeded: values[7])
        staleEntries = Int(values[8])
        do { try BinaryCode.validate(bitCount: bitCount) } catch {
            throw StoreError(.corrupted, "the store's code length \(bitCount) is invalid")
        }
        guard liveCount <= Int(idLimit), segmentEnd <= idLimit, segmentItems <= Int(segmentEnd) else {
            throw StoreError(.corrupted, "the store's counters contradict each other (live \(liveCount), ids \(idLimit), segment \(segmentItems) below \(segmentEnd)); verify the store (`Store.verify()`)")
        }
    }

    /// The `row-keys` record alone, or nil when the store has none (format 1): what key lookups
    /// read, since they need nothing else of the meta record.
    static func rowKeyedIDs(reading txn: borrowing Transaction, table: Table) throws -> UInt32? {
        guard let bytes = try txn.get(table, key: StoreSchema.MetaKey.rowKeys) else { return nil }
        guard let value = bytes.uint64Value, UInt64(littleEndian: value) <= UInt64(UInt32.max) else {
            throw StoreError(.corrupted, "the store's meta record 'row-keys' is damaged; verify the store (`Store.verify()`)")
        }
        return UInt32(UInt64(littleEndian: value))
    }

    func write(_ txn: borrowing Transaction, table: Table) throws {
        for (field, value) in zip(Self.fields, values) {
            try txn.put(table, key: field, value: value.littleEndian)
        }
        if rowKeyedIDs > 0 {
            try txn.put(table, key: StoreSchema.MetaKey.rowKeys, value: UInt64(rowKeyedIDs).littleEndian)
        }
        try changeLog?.write(txn, table: table)
    }
}
