import CPDQKernels

/// PDQ's blur: box filters along rows and columns (two passes of each make Jarosz's tent), with
/// the reference's window and its edge handling, computed many lines at a time.
///
/// Every line gets exactly the reference's arithmetic in the reference's order (`box1DFloat`:
/// a running sum, the window shrinking at both ends, each output the sum divided by the window's
/// current size), so the results are bit for bit the reference's. Only the schedule differs
/// (`CPDQKernels`): with AVX-512, sixteen lines run side by side in one register — sixteen
/// neighbouring columns, or sixteen rows transposed into columns — instead of one line after another,
/// which kept one running sum, and one division, in flight at a time.
enum JaroszFilter {
    /// The reference's window: about half of one of the `new` output cells along a side of `old`.
    static func window(old: Int, new: Int) -> Int { (old + 2 * new - 1) / (2 * new) }

    /// Each row of the `rows`×`columns` image `input` box-filtered into `output`.
    static func alongRows(_ input: [Float], into output: inout [Float], rows: Int, columns: Int, window: Int,
                          version: bgan_pdq_version = BGAN_PDQ_BEST) {
        precondition(input.count == rows * columns && output.count == input.count && (1...max(1, columns)).contains(window))
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                bgan_jarosz_box_rows(version, source.baseAddress, target.baseAddress, rows, columns, window)
            }
        }
    }

    /// The columns `kept` (ascending) of each row of `input` box-filtered: a `rows`×`kept.count`
    /// image, each value bit for bit ``alongRows(_:into:rows:columns:window:version:)``'s.
    static func alongRows(_ input: [Float], rows: Int, columns: Int, window: Int, keeping kept: [Int],
                          version: bgan_pdq_version = BGAN_PDQ_BEST) -> [Float] {
        precondition(input.count == rows * columns && (1...max(1, columns)).contains(window) && kept.allSatisfy { (0..<columns).contains($0) }
                     && zip(kept, kept.dropFirst()).allSatisfy { $0 <= $1 }, "kept columns must be ascending positions inside the rows")
        let positions = kept.map { UInt($0) }
        return [Float](unsafeUninitializedCapacity: rows * kept.count) { target, count in
            input.withUnsafeBufferPointer { source in
                bgan_jarosz_box_rows_sampled(version, source.baseAddress, target.baseAddress, rows, columns, window, positions, positions.count)
            }
            count = rows * kept.count
        }
    }

    /// The rows `kept` (ascending) of each column of `input` box-filtered: a `kept.count`×`columns`
    /// image, each value bit for bit ``alongColumns(_:into:rows:columns:window:version:)``'s.
    static func alongColumns(_ input: [Float], rows: Int, columns: Int, window: Int, keeping kept: [Int],
                             version: bgan_pdq_version = BGAN_PDQ_BEST) -> [Float] {
        precondition(input.count == rows * columns && (1...max(1, rows)).contains(window) && kept.allSatisfy { (0..<rows).contains($0) }
                     && zip(kept, kept.dropFirst()).allSatisfy { $0 <= $1 }, "kept rows must be ascending positions inside the columns")
        let positions = kept.map { UInt($0) }
        return [Float](unsafeUninitializedCapacity: kept.count * columns) { target, count in
            input.withUnsafeBufferPointer { source in
                bgan_jarosz_box_lines_sampled(version, source.baseAddress, target.baseAddress, rows, columns, columns, window, positions, positions.count)
            }
            count = kept.count * columns
        }
    }

    /// Each column of the `rows`×`columns` image `input` box-filtered into `output`.
    static func alongColumns(_ input: [Float], into output: inout [Float], rows: Int, columns: Int, window: Int,
                             version: bgan_pdq_version = BGAN_PDQ_BEST) {
        precondition(input.count == rows * columns && output.count == input.count && (1...max(1, rows)).contains(window))
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                bgan_jarosz_box_lines(version, source.baseAddress, target.baseAddress, rows, columns, columns, window)
            }
        }
    }
}
