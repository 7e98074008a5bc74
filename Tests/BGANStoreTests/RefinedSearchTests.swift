import BGAN
import HammingSearch
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// Searches by image refine the exact Hamming candidates by the encoder's real values.
@Suite struct RefinedSearchTests {
    let directory = TemporaryDirectory("refined")

    static func image(_ index: Int) -> PixelBuffer { StoreImageTests.image(index) }

    /// The refined answer computed the obvious way: every item's distance, the candidates
    /// within the distance of the `max(k·factor, minimum)`-th nearest, ordered by cosine.
    static func oracle(query: [Float], items: [(key: String, values: [Float])], k: Int, factor: Int, minimum: Int) -> [String] {
        oracle(queryCode: query, queryVector: query, items: items.map { ($0.key, $0.values, $0.values) }, k: k, factor: factor, minimum: minimum)
    }

    /// The same, the codes the signs of `codeValues` and the cosines those of `vector`s (the same
    /// values, or a separate refinement vector such as a hidden layer).
    static func oracle(queryCode: [Float], queryVector: [Float], items: [(key: String, codeValues: [Float], vector: [Float])],
                       k: Int, factor: Int, minimum: Int) -> [String] {
        let code = BinaryCode(signsOf: queryCode)
        let unit = Refinement.normalizedQuery(queryVector)
        let ranked = items.enumerated().map { (index: $0.offset, key: $0.element.key, distance: BinaryCode(signsOf: $0.element.codeValues).distance(to: code),
                                              vector: Refinement.quantize($0.element.vector)) }
        let reach = ranked.map(\.distance).sorted()[min(max(k * factor, minimum), ranked.count) - 1]
        let scored = ranked.filter { $0.distance <= reach }.map { entry in
            (entry, unit.withUnsafeBufferPointer { q in entry.vector.withUnsafeBufferPointer { Refinement.cosine(query: q, item: $0) } })
        }
        return scored.sorted { a, b in
            a.1 != b.1 ? a.1 > b.1 : (a.0.distance != b.0.distance ? a.0.distance < b.0.distance : a.0.index < b.0.index)
        }.prefix(k).map(\.0.key)
    }

    @Test(arguments: [SearchMethod.linearScan, .multiIndex, .automatic])
    func refinedResultsEqualTheOracle(method: SearchMethod) throws {
        let model = try StoreImageTests.model(seed: 21)
        let store = try directory.boundStore("oracle-\(method.rawValue)", model: model)
        let count = 400
        try store.write(images: (0..<count).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
        let encoder = try ImageEncoder(model: model)
        let values = try encoder.realValuedOutputs(of: (0..<count).map(Self.image))
        let items = (0..<count).map { (key: "i\($0)", values: Array(values[($0 * 32)..<(($0 + 1) * 32)])) }
        let cases = [(1000, 10, 4, 1), (1001, 5, 1, 1), (7, 10, 2, 10), (1002, 50, 3, 10), (1003, 1, 4, 10), (1004, 1, 1, 1), (1005, 2, 4, 60)]
        for (queryIndex, k, factor, minimum) in cases {
            let query = try encoder.realValuedOutputs(of: [Self.image(queryIndex)])
            let hits = try store.search(image: Self.image(queryIndex), k: k, method: method,
                                        refinement: Refinement.Options(candidateFactor: factor, minimumCandidates: minimum, nearTieBand: 0)).hits
            #expect(hits.map(\.key) == Self.oracle(query: query, items: items, k: k, factor: factor, minimum: minimum),
                    "query \(queryIndex), k \(k), factor \(factor), minimum \(minimum)")
            #expect(hits.allSatisfy { $0.score != nil })
        }
    }

