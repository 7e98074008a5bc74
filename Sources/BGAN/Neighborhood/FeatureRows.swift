import NeuralNet

/// The rows of a feature matrix, read a few at a time: from an array held in memory, or
/// gathered from training images as they are needed (pixels as features, without the float
/// copy of every image that an array would take: 3.1 GB for a million 28×28 images).
public struct FeatureRows: Sendable {
    public let count: Int
    public let dimension: Int
    /// Rows read at once when every row is visited in turn (a multiple of 512, so that blocked
    /// and whole computations group rows alike): 64 MB of 784-pixel images.
    public var blockRows = 16_384 {
        didSet { precondition(blockRows > 0 && blockRows % 512 == 0, "blocks are whole multiples of 512 rows") }
    }
    private let read: @Sendable (_ indices: [Int], _ buffer: inout [Float]) throws -> Void

    /// The rows of `features` (`count × dimension`, row-major).
    public init(_ features: [Float], dimension: Int) {
        precondition(dimension > 0 && features.count % dimension == 0, "\(features.count) values are not whole \(dimension)-dimensional rows")
        count = features.count / dimension
        self.dimension = dimension
        read = { indices, buffer in gatherRows(indices, of: features, dimension: dimension, into: &buffer) }
    }

    /// Every image of `images` as a row of its scaled pixel values.
    public init(pixelsOf images: ImageRows) {
        count = images.count
        dimension = images.valuesPerImage
        read = { indices, buffer in buffer = try images.gather(indices) }
    }

    /// Rows `indices`, one after the other, into `buffer` (replacing what it held).
    public func gather(_ indices: [Int], into buffer: inout [Float]) throws {
        try read(indices, &buffer)
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
