import HammingSearch
import LMDBStorage
import PixelIO

/// Searches by image: exact Hamming candidates, refined by the encoder's real values.
///
/// A store bound to an encoder keeps each image's real-valued encoding as a refinement vector
/// (one signed byte per bit), or, for an encoder that keeps another vector
/// (``ImageCodeEncoder/refinementWidth``: a BGAN model refining by its hidden layer, or keeping
/// a small copy of its input beside the layer), that vector
/// (one signed byte per value). A search by image takes the exact Hamming candidates — the
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
    /// encoded (`values`: the encoder's row for each, ``queryRows(of:)``; sync and async share it).
    func search(encoding values: [Float], k: Int, method: SearchMethod, refinement: Refinement.Options?,
                tieBreak: NearTieBreak?) throws -> StoreSearchResult {
        let encodings = queryEncodings(fromRows: values, try imageSettings().encoder)
        guard encodings.count > 1 else {
            guard let refinement else { return try search(code: encodings[0].code, k: k, method: method) }
            return try refinedSearch(encodings[0], k: k, method: method, options: refinement, tieBreak: tieBreak)
        }
        return try searchNearer(encodings, k: k, method: method, refinement: refinement, tieBreak: tieBreak)
    }

    /// The encoder's `rows` (``queryRows(of:)``) cut into one query encoding each.
    func queryEncodings(fromRows rows: [Float], _ encoder: any ImageCodeEncoder) -> [QueryEncoding] {
        let width = encoder.encodedWidth, bitCount = bitCount
        precondition(rows.count % width == 0, "\(rows.count) values are not whole rows of \(width)")
        return stride(from: 0, to: rows.count, by: width).map { start in
            let codeValues = Array(rows[start..<(start + bitCount)])
            return QueryEncoding(codeValues: codeValues, refinementValues: encoder.refinementWidth == nil ? codeValues : Array(rows[(start + bitCount)..<(start + width)]))
        }
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
        let encodings = queryEncodings(fromRows: values, try imageSettings().encoder)
        guard encodings.count > 1 else {
            guard refinement != nil else { return try search(code: encodings[0].code, radius: radius, method: method) }
            return try refinedWithin(radius, of: encodings[0], method: method)
        }
        return try searchNearer(encodings, radius: radius, method: method, refined: refinement != nil)
    }

    /// Every stored item within Hamming distance `radius` of the signs of `realValues` (one per
    /// bit, or one of ``queryRows(of:)``'s rows), ordered by the cosine of each item's refinement
    /// vector with them.
    public func search(realValues: [Float], radius: Int, method: SearchMethod = .automatic) throws -> StoreSearchResult {
        try refinedWithin(radius, of: try realValueQuery(realValues), method: method)
    }

    private func refinedWithin(_ radius: Int, of query: QueryEncoding, method: SearchMethod) throws -> StoreSearchResult {
        try observation.query("within \(radius) bits, refined") {
            try readingIndex { snapshot, txn in
                let found = try searcher.within(radius: radius, of: query.code, in: snapshot, method: method)
                return try refine(found, queries: [query], k: found.neighbors.count, txn)
            }
        }
    }

    /// The `k` stored items most similar to a query given as an encoder's real-valued output
    /// (`bitCount` values, e.g. from `realValuedOutputs(of:)` or an application's own encoder):
    /// exact Hamming candidates of its signs, ordered by cosine. For a store whose encoder keeps
    /// a separate refinement vector (``ImageCodeEncoder/refinementWidth``), pass one of
    /// ``queryRows(of:)``'s rows (the code values followed by that vector) to refine as a search
    /// by image does; with the code values alone every candidate is compared through its code's
    /// signs (such a store must be opened with its encoder for this to be told apart).
    /// - Throws: `StoreError` `.codeLengthMismatch` when the values are neither one per bit nor a row.
    public func search(realValues: [Float], k: Int, method: SearchMethod = .automatic,
                       refinement options: Refinement.Options = Refinement.Options()) throws -> StoreSearchResult {
        try refinedSearch(try realValueQuery(realValues), k: k, method: method, options: options, tieBreak: nil)
    }

    /// ``search(realValues:k:method:refinement:)`` for the encoding of `image` (one value per bit,
    /// as `realValuedOutputs(of:)` gives a batch of images): near-ties are broken by `image`'s
    /// thumbnail as `search(image:k:method:refinement:matchingMirrorImages:)` breaks them, so a
    /// caller that encodes many images at once gets the same answers.
    public func search(realValues: [Float], of image: PixelBuffer, k: Int, method: SearchMethod = .automatic,
                       refinement options: Refinement.Options = Refinement.Options()) throws -> StoreSearchResult {
        try refinedSearch(try realValueQuery(realValues), k: k, method: method, options: options,
                          tieBreak: try nearTieBreak(for: image, refinement: options, matchingMirrorImages: false))
    }

    /// The `k` nearest to the signs of `query`'s code values, refined, near-ties broken by `tieBreak` when given.
    private func refinedSearch(_ query: QueryEncoding, k: Int, method: SearchMethod, options: Refinement.Options,
                               tieBreak: NearTieBreak?) throws -> StoreSearchResult {
        guard k >= 1 else { throw StoreError(.invalidArgument, "k must be at least 1, not \(k)") }
        return try observation.query("\(k) nearest, refined") {
            try readingIndex { snapshot, txn in
                try refine(try refinementCandidates(query.code, k: k, method: method, options: options, snapshot), queries: [query], k: k,
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

    /// A query given as real values: one per bit, or a row of ``queryRows(of:)`` (the code
    /// values, then the encoder's separate refinement vector).
    private func realValueQuery(_ values: [Float]) throws -> QueryEncoding {
        // An encoder the store cannot resolve (an application's, not given) counts as keeping
        // none, but its vectors' width is then unknown: one of another width is compared through
        // the item's code rather than taken for damage.
        let encoder = try? imageSettings().encoder
        let refinementWidth = encoder?.refinementWidth
        if values.count == bitCount {
            return QueryEncoding(codeValues: values, refinementValues: refinementWidth == nil ? values : nil, widthIsKnown: encoder != nil)
        }
        guard let refinementWidth, values.count == bitCount + refinementWidth else {
            throw StoreError(.codeLengthMismatch, "a refined query has \(values.count) values; this store's codes have \(bitCount) bits, one value each"
                             + (refinementWidth.map { ", or \(bitCount) + \($0) with its encoder's refinement vector (`queryRows(of:)`)" } ?? ""))
        }
        return QueryEncoding(codeValues: Array(values[..<bitCount]), refinementValues: Array(values[bitCount...]))
    }

    /// Scores `found` against `queries` (an item's score: its best cosine with any of them) and
    /// keeps the best `k`, near-ties broken by `tieBreak` when given, with keys and payloads.
    func refine(_ found: SearchResult, queries: [QueryEncoding], k: Int, tieBreak: NearTieBreak? = nil,
                _ txn: borrowing Transaction) throws -> StoreSearchResult {
        let refinementUnits = queries.compactMap { $0.refinementValues.map(Refinement.normalizedQuery) }
        let codeUnits = queries.map { Refinement.normalizedQuery($0.codeValues) }
        // Queries without refinement values (code values alone, for a store keeping separate
        // vectors) are compared with every candidate through its code's signs.
        let vectorWidth = refinementUnits.count == queries.count ? refinementUnits.first?.count : nil
        var scored: [Refinement.Scored] = []
        scored.reserveCapacity(found.neighbors.count)
        let chunks = ChunkEditor(layout: CodeChunkLayout(bitCount: bitCount), table: tables.codes)
        for neighbor in found.neighbors {
            let score: Float
            if let vectorWidth, let table = tables.refinements, let bytes = try txn.get(table, key: neighbor.id) {
                if bytes.count == vectorWidth {
                    score = Self.bestCosine(refinementUnits, bytes.bindMemory(to: Int8.self))
                } else if queries.allSatisfy(\.widthIsKnown) {
                    throw StoreError(.corrupted, "item \(neighbor.id)'s refinement vector has \(bytes.count) bytes, not \(vectorWidth); verify the store (`Store.verify()`)")
                } else {
                    score = try codeSigns(of: neighbor.id, chunks, txn).withUnsafeBufferPointer { Self.bestCosine(codeUnits, $0) }
                }
            } else {
                score = try codeSigns(of: neighbor.id, chunks, txn).withUnsafeBufferPointer { Self.bestCosine(codeUnits, $0) }
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

/// One query image's encoding as a search uses it.
struct QueryEncoding {
    /// The encoder's real values, one per bit: their signs are the query's code.
    let codeValues: [Float]
    /// What the items' refinement vectors are compared with: the code values, or the encoder's
    /// separate refinement vector (``ImageCodeEncoder/refinementWidth``); nil for code values
    /// alone given to a store that keeps separate vectors, whose candidates are then compared
    /// through their codes' signs.
    let refinementValues: [Float]?
    /// Whether the store's encoder told the width of its vectors (false for code values given to
    /// a store whose application encoder was not passed): a stored vector of another width is
    /// then damage, else a vector the query cannot be compared with.
    var widthIsKnown = true

    var code: BinaryCode { BinaryCode(signsOf: codeValues) }
}
