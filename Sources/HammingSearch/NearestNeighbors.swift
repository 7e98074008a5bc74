/// The k best neighbours seen so far, kept sorted by (distance, id), without duplicates.
public struct NearestNeighbors {
    public let k: Int
    private(set) public var sorted: [Neighbor] = []

    public init(k: Int) {
        precondition(k >= 1, "k must be at least 1")
        self.k = k
        sorted.reserveCapacity(min(k, 4096) + 1)
    }

    public var isFull: Bool { sorted.count >= k }

    /// Largest distance an unseen item may have and still enter: the worst kept distance when
    /// full (an equal distance may still enter with a smaller id), otherwise `ceiling`.
    public func threshold(ceiling: Int) -> Int {
        isFull ? sorted[k - 1].distance : ceiling
    }

    /// Offers a candidate; keeps it if it is among the k best and not already kept.
    public mutating func offer(_ candidate: Neighbor) {
        if isFull, !(candidate < sorted[k - 1]) { return }
        // Binary search for the insertion point.
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < candidate { low = mid + 1 } else { high = mid }
        }
        if low < sorted.count, sorted[low] == candidate { return }
        sorted.insert(candidate, at: low)
        if sorted.count > k { sorted.removeLast() }
    }
}
