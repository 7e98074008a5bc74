import HammingSearch
import LMDBStorage

/// Edits of code chunks within one write transaction: each touched chunk is copied once,
/// changed in memory, and written back once when the batch ends.
struct ChunkEditor {
    let layout: CodeChunkLayout
    let table: Table
    private var edited: [Int: [UInt8]] = [:]

    init(layout: CodeChunkLayout, table: Table) {
        self.layout = layout
        self.table = table
    }

    /// The current words of `id` (edited or committed), or `nil` if its chunk does not exist.
    mutating func code(of id: UInt32, _ txn: borrowing Transaction) throws -> [UInt64]? {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        if edited[chunk] == nil {
            guard try txn.get(table, key: UInt32(chunk)) != nil else { return nil }
        }
        try load(chunk, txn)
        return edited[chunk]!.withUnsafeBytes { bytes in
            Array(UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt64.self) + slot * layout.words,
                                      count: layout.words))
        }
    }

    /// Stores `code` under `id` and marks it live or dead.
    mutating func set(_ id: UInt32, code: [UInt64]?, live: Bool, _ txn: borrowing Transaction) throws {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        try load(chunk, txn)
        let words = layout.words
        let liveOffset = layout.liveOffset
        edited[chunk]!.withUnsafeMutableBytes { bytes in
            if let code {
                let target = bytes.baseAddress!.assumingMemoryBound(to: UInt64.self) + slot * words
                for (i, word) in code.enumerated() { target[i] = word }
            }
            let bit = UInt8(1) << UInt8(slot & 7)
            if live { bytes[liveOffset + slot / 8] |= bit } else { bytes[liveOffset + slot / 8] &= ~bit }
        }
    }

    /// Writes every edited chunk back.
    mutating func flush(_ txn: borrowing Transaction) throws {
        for (chunk, bytes) in edited.sorted(by: { $0.key < $1.key }) {
            try txn.put(table, key: UInt32(chunk), reservingCount: bytes.count) { target in
                bytes.withUnsafeBytes { target.copyMemory(from: $0) }
            }
        }
        edited.removeAll()
    }

    private mutating func load(_ chunk: Int, _ txn: borrowing Transaction) throws {
        guard edited[chunk] == nil else { return }
        if let committed = try txn.get(table, key: UInt32(chunk)) {
            guard committed.count == layout.chunkBytes else {
                throw StoreError(.corrupted, "code chunk \(chunk) is \(committed.count) bytes, not \(layout.chunkBytes)")
            }
            edited[chunk] = Array(committed)
        } else {
            edited[chunk] = [UInt8](repeating: 0, count: layout.chunkBytes)
        }
    }
}
