import Basics
import Foundation
import NeuralNet

extension SpectralEmbedding {
    /// ``embed(_:dimensions:iterations:seed:)`` of lists kept in a file, computed out of core:
    /// the symmetric graph, the iterated vectors and the result are temporary files read and
    /// written a block of rows at a time, and memory holds, besides blocks, as many columns of
    /// the vectors as `workingBytes` allows (the product with the graph gathers a neighbour's
    /// values from them; one column at least, 4 bytes an image). Fifteen columns of a million
    /// images are 60 MB: one pass over the graph per step.
    ///
    /// The same iteration as in memory; sums run in another order, so values agree to rounding
    /// (the coordinates' cosines to about 10⁻⁴ on graphs whose leading eigenvalues are apart).
    /// - Returns: targets of `dimensions` per image kept in a temporary file (the layout of a
    ///   checkpoint's targets).
    /// - Throws: ``BGANError`` `.invalidArgument` for too few images; ``FileError`` when `TMPDIR`
    ///   has no room or a file cannot be read.
    public static func embed(_ neighbors: NeighborListFile, dimensions: Int, iterations: Int = 400, seed: UInt64 = 1,
                             workingBytes: Int, rowsPerBlock: Int = 16_384) throws -> SimilarityEmbedding {
        let n = neighbors.count, m = dimensions + extraVectors
        guard dimensions >= 1, n > m else {
            throw BGANError(.invalidArgument, "a spectral embedding of \(dimensions) dimensions needs more than \(m) images; there are \(n)")
        }
        let graph = try CompressedRowFile(transposing: neighbors, count: n, keepingSourceRows: true, droppingDiagonal: true,
                                          purpose: "the spectral embedding's graph", workingBytes: workingBytes)
        let space = try OutOfCoreSubspace(graph: graph, columns: m, workingBytes: workingBytes, rowsPerBlock: rowsPerBlock)
        var rng = SeededGenerator(seed: seed)
        var q = try PositionedFile(scratchFor: "the spectral embedding's vectors")
        var next = try PositionedFile(scratchFor: "the spectral embedding's products")
        try space.transform(q, readingIt: false) { _, block, _ in for index in block.indices { block[index] = rng.normal() } }
        try space.removeTrivial(q)
        try space.orthonormalize(q)
        for _ in 0..<iterations {
            try space.halfLazyProduct(q, into: next)
            try space.removeTrivial(next)
            try space.orthonormalize(next)
            swap(&q, &next)
        }
        // Rayleigh–Ritz: the best vectors of span(q), by the eigenvalues of qᵀ·M·q.
        try space.halfLazyProduct(q, into: next)
        let (_, vectors) = try BLAS.symmetricEigen(try space.gram(q, next), n: m)
        let file = try PositionedFile(scratchFor: "the spectral embedding")
        var header = UInt64(dimensions).littleEndian
        try withUnsafeBytes(of: &header) { try file.write($0, at: 0) }
        var embedding = [Float]()
        try space.forEachBlock(of: q) { rows, block, degrees in
            embedding = [Float](repeating: 0, count: rows.count * dimensions)
            for r in 0..<rows.count {
                embedRow(block[(r * m)..<((r + 1) * m)], degree: degrees[r], ritzVectors: vectors, dimensions: dimensions,
                         into: &embedding[(r * dimensions)..<((r + 1) * dimensions)])
            }
            try embedding.withUnsafeBytes { try file.write($0, at: 8 + 4 * rows.lowerBound * dimensions) }
        }
        return SimilarityEmbedding(count: n, dimension: dimensions, file: file, base: 0)
    }
}

/// The subspace iteration's operations on `count × columns` vectors kept in files, a block of
/// rows at a time, with the graph's degrees in a file of their own.
private struct OutOfCoreSubspace {
    let graph: CompressedRowFile
    let count: Int
    let columns: Int
    let rowsPerBlock: Int
    /// Columns of the vectors held in memory at once by the product with the graph.
    let columnsPerPass: Int
    /// Each image's degree (edges, at least 1), `Float`s.
    let degrees: PositionedFile
    /// `‖D^{1/2}·1‖`: the trivial eigenvector `D^{1/2}·1` is `√dᵢ` over it.
    let trivialLength: Float

