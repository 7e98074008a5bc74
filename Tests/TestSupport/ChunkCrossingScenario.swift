import HammingSearch

/// A history of writes that crosses the 4,096-id chunks of the code layout in every way a search
/// must survive: a multi-index built over the first 7,000 ids; then, in the second chunk, items
/// removed and items whose code changed (listed under their old code in the built index); then
/// 2,003 more appended, which no index covers and which end mid-chunk at an id that is not a
/// multiple of 8. The oracle holds the same codes under the same ids.
public struct ChunkCrossingScenario {
    public enum Step {
        case append(BinaryCode)
        case rebuild
        case remove(UInt32)
        case update(UInt32, BinaryCode)
    }

    public let bitCount: Int
    public private(set) var steps: [Step] = []
    public private(set) var oracle: FlatIndex
    public private(set) var queries: [BinaryCode] = []

    public static let indexed = 7_000
    public static let appended = 2_003

    public init(bits: Int, distribution: CodeDistribution, seed: UInt64) {
        bitCount = bits
        oracle = FlatIndex(bitCount: bits)
        var rng = SeededGenerator(seed: seed)
        let codes = makeCodes(Self.indexed + Self.appended, bits: bits, distribution: distribution, rng: &rng)
        for code in codes.prefix(Self.indexed) {
            steps.append(.append(code))
            oracle.append(code)
        }
        steps.append(.rebuild)
        for id in stride(from: UInt32(4_100), to: 6_900, by: 7) {
            steps.append(.remove(id))
            oracle.codes[Int(id)] = nil
        }
        for id in stride(from: UInt32(4_103), to: 6_900, by: 11) where oracle.codes[Int(id)] != nil {
            let moved = flip(codes[Int(id)], probability: 0.3, rng: &rng)
            steps.append(.update(id, moved))
            oracle.codes[Int(id)] = moved
        }
        for code in codes.suffix(Self.appended) {
            steps.append(.append(code))
            oracle.append(code)
        }
        let live = oracle.codes.compactMap { $0 }
        queries = [live[live.count - 1], live[5_000], codes[4_100]]
            + (0..<2).map { _ in flip(live.randomElement(using: &rng)!, probability: 0.05, rng: &rng) }
            + [randomCode(bits: bits, rng: &rng)]
    }
}
