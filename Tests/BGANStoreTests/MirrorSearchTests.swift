import BGAN
import HammingSearch
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// Searches by image that also match mirror images rank each item by the nearer of the image
/// and its mirror image, exactly.
@Suite struct MirrorSearchTests {
    let directory = TemporaryDirectory("mirror")
    static let count = 300

    static func image(_ index: Int) -> PixelBuffer { StoreImageTests.image(index) }

    /// A store of `count` Fashion-MNIST images and each image's real-valued encoding.
    func fixture(_ name: String, seed: UInt64) throws -> (Store, ImageEncoder, [[Float]]) {
        let model = try StoreImageTests.model(seed: seed)
        let store = try directory.boundStore(name, model: model)
        try store.write(images: (0..<Self.count).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
        let encoder = try ImageEncoder(model: model)
        let values = try encoder.realValuedOutputs(of: (0..<Self.count).map(Self.image))
        return (store, encoder, (0..<Self.count).map { Array(values[($0 * 32)..<(($0 + 1) * 32)]) })
    }

    /// Every item at the smaller of its distances to the two queries' codes, in id order.
    static func nearerDistances(_ queries: [[Float]], _ items: [[Float]]) -> [Int] {
        let codes = queries.map { BinaryCode(signsOf: $0) }
        return items.map { item in codes.map { BinaryCode(signsOf: item).distance(to: $0) }.min()! }
    }

    /// The refined answer computed the obvious way: each query's candidates (every item within
    /// the distance of its `max(k·factor, minimum)`-th nearest), pooled, scored by the best cosine
    /// with either query, ordered by score, then the smaller distance, then id.
    static func refinedOracle(_ queries: [[Float]], _ items: [[Float]], k: Int, factor: Int, minimum: Int) -> [String] {
        var candidates = Set<Int>()
        for query in queries {
            let code = BinaryCode(signsOf: query)
            let distances = items.map { BinaryCode(signsOf: $0).distance(to: code) }
            let reach = distances.sorted()[min(max(k * factor, minimum), items.count) - 1]
            candidates.formUnion(distances.indices.filter { distances[$0] <= reach })
        }
        let nearer = nearerDistances(queries, items)
        let units = queries.map(Refinement.normalizedQuery)
        let scored = candidates.map { index in
            let vector = Refinement.quantize(items[index])
            let score = units.map { unit in unit.withUnsafeBufferPointer { q in vector.withUnsafeBufferPointer { Refinement.cosine(query: q, item: $0) } } }.max()!
            return (index: index, score: score, distance: nearer[index])
        }
        return scored.sorted { a, b in
            a.score != b.score ? a.score > b.score : (a.distance != b.distance ? a.distance < b.distance : a.index < b.index)
        }.prefix(k).map { "i\($0.index)" }
    }

    @Test(arguments: [SearchMethod.linearScan, .multiIndex, .automatic])
    func resultsEqualTheOracleOfTheNearerQuery(method: SearchMethod) throws {
        let (store, encoder, items) = try fixture("oracle-\(method.rawValue)", seed: 31)
        for (queryIndex, k, factor, minimum) in [(1000, 10, 4, 1), (1001, 5, 1, 1), (17, 10, 2, 10), (1002, 40, 3, 10), (1003, 1, 4, 10), (1004, 2, 2, 30)] {
            let query = Self.image(queryIndex)
            let queries = [try encoder.realValuedOutputs(of: [query]), try encoder.realValuedOutputs(of: [query.oriented(.mirrored)])]
            let nearer = Self.nearerDistances(queries, items)
            let context: Comment = "query \(queryIndex), k \(k), factor \(factor), minimum \(minimum)"

            let plain = try store.search(image: query, k: k, method: method, refinement: nil, matchingMirrorImages: true).hits
            let expected = nearer.indices.sorted { (nearer[$0], $0) < (nearer[$1], $1) }.prefix(k)
            #expect(plain.map(\.key) == expected.map { "i\($0)" }, context)
            #expect(plain.map(\.distance) == expected.map { nearer[$0] }, context)
            #expect(plain.allSatisfy { $0.score == nil }, context)

            let refined = try store.search(image: query, k: k, method: method,
                                           refinement: Refinement.Options(candidateFactor: factor, minimumCandidates: minimum, nearTieBand: 0),
                                           matchingMirrorImages: true).hits
            #expect(refined.map(\.key) == Self.refinedOracle(queries, items, k: k, factor: factor, minimum: minimum), context)
            #expect(refined.allSatisfy { $0.distance == nearer[Int($0.key.dropFirst())!] }, context)

            let radius = nearer.sorted()[12]
            let within = try store.search(image: query, radius: radius, method: method, refinement: nil, matchingMirrorImages: true).hits
            #expect(Set(within.map(\.key)) == Set(nearer.indices.filter { nearer[$0] <= radius }.map { "i\($0)" }), context)
            #expect(within.map(\.distance) == within.map(\.distance).sorted(), context)
        }
    }

    @Test func aMirrorCopyOfAStoredImageFindsItFirst() async throws {
        let (store, _, _) = try fixture("copies", seed: 32)
        var foundWithout = 0
        for index in stride(from: 0, to: Self.count, by: 15) {
            let copy = Self.image(index).oriented(.mirrored)
            let (hits, firstWithout) = try Self.blockingSearches(store, copy)
            #expect(hits.first?.key == "i\(index)" && hits.first?.distance == 0, "copy of i\(index)")
            #expect(hits.first.map { $0.score! > 0.99 } == true, "copy of i\(index)")
            let asyncHits = try await store.search(image: copy, k: 5, matchingMirrorImages: true).hits
            #expect(asyncHits.map(\.key) == hits.map(\.key) && asyncHits.map(\.distance) == hits.map(\.distance))
            if firstWithout == "i\(index)" { foundWithout += 1 }
        }
        // Without it, a mirror copy is just another image: the encoder does not ignore flips.
        #expect(foundWithout < Self.count / 15)
    }

    /// A store bound to a model that averages mirror images finds a mirror copy's original at
    /// distance 0 without being asked to match mirror images; asked, it searches once, as the
    /// mirror image's code is the image's, with the same answer.
    @Test func aModelThatAveragesMirrorImagesFindsMirrorCopiesWithOneSearch() async throws {
        let model = try StoreImageTests.model(seed: 33).averagingMirrorImages(true)
        let store = try directory.boundStore("averaging", model: model)
        try Self.writeImages(store)
        for index in stride(from: 0, to: Self.count, by: 25) {
            let copy = Self.image(index).oriented(.mirrored)
            let (plain, refined, matching) = try Self.blockingAnswers(store, copy)
            #expect(plain.hits.contains { $0.key == "i\(index)" }, "copy of i\(index): its code is the original's")
            #expect(refined.hits.first?.key == "i\(index)" && refined.hits.first?.distance == 0, "copy of i\(index)")
            #expect(matching.hits.map(\.key) == refined.hits.map(\.key) && matching.hits.map(\.score) == refined.hits.map(\.score))
            #expect(matching.statistics.distancesComputed == refined.statistics.distancesComputed, "one search, not two")
            let asyncMatching = try await store.search(image: copy, k: 5, matchingMirrorImages: true)
            #expect(asyncMatching.hits.map(\.key) == refined.hits.map(\.key))
            #expect(asyncMatching.statistics.distancesComputed == refined.statistics.distancesComputed)
        }
    }

    static func writeImages(_ store: Store) throws {
        try store.write(images: (0..<count).map { ImageItem(key: "i\($0)", image: image($0)) })
    }

    /// The blocking API's answers for `copy`: every item at distance 0, and 5 hits refined and
    /// refined matching mirror images.
    static func blockingAnswers(_ store: Store, _ copy: PixelBuffer) throws -> (StoreSearchResult, StoreSearchResult, StoreSearchResult) {
        (try store.search(image: copy, radius: 0, refinement: nil), try store.search(image: copy, k: 5),
         try store.search(image: copy, k: 5, matchingMirrorImages: true))
    }

    /// The blocking API's answers for `copy`: 5 hits matching mirror images, and the first
    /// key without.
    static func blockingSearches(_ store: Store, _ copy: PixelBuffer) throws -> ([SearchHit], String?) {
        (try store.search(image: copy, k: 5, matchingMirrorImages: true).hits, try store.search(image: copy, k: 1).hits.first?.key)
    }
}
