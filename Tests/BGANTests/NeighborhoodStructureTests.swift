import BGAN
import NeuralNet
import Testing

@Suite struct NeighborhoodStructureTests {
    func features(_ n: Int, dimension: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<(n * dimension)).map { _ in rng.normal() }
    }

    /// Brute force in Double: every pair's distance, sorted, ties to the lower index.
    func bruteForceLists(_ x: [Float], dimension: Int, k: Int) -> [[Int32]] {
        let n = x.count / dimension
        return (0..<n).map { i in
            (0..<n).map { j -> (Double, Int) in
                var d = 0.0
                for t in 0..<dimension { let v = Double(x[i * dimension + t] - x[j * dimension + t]); d += v * v }
                return (d, j)
            }.sorted { $0 < $1 }.prefix(k).map { Int32($0.1) }
        }
    }

    @Test(arguments: [(n: 300, dimension: 7, k: 5, block: 64), (n: 97, dimension: 3, k: 20, block: 512), (n: 10, dimension: 2, k: 30, block: 4)])
    func nearestNeighborListsEqualBruteForce(n: Int, dimension: Int, k: Int, block: Int) {
        let x = features(n, dimension: dimension, seed: UInt64(n))
        let lists = NearestNeighborLists(features: x, dimension: dimension, k: k, blockRows: block)
        let expected = bruteForceLists(x, dimension: dimension, k: k)
        #expect(lists.k == min(k, n))
        for i in 0..<n { #expect(Array(lists.of(i)) == expected[i], "row \(i)") }
    }

    @Test func structureFollowsTheDefinition() throws {
        let n = 120, k1 = 6, k2 = 4
        let x = features(n, dimension: 5, seed: 7)
        let lists = NearestNeighborLists(features: x, dimension: 5, k: k1)
        let s = NeighborhoodStructure(neighbors: lists, k2: k2)
        // The definition, directly: overlaps with every j, the top k2 vote, union, symmetrise.
        var similar = [[Bool]](repeating: [Bool](repeating: false, count: n), count: n)
        for i in 0..<n {
            let mine = Set(lists.of(i))
            var overlaps: [(count: Int, index: Int)] = []
            for j in 0..<n {
                let shared = mine.intersection(lists.of(j)).count
                if shared > 0 { overlaps.append((shared, j)) }
            }
            overlaps.sort { a, b in a.count != b.count ? a.count > b.count : a.index < b.index }
            for (_, voter) in overlaps.prefix(k2) {
                for member in lists.of(voter) {
                    similar[i][Int(member)] = true
                    similar[Int(member)][i] = true
                }
            }
        }
        for i in 0..<n { for j in 0..<n { #expect(try s.isSimilar(i, j) == similar[i][j], "(\(i), \(j))") } }
        #expect(try (0..<n).allSatisfy { try s.isSimilar($0, $0) }, "every image is its own neighbour")
        #expect(s.averageSimilar > Double(k1) && s.averageSimilar < Double(k1 * k2 * 2))
    }

    /// Large enough for the rows to be found on several cores; the oracle is the definition
    /// again, written plainly with dictionaries and sets.
    @Test func aStructureBuiltInParallelFollowsTheDefinition() throws {
        let n = 6_000, k1 = 5, k2 = 4
        let x = features(n, dimension: 3, seed: 17)
        let lists = NearestNeighborLists(features: x, dimension: 3, k: k1)
        let s = NeighborhoodStructure(neighbors: lists, k2: k2)
        var listing = [Int32: [Int]]()
        for i in 0..<n { for m in lists.of(i) { listing[m, default: []].append(i) } }
        var similar = [Set<Int32>](repeating: [], count: n)
        for i in 0..<n {
            var overlap = [Int: Int]()
            for m in lists.of(i) { for j in listing[m] ?? [] { overlap[j, default: 0] += 1 } }
            let voters = overlap.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }.prefix(k2)
            for (voter, _) in voters {
                for member in lists.of(voter) {
                    similar[i].insert(member)
                    similar[Int(member)].insert(Int32(i))
                }
            }
        }
        for i in 0..<n { #expect(Array(try s.similarItems(of: i)) == similar[i].sorted(), "row \(i)") }
    }

    @Test func batchMatricesAreSymmetricPlusMinusOne() throws {
        let x = features(60, dimension: 4, seed: 8)
        let s = NeighborhoodStructure(neighbors: NearestNeighborLists(features: x, dimension: 4, k: 5), k2: 3)
        let batch = [3, 17, 42, 5, 59]
        let m = try s.batchMatrix(batch)
        for a in 0..<5 {
            #expect(m[a * 5 + a] == 1)
            for b in 0..<5 {
                #expect(m[a * 5 + b] == m[b * 5 + a])
                #expect(m[a * 5 + b] == (try s.isSimilar(batch[a], batch[b]) ? 1 : -1))
            }
        }
    }

    @Test func aPrefixOfLongerListsIsTheShorterLists() {
        // Whole-number features: many equal distances, so the tie order is exercised too.
        var rng = SeededGenerator(seed: 77)
        let features = (0..<(300 * 3)).map { _ in Float(rng.next() % 4) }
        let long = NearestNeighborLists(features: features, dimension: 3, k: 20)
        let short = NearestNeighborLists(features: features, dimension: 3, k: 10)
        #expect(long.prefix(10).neighbors == short.neighbors)
        #expect(long.prefix(10).k == 10 && long.prefix(50).k == 20)
    }
}
