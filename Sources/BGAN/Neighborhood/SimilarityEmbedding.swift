import Basics
import NeuralNet

/// Features of every training image whose dot products are the similarity targets of the
/// neighbourhood loss, in place of S's ±1. Rows are meant to have unit length (as a
/// ``SpectralEmbedding``'s do), so that the targets are cosines in [−1, 1]; they are used as given,
/// so that a checkpoint restores them bit for bit.
///
/// The rows live in memory, or in a file read a batch's rows at a time (``blendedInScratchFile(_:features:dimension:weightOfSecond:)``,
/// a spectral embedding computed out of core, or a checkpoint read in place): the recommended recipe's 520 floats an image (8 spectral
/// dimensions and the 512-unit hidden layer) are 2 GB at a million images, which a training run then does not hold.
public struct SimilarityEmbedding: Sendable, Equatable {
    public let dimension: Int
    public let count: Int
    let storage: Storage

    enum Storage: Sendable {
        /// `count × dimension`, row-major.
        case memory([Float])
        /// The layout of ``CheckpointCodec``'s record at `base` of `file`: the dimension
        /// (`UInt64`), then the rows (`Float`), little-endian.
        case file(PositionedFile, base: Int)
    }

    /// - Throws: when `values` are not whole rows of `dimension`.
    public init(values: [Float], dimension: Int) throws {
        guard dimension >= 1, values.count % dimension == 0 else {
            throw BGANError(.invalidArgument, "\(values.count) values are not whole rows of \(dimension)")
        }
        self.dimension = dimension
        count = values.count / dimension
        storage = .memory(values)
    }

    /// Rows stored in the layout of ``Storage/file(_:base:)`` at `base` of `file` (checked by the caller).
    init(count: Int, dimension: Int, file: PositionedFile, base: Int) {
        self.count = count
        self.dimension = dimension
        storage = .file(file, base: base)
    }

    /// Every row, `count × dimension` (read whole from a file-kept embedding).
    /// - Throws: ``FileError`` when the file cannot be read.
    public var values: [Float] {
        get throws {
            switch storage {
            case .memory(let values): values
            case .file(let file, let base): try Self.floats(file, count: count * dimension, at: base + 8)
            }
        }
    }

