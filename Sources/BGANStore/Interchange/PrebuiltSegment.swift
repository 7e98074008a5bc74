import Basics
import Foundation
import HammingSearch

/// A segment built from the rows of a bulk load on a thread of its own.
final class PrebuiltSegment: @unchecked Sendable {
    let layout: SubstringLayout
    private let matrix: NumPyByteMatrix
    private let firstID: UInt32
    private let done = DispatchSemaphore(value: 0)
    private var started = false
    private var finished = false
    /// Offsets, ids and fingerprints (nil when the layout has none) of each table; read after ``wait()``.
    private(set) var tables: [(offsets: [UInt32], ids: [UInt32], fingerprints: [UInt32]?)] = []

    init(layout: SubstringLayout, matrix: NumPyByteMatrix, firstID: UInt32) {
        self.layout = layout
        self.matrix = matrix
        self.firstID = firstID
    }

    func start() {
        started = true
        Thread { [self] in
            build()
            done.signal()
        }.start()
    }

    /// Waits for the build; safe to call more than once.
    func wait() {
        guard started, !finished else { return }
        done.wait()
        finished = true
    }

    private func build() {
        let rows = matrix.rows
        let words = BinaryCode.wordCount(forBits: layout.bitCount)
        // Codes as padded little-endian words, as the chunks hold them.
        var packed = [UInt64](repeating: 0, count: max(rows * words, 1))
        packed.withUnsafeMutableBytes { target in
            matrix.bytes.withUnsafeBytes { source in
                for row in 0..<rows {
                    UnsafeMutableRawBufferPointer(rebasing: target[(row * words * 8)..<(row * words * 8 + matrix.columns)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(row * matrix.columns)..<((row + 1) * matrix.columns)]))
                }
            }
        }
        let ids = (0..<rows).map { firstID + UInt32($0) }
        // Tables are independent: build them on every core (the writer needs one only briefly).
        tables = packed.withUnsafeBufferPointer { codes in
            ids.withUnsafeBufferPointer { ids in
                parallelMap(tasks: layout.count) { table in
                    CompactSegment.builtTable(table, layout: layout, itemIDs: ids, code: { codes.baseAddress! + $0 * words })
                }
            }
        }
    }
}
