/// An item found by a search: its id in the index and its Hamming distance to the query.
///
/// Results are ordered by distance, then by id (ids grow in insertion order, so among equally
/// distant items the one stored first comes first). Every search path returns the same list.
public struct Neighbor: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var id: UInt32
    public var distance: Int

    public init(id: UInt32, distance: Int) {
        self.id = id
        self.distance = distance
    }

    public static func < (a: Neighbor, b: Neighbor) -> Bool {
        a.distance != b.distance ? a.distance < b.distance : a.id < b.id
    }

    public var description: String { "#\(id)@\(distance)" }
}

/// Which algorithm answered a query.
public enum SearchPath: String, Sendable, Codable {
    /// Every stored code was compared with the query.
    case linearScan = "scan"
    /// Multi-index hashing answered alone.
    case multiIndex = "mih"
    /// Multi-index hashing started, then the planner saw a scan would be cheaper and switched.
    case multiIndexThenScan = "mih+scan"
}

/// How to answer a query.
public enum SearchMethod: String, Sendable, CaseIterable, Codable {
    /// Let the planner choose per query from its cost model.
    case automatic = "auto"
    /// Multi-index hashing, whatever it costs.
    case multiIndex = "mih"
    /// Linear scan.
    case linearScan = "scan"
}

/// What one query cost. Returned with the result; nothing is kept globally.
public struct SearchStatistics: Sendable, Equatable, Codable {
    /// The algorithm that produced the answer.
    public var path: SearchPath = .linearScan
    /// Buckets looked up in the multi-index tables.
    public var bucketsProbed = 0
    /// Buckets looked up that held at least one id.
    public var nonemptyBuckets = 0
    /// Ids taken from buckets (an item found in several tables counts each time).
    public var candidates = 0
    /// Full-length distances computed (bucket candidates, recent items, and scanned codes).
    public var distancesComputed = 0
    /// Substring radius reached in the tables (-1 when no table was probed).
    public var substringRadius = -1
    /// Cost the planner predicted for a linear scan, in its nominal nanoseconds.
    public var predictedScanCost = 0.0
    /// Exact Hamming candidates a refined search reordered (0: not refined).
    public var refinedCandidates = 0

    public init() {}
}

/// The answer to a query: neighbours in result order, and what finding them cost.
public struct SearchResult: Sendable {
    public var neighbors: [Neighbor]
    public var statistics: SearchStatistics

    public init(neighbors: [Neighbor], statistics: SearchStatistics) {
        self.neighbors = neighbors
        self.statistics = statistics
    }
}
