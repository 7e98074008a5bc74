import Basics
import HammingSearch

/// Every query against every database code, on all cores: the one distance loop behind the
/// retrieval metrics and the near-duplicate recalls.
enum QueryLoop {
    /// Runs `body` for each query with its distance to each database code and the histogram of
    /// those distances (`bitCount + 1` counts), accumulating into one `Partial` per task (made by
    /// `start`, also the place for per-task scratch buffers); the partials come back for the
    /// caller to combine. Queries are dealt to tasks in turn, so slow and fast ones mix.
    static func accumulate<Partial>(database: PackedCodes, queries: PackedCodes, tasks: Int = 8, start: () -> Partial,
                                    _ body: (_ query: Int, _ distances: [UInt16], _ histogram: [Int], _ partial: inout Partial) -> Void) -> [Partial] {
        precondition(database.bitCount == queries.bitCount, "database and queries have different code lengths")
        let words = database.wordsPerCode, n = database.count, bits = database.bitCount
        let tasks = max(1, min(tasks, queries.count))
        return database.words.withUnsafeBufferPointer { databaseWords in
            queries.words.withUnsafeBufferPointer { queryWords in
                parallelMap(tasks: tasks) { (task: Int) -> Partial in
                    var partial = start()
                    var distances = [UInt16](repeating: 0, count: n)
                    var histogram = [Int](repeating: 0, count: bits + 1)
                    for q in stride(from: task, to: queries.count, by: tasks) {
                        measure(databaseWords.baseAddress!, count: n, words: words, query: queryWords.baseAddress! + q * words,
                                distances: &distances, histogram: &histogram)
                        body(q, distances, histogram, &partial)
                    }
                    return partial
                }
            }
        }
    }

    /// The distance of `query` to each of the `count` codes at `database` (`words` words each)
    /// into `distances`, and their histogram into `histogram` (cleared first).
    static func measure(_ database: UnsafePointer<UInt64>, count: Int, words: Int, query: UnsafePointer<UInt64>,
                        distances: inout [UInt16], histogram: inout [Int]) {
        for d in histogram.indices { histogram[d] = 0 }
        for i in 0..<count {
            let d = HammingKernel.distance(database + i * words, query, words: words)
            distances[i] = UInt16(d)
            histogram[d] += 1
        }
    }

    /// ``accumulate(database:queries:tasks:start:_:)`` into `figures` sums, added up over all queries.
    static func sum(database: PackedCodes, queries: PackedCodes, figures: Int,
                    _ body: (_ query: Int, _ distances: [UInt16], _ histogram: [Int], _ sums: inout [Double]) -> Void) -> [Double] {
        let partials = accumulate(database: database, queries: queries, start: { [Double](repeating: 0, count: figures) }, body)
        return partials.reduce(into: [Double](repeating: 0, count: figures)) { total, partial in
            for i in 0..<figures { total[i] += partial[i] }
        }
    }
}
