import BGAN
import NeuralNet
import Testing

/// Lists made a range of items at a time into a file, against the lists the same inverted file
/// gives in one piece.
@Suite struct NeighborListFileTests {
    /// Two blobs and a lone far point, whose one probed cell holds too few items.
    func points(seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var x = (0..<(900 * 4)).map { i in rng.normal() + (i / 4 % 2 == 0 ? 0 : 9) }
        x += [100, 100, 100, 100]
        return x
    }

    /// Ranges of one item, of a few and of all (the working memory that each allows) give the
    /// same lists, the lone point's exact one included.
    @Test(arguments: [1, 5 * 120, 97 * 120, 1 << 30])
    func listsMadeARangeAtATimeEqualThoseMadeWhole(workingBytes: Int) throws {
        let x = points(seed: 3)
        let n = x.count / 4
        var rows = FeatureRows(x, dimension: 4)
        rows.blockRows = 512
        for invertedFile in [NearestNeighborLists.InvertedFile(cells: 30, probes: 3), .init(cells: 3, probes: 1, iterations: 10)] {
            let whole = try NearestNeighborLists(rows: rows, k: 6, invertedFile: invertedFile)
            let kept = try NeighborListFile(rows: rows, k: 6, invertedFile: invertedFile, workingBytes: workingBytes)
            #expect(kept.count == n && kept.k == 6)
            #expect(try kept.inMemory().neighbors == whole.neighbors, "\(invertedFile), \(workingBytes) bytes")
        }
        let exact = NearestNeighborLists(features: x, dimension: 4, k: 6)
        let lone = try NeighborListFile(rows: rows, k: 6, invertedFile: .init(cells: 3, probes: 1, iterations: 10), workingBytes: workingBytes)
        #expect(try lone.of(n - 1) == Array(exact.of(n - 1)), "the lone point's list is exact")
    }

    /// A prefix reads the first lists' items from the same file; ranges cover every list once.
    @Test func prefixesAndRangesReadWhatWasWritten() throws {
        var rng = SeededGenerator(seed: 7)
        let x = (0..<(300 * 3)).map { _ in rng.normal() }
        let lists = NearestNeighborLists(features: x, dimension: 3, k: 8)
        let kept = try NeighborListFile(lists)
        #expect(try kept.inMemory().neighbors == lists.neighbors)
        #expect(try kept.prefix(3).inMemory().neighbors == lists.prefix(3).neighbors)
        #expect(kept.prefix(20).k == 8)
        var seen: [Int32] = [], covered = 0
        try kept.prefix(5).forEachRange(listsPerRead: 7) { items, rows in
            #expect(items.lowerBound == covered && rows.count == items.count * 5)
            covered = items.upperBound
            seen += rows
        }
        #expect(covered == 300 && seen == lists.prefix(5).neighbors)
        #expect(try kept.of(299) == Array(lists.of(299)))
    }
}
