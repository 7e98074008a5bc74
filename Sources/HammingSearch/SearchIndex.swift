/// Exact search over binary codes of one length: the k nearest items, or every item within a
/// radius, each ordered by distance then id. Every way of searching conforms — the brute-force
/// ``FlatIndex`` oracle, an ``IndexSnapshot`` searched by multi-index hashing, by a linear scan
/// or by the planner that picks between them (``SnapshotSearch``), the ``InMemoryIndex``, and a
/// store's on-disk index (`Store.withSearchIndex`) — and one conformance suite
/// (`Tests/HammingSearchTests/SearchIndexConformanceTests.swift`) checks each against the
/// oracle. A new method (say, a graph index as a fallback) is one file with a conformance plus,
/// if the planner should choose it, a case of ``SearchMethod``; docs/architecture.md says where.
public protocol SearchIndex {
    /// The code length the index holds; queries of another length are refused.
    var bitCount: Int { get }
    /// The `k` nearest live items to `query` (fewer when fewer are live). Ties at the k-th
    /// distance go to the smaller ids.
    /// - Throws: `HammingError` for `k < 1` or a query of another length.
    func nearest(to query: BinaryCode, k: Int) throws -> SearchResult
    /// Every live item within `radius` bits of `query`.
    /// - Throws: `HammingError` for a negative radius or a query of another length.
    func within(radius: Int, of query: BinaryCode) throws -> SearchResult
}

/// An ``IndexSnapshot`` searched by one ``SearchMethod`` of a ``HammingSearcher``. Valid as long
/// as the snapshot's borrowed pointers are (the read transaction or index that made it).
public struct SnapshotSearch: SearchIndex {
    public let snapshot: IndexSnapshot
    public var method: SearchMethod
    public var searcher: HammingSearcher

    public init(_ snapshot: IndexSnapshot, method: SearchMethod = .automatic, searcher: HammingSearcher = HammingSearcher()) {
        self.snapshot = snapshot
        self.method = method
        self.searcher = searcher
    }

    public var bitCount: Int { snapshot.bitCount }

    public func nearest(to query: BinaryCode, k: Int) throws -> SearchResult {
        try searcher.nearest(to: query, k: k, in: snapshot, method: method)
    }

    public func within(radius: Int, of query: BinaryCode) throws -> SearchResult {
        try searcher.within(radius: radius, of: query, in: snapshot, method: method)
    }
}

extension InMemoryIndex: SearchIndex {
    /// Searches the current state with the planner (``SearchMethod/automatic``).
    public func nearest(to query: BinaryCode, k: Int) throws -> SearchResult {
        try SnapshotSearch(snapshot()).nearest(to: query, k: k)
    }

    public func within(radius: Int, of query: BinaryCode) throws -> SearchResult {
        try SnapshotSearch(snapshot()).within(radius: radius, of: query)
    }
}
