
/// The package's one seeded random source (SplitMix64): weight initialisation, dropout,
/// shuffling, augmentation, benchmarks and property tests are reproducible from a seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// What each draw adds to the state (the golden ratio in 64 bits).
    private static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    public mutating func next() -> UInt64 {
        state &+= Self.increment
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Moves the stream past `draws` calls of ``next()`` at once (SplitMix64's state only counts),
    /// so work split among threads can take the numbers a single stream would have given it.
    public mutating func skip(_ draws: Int) {
        precondition(draws >= 0, "cannot skip \(draws) draws")
        state &+= UInt64(draws) &* Self.increment
    }

    /// A uniform Float in [0, 1).
    public mutating func unit() -> Float {
        Float(next() >> 40) / Float(1 << 24)
    }

    /// Draws of ``next()`` each ``normal()`` takes (work split among threads skips them).
    public static let drawsPerNormal = 2

    /// A standard normal Float (Box–Muller: ``drawsPerNormal`` draws, always).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

extension SeededGenerator {
    /// `count` distinct integers of `0 ..< n` in the order drawn (a partial Fisher–Yates
    /// shuffle: one draw each). The one sampler without replacement of the package.
    public mutating func distinctIndices(_ count: Int, below n: Int) -> [Int] {
        precondition(count <= n, "cannot draw \(count) distinct values below \(n)")
        var indices = Array(0..<n)
        for i in 0..<count { indices.swapAt(i, i + Int(next() % UInt64(n - i))) }
        return Array(indices.prefix(count))
    }

    /// A seed derived from three numbers (a run's seed, an epoch, a step…), so every stream of
    /// a run is reproducible on its own without drawing from one shared generator.
    public static func seed(mixing a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var generator = SeededGenerator(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ (c &* 0xC2B2_AE3D_27D4_EB4F))
        return generator.next()
    }
}
