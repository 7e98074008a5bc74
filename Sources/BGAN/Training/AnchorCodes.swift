/// The ±1 codes an anchor term pulls training toward (``LossWeights/anchor``): `count` values,
/// images × bits by training-set position, kept as bits (1 for +1), eight to a byte — 8 bytes an
/// image at 64 bits instead of 256 as floats, the layout checkpoints store.
public struct AnchorCodes: Sendable, Equatable {
    /// Values held (images × bits).
    public let count: Int
    /// Value `i` is +1 when bit `i % 8` of byte `i / 8` is set.
    let packed: [UInt8]

    /// The signs of an encoder's real-valued `outputs` (`count × bits`): +1 for 0 and above.
    public init(signsOf outputs: [Float]) {
        var packed = [UInt8](repeating: 0, count: (outputs.count + 7) / 8)
        Self.setSigns(of: outputs, from: 0, in: &packed)
        self.init(count: outputs.count, packed: packed)
    }

    /// The signs of an encoder's real-valued outputs read a block of rows at a time (a row an image).
    /// - Throws: what reading the rows throws.
    public init(signsOf outputs: FeatureRows) throws {
        var packed = [UInt8](repeating: 0, count: (outputs.count * outputs.dimension + 7) / 8)
        try outputs.forEachBlock { first, block in Self.setSigns(of: block, from: first * outputs.dimension, in: &packed) }
        self.init(count: outputs.count * outputs.dimension, packed: packed)
    }

    /// Sets the bit of every value of `values` that is 0 or above, value `k` being value
    /// `first + k` of the whole.
    private static func setSigns(of values: [Float], from first: Int, in packed: inout [UInt8]) {
        for (offset, value) in values.enumerated() where value >= 0 { packed[(first + offset) / 8] |= 1 << UInt8((first + offset) % 8) }
    }

    /// `values`, each +1 or −1.
    /// - Throws: ``BGANError`` `.invalidArgument` for any other value.
    public init(signs values: [Float]) throws {
        guard let other = values.firstIndex(where: { $0 != 1 && $0 != -1 }) else {
            self.init(signsOf: values)
            return
        }
        throw BGANError(.invalidArgument, "anchor codes must be ±1; value \(other) is \(values[other])")
    }

    init(count: Int, packed: [UInt8]) {
        precondition(packed.count == (count + 7) / 8)
        self.count = count
        self.packed = packed
    }

    /// Value `i`: +1 or −1.
    public subscript(i: Int) -> Float {
        packed[i / 8] & (1 << UInt8(i % 8)) != 0 ? 1 : -1
    }
}
