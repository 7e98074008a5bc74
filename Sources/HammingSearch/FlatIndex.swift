/// The brute-force oracle: every code compared with the query in plain Swift, no kernels, no
/// index. Slow and obviously right; every fast path is tested against it.
public struct FlatIndex: Sendable {
    /// Codes by id; `nil` marks a removed id.
    public var codes: [BinaryCode?] = []

    public init() {}

    public mutating func append(_ code: BinaryCode) { codes.append(code) }

    /// The k nearest, by distance then id.
    public func nearest(to query: BinaryCode, k: Int) -> [Neighbor] {
        Array(all(query).prefix(k))
    }

    /// Everything within `radius`, by distance then id.
    public func within(radius: Int, of query: BinaryCode) -> [Neighbor] {
        all(query).filter { $0.distance <= radius }
    }

    private func all(_ query: BinaryCode) -> [Neighbor] {
        codes.enumerated().compactMap { id, code in
            code.map { Neighbor(id: UInt32(id), distance: $0.distance(to: query)) }
        }.sorted()
    }
}
