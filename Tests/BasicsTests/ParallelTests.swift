import Basics
import Synchronization
import Testing

private struct Failed: Error, Equatable { let task: Int }

@Suite struct ParallelTests {
    @Test(arguments: [0, 1, 5, 1000], [1, 2, 7])
    func everyIndexIsVisitedOnce(count: Int, tasks: Int) {
        let visits = Mutex([Int](repeating: 0, count: count))
        parallelRanges(count, tasks: tasks) { range in
            visits.withLock { for i in range { $0[i] += 1 } }
        }
        #expect(visits.withLock { $0.allSatisfy { $0 == 1 } })
    }

    @Test func rangesRespectTheMinimumPerTask() {
        let calls = Atomic<Int>(0)
        parallelRanges(10, tasks: 8, minimumPerTask: 4) { _ in calls.add(1, ordering: .relaxed) }
        #expect(calls.load(ordering: .relaxed) == 2)
    }

    @Test func mapKeepsTheOrderOfTasksAndRethrows() throws {
        #expect(parallelMap(tasks: 6) { $0 * $0 } == [0, 1, 4, 9, 16, 25])
        #expect(parallelMap(tasks: 0) { $0 }.isEmpty)
        #expect(throws: Failed(task: 3)) {
            try parallelMap(tasks: 5) { (task: Int) throws(Failed) -> Int in
                if task == 3 { throw Failed(task: 3) }
                return task
            }
        }
    }
}
