import HammingSearch
import LMDBStorage
import PixelIO

/// Searches by image that also find mirrored copies.
///
/// With `matchingMirrorImages`, the image and its mirror image (flipped left to right) are both
/// encoded and searched, and each item is ranked by the nearer of the two: its smaller Hamming
/// distance, its larger refined score. The Hamming part stays exact for that distance (the `k`
/// nearest under the smaller of two distances are among the `k` nearest of one of them), so a
/// stored image's mirror copy finds it as surely as the image itself — what PDQ's users get from
/// hashing the dihedral variants of a query. An encoder that gives both one code
/// (``ImageCodeEncoder/isMirrorInvariant``) needs no second search: the image alone is searched.
extension Store {
    /// The images a search by `image` encodes: it, and its mirror image when asked and `encoder`
    /// may tell the two apart.
    static func queryImages(_ image: PixelBuffer, matchingMirrorImages: Bool, encoder: any ImageCodeEncoder) -> [PixelBuffer] {
        matchingMirrorImages && !encoder.isMirrorInvariant ? [image, image.oriented(.mirrored)] : [image]
    }

    /// The `k` items nearest to any of `variants` (query encodings), each at its smallest
    /// distance; refined by its best cosine with any of them unless `refinement` is nil.
    func searchNearer(_ variants: [QueryEncoding], k: Int, method: SearchMethod, refinement: Refinement.Options?,
                      tieBreak: NearTieBreak?) throws -> StoreSearchResult {
        guard k >= 1 else { throw StoreError(.invalidArgument, "k must be at least 1, not \(k)") }
        return try observation.query("\(k) nearest to an image or its mirror image\(refinement == nil ? "" : ", refined")") {
            try readingIndex { snapshot, txn in
                let codes = variants.map(\.code)
                guard let refinement else {
                    let found = SearchResult.nearer(try codes.map { try searcher.nearest(to: $0, k: k, in: snapshot, method: method) })
                    return try resolve(SearchResult(neighbors: Array(found.neighbors.prefix(k)), statistics: found.statistics), txn)
                }
                let pooled = SearchResult.nearer(try codes.map { try refinementCandidates($0, k: k, method: method, options: refinement, snapshot) })
                return try refine(try atNearerDistance(pooled, of: codes, txn), queries: variants, k: k, tieBreak: tieBreak, txn)
            }
        }
    }

    /// Every item within `radius` bits of any of `variants`, at its smallest distance; ordered by
    /// its best cosine with any of them when `refined`, else by distance then insertion order.
    func searchNearer(_ variants: [QueryEncoding], radius: Int, method: SearchMethod, refined: Bool) throws -> StoreSearchResult {
        try observation.query("within \(radius) bits of an image or its mirror image\(refined ? ", refined" : "")") {
            try readingIndex { snapshot, txn in
                let found = SearchResult.nearer(try variants.map { try searcher.within(radius: radius, of: $0.code, in: snapshot, method: method) })
                guard refined else { return try resolve(found, txn) }
                return try refine(found, queries: variants, k: found.neighbors.count, txn)
            }
        }
    }

    /// `found` with each item at its distance to the nearest of `codes`: a candidate of one
    /// query may lie nearer another query than that query's own candidates reached.
    private func atNearerDistance(_ found: SearchResult, of codes: [BinaryCode], _ txn: borrowing Transaction) throws -> SearchResult {
        let chunks = ChunkEditor(layout: CodeChunkLayout(bitCount: bitCount), table: tables.codes)
        let neighbors = try found.neighbors.map { neighbor in
            guard let words = try chunks.code(of: neighbor.id, txn) else {
                throw StoreError(.corrupted, "item \(neighbor.id) was found by a search but has no code; verify the store (`Store.verify()`)")
            }
            let code = try BinaryCode(bitCount: bitCount, words: words)
            return Neighbor(id: neighbor.id, distance: codes.map { $0.distance(to: code) }.min() ?? neighbor.distance)
        }
        return SearchResult(neighbors: neighbors.sorted(), statistics: found.statistics)
    }
}

extension SearchResult {
    /// Several searches' results as one, each item at the smallest distance any of them found it,
    /// ordered by distance then id; the work of all of them in the statistics.
    static func nearer(_ results: [SearchResult]) -> SearchResult {
        var nearest: [UInt32: Int] = [:]
        for result in results {
            for neighbor in result.neighbors { nearest[neighbor.id] = min(nearest[neighbor.id] ?? .max, neighbor.distance) }
        }
        let statistics = results.dropFirst().reduce(results.first?.statistics ?? SearchStatistics()) { $0.adding($1.statistics) }
        return SearchResult(neighbors: nearest.map { Neighbor(id: $0.key, distance: $0.value) }.sorted(), statistics: statistics)
    }
}

extension SearchStatistics {
    /// These statistics with `other`'s work added (its path and radius are not kept).
    func adding(_ other: SearchStatistics) -> SearchStatistics {
        var sum = self
        sum.bucketsProbed += other.bucketsProbed
        sum.nonemptyBuckets += other.nonemptyBuckets
        sum.candidates += other.candidates
        sum.distancesComputed += other.distancesComputed
        sum.refinedCandidates += other.refinedCandidates
        return sum
    }
}
