import CHammingKernels

/// Exact k-nearest-neighbour and radius search over an ``IndexSnapshot``, by multi-index hashing
/// (Norouzi, Punjani & Fleet) or by a linear scan, chosen per query by a cost model.
///
/// Multi-index hashing splits codes into `m` substrings, each indexed in its own table. If two
/// codes differ in at most `r = m·r′ + a` bits, some substring differs in at most `r′` bits —
/// finer, the first `a + 1` tables at radius `r′` and the others at `r′ − 1` cover every such
/// code. The search probes tables one radius step at a time, verifies candidates' full
/// distances, and stops once the k-th best distance is within what the steps so far guarantee.
/// Results are exact and equal a linear scan's, ordered by distance then id.
///
/// Items the segment does not cover (ids from its end on, and items whose code changed) are
/// verified directly first; their cost is part of the plan.
public struct HammingSearcher: Sendable {
    /// Prices used to choose between multi-index hashing and a scan.
    public var costModel: SearchCostModel

    public init(costModel: SearchCostModel = SearchCostModel()) {
        self.costModel = costModel
    }

    /// The `k` nearest items to `query`: fewer when the index holds fewer.
    public func nearest(to query: BinaryCode, k: Int, in snapshot: IndexSnapshot,
                        method: SearchMethod = .automatic) throws -> SearchResult {
        guard k >= 1 else { throw HammingError(.invalidArgument, "k must be at least 1, not \(k)") }
        var run = try QueryRun(query: query, snapshot: snapshot, costModel: costModel)
        var best = NearestNeighbors(k: min(k, max(snapshot.liveCount, 1)))
        let bits = snapshot.bitCount
        let liveCount = snapshot.liveCount
        let everything = best.k == liveCount
        var uniformGuess: Int?
        run.execute(method: method,
                    target: { best.isFull ? (everything ? -1 : best.sorted[best.k - 1].distance) : bits },
                    plannedTarget: { bound in
                        // The k-th distance will be at most the worst kept one; guess lower from the
                        // items already known within `bound`, or from a uniform model of the codes.
                        let worst = best.isFull ? best.sorted[best.k - 1].distance : bits
                        let within = best.sorted.prefix { $0.distance <= bound }.count
                        var guess: Int
                        if within > 0 {
                            guess = SearchCostModel.extrapolatedKthDistance(k: best.k, found: within, within: bound, bitCount: bits)
                            // One item alone is weak evidence of density: it is often the query's own
                            // near copy among codes far away. The next item seen says how far the
                            // others are (close in a cluster, far for a lone copy).
                            if within == 1, best.k > 1, best.sorted.count > 1 { guess = max(guess, best.sorted[1].distance) }
                            // A few items, then none for many bits (near copies of one photograph
                            // among distant others): the count grew far slower than the balls.
                            let nearest = best.sorted[0].distance
                            if let grown = SearchCostModel.grownKthDistance(k: best.k, found: within, atNearest: best.sorted.prefix { $0.distance == nearest }.count,
                                                                            nearest: nearest, within: bound) {
                                guess = max(guess, grown)
                            }
                        } else {
                            if uniformGuess == nil {
                                uniformGuess = SearchCostModel.uniformKthDistance(k: k, itemCount: liveCount, bitCount: bits)
                            }
                            guess = uniformGuess!
                        }
                        return max(bound + 1, min(worst, guess))
                    },
                    threshold: { best.threshold(ceiling: bits) },
                    sink: { best.offer($0) })
        return SearchResult(neighbors: best.sorted, statistics: run.statistics)
    }

    /// Every item within `radius` bits of `query`, ordered by distance then id.
    public func within(radius: Int, of query: BinaryCode, in snapshot: IndexSnapshot,
                       method: SearchMethod = .automatic) throws -> SearchResult {
        guard radius >= 0 else { throw HammingError(.invalidArgument, "the radius must be at least 0, not \(radius)") }
        var run = try QueryRun(query: query, snapshot: snapshot, costModel: costModel)
        let limit = min(radius, snapshot.bitCount)
        var found: [Neighbor] = []
        run.execute(method: method, target: { limit }, plannedTarget: { _ in limit },
                    threshold: { limit }, sink: { found.append($0) })
        found.sort()
        var unique: [Neighbor] = []
        unique.reserveCapacity(found.count)
        for neighbor in found where unique.last != neighbor { unique.append(neighbor) }
        return SearchResult(neighbors: unique, statistics: run.statistics)
    }
}