    init(graph: CompressedRowFile, columns: Int, workingBytes: Int, rowsPerBlock: Int) throws {
        self.graph = graph
        count = graph.count
        self.columns = columns
        self.rowsPerBlock = max(1, rowsPerBlock)
        columnsPerPass = max(1, min(columns, workingBytes / max(1, 4 * graph.count)))
        let degrees = try PositionedFile(scratchFor: "the spectral embedding's degrees"), blockRows = self.rowsPerBlock
        // Summed in Double: past 2²⁴ a Float sum of degrees (10⁷ images of ~14 edges) stops counting them.
        var block: [Float] = [], sum: Double = 0
        try graph.forEachRow { i, row in
            let degree = Float(max(row.count, 1))
            block.append(degree)
            sum += Double(degree)
            if block.count == blockRows || i == graph.count - 1 {
                try block.withUnsafeBytes { try degrees.write($0, at: 4 * (i + 1 - block.count)) }
                block.removeAll(keepingCapacity: true)
            }
        }
        self.degrees = degrees
        trivialLength = Float(sum.squareRoot())
    }

    /// The blocks of rows every pass visits, in order.
    private var blocks: [Range<Int>] {
        stride(from: 0, to: count, by: rowsPerBlock).map { $0..<min(count, $0 + rowsPerBlock) }
    }

    private func degrees(of rows: Range<Int>) throws -> [Float] { try readFloats(degrees, count: rows.count, at: 4 * rows.lowerBound) }

    /// Calls `body` with each block of rows of `vectors` (`rows.count × columns`) and their degrees.
    func forEachBlock(of vectors: PositionedFile, _ body: (_ rows: Range<Int>, _ block: [Float], _ degrees: [Float]) throws -> Void) throws {
        for rows in blocks { try body(rows, try readRows(rows, of: vectors), try degrees(of: rows)) }
    }

    /// Rewrites every block of rows of `vectors` with `change`, which is handed the block as it
    /// is (rows not yet written read as zeros) or, when not `readingIt`, zeros — for a change
    /// that sets every value — and the rows' degrees.
    func transform(_ vectors: PositionedFile, readingIt: Bool = true,
                   _ change: (_ rows: Range<Int>, _ block: inout [Float], _ degrees: [Float]) throws -> Void) throws {
        for rows in blocks {
            var block = readingIt ? try readRows(rows, of: vectors) : [Float](repeating: 0, count: rows.count * columns)
            try change(rows, &block, try degrees(of: rows))
            try writeRows(rows, block, to: vectors)
        }
    }

    /// Takes the trivial eigenvector's share out of every column.
    func removeTrivial(_ vectors: PositionedFile) throws {
        var sums = [Double](repeating: 0, count: columns)
        try forEachBlock(of: vectors) { rows, block, degrees in
            for r in 0..<rows.count {
                let trivial = degrees[r].squareRoot() / trivialLength
                for c in 0..<columns { sums[c] += Double(trivial * block[r * columns + c]) }
            }
        }
        let along = sums.map { Float($0) }
        try transform(vectors) { rows, block, degrees in
            for r in 0..<rows.count {
                let trivial = degrees[r].squareRoot() / trivialLength
                for c in 0..<columns { block[r * columns + c] -= along[c] * trivial }
            }
        }
    }

