/// Seeded code generators and an index/oracle pair, shared by the search and store tests.
@_exported import Basics
import HammingSearch

public enum CodeDistribution: String, CaseIterable, CustomStringConvertible, Sendable {
    case uniform, clustered, duplicates
    public var description: String { rawValue }
}

/// `count` codes: uniform; clustered around a few centres (each bit flipped with p = 0.1); or
/// drawn from only a handful of distinct codes.
public func makeCodes(_ count: Int, bits: Int, distribution: CodeDistribution, rng: inout SeededGenerator) -> [BinaryCode] {
    func random() -> BinaryCode { randomCode(bits: bits, rng: &rng) }
    switch distribution {
    case .uniform:
        return (0..<count).map { _ in random() }
    case .clustered:
        let centers = (0..<max(1, count / 50)).map { _ in random() }
        return (0..<count).map { _ in flip(centers.randomElement(using: &rng)!, probability: 0.1, rng: &rng) }
    case .duplicates:
        let few = (0..<3).map { _ in random() }
        return (0..<count).map { _ in few.randomElement(using: &rng)! }
    }
}

public func randomCode(bits: Int, rng: inout SeededGenerator) -> BinaryCode {
    try! BinaryCode(bytes: (0..<bits / 8).map { _ in UInt8.random(in: 0...255, using: &rng) })
}

public func flip(_ code: BinaryCode, probability: Double, rng: inout SeededGenerator) -> BinaryCode {
    var bytes = code.bytes
    for i in 0..<code.bitCount where Double.random(in: 0..<1, using: &rng) < probability {
        bytes[i / 8] ^= 0x80 >> UInt8(i % 8)
    }
    return try! BinaryCode(bytes: bytes)
}

/// An in-memory index and the oracle holding the same codes under the same ids.
public func makeIndexAndOracle(_ codes: [BinaryCode], bits: Int, substrings: Int, build: Bool = true) throws -> (InMemoryIndex, FlatIndex) {
    let index = try InMemoryIndex(bitCount: bits, substrings: substrings)
    var oracle = FlatIndex(bitCount: bits)
    for code in codes {
        try index.append(code)
        oracle.append(code)
    }
    if build { try index.rebuild() }
    return (index, oracle)
}
