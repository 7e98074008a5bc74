import HammingSearch
import LMDBStorage

extension Store {
    /// The `k` items nearest to `code`, by Hamming distance then insertion order. Exact.
    ///
    /// - Parameters:
    ///   - code: the query, of the store's code length.
    ///   - k: how many results (fewer when the store holds fewer items).
    ///   - method: `.automatic` lets the planner choose multi-index hashing or a scan
    ///     per query (the choice is in the result's statistics).
    /// - Throws: `StoreError` `.codeLengthMismatch`; `HammingError` for `k < 1`.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func search(code: BinaryCode, k: Int, method: SearchMethod = .automatic) throws -> StoreSearchResult {
        try checkLength(code)
        return try observation.query("\(k) nearest to a code") {
            try readingIndex { snapshot, txn in
                try resolve(try searcher.nearest(to: code, k: k, in: snapshot, method: method), txn)
            }
        }
    }

    /// Every item within `radius` bits of `code`, by distance then insertion order. Exact.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func search(code: BinaryCode, radius: Int, method: SearchMethod = .automatic) throws -> StoreSearchResult {
        try checkLength(code)
        return try observation.query("within \(radius) bits of a code") {
            try readingIndex { snapshot, txn in
                try resolve(try searcher.within(radius: radius, of: code, in: snapshot, method: method), txn)
            }
        }
    }

    /// The store's index as a `SearchIndex` for `body`, over one consistent state (one read
    /// transaction): results are item ids and distances, without keys or payloads. What the
    /// conformance suite checks the on-disk index with, and the way to run a custom query
    /// method over a store's codes.
    /// - Parameters:
    ///   - method: the planner's choice, or a forced multi-index search or scan.
    ///   - body: runs with the index; do not keep it past the call.
    public func withSearchIndex<T>(method: SearchMethod = .automatic, _ body: (any SearchIndex) throws -> T) throws -> T {
        try readingIndex { snapshot, _ in try body(SnapshotSearch(snapshot, method: method, searcher: searcher)) }
    }

    /// Runs `body` with the index of one committed state and the read transaction it lives in
    /// (to resolve ids into items): every search goes through here.
    func readingIndex<T>(_ body: (IndexSnapshot, borrowing Transaction) throws -> T) throws -> T {
        try environment.read { txn in try body(try snapshots.snapshot(txn, store: self).indexSnapshot(), txn) }
    }

    /// Turns ids into keys and payloads, within the transaction that found them; `scores` (one
    /// per neighbour) come from refinement.
    func resolve(_ result: SearchResult, scores: [Float]? = nil, _ txn: borrowing Transaction) throws -> StoreSearchResult {
        var hits: [SearchHit] = []
        hits.reserveCapacity(result.neighbors.count)
        for (index, neighbor) in result.neighbors.enumerated() {
            guard let record = try record(ofLive: neighbor.id, txn) else {
                throw StoreError(.corrupted, "item \(neighbor.id) was found by a search but has no record; verify the store (`Store.verify()`)")
            }
            hits.append(SearchHit(id: neighbor.id, key: record.key, distance: neighbor.distance, payload: record.payload, score: scores?[index]))
        }
        return StoreSearchResult(hits: hits, statistics: result.statistics)
    }
}