/// The state of one query: buffers, counters, and the step-by-step multi-index search.
struct QueryRun {
    let snapshot: IndexSnapshot
    let costModel: SearchCostModel
    let queryWords: [UInt64]
    let words: Int
    var statistics = SearchStatistics()
    // Output buffers of the kernels, written before they are read.
    private var hitIDs = [UInt32](unsafeUninitializedCapacity: CodeChunkLayout.capacity) { $1 = CodeChunkLayout.capacity }
    private var hitDistances = [UInt16](unsafeUninitializedCapacity: CodeChunkLayout.capacity) { $1 = CodeChunkLayout.capacity }
    private var batch = [UInt32](unsafeUninitializedCapacity: 2048) { $1 = 2048 }
    private var values: [UInt32] = []
    /// The query's fingerprint in each table (empty when the layout has none).
    private var queryFingerprints: [UInt32] = []
    /// Bucket candidates whose codes were read (all of them, without fingerprints).
    private var candidatesVerified = 0
    private var spent = 0.0
    private var forecastAt = 0.0

    init(query: BinaryCode, snapshot: IndexSnapshot, costModel: SearchCostModel) throws {
        guard query.bitCount == snapshot.bitCount else {
            throw HammingError(.lengthMismatch, "the query has \(query.bitCount) bits but the index holds \(snapshot.bitCount)-bit codes")
        }
        self.snapshot = snapshot
        self.costModel = costModel
        self.queryWords = query.words
        self.words = query.words.count
    }

    /// Runs the query. `target()` is the distance the search must guarantee to be done (the
    /// k-th best, or the radius); `plannedTarget(bound)` is the planner's guess of the final
    /// target given the bound reached; `threshold()` the largest distance still worth reporting.
    mutating func execute(method: SearchMethod, target: () -> Int, plannedTarget: (Int) -> Int,
                          threshold: () -> Int, sink: (Neighbor) -> Void) {
        let scanAll = costModel.scan(count: Int(snapshot.idLimit), words: words)
        statistics.predictedScanCost = scanAll
        guard let segment = snapshot.segment, method != .linearScan else {
            statistics.path = method == .multiIndex ? .multiIndex : .linearScan
            scan(0..<snapshot.idLimit, threshold: threshold, sink: sink)
            return
        }
        let layout = segment.layout
        let probeFloor = Double(layout.count) * costModel.bucketProbe * 4
        if method == .automatic, scanAll < probeFloor {
            statistics.path = .linearScan
            scan(0..<snapshot.idLimit, threshold: threshold, sink: sink)
            return
        }
        statistics.path = .multiIndex
        // Items the segment does not list under their current code.
        scan(snapshot.tailStart..<snapshot.idLimit, threshold: threshold, sink: sink)
        snapshot.movedIDs.withUnsafeBufferPointer { verify($0, threshold: threshold(), sink: sink) }
        spent = costModel.scan(count: Int(snapshot.idLimit - snapshot.tailStart), words: words)
            + Double(snapshot.movedIDs.count) * costModel.candidate
        candidatesVerified = 0

        let substrings = queryWords.withUnsafeBufferPointer { words in
            (0..<layout.count).map { layout.value(of: words.baseAddress!, table: $0) }
        }
        if layout.fingerprintBits > 0, segment.tables.allSatisfy({ $0.fingerprints != nil }) {
            queryFingerprints = queryWords.withUnsafeBufferPointer { words in
                (0..<layout.count).map { layout.fingerprint(of: words.baseAddress!, table: $0) }
            }
        }
        // Step s probes table s % m at radius s / m; afterwards every item within s bits of the
        // query has been seen (the pigeonhole bound), so a search with target t ends after step t.
        let stepCount = ((layout.lengths.max() ?? 0) + 1) * layout.count
        for step in 0..<stepCount {
            let radius = step / layout.count
            let table = step % layout.count
            // The first steps are cheap and tell much (how dense the codes are around the query):
            // take them without a forecast while they stay within a small part of a scan's cost.
            // Forecasts are themselves work: make one only when the spending has grown by half.
            if method == .automatic, radius > 0, spentCost() >= forecastAt,
               spentCost() + predictedCost(from: step, through: step, segment: segment) > Self.explorationShare * scanAll {
                forecastAt = spentCost() * 1.5
                // Switch to a scan when finishing is predicted to cost more than scanning everything,
                // or when the search has already spent a scan's worth.
                let goal = plannedTarget(step - 1)
                if spentCost() > scanAll || predictedCost(from: step, through: goal, segment: segment) > scanAll {
                    statistics.path = .multiIndexThenScan
                    scan(0..<snapshot.tailStart, threshold: threshold, sink: sink)
                    return
                }
            }
            if radius <= layout.lengths[table] {
                statistics.substringRadius = radius
                values.removeAll(keepingCapacity: true)
                SubstringNeighborhood.append(center: substrings[table], length: layout.lengths[table], radius: radius, to: &values)
                probe(segment.tables[table], table: table, radius: radius, fingerprintBits: layout.fingerprintBits,
                      threshold: threshold, sink: sink)
            }
            if target() <= step { return }
        }
    }

