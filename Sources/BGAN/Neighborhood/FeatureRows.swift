import Basics
import NeuralNet

/// The rows of a feature matrix, read a few at a time: from an array held in memory, gathered
/// from training images as they are needed (pixels as features, without the float copy of every
/// image that an array would take: 3.1 GB for a million 28×28 images), or from a temporary file
/// (a model's features of a million images, 256 MB at 64 dimensions, off the heap).
public struct FeatureRows: Sendable {
    public let count: Int
    public let dimension: Int
    /// Rows read at once when every row is visited in turn (a multiple of 512, so that blocked
    /// and whole computations group rows alike): 64 MB of 784-pixel images.
    public var blockRows = 16_384 {
        didSet { precondition(blockRows > 0 && blockRows % 512 == 0, "blocks are whole multiples of 512 rows") }
    }
    private let read: @Sendable (_ indices: [Int], _ buffer: inout [Float]) throws -> Void
    private let readAll: @Sendable () throws -> [Float]

    /// The rows of `features` (`count × dimension`, row-major).
    public init(_ features: [Float], dimension: Int) {
        precondition(dimension > 0 && features.count % dimension == 0, "\(features.count) values are not whole \(dimension)-dimensional rows")
        count = features.count / dimension
        self.dimension = dimension
        read = { indices, buffer in gatherRows(indices, of: features, dimension: dimension, into: &buffer) }
        readAll = { features }
    }

    /// Every image of `images` as a row of its scaled pixel values.
    public init(pixelsOf images: ImageRows) {
        count = images.count
        dimension = images.valuesPerImage
        read = { indices, buffer in buffer = try images.gather(indices) }
        readAll = { try images.floats() }
    }

    /// `count` rows kept in `file`: row `i` is `dimension` floats (this machine's byte order)
    /// from byte `4 · i · dimension`. Runs of consecutive rows are read with one call.
    public init(file: PositionedFile, count: Int, dimension: Int) {
        precondition(dimension > 0 && count >= 0, "\(count) rows of \(dimension) values are not a feature matrix")
        self.count = count
        self.dimension = dimension
        let rowBytes = 4 * dimension
        read = { indices, buffer in
            buffer.removeAll(keepingCapacity: true)
            buffer.append(contentsOf: repeatElement(0, count: indices.count * dimension))
            try buffer.withUnsafeMutableBytes { raw in
                var first = 0
                while first < indices.count {
                    var end = first + 1
                    while end < indices.count, indices[end] == indices[end - 1] + 1 { end += 1 }
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[(first * rowBytes)..<(end * rowBytes)]), at: indices[first] * rowBytes)
                    first = end
                }
            }
        }
        readAll = {
            var values = [Float](repeating: 0, count: count * dimension)
            if !values.isEmpty { try values.withUnsafeMutableBytes { try file.read(into: $0, at: 0) } }
            return values
        }
    }

    /// Rows that `produce` hands over a batch at a time (whole rows of `dimension` values, in
    /// order), written into a new temporary file (``PositionedFile/init(scratchFor:)``, named by
    /// `purpose` in messages) and read from it afterwards.
    /// - Throws: ``FileError`` when the file cannot be written, or what `produce` throws.
    public static func inScratchFile(dimension: Int, purpose: String,
                                     writing produce: (_ append: ([Float]) throws -> Void) throws -> Void) throws -> FeatureRows {
        let file = try PositionedFile(scratchFor: purpose)
        var written = 0
        try produce { batch in
            precondition(batch.count % dimension == 0, "\(batch.count) values are not whole \(dimension)-dimensional rows")
            try batch.withUnsafeBytes { try file.write($0, at: 4 * written) }
            written += batch.count
        }
        return FeatureRows(file: file, count: written / dimension, dimension: dimension)
    }

    /// Rows `indices`, one after the other, into `buffer` (replacing what it held).
    public func gather(_ indices: [Int], into buffer: inout [Float]) throws {
        try read(indices, &buffer)
    }

    /// Every row, `count × dimension` (rows held in an array are handed over without a copy).
    public func allRows() throws -> [Float] {
        try readAll()
    }

    /// Calls `body` with consecutive blocks of at most ``blockRows`` rows and the index of each
    /// block's first row.
    func forEachBlock(_ body: (_ first: Int, _ block: [Float]) throws -> Void) throws {
        var buffer = [Float]()
        for first in stride(from: 0, to: count, by: blockRows) {
            try gather(Array(first..<min(first + blockRows, count)), into: &buffer)
            try body(first, buffer)
        }
    }
}
