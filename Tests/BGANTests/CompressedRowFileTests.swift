@testable import BGAN
import NeuralNet
import Testing

/// Rows transposed into a file, against the relation computed directly, read row by row and in
/// stretches of a few rows and values.
@Suite struct CompressedRowFileTests {
    @Test(arguments: [(keeping: false, dropping: false, bytes: 1 << 20), (keeping: true, dropping: true, bytes: 64), (keeping: true, dropping: false, bytes: 1)])
    func transposedRowsReadAsTheRelationTheyHold(keeping: Bool, dropping: Bool, bytes: Int) throws {
        var rng = SeededGenerator(seed: 17)
        let n = 211
        // Lists of 0 to 6 items, some naming their own item, some empty.
        let rows: [[Int32]] = (0..<n).map { i in
            (0..<Int(rng.next() % 7)).map { _ in rng.next() % 5 == 0 ? Int32(i) : Int32(rng.next() % UInt64(n)) }
        }
        var expected = [Set<Int32>](repeating: [], count: n)
        for (i, row) in rows.enumerated() {
            for j in row where !(dropping && Int(j) == i) {
                expected[Int(j)].insert(Int32(i))
                if keeping { expected[i].insert(j) }
            }
        }
        var file = try CompressedRowFile(transposing: Rows(rows: rows), count: n, keepingSourceRows: keeping, droppingDiagonal: dropping,
                                         purpose: "test rows", workingBytes: bytes, valuesPerChunk: 3)
        #expect(file.valueCount == expected.reduce(0) { $0 + $1.count })
        for i in 0..<n { #expect(try file.row(i) == expected[i].sorted(), "row \(i)") }
        file.rowsPerRead = 3
        file.valuesPerRead = 5
        var seen = 0
        try file.forEachRow(in: 7..<200) { i, row in
            #expect(i == 7 + seen && Array(row) == expected[i].sorted(), "row \(i) read in stretches")
            seen += 1
        }
        #expect(seen == 193)
    }

    struct Rows: RowSource {
        let rows: [[Int32]]

        func forEachRow(in items: Range<Int>?, _ body: (Int, UnsafeBufferPointer<Int32>) throws -> Void) throws {
            for i in items ?? 0..<rows.count { try rows[i].withUnsafeBufferPointer { try body(i, $0) } }
        }
    }
}