    /// Share of a scan's cost the search may spend before its first forecast.
    static let explorationShare = 0.05

    /// What the search has cost so far, in the cost model's units.
    private func spentCost() -> Double {
        let read = queryFingerprints.isEmpty ? 0 : Double(statistics.candidates) * costModel.filteredCandidate
        return spent + Double(statistics.bucketsProbed) * costModel.bucketProbe + read + Double(candidatesVerified) * costModel.candidate
    }

    /// Predicted cost of steps `first ... last` (see `execute`). Bucket occupancy is the one
    /// observed so far once enough buckets were probed, else the table's average.
    private func predictedCost(from first: Int, through last: Int, segment: CompactSegment) -> Double {
        let layout = segment.layout
        let observed = statistics.bucketsProbed >= 256
            ? Double(statistics.candidates) / Double(statistics.bucketsProbed) : nil
        // With fingerprints a candidate costs its sequential read and, for the share that passed
        // so far, its code's random read.
        var perCandidate = costModel.candidate
        if !queryFingerprints.isEmpty {
            let passing = statistics.candidates > 0 ? Double(candidatesVerified) / Double(statistics.candidates) : 1
            perCandidate = costModel.filteredCandidate + passing * costModel.candidate
        }
        var cost = 0.0
        var step = first
        while step <= last, step / layout.count <= layout.lengths.max() ?? 0 {
            let length = layout.lengths[step % layout.count]
            let probes = SubstringNeighborhood.size(length: length, radius: step / layout.count)
            let occupancy = observed ?? Double(segment.itemCount) / Double(1 << length)
            cost += probes * (costModel.bucketProbe + occupancy * perCandidate)
            step += 1
        }
        return cost
    }

    /// Looks up the buckets of `values` in `table` and verifies their ids, a batch at a time. The
    /// values lie `radius` bits from the query's substring, so when the table carries fingerprints
    /// an id whose fingerprint differs in more than `threshold − radius` bits cannot be within
    /// the threshold and is dropped without reading its code.
    private mutating func probe(_ table: SegmentTable, table index: Int, radius: Int, fingerprintBits: Int,
                                threshold: () -> Int, sink: (Neighbor) -> Void) {
        var next = 0
        while next < values.count {
            let allowed = threshold() - radius
            guard allowed >= 0 else { return }
            let filtering = !queryFingerprints.isEmpty && allowed < fingerprintBits
            var used = 0, nonempty = 0, read = 0
            let copied = values.withUnsafeBufferPointer { valueBuffer in
                batch.withUnsafeMutableBufferPointer { out in
                    filtering
                        ? bgan_mih_collect_filtered(table.offsets, table.ids, table.fingerprints!, valueBuffer.baseAddress! + next,
                                                    valueBuffer.count - next, queryFingerprints[index], UInt32(allowed),
                                                    out.baseAddress!, out.count, &used, &nonempty, &read)
                        : bgan_mih_collect(table.offsets, table.ids, valueBuffer.baseAddress! + next, valueBuffer.count - next,
                                           out.baseAddress!, out.count, &used, &nonempty)
                }
            }
            if used == 0 {
                // One bucket larger than the batch: verify it where it lies, a batch-sized slice at a time.
                let bucket = table.bucket(values[next])
                statistics.bucketsProbed += 1
                statistics.nonemptyBuckets += 1
                statistics.candidates += bucket.count
                verifyLargeBucket(bucket, table: table, index: index, radius: radius, filtering: filtering, threshold: threshold, sink: sink)
                next += 1
                continue
            }
            statistics.bucketsProbed += used
            statistics.nonemptyBuckets += nonempty
            statistics.candidates += filtering ? read : copied
            next += used
            batch.withUnsafeBufferPointer { verify(UnsafeBufferPointer(rebasing: $0[..<copied]), threshold: threshold(), sink: sink) }
        }
    }

