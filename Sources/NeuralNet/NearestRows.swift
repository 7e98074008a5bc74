import Basics

/// The `k` nearest rows of `database` to each row of `queries` by squared Euclidean distance
/// (both row-major, `dimension` wide), nearest first, ties to the lower index: row `i` of the
/// result is `result[i·k ..< (i+1)·k]`. `databaseNorms` holds ‖y‖² of every database row.
///
/// Distances come a block of query rows at a time from one sgemm (‖x − y‖² = ‖x‖² − 2·x·y +
/// ‖y‖², ‖x‖² left out as it is the same along a row), at most 2²⁵ products (128 MiB) at once,
/// and each row keeps a bounded max-heap of its best `k`: no queries × database matrix is held.
/// The one blocked top-k search of the package: k-means assignment and exact neighbour lists.
package func nearestRows(of queries: [Float], in database: [Float], databaseNorms: [Float], dimension: Int, k: Int,
                         blockRows: Int = 512) -> [Int32] {
    let n = database.count / dimension, queryCount = queries.count / dimension
    let k = min(k, n)
    let blockRows = max(8, min(blockRows, (1 << 25) / max(n, 1)))
    var result = [Int32](repeating: 0, count: queryCount * k)
    var products = [Float](repeating: 0, count: min(blockRows, queryCount) * n)
    for first in stride(from: 0, to: queryCount, by: blockRows) {
        let rows = min(blockRows, queryCount - first)
        // q_block · Yᵀ : (rows × D) · (D × N)
        queries.withUnsafeBufferPointer { q in
            database.withUnsafeBufferPointer { y in
                products.withUnsafeMutableBufferPointer { p in
                    BLAS.gemm(transposeB: true, m: rows, n: n, k: dimension, a: q.baseAddress! + first * dimension, lda: dimension,
                              b: y.baseAddress!, ldb: dimension, c: p.baseAddress!, ldc: n)
                }
            }
        }
        products.withUnsafeBufferPointer { p in
            result.withUnsafeMutableBufferPointer { out in
                databaseNorms.withUnsafeBufferPointer { norm in
                    nonisolated(unsafe) let out = out
                    parallelRanges(rows, tasks: BLAS.threads, minimumPerTask: 8) { block in
                        let heap = NeighborHeaps(count: 1, capacity: k)
                        defer { heap.deallocate() }
                        for row in block {
                            heap.removeAll(of: 0)
                            let line = p.baseAddress! + row * n
                            for j in 0..<n { heap.offer(0, distance: norm[j] - 2 * line[j], index: Int32(j)) }
                            heap.writeSorted(0, into: out.baseAddress! + (first + row) * k)
                        }
                    }
                }
            }
        }
    }
    return result
}

/// The rows `indices` of `features` (`dimension` wide), one after the other, into `buffer`
/// (emptied first, its capacity kept for the next call).
package func gatherRows(_ indices: some Collection<Int>, of features: [Float], dimension: Int, into buffer: inout [Float]) {
    buffer.removeAll(keepingCapacity: true)
    buffer.reserveCapacity(indices.count * dimension)
    for i in indices { buffer += features[(i * dimension)..<((i + 1) * dimension)] }
}

/// The rows `indices` of `features`, one after the other.
package func gatherRows(_ indices: some Collection<Int>, of features: [Float], dimension: Int) -> [Float] {
    var rows = [Float]()
    gatherRows(indices, of: features, dimension: dimension, into: &rows)
    return rows
}

/// ‖x‖² of every `dimension`-wide row of `rows`.
package func squaredNorms(_ rows: [Float], dimension: Int) -> [Float] {
    (0..<(rows.count / dimension)).map { i in
        var sum: Float = 0
        for j in 0..<dimension { let v = rows[i * dimension + j]; sum += v * v }
        return sum
    }
}
