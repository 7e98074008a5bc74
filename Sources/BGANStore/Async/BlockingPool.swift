import Foundation

/// A fixed set of threads for work that blocks: LMDB transactions, BLAS encoding, file I/O.
///
/// Swift's cooperative pool has one thread per core and expects every job on it to yield
/// quickly; a search that waits for the map lock or an ingest that encodes for minutes would
/// hold one of those few threads and stall every task of the process. The `async` methods of
/// ``Store`` hand their blocking body to a pool like this one and suspend until it is done, so
/// the cooperative threads stay free.
public final class BlockingPool: @unchecked Sendable {
    /// The pool the async API uses unless ``StoreOptions/blockingPool`` names another: as many
    /// threads as cores, at least 2.
    public static let shared = BlockingPool(threads: max(2, ProcessInfo.processInfo.activeProcessorCount), name: "bganstore.blocking")

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var jobsStart = 0
    /// Number of threads.
    public let threadCount: Int

    /// Starts `threads` threads that live as long as the process (the pool is never torn down:
    /// a service keeps one for its lifetime).
    public init(threads: Int, name: String = "bganstore.blocking") {
        precondition(threads >= 1, "a pool needs at least one thread")
        threadCount = threads
        for index in 0..<threads {
            let thread = Thread { self.work() }
            thread.name = "\(name).\(index)"
            thread.start()
        }
    }

    /// Runs `body` on one of the pool's threads and returns its result; the calling task is
    /// suspended meanwhile, its cooperative thread free for other tasks.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            enqueue { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `job` on one of the pool's threads without waiting for it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        enqueue(job)
    }

    private func enqueue(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.unlock()
        condition.signal()
    }

    private func work() {
        while true {
            condition.lock()
            while jobsStart == jobs.count { condition.wait() }
            let job = jobs[jobsStart]
            jobsStart += 1
            if jobsStart > 1024, jobsStart * 2 > jobs.count {
                jobs.removeFirst(jobsStart)
                jobsStart = 0
            }
            condition.unlock()
            job()
        }
    }
}