    /// Verifies a bucket too large for the batch; with fingerprints, passes it through the filter
    /// a batch-sized slice at a time.
    private mutating func verifyLargeBucket(_ bucket: UnsafeBufferPointer<UInt32>, table: SegmentTable, index: Int, radius: Int,
                                            filtering: Bool, threshold: () -> Int, sink: (Neighbor) -> Void) {
        guard filtering, let fingerprints = table.fingerprints else {
            verify(bucket, threshold: threshold(), sink: sink)
            return
        }
        let bucketStart = bucket.baseAddress! - table.ids
        var start = 0
        while start < bucket.count {
            let allowed = threshold() - radius
            guard allowed >= 0 else { return }
            let end = min(start + batch.count, bucket.count)
            let copied = batch.withUnsafeMutableBufferPointer { out in
                bgan_fingerprint_filter(bucket.baseAddress! + start, fingerprints + bucketStart + start, end - start,
                                        queryFingerprints[index], UInt32(allowed), out.baseAddress!)
            }
            batch.withUnsafeBufferPointer { verify(UnsafeBufferPointer(rebasing: $0[..<copied]), threshold: threshold(), sink: sink) }
            start = end
        }
    }

    /// Verifies candidate ids against the query; reports live ones within `threshold`.
    private mutating func verify(_ ids: UnsafeBufferPointer<UInt32>, threshold: Int, sink: (Neighbor) -> Void) {
        var start = 0
        let chunkCount = snapshot.chunks.pointers.count
        while start < ids.count {
            let count = min(ids.count - start, hitIDs.count)
            let found = snapshot.chunks.pointers.withUnsafeBufferPointer { chunks in
                queryWords.withUnsafeBufferPointer { query in
                    hitIDs.withUnsafeMutableBufferPointer { outIDs in
                        hitDistances.withUnsafeMutableBufferPointer { outDistances in
                            bgan_hamming_verify(ids.baseAddress! + start, count, chunks.baseAddress, chunkCount,
                                                UInt32(CodeChunkLayout.shift), words, snapshot.chunks.layout.liveOffset,
                                                query.baseAddress!, UInt32(threshold),
                                                outIDs.baseAddress!, outDistances.baseAddress!)
                        }
                    }
                }
            }
            statistics.distancesComputed += count
            candidatesVerified += count
            for i in 0..<found { sink(Neighbor(id: hitIDs[i], distance: Int(hitDistances[i]))) }
            start += count
        }
    }

    /// Scans the codes of the ids in `range`, chunk by chunk.
    private mutating func scan(_ range: Range<UInt32>, threshold: () -> Int, sink: (Neighbor) -> Void) {
        guard !range.isEmpty else { return }
        let layout = snapshot.chunks.layout
        let firstChunk = Int(range.lowerBound >> UInt32(CodeChunkLayout.shift))
        let lastChunk = Int((range.upperBound - 1) >> UInt32(CodeChunkLayout.shift))
        for chunk in firstChunk...min(lastChunk, snapshot.chunks.pointers.count - 1) {
            guard let base = snapshot.chunks.pointers[chunk] else { continue }
            let chunkFirstID = UInt32(chunk << CodeChunkLayout.shift)
            // Start on a whole bitmap byte; ids before the range are dropped below.
            let startSlot = Int(range.lowerBound > chunkFirstID ? range.lowerBound - chunkFirstID : 0) & ~7
            let endSlot = Int(min(UInt64(range.upperBound) - UInt64(chunkFirstID), UInt64(CodeChunkLayout.capacity)))
            let count = endSlot - startSlot
            guard count > 0 else { continue }
            let codes = UnsafeRawPointer(base).assumingMemoryBound(to: UInt64.self) + startSlot * layout.words
            let live = base + layout.liveOffset + startSlot / 8
            let found = queryWords.withUnsafeBufferPointer { query in
                hitIDs.withUnsafeMutableBufferPointer { outIDs in
                    hitDistances.withUnsafeMutableBufferPointer { outDistances in
                        bgan_hamming_scan(codes, count, words, query.baseAddress!, UInt32(threshold()), live,
                                          chunkFirstID + UInt32(startSlot), outIDs.baseAddress!, outDistances.baseAddress!)
                    }
                }
            }
            statistics.distancesComputed += count
            for i in 0..<found where hitIDs[i] >= range.lowerBound {
                sink(Neighbor(id: hitIDs[i], distance: Int(hitDistances[i])))
            }
        }
    }
}
