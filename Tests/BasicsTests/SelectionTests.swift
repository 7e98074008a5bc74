import Basics
import Testing

@Suite struct SelectionTests {
    /// The selection puts the smallest values first, whatever their order and however many are
    /// equal, with the `count − 1`-th of the sorted values at `count − 1`.
    @Test func partitioningMatchesSorting() {
        var rng = SeededGenerator(seed: 9)
        for trial in 0..<300 {
            let count = Int.random(in: 1...200, using: &rng)
            let distinct = trial % 3 == 0 ? 3 : 1_000
            var values = (0..<count).map { _ in Float(Int.random(in: 0..<distinct, using: &rng)) }
            let smallest = Int.random(in: 1...count, using: &rng)
            let sorted = values.sorted()
            values.partitionSmallest(count: smallest)
            #expect(values.prefix(smallest).sorted() == Array(sorted.prefix(smallest)), "count \(count), smallest \(smallest)")
            #expect(values[smallest - 1] == sorted[smallest - 1], "count \(count), smallest \(smallest)")
        }
    }
}
