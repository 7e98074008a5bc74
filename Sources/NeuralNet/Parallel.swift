import Dispatch

/// Splits `0 ..< count` into about one contiguous range per core and runs `body` on each range in
/// parallel. Work that is not BLAS (unfolding patches, normalising) would otherwise keep one core
/// busy while OpenBLAS's threads wait.
func parallelRanges(_ count: Int, minimumPerTask: Int = 1, _ body: (Range<Int>) -> Void) {
    let tasks = max(1, min(BLAS.threads, count / max(minimumPerTask, 1)))
    guard tasks > 1 else {
        body(0..<count)
        return
    }
    // The ranges are disjoint and `body` returns before this function does: the caller's
    // buffers are shared safely, which the compiler cannot see.
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: tasks) { task in
            let start = count * task / tasks, end = count * (task + 1) / tasks
            if start < end { work(start..<end) }
        }
    }
}
