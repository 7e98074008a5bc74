/// Re-ranking of exact Hamming results by a finer signal kept per item.
///
/// Coarse codes tie: many items sit at the same Hamming distance, and among them the exact
/// search can only order by insertion. A store bound to an encoder keeps, per item, the
/// encoder's real-valued output before the sign, quantised to one signed byte per bit
/// (a *refinement vector*). A refined search takes the exact Hamming candidates — the
/// `k · candidateFactor` nearest (never fewer than `minimumCandidates`) plus every item tied
/// with the last of them — and orders them by the cosine between the query's real-valued
/// output (full precision) and each candidate's vector: an asymmetric comparison in the sense of Gordo et al. ("Asymmetric distances for
/// binary embeddings", TPAMI 2014), the pattern of faiss's `IndexRefine`. The Hamming part stays
/// exact: refinement only reorders what the exact search returned.
public enum Refinement {
    /// How refined searches choose and order their candidates.
    public struct Options: Sendable, Hashable, Codable {
        /// Candidates taken from the exact search per result asked for (1: the `k` nearest and
        /// their ties at the `k`-th distance).
        public var candidateFactor: Int

        /// The fewest candidates a refined search takes, however small `k` is (1: no floor
        /// beyond `k · candidateFactor`). A search for one result otherwise reorders only its
        /// four nearest codes, and a copy whose edit moved a few bits past them is never seen.
        public var minimumCandidates: Int

        /// The default floor, chosen on the photo benchmark's validation part (docs/evaluation.md,
        /// "Refinement"): ten candidates found copies first as often as forty to two hundred.
        public static let defaultMinimumCandidates = 10

        /// Scores within this of the best remaining candidate's are a near-tie, which a search
        /// that can compare the candidates more finely breaks that way: a store's search by
        /// image, by how closely each candidate's thumbnail matches the query's
        /// (`Refinement.ranked(_:k:nearTieBand:distance:)`). 0 (the default): scores alone.
        public var nearTieBand: Float

        /// No band: refined searches order by score alone unless asked.
        public static let defaultNearTieBand: Float = 0

        /// The band chosen on the photo benchmark's validation part with the default
        /// ``defaultNearTieCopyDistance`` (docs/evaluation.md, "Refinement"): on the held-out half
        /// copies of photographs come first more often (0.966 against 0.957 on average; brighter,
        /// cropped, captioned and re-saved ones), but one 3° rotation of 490 less often (0.971
        /// against 0.973), so by the rule the photo model ships by it is not the default. It
        /// compares nearly every candidate's thumbnail: about 1 ms a query (docs/benchmarks.md).
        /// Without a ceiling the band was 0.003 (the fortieth session's choice), which loses
        /// tilted copies (3° rotations 0.945).
        public static let photoNearTieBand: Float = 0.1

        /// How near the finer comparison must put a candidate of a near-tie for it to count as a
        /// *copy* of the query (a re-saved, resized or re-toned image); only a copy overrides the
        /// scores, the nearest copy first. With none (a turned, cropped or captioned copy, or a
        /// look-alike, is farther), the near-tie keeps score order. A store compares thumbnails
        /// at 64×64 and 16×16, and a candidate within this at either size is a copy. nil: no
        /// ceiling — the nearest comes first however far, the band as it was first built.
        public var nearTieCopyDistance: Float?

        /// The ceiling read off the photo benchmark's validation part and low-contrast probe
        /// alone (docs/evaluation.md, "Refinement"): the largest of 0.05, 0.1, 0.15… within which
        /// no copy there, whatever its edit, had another photo's thumbnail, at 64×64 or at 16×16
        /// (the nearest lay 0.107 and 0.108 away), while re-saved, resized and re-toned copies
        /// mostly had their original's (JPEG q30 on the flatter probe: 0.57 of them at 64×64,
        /// 0.95 at 16×16).
        public static let defaultNearTieCopyDistance: Float? = 0.1

