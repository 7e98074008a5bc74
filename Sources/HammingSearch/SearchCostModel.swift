import Basics

/// The planner's prices, in nominal nanoseconds, for the three kinds of work a query does.
///
/// Defaults were measured on the development machine with `bgan-bench search` (see
/// docs/benchmarks.md); only their ratios matter to the choice of path.
public struct SearchCostModel: Sendable, Hashable {
    /// Looking up one bucket of a direct-addressed table (mostly a cache miss on the offsets).
    public var bucketProbe = 15.0
    /// Verifying one candidate id from a bucket (a prefetched random read of its code).
    public var candidate = 15.0
    /// Reading one candidate from a bucket whose entries carry fingerprints, and comparing its
    /// fingerprint (sequential reads); the few that pass also pay ``candidate``.
    public var filteredCandidate = 2.0
    /// Scanning one code sequentially, per 64-bit word, plus a fixed part per code.
    public var scanPerWord = 0.35
    public var scanPerCode = 0.1

    public init() {}

    /// Cost of scanning `count` codes of `words` words.
    public func scan(count: Int, words: Int) -> Double {
        Double(count) * (scanPerCode + scanPerWord * Double(words))
    }

    /// The distance below which a uniform random set of `itemCount` codes of `bitCount` bits
    /// holds about `k` items: the planner's guess of the k-th neighbour's distance before it has
    /// seen k candidates.
    public static func uniformKthDistance(k: Int, itemCount: Int, bitCount: Int) -> Int {
        guard itemCount > 0 else { return bitCount }
        // log of C(b, i) / 2^b, accumulated in log space to survive 1024-bit codes.
        var logTerm = -Double(bitCount) * M_LN2
        var logCumulative = logTerm
        let logTarget = log(Double(k)) - log(Double(itemCount))
        for distance in 0..<bitCount {
            if logCumulative >= logTarget { return distance }
            logTerm += log(Double(bitCount - distance) / Double(distance + 1))
            let high = max(logCumulative, logTerm), low = min(logCumulative, logTerm)
            logCumulative = high + log1p(exp(low - high))
        }
        return bitCount
    }

    /// Guesses the k-th neighbour's distance from how fast the items known around the query
    /// grew in number: `found` of them lie within `radius` bits, `atNearest` of those at the
    /// nearest distance, `nearest`. If the count keeps growing at the rate it grew from
    /// `atNearest` at `nearest` to `found` at `radius`, the k-th lies at
    /// `radius + log(k / found) / rate`. Where the items near a query are a few near copies in an
    /// otherwise distant collection (crops of one photograph among others), this is far later
    /// than ``extrapolatedKthDistance(k:found:within:bitCount:)``, which assumes the count grows
    /// with the Hamming ball's volume. Nil when the count did not grow (every item at the nearest
    /// distance), when `found` already reaches `k`, or when `radius` is not beyond `nearest`.
    public static func grownKthDistance(k: Int, found: Int, atNearest: Int, nearest: Int, within radius: Int) -> Int? {
        guard atNearest >= 1, found > atNearest, found < k, radius > nearest else { return nil }
        let rate = log(Double(found) / Double(atNearest)) / Double(radius - nearest)
        let further = min((log(Double(k) / Double(found)) / rate).rounded(.up), Double(Int32.max))
        return radius + Int(further)
    }

    /// Guesses the k-th neighbour's distance from `found` items known within `within` bits,
    /// assuming the density around the query stays what it was: the smallest distance whose
    /// Hamming ball, scaled by `found / ball(within)`, holds `k` items.
    public static func extrapolatedKthDistance(k: Int, found: Int, within radius: Int, bitCount: Int) -> Int {
        guard found < k else { return radius }
        let needed = log(Double(k) / Double(found))
        var logTerm = 0.0, logBall = 0.0, base = 0.0
        var distance = 0
        while distance < bitCount {
            if distance == radius { base = logBall }
            if distance > radius, logBall - base >= needed { break }
            logTerm += log(Double(bitCount - distance) / Double(distance + 1))
            let high = max(logBall, logTerm), low = min(logBall, logTerm)
            logBall = high + log1p(exp(low - high))
            distance += 1
        }
        return distance
    }
}