    /// `aᵀ·b`, `columns × columns`, summed a block of rows at a time.
    func gram(_ a: PositionedFile, _ b: PositionedFile) throws -> [Float] {
        var result = [Float](repeating: 0, count: columns * columns)
        for rows in blocks {
            let x = try readRows(rows, of: a), y = a === b ? x : try readRows(rows, of: b)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    result.withUnsafeMutableBufferPointer { rp in
                        BLAS.gemm(transposeA: true, m: columns, n: columns, k: rows.count, a: xp.baseAddress!, lda: columns,
                                  b: yp.baseAddress!, ldb: columns, beta: 1, c: rp.baseAddress!, ldc: columns)
                    }
                }
            }
        }
        return result
    }

    /// Makes the columns orthonormal in place.
    func orthonormalize(_ vectors: PositionedFile) throws {
        let transform = try SpectralEmbedding.orthonormalizing(gram: gram(vectors, vectors), columns: columns)
        try self.transform(vectors) { rows, block, _ in
            var result = [Float](repeating: 0, count: block.count)
            block.withUnsafeBufferPointer { xp in
                transform.withUnsafeBufferPointer { tp in
                    result.withUnsafeMutableBufferPointer { rp in
                        BLAS.gemm(m: rows.count, n: columns, k: columns, a: xp.baseAddress!, lda: columns,
                                  b: tp.baseAddress!, ldb: columns, c: rp.baseAddress!, ldc: columns)
                    }
                }
            }
            block = result
        }
    }

    /// `(I + D^{-1/2}·W·D^{-1/2})/2 · x` into `output`: for each group of columns that fits,
    /// `yⱼ = xⱼ/√dⱼ` held in memory, then one pass over the graph, row i being
    /// `½·xᵢ + ½·(Σⱼ yⱼ)/√dᵢ`.
    func halfLazyProduct(_ x: PositionedFile, into output: PositionedFile) throws {
        for firstColumn in stride(from: 0, to: columns, by: columnsPerPass) {
            let group = min(columnsPerPass, columns - firstColumn)
            var scaled = [Float](repeating: 0, count: count * group)
            try forEachBlock(of: x) { rows, block, degrees in
                for r in 0..<rows.count {
                    let scale = 1 / degrees[r].squareRoot()
                    for c in 0..<group { scaled[(rows.lowerBound + r) * group + c] = block[r * columns + firstColumn + c] * scale }
                }
            }
            // Later groups keep the columns earlier ones set; the first group's other columns are set after it.
            try transform(output, readingIt: firstColumn > 0) { rows, block, _ in
                var offsets = [0], targets = [Int32]()
                try graph.forEachRow(in: rows) { _, row in
                    targets.append(contentsOf: row)
                    offsets.append(targets.count)
                }
                scaled.withUnsafeBufferPointer { y in
                    block.withUnsafeMutableBufferPointer { out in
                        parallelRanges(rows.count, tasks: ProcessInfo.processInfo.activeProcessorCount, minimumPerTask: 1024) { (local: Range<Int>) in
                            var sums = [Float](repeating: 0, count: group)
                            for r in local {
                                let i = rows.lowerBound + r
                                for c in 0..<group { sums[c] = 0 }
                                for edge in offsets[r]..<offsets[r + 1] {
                                    let j = Int(targets[edge])
                                    for c in 0..<group { sums[c] += y[j * group + c] }
                                }
                                let degree = Float(max(offsets[r + 1] - offsets[r], 1)), root = degree.squareRoot()
                                for c in 0..<group {
                                    out[r * columns + firstColumn + c] = 0.5 * y[i * group + c] * root + 0.5 * sums[c] / root
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private func readRows(_ rows: Range<Int>, of vectors: PositionedFile) throws -> [Float] {
        try readFloats(vectors, count: rows.count * columns, at: 4 * rows.lowerBound * columns)
    }

    private func writeRows(_ rows: Range<Int>, _ block: [Float], to vectors: PositionedFile) throws {
        try block.withUnsafeBytes { try vectors.write($0, at: 4 * rows.lowerBound * columns) }
    }
}

/// `count` floats at `offset` of `file`; zeros past its end (a file being written for the first time).
private func readFloats(_ file: PositionedFile, count: Int, at offset: Int) throws -> [Float] {
    let size = try file.size()
    var values = [Float](repeating: 0, count: count)
    let available = max(0, min(count, (size - offset) / 4))
    if available > 0 { try values.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(4 * available)]), at: offset) } }
    return values
}