        public init(candidateFactor: Int = 4, minimumCandidates: Int = Options.defaultMinimumCandidates,
                    nearTieBand: Float = Options.defaultNearTieBand,
                    nearTieCopyDistance: Float? = Options.defaultNearTieCopyDistance) {
            precondition(candidateFactor >= 1, "candidateFactor must be at least 1")
            precondition(minimumCandidates >= 1, "minimumCandidates must be at least 1")
            precondition(nearTieBand >= 0 && nearTieBand.isFinite, "nearTieBand must be 0 or more")
            precondition(Options.isValidCopyDistance(nearTieCopyDistance), "nearTieCopyDistance must be nil or 0 or more")
            self.candidateFactor = candidateFactor
            self.minimumCandidates = minimumCandidates
            self.nearTieBand = nearTieBand
            self.nearTieCopyDistance = nearTieCopyDistance
        }

        /// Options encoded before `minimumCandidates`, `nearTieBand` or `nearTieCopyDistance`
        /// existed decode with their defaults; a copy distance encoded as null is no ceiling.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let factor = try container.decode(Int.self, forKey: .candidateFactor)
            let minimum = try container.decodeIfPresent(Int.self, forKey: .minimumCandidates) ?? Options.defaultMinimumCandidates
            let band = try container.decodeIfPresent(Float.self, forKey: .nearTieBand) ?? Options.defaultNearTieBand
            let copyDistance = container.contains(.nearTieCopyDistance)
                ? try container.decodeIfPresent(Float.self, forKey: .nearTieCopyDistance) : Options.defaultNearTieCopyDistance
            guard factor >= 1, minimum >= 1, band >= 0, band.isFinite, Options.isValidCopyDistance(copyDistance) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "candidateFactor and minimumCandidates must be at least 1, nearTieBand and nearTieCopyDistance 0 or more, not \(factor), \(minimum), \(band) and \(copyDistance.map { "\($0)" } ?? "null")"))
            }
            self.init(candidateFactor: factor, minimumCandidates: minimum, nearTieBand: band, nearTieCopyDistance: copyDistance)
        }

        /// Whether `distance` can be a ``nearTieCopyDistance``: nil (no ceiling), or finite and 0 or more.
        public static func isValidCopyDistance(_ distance: Float?) -> Bool {
            distance.map { $0 >= 0 && $0.isFinite } ?? true
        }

        /// Every field, a copy distance of nil as null (so "no ceiling" survives a round trip
        /// instead of decoding as the default).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(candidateFactor, forKey: .candidateFactor)
            try container.encode(minimumCandidates, forKey: .minimumCandidates)
            try container.encode(nearTieBand, forKey: .nearTieBand)
            try container.encode(nearTieCopyDistance, forKey: .nearTieCopyDistance)
        }

        private enum CodingKeys: String, CodingKey {
            case candidateFactor, minimumCandidates, nearTieBand, nearTieCopyDistance
        }

        /// Exact Hamming neighbours to fetch for `k` results.
        public func candidateCount(for k: Int) -> Int { max(k * candidateFactor, minimumCandidates) }
    }

    /// A real-valued vector as one signed byte per value, scaled so that the largest magnitude
    /// becomes 127 (cosines ignore the scale, so none is kept). A zero vector stays zero.
    public static func quantize<C: Collection>(_ values: C) -> [Int8] where C.Element == Float {
        let largest = values.reduce(Float(0)) { max($0, abs($1)) }
        guard largest > 0, largest.isFinite else { return [Int8](repeating: 0, count: values.count) }
        let scale = 127 / largest
        return values.map { Int8(max(-127, min(127, ($0 * scale).rounded()))) }
    }

    /// The query side: `values` scaled to unit length (a zero vector stays zero).
    public static func normalizedQuery(_ values: [Float]) -> [Float] {
        let norm = values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? values.map { $0 / norm } : values
    }

    /// Cosine between a unit-length query and a quantised item vector of the same length
    /// (0 when the item vector is zero).
    @inlinable
    public static func cosine(query: UnsafeBufferPointer<Float>, item: UnsafeBufferPointer<Int8>) -> Float {
        precondition(query.count == item.count, "refinement vectors of different lengths")
        var dot: Float = 0, squares: Int32 = 0
        for i in 0..<item.count {
            let value = item[i]
            dot += query[i] * Float(value)
            squares &+= Int32(value) * Int32(value)
        }
        return squares > 0 ? dot / Float(squares).squareRoot() : 0
    }

    /// A candidate with its refinement score.
    public struct Scored: Sendable, Equatable {
        public var neighbor: Neighbor
        public var score: Float

        public init(neighbor: Neighbor, score: Float) {
            self.neighbor = neighbor
            self.score = score
        }
    }

    /// The first `k` of `candidates` by descending score, equal scores by Hamming distance then
    /// id (so the order is total and every path gives the same list).
    public static func ranked(_ candidates: [Scored], k: Int) -> [Scored] {
        candidates.sorted(by: inScoreOrder).prefix(k).map { $0 }
    }

    /// How a finer comparison sees one candidate of a near-tie: how far it lies from the query,
    /// and whether it is near enough to count as a copy of it (only a copy may win a near-tie).
    public struct Closeness: Sendable, Equatable {
        public var distance: Float
        public var isCopy: Bool

        public init(distance: Float, isCopy: Bool) {
            self.distance = distance
            self.isCopy = isCopy
        }
    }

    /// The first `k` of `candidates` with near-ties broken by a finer comparison: position by
    /// position, among the remaining candidates whose score lies within `band` of the best
    /// remaining score, the one `distance` puts nearest the query comes first (equal distances in
    /// score order) — if it lies within `copyDistance` (nil: however far); otherwise the near-tie
    /// keeps score order. Where a candidate of such a near-tie has no distance (nil: nothing finer
    /// to compare), the near-tie keeps score order. `distance` is asked once at most per
    /// candidate, and only for candidates in a near-tie.
    public static func ranked(_ candidates: [Scored], k: Int, nearTieBand band: Float, copyDistance: Float? = nil,
                              distance: (Scored) throws -> Float?) rethrows -> [Scored] {
        try ranked(candidates, k: k, nearTieBand: band) { candidate in
            guard let measured = try distance(candidate) else { return nil }
            return Closeness(distance: measured, isCopy: copyDistance.map { measured <= $0 } ?? true)
        }
    }

    /// The first `k` of `candidates` with near-ties broken by a finer comparison: position by
    /// position, among the remaining candidates whose score lies within `band` of the best
    /// remaining score, the copy (``Closeness/isCopy``) that `closeness` puts nearest the query
    /// comes first (equal distances in score order); a near-tie without a copy keeps score
    /// order, and so does one where a candidate has nothing finer to compare (nil).
    /// `closeness` is asked once at most per candidate, and only for candidates in a near-tie.
    public static func ranked(_ candidates: [Scored], k: Int, nearTieBand band: Float,
                              closeness: (Scored) throws -> Closeness?) rethrows -> [Scored] {
        var remaining = candidates.sorted(by: inScoreOrder)
        guard band > 0 else { return Array(remaining.prefix(k)) }
        var known: [UInt32: Closeness?] = [:]
        var chosen: [Scored] = []
        chosen.reserveCapacity(min(k, remaining.count))
        while chosen.count < k, let best = remaining.first {
            let tied = remaining.prefix { $0.score >= best.score - band }.count
            var pick = 0
            if tied > 1 {
                var nearest = Float.infinity
                for index in 0..<tied {
                    let candidate = remaining[index]
                    let measured: Closeness?
                    if let cached = known[candidate.neighbor.id] {
                        measured = cached
                    } else {
                        measured = try closeness(candidate)
                        known[candidate.neighbor.id] = measured
                    }
                    guard let measured else { pick = 0; break }
                    if measured.isCopy && measured.distance < nearest { (nearest, pick) = (measured.distance, index) }
                }
            }
            chosen.append(remaining.remove(at: pick))
        }
        return chosen
    }

    /// Descending score, equal scores by Hamming distance then id.
    static func inScoreOrder(_ a: Scored, _ b: Scored) -> Bool {
        a.score != b.score ? a.score > b.score : a.neighbor < b.neighbor
    }
}
