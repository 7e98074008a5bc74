/// Seeded code generators and an index/oracle pair, shared by the search and store tests.
import HammingSearch

/// A small seeded generator, so every property test is reproducible.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public enum CodeDistribution: String, CaseIterable, CustomStringConvertible, Sendable {
    case uniform, clustered, duplicates
    public var description: String { rawValue }
}

/// `count` codes: uniform; clustered around a few centres (each bit flipped with p = 0.1); or
/// drawn from only a handful of distinct codes.
public func makeCodes(_ count: Int, bits: Int, distribution: CodeDistribution, rng: inout SplitMix64) -> [BinaryCode] {
    func random() -> BinaryCode { randomCode(bits: bits, rng: &rng) }
    switch distribution {
    case .uniform:
        return (0..<count).map { _ in random() }
    case .clustered:
        let centres = (0..<max(1, count / 50)).map { _ in random() }
        return (0..<count).map { _ in flip(centres.randomElement(using: &rng)!, probability: 0.1, rng: &rng) }
    case .duplicates:
        let few = (0..<3).map { _ in random() }
        return (0..<count).map { _ in few.randomElement(using: &rng)! }
    }
}

public func randomCode(bits: Int, rng: inout SplitMix64) -> BinaryCode {
    try! BinaryCode(bytes: (0..<bits / 8).map { _ in UInt8.random(in: 0...255, using: &rng) })
}

public func flip(_ code: BinaryCode, probability: Double, rng: inout SplitMix64) -> BinaryCode {
    var bytes = code.bytes
    for i in 0..<code.bitCount where Double.random(in: 0..<1, using: &rng) < probability {
        bytes[i / 8] ^= 0x80 >> UInt8(i % 8)
    }
    return try! BinaryCode(bytes: bytes)
}

/// An in-memory index and the oracle holding the same codes under the same ids.
public func makeIndexAndOracle(_ codes: [BinaryCode], bits: Int, substrings: Int, build: Bool = true) throws -> (InMemoryIndex, FlatIndex) {
    let index = try InMemoryIndex(bitCount: bits, substrings: substrings)
    var oracle = FlatIndex()
    for code in codes {
        try index.append(code)
        oracle.append(code)
    }
    if build { try index.rebuild() }
    return (index, oracle)
}