    /// Rows `range`, `range.count × dimension` (read from the file of a file-kept embedding).
    /// - Throws: ``FileError`` when the file cannot be read.
    public func rows(_ range: Range<Int>) throws -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "rows \(range) of \(count)")
        switch storage {
        case .memory(let values): return Array(values[(range.lowerBound * dimension)..<(range.upperBound * dimension)])
        case .file(let file, let base): return try Self.floats(file, count: range.count * dimension, at: base + 8 + 4 * range.lowerBound * dimension)
        }
    }

    /// Equal dimension and values, wherever they are kept (a file that cannot be read compares unequal).
    public static func == (a: SimilarityEmbedding, b: SimilarityEmbedding) -> Bool {
        a.dimension == b.dimension && a.count == b.count && (try? a.values == b.values) == true
    }

    /// Rows of `features` (`N × dimension`) scaled to unit length (an all-zero row stays zero):
    /// targets that are the features' cosines.
    public static func cosines(of features: [Float], dimension: Int) throws -> SimilarityEmbedding {
        var rows = features
        for start in stride(from: 0, to: rows.count, by: dimension) { normalize(&rows[start..<(start + dimension)]) }
        return try SimilarityEmbedding(values: rows, dimension: dimension)
    }

    /// Rows `[√(1 − w)·aᵢ, √w·bᵢ]`, whose dot products are `(1 − w)·aᵢ·aⱼ + w·bᵢ·bⱼ`: targets
    /// that keep `a`'s coarse structure (a spectral embedding's clusters) and `b`'s finer one
    /// (learned features' local similarities) at once, still cosines when both are.
    /// - Throws: when the two do not describe the same images or `w` is outside [0, 1].
    public static func blend(_ a: SimilarityEmbedding, _ b: SimilarityEmbedding, weightOfSecond w: Float) throws -> SimilarityEmbedding {
        try requireBlendable(a.count, b.count, w)
        let first = try a.values, second = try b.values
        var values: [Float] = []
        values.reserveCapacity(first.count + second.count)
        for row in 0..<a.count {
            values += blendedRow(first[(row * a.dimension)..<((row + 1) * a.dimension)],
                                 second[(row * b.dimension)..<((row + 1) * b.dimension)], weightOfSecond: w)
        }
        return try SimilarityEmbedding(values: values, dimension: a.dimension + b.dimension)
    }

    /// `blend(a, cosines(of: features, dimension: dimension), weightOfSecond: w)`, the same values,
    /// written row by row into a temporary file (``PositionedFile/init(scratchFor:)``) and read
    /// from there: neither the features' unit copy nor the blended rows are held in memory.
    /// - Throws: as ``blend(_:_:weightOfSecond:)``; ``FileError`` when `TMPDIR` has no room.
    public static func blendedInScratchFile(_ a: SimilarityEmbedding, features: [Float], dimension: Int,
                                            weightOfSecond w: Float) throws -> SimilarityEmbedding {
        guard dimension >= 1, features.count % dimension == 0 else {
            throw BGANError(.invalidArgument, "\(features.count) values are not whole rows of \(dimension)")
        }
        return try blendedInScratchFile(a, features: FeatureRows(features, dimension: dimension), weightOfSecond: w)
    }

    /// ``blendedInScratchFile(_:features:dimension:weightOfSecond:)`` on feature rows read a
    /// block at a time (from a file, too), the same values.
    public static func blendedInScratchFile(_ a: SimilarityEmbedding, features: FeatureRows,
                                            weightOfSecond w: Float) throws -> SimilarityEmbedding {
        try requireBlendable(a.count, features.count, w)
        let dimension = features.dimension
        let file = try PositionedFile(scratchFor: "the similarity targets")
        let width = a.dimension + dimension
        var header = UInt64(width).littleEndian
        try withUnsafeBytes(of: &header) { try file.write($0, at: 0) }
        var buffer: [Float] = []
        try features.forEachBlock { start, block in
            buffer.removeAll(keepingCapacity: true)
            let rows = block.count / dimension
            let first = try a.rows(start..<(start + rows))
            for offset in 0..<rows {
                var unit = block[(offset * dimension)..<((offset + 1) * dimension)]
                normalize(&unit)
                buffer += blendedRow(first[(offset * a.dimension)..<((offset + 1) * a.dimension)], unit, weightOfSecond: w)
            }
            try buffer.withUnsafeBytes { try file.write($0, at: 8 + 4 * start * width) }
        }
        return SimilarityEmbedding(count: a.count, dimension: width, file: file, base: 0)
    }

    private static func requireBlendable(_ a: Int, _ b: Int, _ w: Float) throws {
        guard a == b else { throw BGANError(.invalidArgument, "cannot blend targets of \(a) and \(b) images") }
        guard (0...1).contains(w) else { throw BGANError(.invalidArgument, "a blend weight is between 0 and 1, not \(w)") }
    }

    private static func normalize(_ row: inout ArraySlice<Float>) {
        let norm = row.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { for i in row.indices { row[i] /= norm } }
    }

    private static func blendedRow(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, weightOfSecond w: Float) -> [Float] {
        let scaleA = (1 - w).squareRoot(), scaleB = w.squareRoot()
        return a.map { $0 * scaleA } + b.map { $0 * scaleB }
    }

    private static func floats(_ file: PositionedFile, count: Int, at offset: Int) throws -> [Float] {
        try file.read(UInt32.self, count: count, at: offset).map { Float(bitPattern: UInt32(littleEndian: $0)) }
    }

    /// The dot products (cosines) of the rows `batch`, `batch.count × batch.count`. (A cosine of exactly 0
    /// leaves its pair out of the loss, as S = 0 does: only an all-zero row gives one.)
    /// - Throws: ``FileError`` when a file-kept embedding cannot be read.
    func cosines(_ batch: [Int]) throws -> [Float] {
        let rows: [Float]
        switch storage {
        case .memory(let values): rows = batch.flatMap { values[($0 * dimension)..<(($0 + 1) * dimension)] }
        case .file(let file, let base):
            rows = try batch.flatMap { try Self.floats(file, count: dimension, at: base + 8 + 4 * $0 * dimension) }
        }
        var result = [Float](repeating: 0, count: batch.count * batch.count)
        rows.withUnsafeBufferPointer { rp in
            result.withUnsafeMutableBufferPointer { cp in
                BLAS.gemm(transposeB: true, m: batch.count, n: batch.count, k: dimension, a: rp.baseAddress!, lda: dimension,
                          b: rp.baseAddress!, ldb: dimension, c: cp.baseAddress!, ldc: batch.count)
            }
        }
        return result
    }
}
