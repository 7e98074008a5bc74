/// A dense Float32 tensor, row-major; images are NCHW: `(batch, channels, height, width)`.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var storage: [Float]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        storage = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor over `storage`, whose count must equal the product of `shape`.
    public init(shape: [Int], storage: [Float]) {
        precondition(storage.count == shape.reduce(1, *), "\(storage.count) values for shape \(Tensor.describe(shape))")
        self.shape = shape
        self.storage = storage
    }

    public var count: Int { storage.count }
    /// The first dimension: the batch.
    public var batch: Int { shape.first ?? 0 }
    /// Values per batch item.
    public var itemSize: Int { shape.dropFirst().reduce(1, *) }

    /// The same values under another shape of the same size.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    /// The columns `range` of a matrix (`rows × width`), as a `rows × range.count` matrix.
    public func columns(_ range: Range<Int>) -> Tensor {
        precondition(shape.count == 2 && range.lowerBound >= 0 && range.upperBound <= shape[1], "columns \(range) of \(Tensor.describe(shape))")
        let rows = shape[0], width = shape[1]
        var values = [Float]()
        values.reserveCapacity(rows * range.count)
        for row in 0..<rows { values += storage[(row * width + range.lowerBound)..<(row * width + range.upperBound)] }
        return Tensor(shape: [rows, range.count], storage: values)
    }

    /// Largest absolute difference to `other` (same shape), for tests and checks.
    public func maximumDifference(to other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes \(Tensor.describe(shape)) and \(Tensor.describe(other.shape))")
        var worst: Float = 0
        for i in storage.indices { worst = max(worst, abs(storage[i] - other.storage[i])) }
        return worst
    }

    static func describe(_ shape: [Int]) -> String { "(" + shape.map(String.init).joined(separator: ", ") + ")" }
}
