import Foundation

/// Runs an encoder for many callers at once, one batch at a time: a caller that finds the encoder
/// idle encodes everything queued so far (its own images and those of every caller waiting) in
/// one call, then hands each caller its rows; callers that arrive meanwhile queue for the next
/// batch. Concurrent searches by image thus share forward passes — a network encodes 64 images
/// in far less than 64 times the cost of one — and the encoder still sees one caller at a time,
/// as ``ImageCodeEncoder`` promises.
final class EncodeBatcher: @unchecked Sendable {
    private final class Request {
        let prepared: [[Float]]
        var result: Result<[Float], Error>?
        init(_ prepared: [[Float]]) { self.prepared = prepared }
    }

    private let condition = NSCondition()
    private var queue: [Request] = []
    private var encoding = false

    /// Async callers wait as suspended tasks, not as blocked threads: a pool of two threads
    /// would otherwise never see more than two images at once.
    private struct Suspended {
        /// The caller's images made ready for the encoder, run on the pool.
        let prepare: @Sendable () throws -> [[Float]]
        /// Hands the caller's values (or the batch's error) to its follow-up and resumes it.
        let deliver: @Sendable (Result<[Float], Error>) -> Void
    }
    private var suspended: [Suspended] = []
    private var draining = false

    /// `valuesPerImage` values for each of `prepared`, computed by `encode` on a batch that may
    /// hold other callers' images too. `encode` must return `valuesPerImage` values per image
    /// of its argument, in order.
    func encode(_ prepared: [[Float]], valuesPerImage: Int, _ encode: ([[Float]]) throws -> [Float]) throws -> [Float] {
        let mine = Request(prepared)
        condition.lock()
        queue.append(mine)
        while mine.result == nil && encoding { condition.wait() }
        if let result = mine.result {
            condition.unlock()
            return try result.get()
        }
        encoding = true
        let batch = queue
        queue = []
        condition.unlock()

        let outcome = Result { try encode(batch.flatMap(\.prepared)) }
        let results = Self.split(outcome, into: batch.map { $0.prepared.count * valuesPerImage })
        condition.lock()
        for (request, result) in zip(batch, results) { request.result = result }
        encoding = false
        condition.broadcast()
        condition.unlock()
        return try mine.result!.get()
    }

    /// The async form of ``encode(_:valuesPerImage:_:)``, in one hand-off to the pool: the
    /// calling task is suspended; one job on `pool` prepares and encodes whatever async callers
    /// have queued, batch after batch, until none are left; each batch's follow-ups (`then`: a
    /// search with the values, or nothing) then run together in one more job, beside the next
    /// batch's encoding. A task searching by image thus waits for two pool jobs shared with
    /// every other caller of the moment, instead of three of its own.
    func encode<T: Sendable>(valuesPerImage: Int, on pool: BlockingPool,
                             prepare: @escaping @Sendable () throws -> [[Float]],
                             encode: @escaping @Sendable ([[Float]]) throws -> [Float],
                             then: @escaping @Sendable ([Float]) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let waiting = Suspended(prepare: prepare) { values in
                continuation.resume(with: values.flatMap { values in Result { try then(values) } })
            }
            condition.lock()
            suspended.append(waiting)
            let start = !draining
            draining = true
            condition.unlock()
            if start { pool.submit { self.drain(valuesPerImage: valuesPerImage, on: pool, encode) } }
        }
    }

    private func drain(valuesPerImage: Int, on pool: BlockingPool, _ encode: @escaping @Sendable ([[Float]]) throws -> [Float]) {
        while true {
            condition.lock()
            let batch = suspended
            suspended = []
            if batch.isEmpty { draining = false }
            condition.unlock()
            if batch.isEmpty { return }
            var ready: [(waiting: Suspended, prepared: [[Float]])] = []
            var deliveries: [@Sendable () -> Void] = []
            for waiting in batch {
                do {
                    ready.append((waiting, try waiting.prepare()))
                } catch {
                    deliveries.append { waiting.deliver(.failure(error)) }
                }
            }
            if !ready.isEmpty {
                let outcome = Result { try self.encode(ready.flatMap(\.prepared), valuesPerImage: valuesPerImage, encode) }
                let results = Self.split(outcome, into: ready.map { $0.prepared.count * valuesPerImage })
                for (entry, result) in zip(ready, results) { deliveries.append { entry.waiting.deliver(result) } }
            }
            for share in Self.shares(of: deliveries, count: pool.threadCount) {
                pool.submit { for deliver in share { deliver() } }
            }
        }
    }

    /// `jobs` dealt into at most `count` non-empty shares of nearly equal size, in order.
    private static func shares<Job>(of jobs: [Job], count: Int) -> [[Job]] {
        let shareCount = min(count, jobs.count)
        guard shareCount > 1 else { return jobs.isEmpty ? [] : [jobs] }
        return (0..<shareCount).map { share in
            Array(jobs[(jobs.count * share / shareCount)..<(jobs.count * (share + 1) / shareCount)])
        }
    }

    /// A batch's outcome cut into each caller's consecutive run of `counts[i]` values (or, if
    /// the batch failed, its error for every caller).
    private static func split(_ outcome: Result<[Float], Error>, into counts: [Int]) -> [Result<[Float], Error>] {
        var offset = 0
        return counts.map { count in
            defer { offset += count }
            return outcome.map { Array($0[offset..<(offset + count)]) }
        }
    }
}
