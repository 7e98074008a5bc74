import HammingSearch
import LMDBStorage

#if _endian(big)
#error("BGANStore's on-disk codes are little-endian words read in place; big-endian hosts are not supported")
#endif

/// Edits of code chunks within one write transaction: each touched chunk is copied out once,
/// changed in memory, and written back once when the batch ends.
final class ChunkEditor {
    let layout: CodeChunkLayout
    let table: Table
    private var edited: [Int: UnsafeMutableRawBufferPointer] = [:]
    private var lastChunk = -1
    private var lastBuffer: UnsafeMutableRawBufferPointer?

    init(layout: CodeChunkLayout, table: Table) {
        self.layout = layout
        self.table = table
    }

    deinit { edited.values.forEach { $0.deallocate() } }

    /// The current words of `id` (edited or committed), or `nil` if its chunk does not exist.
    func code(of id: UInt32, _ txn: borrowing Transaction) throws -> [UInt64]? {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        if edited[chunk] == nil, try txn.get(table, key: UInt32(chunk)) == nil { return nil }
        let buffer = try self.buffer(chunk, txn)
        let words = buffer.baseAddress!.assumingMemoryBound(to: UInt64.self) + slot * layout.words
        return Array(UnsafeBufferPointer(start: words, count: layout.words))
    }

    /// Whether `id` is marked live, as edited so far in this batch or else as committed.
    func isLive(_ id: UInt32, _ txn: borrowing Transaction) throws -> Bool {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        let byte = layout.liveOffset + slot / 8
        let bit = UInt8(1) << UInt8(slot & 7)
        if let buffer = edited[chunk] { return buffer[byte] & bit != 0 }
        guard let committed = try txn.get(table, key: UInt32(chunk)) else { return false }
        guard committed.count == layout.chunkBytes else {
            throw StoreError(.corrupted, "code chunk \(chunk) is \(committed.count) bytes, not \(layout.chunkBytes); verify the store (`Store.verify()`)")
        }
        return committed[byte] & bit != 0
    }

    /// Stores `code` (words) under `id`, if given, and marks the id live or dead.
    func set(_ id: UInt32, code: [UInt64]?, live: Bool, _ txn: borrowing Transaction) throws {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        let buffer = try self.buffer(chunk, txn)
        if let code {
            let target = buffer.baseAddress!.assumingMemoryBound(to: UInt64.self) + slot * layout.words
            for (i, word) in code.enumerated() { target[i] = word }
        }
        mark(buffer, slot: slot, live: live)
    }

    /// Stores a code given as packed bytes (`bits / 8` of them) under `id` and marks it live.
    func set(_ id: UInt32, codeBytes: UnsafeRawBufferPointer, _ txn: borrowing Transaction) throws {
        let (chunk, slot) = CodeChunkLayout.locate(id)
        let buffer = try self.buffer(chunk, txn)
        let target = UnsafeMutableRawBufferPointer(rebasing: buffer[(slot * layout.words * 8)..<((slot + 1) * layout.words * 8)])
        target.copyMemory(from: codeBytes)
        if codeBytes.count < target.count {
            UnsafeMutableRawBufferPointer(rebasing: target[codeBytes.count...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
        mark(buffer, slot: slot, live: true)
    }

    /// Writes every edited chunk back.
    func flush(_ txn: borrowing Transaction) throws {
        lastChunk = -1
        lastBuffer = nil
        for (chunk, bytes) in edited.sorted(by: { $0.key < $1.key }) {
            try txn.put(table, key: UInt32(chunk), reservingCount: bytes.count) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(bytes))
            }
            // Forget each buffer as it is freed, so a later failure cannot free it twice.
            edited[chunk] = nil
            bytes.deallocate()
        }
    }

    private func mark(_ buffer: UnsafeMutableRawBufferPointer, slot: Int, live: Bool) {
        let bit = UInt8(1) << UInt8(slot & 7)
        let index = layout.liveOffset + slot / 8
        if live { buffer[index] |= bit } else { buffer[index] &= ~bit }
    }

    /// The working copy of `chunk`, loaded from the transaction (or zeroed) the first time.
    private func buffer(_ chunk: Int, _ txn: borrowing Transaction) throws -> UnsafeMutableRawBufferPointer {
        if chunk == lastChunk, let lastBuffer { return lastBuffer }
        let buffer: UnsafeMutableRawBufferPointer
        if let existing = edited[chunk] {
            buffer = existing
        } else {
            let committed = try txn.get(table, key: UInt32(chunk))
            if let committed, committed.count != layout.chunkBytes {
                throw StoreError(.corrupted, "code chunk \(chunk) is \(committed.count) bytes, not \(layout.chunkBytes)")
            }
            buffer = .allocate(byteCount: layout.chunkBytes, alignment: 64)
            if let committed {
                buffer.copyMemory(from: committed)
            } else {
                buffer.initializeMemory(as: UInt8.self, repeating: 0)
            }
            edited[chunk] = buffer
        }
        lastChunk = chunk
        lastBuffer = buffer
        return buffer
    }
}
