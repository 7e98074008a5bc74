import Dispatch

/// Splits `0 ..< count` into `tasks` contiguous ranges (fewer when a range would hold less than
/// `minimumPerTask`) and runs `body` on each in parallel, returning when all are done. The one
/// parallel loop of the package: layers, neighbour lists, evaluation and ingestion use it.
///
/// `body` may write into disjoint parts of a buffer the caller owns (each range its own part):
/// the ranges do not overlap and `body` does not outlive the call, which the compiler cannot
/// see, so such buffers are passed as unsafe pointers.
public func parallelRanges(_ count: Int, tasks: Int, minimumPerTask: Int = 1, _ body: (Range<Int>) -> Void) {
    let tasks = max(1, min(tasks, count / max(minimumPerTask, 1)))
    guard tasks > 1 else {
        if count > 0 { body(0..<count) }
        return
    }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: tasks) { task in
            let start = count * task / tasks, end = count * (task + 1) / tasks
            if start < end { work(start..<end) }
        }
    }
}

/// Runs `body(task)` for `task` in `0 ..< tasks` in parallel and returns their results in order.
public func parallelMap<T, Failure: Error>(tasks: Int, _ body: (Int) throws(Failure) -> T) throws(Failure) -> [T] {
    guard tasks > 1 else {
        var results: [T] = []
        for task in 0..<max(tasks, 0) { results.append(try body(task)) }
        return results
    }
    var results = [Result<T, Failure>?](repeating: nil, count: tasks)
    results.withUnsafeMutableBufferPointer { slots in
        nonisolated(unsafe) let slots = slots
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: tasks) { task in
                slots[task] = Result { () throws(Failure) -> T in try work(task) }
            }
        }
    }
    var values: [T] = []
    values.reserveCapacity(tasks)
    for result in results { values.append(try result!.get()) }
    return values
}
