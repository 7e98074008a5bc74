/// The brute-force oracle: every code compared with the query in plain Swift, no kernels, no
/// index. Slow and obviously right; every other ``SearchIndex`` is tested against it.
public struct FlatIndex: SearchIndex, Sendable {
    public let bitCount: Int
    /// Codes by id; `nil` marks a removed id.
    public var codes: [BinaryCode?] = []

    public init(bitCount: Int) {
        self.bitCount = bitCount
    }

    public mutating func append(_ code: BinaryCode) { codes.append(code) }

    /// The k nearest, by distance then id.
    public func nearest(to query: BinaryCode, k: Int) throws -> SearchResult {
        guard k >= 1 else { throw HammingError(.invalidArgument, "k must be at least 1, not \(k)") }
        return result(Array(try all(query).prefix(k)))
    }

    /// Everything within `radius`, by distance then id.
    public func within(radius: Int, of query: BinaryCode) throws -> SearchResult {
        guard radius >= 0 else { throw HammingError(.invalidArgument, "the radius must be at least 0, not \(radius)") }
        return result(try all(query).filter { $0.distance <= radius })
    }

    private func all(_ query: BinaryCode) throws -> [Neighbor] {
        guard query.bitCount == bitCount else {
            throw HammingError(.lengthMismatch, "the query has \(query.bitCount) bits but the index holds \(bitCount)-bit codes")
        }
        return codes.enumerated().compactMap { id, code in
            code.map { Neighbor(id: UInt32(id), distance: $0.distance(to: query)) }
        }.sorted()
    }

    private func result(_ neighbors: [Neighbor]) -> SearchResult {
        var statistics = SearchStatistics()
        statistics.path = .linearScan
        statistics.distancesComputed = codes.count
        return SearchResult(neighbors: neighbors, statistics: statistics)
    }
}
