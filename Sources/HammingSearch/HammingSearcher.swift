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
        let estimate = SearchCostModel.uniformKthDistance(k: k, itemCount: snapshot.liveCount, bitCount: bits)
        let everything = best.k == snapshot.liveCount
        run.execute(method: method,
                    target: { best.isFull ? (everything ? -1 : best.sorted[best.k - 1].distance) : bits },
                    plannedTarget: { bound in max(bound + 1, min(best.isFull ? best.sorted[best.k - 1].distance : bits, estimate)) },
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
    private var hitIDs = [UInt32](repeating: 0, count: CodeChunkLayout.capacity)
    private var hitDistances = [UInt16](repeating: 0, count: CodeChunkLayout.capacity)
    private var batch = [UInt32](repeating: 0, count: 2048)
    private var values: [UInt32] = []
    private var spent = 0.0

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

        let substrings = layout.values(of: try! BinaryCode(bitCount: snapshot.bitCount, words: queryWords))
        let steps = Self.steps(layout)
        for (index, step) in steps.enumerated() {
            let bound = layout.guaranteedDistance(radius: step.radius, lastTable: step.table)
            if method == .automatic, step.radius > 0 {
                // Switch to a scan when finishing is predicted to cost more than scanning everything,
                // or when the search has already spent a scan's worth.
                let goal = plannedTarget(bound - 1)
                let remaining = predictedCost(steps[index...], until: goal, segment: segment)
                if remaining > scanAll || spentCost() > scanAll {
                    statistics.path = .multiIndexThenScan
                    scan(0..<snapshot.tailStart, threshold: threshold, sink: sink)
                    return
                }
            }
            if step.radius <= layout.lengths[step.table] {
                statistics.substringRadius = step.radius
                values.removeAll(keepingCapacity: true)
                SubstringNeighborhood.append(center: substrings[step.table], length: layout.lengths[step.table],
                                             radius: step.radius, to: &values)
                probe(segment.tables[step.table], threshold: threshold, sink: sink)
            }
            if target() <= bound { return }
        }
    }

    /// What the search has cost so far, in the cost model's units.
    private func spentCost() -> Double {
        spent + Double(statistics.bucketsProbed) * costModel.bucketProbe + Double(statistics.candidates) * costModel.candidate
    }

    /// The (radius, table) steps in search order: radius 0 in every table, then radius 1…
    static func steps(_ layout: SubstringLayout) -> [(radius: Int, table: Int)] {
        let longest = layout.lengths.max() ?? 0
        var steps: [(radius: Int, table: Int)] = []
        for radius in 0...longest {
            for table in 0..<layout.count { steps.append((radius, table)) }
        }
        return steps
    }

    /// Predicted cost of the steps from the first of `steps` until the bound reaches `goal`.
    private func predictedCost(_ steps: ArraySlice<(radius: Int, table: Int)>, until goal: Int,
                               segment: CompactSegment) -> Double {
        let layout = segment.layout
        let observed = statistics.bucketsProbed >= 256
            ? Double(statistics.candidates) / Double(statistics.bucketsProbed) : nil
        var cost = 0.0
        for step in steps {
            let length = layout.lengths[step.table]
            let probes = SubstringNeighborhood.size(length: length, radius: step.radius)
            let occupancy = observed ?? Double(segment.itemCount) / Double(1 << length)
            cost += probes * (costModel.bucketProbe + occupancy * costModel.candidate)
            if layout.guaranteedDistance(radius: step.radius, lastTable: step.table) >= goal { break }
        }
        return cost
    }

    /// Looks up the buckets of `values` in `table` and verifies their ids, a batch at a time.
    private mutating func probe(_ table: SegmentTable, threshold: () -> Int, sink: (Neighbor) -> Void) {
        var next = 0
        while next < values.count {
            var used = 0, nonempty = 0
            let copied = values.withUnsafeBufferPointer { valueBuffer in
                batch.withUnsafeMutableBufferPointer { out in
                    bgan_mih_collect(table.offsets, table.ids, valueBuffer.baseAddress! + next, valueBuffer.count - next,
                                     out.baseAddress!, out.count, &used, &nonempty)
                }
            }
            if used == 0 {
                // One bucket larger than the batch: verify it where it lies.
                let bucket = table.bucket(values[next])
                statistics.bucketsProbed += 1
                statistics.nonemptyBuckets += 1
                statistics.candidates += bucket.count
                verify(bucket, threshold: threshold(), sink: sink)
                next += 1
                continue
            }
            statistics.bucketsProbed += used
            statistics.nonemptyBuckets += nonempty
            statistics.candidates += copied
            next += used
            batch.withUnsafeBufferPointer { verify(UnsafeBufferPointer(rebasing: $0[..<copied]), threshold: threshold(), sink: sink) }
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