    @Test func aStoredImageComesFirstEvenBehindEarlierItemsWithItsCode() throws {
        let store = try directory.boundStore("ties", model: try StoreImageTests.model(seed: 22))
        let target = Self.image(42)
        let code = try store.codes(of: [target])[0]
        // 30 items inserted earlier with exactly the target's code, as bare codes: the plain
        // Hamming ranking (distance, then insertion order) shows them all before the image.
        try store.write((0..<30).map { StoreItem(key: "decoy\($0)", code: code) })
        try store.write(images: (100..<200).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
        try store.insert(image: target, key: "target")
        let plain = try store.search(image: target, k: 10, refinement: nil).hits
        #expect(!plain.contains { $0.key == "target" }, "ties in insertion order bury the image itself")
        #expect(plain.allSatisfy { $0.score == nil })
        let refined = try store.search(image: target, k: 10)
        #expect(refined.hits.first?.key == "target")
        #expect(refined.hits.first.map { $0.score! > 0.99 } == true)
        #expect(refined.statistics.refinedCandidates >= 31, "every item tied at distance 0 was a candidate")
        let within = try store.search(image: target, radius: 0).hits
        #expect(within.first?.key == "target" && within.count >= 31)
    }

    /// A search for one result reorders at least `minimumCandidates` codes: an item a few bits
    /// past the four nearest, but closest in real values, comes first with the default floor and
    /// is never seen without it.
    @Test func theFloorReachesPastTheFourNearestCodes() throws {
        let store = try directory.bareStore("floor", bits: 64)
        // The query's signs are all +1; bits 60–63 are barely positive.
        let query = (0..<64).map { $0 < 60 ? Float(1) : Float(0.01) }
        func flipping(_ bits: [Int]) -> BinaryCode { BinaryCode(signsOf: (0..<64).map { bits.contains($0) ? Float(-1) : Float(1) }) }
        // Decoys one bit away, where the query is sure of its sign; the target three bits away,
        // where it is not; unrelated items far off.
        var items = (0..<5).map { StoreItem(key: "decoy\($0)", code: flipping([$0])) }
        items.append(StoreItem(key: "target", code: flipping([60, 61, 62])))
        items += (0..<20).map { StoreItem(key: "far\($0)", code: flipping(Array(($0 + 5)..<($0 + 25)))) }
        try store.write(items)
        let withoutFloor = try store.search(realValues: query, k: 1, refinement: Refinement.Options(candidateFactor: 4, minimumCandidates: 1))
        #expect(withoutFloor.hits.first?.key.hasPrefix("decoy") == true)
        #expect(withoutFloor.statistics.refinedCandidates == 5, "the four nearest and the fifth tied with them")
        let withFloor = try store.search(realValues: query, k: 1)
        #expect(withFloor.hits.first?.key == "target")
        #expect(withFloor.statistics.refinedCandidates == 26, "the tenth nearest is one of the 20 far items, all tied")
        let largeK = try store.search(realValues: query, k: 3, refinement: Refinement.Options(candidateFactor: 1, minimumCandidates: 1))
        #expect(largeK.statistics.refinedCandidates == 5 && !largeK.hits.contains { $0.key == "target" })
    }

    @Test func vectorsFollowTheirItems() throws {
        let store = try directory.boundStore("life", model: try StoreImageTests.model(seed: 23))
        try store.write(images: (0..<20).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
        #expect(try store.statistics().refinementVectors == 20)
        try store.remove(key: "i3")
        // Replaced by a bare code: the vector of the old image goes with it.
        try store.write([StoreItem(key: "i4", code: BinaryCode(signsOf: [Float](repeating: 1, count: 32)))], mode: .upsert)
        #expect(try store.statistics().refinementVectors == 18)
        #expect(try store.verify().isHealthy)
        // A bare-code item is still ranked, through its code's signs.
        let hits = try store.search(realValues: [Float](repeating: 0.5, count: 32), k: 1).hits
        #expect(hits.first?.key == "i4" && hits.first?.score.map { $0 > 0.99 } == true)
        #expect(throws: StoreError.self) { try store.search(realValues: [1, 2, 3], k: 1) }
    }

    @Test func verifyNoticesADamagedVector() throws {
        let store = try directory.boundStore("damaged", model: try StoreImageTests.model(seed: 24))
        let id = try store.insert(image: Self.image(0), key: "x")
        try store.environment.write { txn in try txn.put(store.tables.refinements!, key: id, value: [UInt8](repeating: 1, count: 5)) }
        let report = try store.verify()
        #expect(report.problems.contains { $0.contains("refinement vector has 5 bytes") }, "\(report.problems)")
        #expect(throws: StoreError.self) { try store.search(image: Self.image(0), k: 1) }
    }
}
