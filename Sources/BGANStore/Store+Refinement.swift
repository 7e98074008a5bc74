import HammingSearch
import LMDBStorage
import PixelIO

/// Searches by image: exact Hamming candidates, refined by the encoder's real values.
///
/// A store bound to an encoder keeps each image's real-valued encoding as a refinement vector
/// (one signed byte per bit). A search by image takes the exact Hamming candidates — the
/// `k · candidateFactor` nearest, at least `minimumCandidates`, and every item tied with the last
/// of them — and orders them by the cosine between the query's real-valued encoding and each
/// candidate's vector (`Refinement`). Items stored as bare codes, or before the store kept vectors, are compared
/// through their code's signs (the asymmetric distance of Gordo et al.). The Hamming search stays
/// exact; refinement only reorders what it returns, so a stored image queried with itself comes
/// back first and near-duplicates rise above unrelated items that merely share their bucket.
/// With a `nearTieBand`, a search for the `k` nearest to an image breaks near-ties of those
/// scores by the items' kept thumbnails (`NearTieBreak`).
/// With `matchingMirrorImages` a search also takes the image's mirror image (Store+MirrorImages.swift).
extension Store {
    /// The `k` stored items most similar to `image`, through the bound encoder.
    ///
    /// - Parameters:
    ///   - image: decoded pixels of any size; the encoder brings them to its input.
    ///   - k: how many results.
    ///   - method: the planner's choice, or a forced multi-index search or scan.
    ///   - refinement: how to refine the exact Hamming candidates; nil returns the plain
    ///     Hamming ranking (distance, then insertion order), as `search(code:k:method:)`.
    ///   - matchingMirrorImages: also search with the image's mirror image, each item ranked by
    ///     the nearer of the two (two encodings and two searches instead of one, unless the
    ///     encoder gives both one code: ``ImageCodeEncoder/isMirrorInvariant``).
    /// - Throws: `StoreError` `.noModel` for a store of bare codes,
    ///   `StoreError` `.encoderUnavailable` when its application encoder was not given.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func search(image: PixelBuffer, k: Int, method: SearchMethod = .automatic,
                       refinement: Refinement.Options? = Refinement.Options(),
                       matchingMirrorImages: Bool = false) throws -> StoreSearchResult {
        try search(encoding: try queryValues(of: image, matchingMirrorImages: matchingMirrorImages),
                   k: k, method: method, refinement: refinement,
                   tieBreak: try nearTieBreak(for: image, refinement: refinement, matchingMirrorImages: matchingMirrorImages))
    }

    /// `search(image:k:method:refinement:matchingMirrorImages:)` once its query images are
    /// encoded (`values`: `bitCount` values for each; sync and async share it).
    func search(encoding values: [Float], k: Int, method: SearchMethod, refinement: Refinement.Options?,
                tieBreak: NearTieBreak?) throws -> StoreSearchResult {
        guard values.count > bitCount else {
            guard let refinement else { return try search(code: BinaryCode(signsOf: values), k: k, method: method) }
            return try refinedSearch(values, k: k, method: method, options: refinement, tieBreak: tieBreak)
        }
        return try searchNearer(try queryVariants(values), k: k, method: method, refinement: refinement, tieBreak: tieBreak)
    }

    /// How a search by `image` breaks near-ties of its refined scores, or nil (no band, no
    /// refinement, or no thumbnails kept).
    func nearTieBreak(for image: PixelBuffer, refinement: Refinement.Options?, matchingMirrorImages: Bool) throws -> NearTieBreak? {
        guard let refinement, refinement.nearTieBand > 0 else { return nil }
        let settings = try imageSettings()
        return NearTieBreak.forSearch(by: image, refinement: refinement, thumbnailSide: settings.thumbnailSide,
                                      matchingMirrorImages: matchingMirrorImages, encoder: settings.encoder)
    }

    /// Every stored item within Hamming distance `radius` of `image`'s code (or, with
    /// `matchingMirrorImages`, of its mirror image's), ordered by refined score (or, with
    /// `refinement` nil, by distance then insertion order).
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func search(image: PixelBuffer, radius: Int, method: SearchMethod = .automatic,
                       refinement: Refinement.Options? = Refinement.Options(),
                       matchingMirrorImages: Bool = false) throws -> StoreSearchResult {
        try search(encoding: try queryValues(of: image, matchingMirrorImages: matchingMirrorImages),
                   radius: radius, method: method, refinement: refinement)
    }

    /// ``search(image:radius:method:refinement:matchingMirrorImages:)`` once its query images
    /// are encoded.
    func search(encoding values: [Float], radius: Int, method: SearchMethod, refinement: Refinement.Options?) throws -> StoreSearchResult {
        guard values.count > bitCount else {
            guard refinement != nil else { return try search(code: BinaryCode(signsOf: values), radius: radius, method: method) }
            return try search(realValues: values, radius: radius, method: method)
        }
        return try searchNearer(try queryVariants(values), radius: radius, method: method, refined: refinement != nil)
    }

    /// Every stored item within Hamming distance `radius` of the signs of `realValues` (one per
    /// bit), ordered by the cosine of each item's refinement vector with them.
    public func search(realValues: [Float], radius: Int, method: SearchMethod = .automatic) throws -> StoreSearchResult {
        let code = try refinedQueryCode(realValues)
        return try observation.query("within \(radius) bits, refined") {
            try readingIndex { snapshot, txn in
                let found = try searcher.within(radius: radius, of: code, in: snapshot, method: method)
                return try refine(found, queries: [realValues], k: found.neighbors.count, txn)
            }
        }
    }

    /// The `k` stored items most similar to a query given as an encoder's real-valued output
    /// (`bitCount` values, e.g. from `realValuedOutputs(of:)` or an application's own encoder):
    /// exact Hamming candidates of its signs, ordered by cosine.
    /// - Throws: `StoreError` `.codeLengthMismatch` when the values are not one per bit.
    public func search(realValues: [Float], k: Int, method: SearchMethod = .automatic,
                       refinement options: Refinement.Options = Refinement.Options()) throws -> StoreSearchResult {
        try refinedSearch(realValues, k: k, method: method, options: options, tieBreak: nil)
    }

    /// ``search(realValues:k:method:refinement:)`` for the encoding of `image` (one value per bit,
    /// as `realValuedOutputs(of:)` gives a batch of images): near-ties are broken by `image`'s
    /// thumbnail as `search(image:k:method:refinement:matchingMirrorImages:)` breaks them, so a
    /// caller that encodes many images at once gets the same answers.
    public func search(realValues: [Float], of image: PixelBuffer, k: Int, method: SearchMethod = .automatic,
                       refinement options: Refinement.Options = Refinement.Options()) throws -> StoreSearchResult {
        try refinedSearch(realValues, k: k, method: method, options: options,
                          tieBreak: try nearTieBreak(for: image, refinement: options, matchingMirrorImages: false))
    }

    /// The `k` nearest to the signs of `realValues`, refined, near-ties broken by `tieBreak` when given.
    private func refinedSearch(_ realValues: [Float], k: Int, method: SearchMethod, options: Refinement.Options,
                               tieBreak: NearTieBreak?) throws -> StoreSearchResult {
        guard k >= 1 else { throw StoreError(.invalidArgument, "k must be at least 1, not \(k)") }
        let code = try refinedQueryCode(realValues)
        return try observation.query("\(k) nearest, refined") {
            try readingIndex { snapshot, txn in
                try refine(try refinementCandidates(code, k: k, method: method, options: options, snapshot), queries: [realValues], k: k,
                           tieBreak: tieBreak, txn)
            }
        }
    }

    /// The exact Hamming candidates refinement reorders for `k` results: the
    /// `options.candidateCount(for: k)` nearest to `code`, and every item tied with the last of them.
    func refinementCandidates(_ code: BinaryCode, k: Int, method: SearchMethod, options: Refinement.Options,
                                      _ snapshot: IndexSnapshot) throws -> SearchResult {
        let wanted = options.candidateCount(for: k)
        let found = try searcher.nearest(to: code, k: wanted, in: snapshot, method: method)
        guard found.neighbors.count == wanted, let last = found.neighbors.last else { return found }
        // Every item tied with the last candidate: none may lose its place to insertion order.
        let tied = try searcher.within(radius: last.distance, of: code, in: snapshot, method: method)
        return SearchResult(neighbors: tied.neighbors, statistics: tied.statistics.adding(found.statistics))
    }

    /// The code of a real-valued query, checked to have one value per bit.
    private func refinedQueryCode(_ realValues: [Float]) throws -> BinaryCode {
        guard realValues.count == bitCount else {
            throw StoreError(.codeLengthMismatch, "a refined query has \(realValues.count) values; this store's codes have \(bitCount) bits, one value each")
        }
        return BinaryCode(signsOf: realValues)
    }

    /// Scores `found` against `queries` (an item's score: its best cosine with any of them) and
    /// keeps the best `k`, near-ties broken by `tieBreak` when given, with keys and payloads.
    func refine(_ found: SearchResult, queries: [[Float]], k: Int, tieBreak: NearTieBreak? = nil,
                _ txn: borrowing Transaction) throws -> StoreSearchResult {
        let units = queries.map(Refinement.normalizedQuery)
        var scored: [Refinement.Scored] = []
        scored.reserveCapacity(found.neighbors.count)
        let chunks = ChunkEditor(layout: CodeChunkLayout(bitCount: bitCount), table: tables.codes)
        for neighbor in found.neighbors {
            let score: Float
            if let table = tables.refinements, let bytes = try txn.get(table, key: neighbor.id) {
                guard bytes.count == bitCount else {
                    throw StoreError(.corrupted, "item \(neighbor.id)'s refinement vector has \(bytes.count) bytes, not \(bitCount); verify the store (`Store.verify()`)")
                }
                score = Self.bestCosine(units, bytes.bindMemory(to: Int8.self))
            } else {
                score = try codeSigns(of: neighbor.id, chunks, txn).withUnsafeBufferPointer { Self.bestCosine(units, $0) }
            }
            scored.append(.init(neighbor: neighbor, score: score))
        }
        let ranked = try tieBreak?.ranked(scored, k: k, thumbnails: tables.thumbnails, txn) ?? Refinement.ranked(scored, k: k)
        var statistics = found.statistics
        statistics.refinedCandidates = scored.count
        return try resolve(SearchResult(neighbors: ranked.map(\.neighbor), statistics: statistics), scores: ranked.map(\.score), txn)
    }

    /// The largest cosine of an item's vector with any of the unit-length `queries`.
    private static func bestCosine(_ queries: [[Float]], _ item: UnsafeBufferPointer<Int8>) -> Float {
        queries.map { query in query.withUnsafeBufferPointer { Refinement.cosine(query: $0, item: item) } }.max() ?? 0
    }

    /// An item's code as a refinement vector: ±127 per bit.
    private func codeSigns(of id: UInt32, _ chunks: ChunkEditor, _ txn: borrowing Transaction) throws -> [Int8] {
        guard let words = try chunks.code(of: id, txn) else {
            throw StoreError(.corrupted, "item \(id) was found by a search but has no code; verify the store (`Store.verify()`)")
        }
        let code = try BinaryCode(bitCount: bitCount, words: words)
        return (0..<bitCount).map { code.bit($0) ? 127 : -127 }
    }
}
