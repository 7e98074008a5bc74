import BGAN
import NeuralNet
import PixelIO
import Testing

/// Approximate lists through an inverted file, against the exact lists as the oracle.
@Suite struct ApproximateNeighborListsTests {
    /// `clusters` Gaussian blobs of `perCluster` points, centres spread wide apart.
    func blobs(clusters: Int, perCluster: Int, dimension: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        let centres = (0..<(clusters * dimension)).map { _ in rng.normal() * 6 }
        var x = [Float]()
        for i in 0..<(clusters * perCluster) {
            let c = i % clusters
            for t in 0..<dimension { x.append(centres[c * dimension + t] + rng.normal()) }
        }
        return x
    }

    func recall(_ approximate: NearestNeighborLists, _ exact: NearestNeighborLists) -> Double {
        var found = 0
        for i in 0..<exact.count { found += Set(approximate.of(i)).intersection(exact.of(i)).count }
        return Double(found) / Double(exact.count * exact.k)
    }

    @Test(arguments: [(n: 400, dimension: 6, k: 7, cells: 9), (n: 150, dimension: 3, k: 20, cells: 150), (n: 64, dimension: 2, k: 64, cells: 5)])
    func probingEveryCellGivesTheExactLists(n: Int, dimension: Int, k: Int, cells: Int) {
        var rng = SeededGenerator(seed: UInt64(n))
        let x = (0..<(n * dimension)).map { _ in rng.normal() }
        let exact = NearestNeighborLists(features: x, dimension: dimension, k: k)
        let file = NearestNeighborLists.InvertedFile(cells: cells, probes: cells, trainingRows: n / 2)
        let approximate = NearestNeighborLists(features: x, dimension: dimension, k: k, invertedFile: file)
        #expect(approximate.count == n && approximate.k == exact.k)
        // Distances come from the same products whichever cell holds an item, so the order and
        // its ties match the exact lists item for item.
        for i in 0..<n { #expect(Array(approximate.of(i)) == Array(exact.of(i)), "row \(i)") }
    }

    @Test func fewProbesKeepMostNeighboursAndEveryItemFirstInItsOwnList() {
        let x = blobs(clusters: 12, perCluster: 150, dimension: 8, seed: 5)
        let n = x.count / 8
        let exact = NearestNeighborLists(features: x, dimension: 8, k: 10)
        let file = NearestNeighborLists.InvertedFile(cells: 60, probes: 8)
        let approximate = NearestNeighborLists(features: x, dimension: 8, k: 10, invertedFile: file)
        let measured = recall(approximate, exact)
        #expect(measured >= 0.9, "recall \(measured)")
        #expect(measured < 1, "8 of 60 cells should miss some neighbour, or this test checks nothing")
        for i in 0..<n {
            let list = approximate.of(i)
            #expect(list.first == Int32(i))
            #expect(Set(list).count == list.count, "row \(i) lists an item twice")
            // Nearest first: distances never decrease along a list.
            let distances = list.map { j in (0..<8).reduce(Float(0)) { $0 + (x[i * 8 + $1] - x[Int(j) * 8 + $1]) * (x[i * 8 + $1] - x[Int(j) * 8 + $1]) } }
            #expect(zip(distances, distances.dropFirst()).allSatisfy { $0 <= $1 * (1 + 1e-4) + 1e-4 }, "row \(i)")
        }
    }

    @Test func anItemWhoseProbedCellsHoldTooFewGetsTheExactList() {
        // Two far blobs of 30 and one lone point; 1 probe: the lone point's cell holds only itself.
        var x = blobs(clusters: 2, perCluster: 30, dimension: 4, seed: 8)
        x += [100, 100, 100, 100]
        let n = x.count / 4
        let exact = NearestNeighborLists(features: x, dimension: 4, k: 5)
        let approximate = NearestNeighborLists(features: x, dimension: 4, k: 5,
                                               invertedFile: .init(cells: 3, probes: 1, iterations: 10))
        #expect(Array(approximate.of(n - 1)) == Array(exact.of(n - 1)))
        #expect(approximate.of(n - 1).count == 5)
    }

    /// Rows read 512 at a time: every cell probed gives the exact lists, and a lone point whose
    /// cell holds too few gets its exact list from all three blocks.
    @Test func rowsReadInBlocksGiveTheExactLists() throws {
        var x = blobs(clusters: 2, perCluster: 600, dimension: 4, seed: 9)
        x += [100, 100, 100, 100]
        let n = x.count / 4
        var rows = FeatureRows(x, dimension: 4)
        rows.blockRows = 512
        let exact = NearestNeighborLists(features: x, dimension: 4, k: 6)
        let everyCell = try NearestNeighborLists(rows: rows, k: 6, invertedFile: .init(cells: 4, probes: 4, trainingRows: 600))
        for i in 0..<n { #expect(Array(everyCell.of(i)) == Array(exact.of(i)), "row \(i)") }
        let oneProbe = try NearestNeighborLists(rows: rows, k: 6, invertedFile: .init(cells: 3, probes: 1, iterations: 10))
        #expect(Array(oneProbe.of(n - 1)) == Array(exact.of(n - 1)), "the lone point's list is exact across the blocks")
    }

    /// Pixels read from the images cell by cell give the lists their float copy gives.
    @Test func pixelsReadFromImagesGiveTheListsOfTheirFloatCopy() throws {
        var rng = SeededGenerator(seed: 12)
        let pixels = (0..<(3_000 * 16)).map { i in UInt8(truncatingIfNeeded: (i / 16 % 7) * 30 + Int(rng.next() % 40)) }
        let images = ImageRows(ImageSet(count: 3_000, channels: 1, height: 4, width: 4, pixels: pixels))
        let file = NearestNeighborLists.InvertedFile(cells: 40, probes: 6)
        let fromImages = try NearestNeighborLists(rows: FeatureRows(pixelsOf: images), k: 6, invertedFile: file)
        let fromFloats = NearestNeighborLists(features: try images.floats(), dimension: 16, k: 6, invertedFile: file)
        #expect(fromImages.neighbors == fromFloats.neighbors)
    }

    /// Rows kept in a temporary file are read back as they were written — single rows, runs of
    /// consecutive rows (one read each), repeats, whole blocks — and give the lists, the
    /// blended targets and the anchor signs their array gives.
    @Test func rowsKeptInAFileReadAsTheirArray() throws {
        var rng = SeededGenerator(seed: 21)
        let dimension = 3, n = 1_300
        let x = (0..<(n * dimension)).map { _ in rng.normal() }
        var kept = try FeatureRows.inScratchFile(dimension: dimension, purpose: "test rows") { append in
            for start in stride(from: 0, to: n, by: 256) { try append(Array(x[(start * dimension)..<(min(n, start + 256) * dimension)])) }
        }
        var memory = FeatureRows(x, dimension: dimension)
        #expect(kept.count == n && kept.dimension == dimension)
        #expect(try kept.allRows() == x)
        var fromFile = [Float](), fromArray = [Float]()
        for indices in [[0], [n - 1], [5, 6, 7, 8, 2, 3, 1_299, 0, 0, 1], Array(400..<1_100)] {
            try kept.gather(indices, into: &fromFile)
            try memory.gather(indices, into: &fromArray)
            #expect(fromFile == fromArray, "rows \(indices.prefix(4))…")
        }
        kept.blockRows = 512
        memory.blockRows = 512
        let file = NearestNeighborLists.InvertedFile(cells: 12, probes: 3)
        #expect(try NearestNeighborLists(rows: kept, k: 5, invertedFile: file).neighbors
                == NearestNeighborLists(features: x, dimension: dimension, k: 5, invertedFile: file).neighbors)
        #expect(try AnchorCodes(signsOf: kept) == AnchorCodes(signsOf: x), "each block's bits placed at its first row's offset")
        let coarse = try SimilarityEmbedding(values: (0..<(n * 2)).map { _ in rng.normal() }, dimension: 2)
        #expect(try SimilarityEmbedding.blendedInScratchFile(coarse, features: kept, weightOfSecond: 0.3)
                == SimilarityEmbedding.blend(coarse, try .cosines(of: x, dimension: dimension), weightOfSecond: 0.3))
    }

    @Test func exactListsOfQueriesMatchTheListsOfThoseRows() {
        var rng = SeededGenerator(seed: 3)
        let x = (0..<(200 * 5)).map { _ in rng.normal() }
        let all = NearestNeighborLists(features: x, dimension: 5, k: 6)
        let rows = [3, 77, 150]
        let queries = rows.flatMap { x[($0 * 5)..<(($0 + 1) * 5)] }
        let some = NearestNeighborLists(queries: queries, of: x, dimension: 5, k: 6)
        #expect(some.count == 3)
        for (position, row) in rows.enumerated() { #expect(Array(some.of(position)) == Array(all.of(row))) }
    }

    @Test func recommendedSettingsGrowAsTheSquareRoot() {
        #expect(NearestNeighborLists.InvertedFile.recommended(count: 60_000).cells == 980)
        #expect(NearestNeighborLists.InvertedFile.recommended(count: 1_000_000).cells == 4_000)
        #expect(NearestNeighborLists.InvertedFile.recommended(count: 4).probes <= 8)
    }
}
