/// Enumerates the substring values at an exact Hamming distance from a query substring.
public enum SubstringNeighborhood {
    /// Number of values at distance `radius` in a `length`-bit substring: C(length, radius).
    public static func size(length: Int, radius: Int) -> Double {
        guard radius >= 0, radius <= length else { return 0 }
        var result = 1.0
        for i in 0..<radius { result = result * Double(length - i) / Double(i + 1) }
        return result.rounded()
    }

    /// Appends to `values` every `length`-bit value at distance exactly `radius` from `center`,
    /// in increasing order of the flipped-bit mask (Gosper's hack).
    public static func append(center: UInt32, length: Int, radius: Int, to values: inout [UInt32]) {
        guard radius >= 0, radius <= length else { return }
        if radius == 0 {
            values.append(center)
            return
        }
        let limit: UInt64 = 1 << UInt64(length)
        var mask: UInt64 = (1 << UInt64(radius)) - 1
        while mask < limit {
            values.append(center ^ UInt32(truncatingIfNeeded: mask))
            // Next larger number with the same count of set bits.
            let lowest = mask & (~mask &+ 1)
            let ripple = mask &+ lowest
            mask = (((ripple ^ mask) >> 2) / lowest) | ripple
        }
    }
}
