/// Every parameter of a network in one contiguous buffer, with named ranges: a checkpoint is one
/// blob and a header, and an optimiser loops over one array.
///
/// Layers register their parameters when they are built (`Linear(…, parameters: store)`), in a
/// fixed order, so the same construction code always yields the same layout.
public final class ParameterStore {
    /// One named parameter: where it lives in ``values`` and its shape.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public let count: Int
        /// False for buffers such as batch-norm running statistics: saved, never optimised.
        public let trainable: Bool
    }

    public private(set) var entries: [Entry] = []
    /// All values, entry after entry.
    public var values: [Float] = []
    /// Gradients of the trainable values, accumulated by `backward`; same layout as `values`.
    public var gradients: [Float] = []
    /// Whether backward passes through the layers of these parameters add to ``gradients``.
    /// Off while the network serves as a fixed function that gradients only flow through (the
    /// discriminator while the encoder and generator learn through it): each layer then computes
    /// its input gradient alone, skipping the matrix product for its own, and ``gradients`` stay
    /// as they were.
    public var accumulatesGradients = true

    public init() {}

    /// Appends a parameter of `shape` and returns its offset. `initial(i)` gives the i-th value.
    @discardableResult
    public func add(_ name: String, shape: [Int], trainable: Bool = true, initial: (Int) -> Float) -> Int {
        precondition(!entries.contains { $0.name == name }, "parameter '\(name)' registered twice")
        let count = shape.reduce(1, *)
        let offset = values.count
        entries.append(Entry(name: name, shape: shape, offset: offset, count: count, trainable: trainable))
        values.reserveCapacity(offset + count)
        for i in 0..<count { values.append(initial(i)) }
        gradients.append(contentsOf: repeatElement(0, count: count))
        return offset
    }

    /// The entry called `name`.
    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// Number of values.
    public var count: Int { values.count }

    /// Sets every gradient to zero (before each training step).
    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Runs `body` with ``accumulatesGradients`` off, and sets it back as it was after.
    public func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
        let before = accumulatesGradients
        accumulatesGradients = false
        defer { accumulatesGradients = before }
        return try body()
    }
}

/// Weight initialisations, seeded.
public enum Initialization {
    /// He (Kaiming) normal: `N(0, 2 / fanIn)`, for layers followed by ReLU-like activations.
    public static func he(fanIn: Int, _ rng: inout SeededGenerator) -> Float {
        rng.normal() * (2 / Float(max(fanIn, 1))).squareRoot()
    }

    /// Glorot (Xavier) uniform: `U(±sqrt(6 / (fanIn + fanOut)))`.
    public static func glorot(fanIn: Int, fanOut: Int, _ rng: inout SeededGenerator) -> Float {
        let limit = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
        return (rng.unit() * 2 - 1) * limit
    }
}
