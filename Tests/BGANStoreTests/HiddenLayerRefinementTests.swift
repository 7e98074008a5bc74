import BGAN
import HammingSearch
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// A store bound to a model that refines by its hidden layer (`ModelFile.Header.refinementVectors`)
/// keeps that layer per item and re-ranks its exact Hamming candidates by it; codes stay the outputs' signs.
@Suite struct HiddenLayerRefinementTests {
    let directory = TemporaryDirectory("hidden-refinement")

    static func image(_ index: Int) -> PixelBuffer { StoreImageTests.image(index) }

    /// The test model (32 bits over 16 hidden units) refining by its hidden layer.
    static func model(seed: UInt64) throws -> ModelFile {
        try StoreImageTests.model(seed: seed).refining(by: .hiddenLayer)
    }

    /// One image as the oracle sees it: its code's values and the vector refinement compares.
    struct Encoded {
        let key: String
        let codeValues: [Float]
        let vector: [Float]
    }

    static func encoded(_ indices: [Int], _ encoder: ImageEncoder) throws -> [Encoded] {
        let images = indices.map(image)
        let outputs = try encoder.realValuedOutputs(of: images)
        let hidden = try encoder.hiddenFeatures(of: images)
        let bits = encoder.bits, units = encoder.hiddenUnits
        return indices.enumerated().map { row, index in
            Encoded(key: "i\(index)", codeValues: Array(outputs[(row * bits)..<((row + 1) * bits)]),
                    vector: Array(hidden[(row * units)..<((row + 1) * units)]))
        }
    }

    /// `RefinedSearchTests`' oracle: codes from the outputs, cosines of the hidden layers.
    static func oracle(query: Encoded, items: [Encoded], k: Int, factor: Int, minimum: Int) -> [String] {
        RefinedSearchTests.oracle(queryCode: query.codeValues, queryVector: query.vector, items: items.map { ($0.key, $0.codeValues, $0.vector) },
                                  k: k, factor: factor, minimum: minimum)
    }

    @Test(arguments: [SearchMethod.linearScan, .multiIndex, .automatic])
    func refinedResultsEqualTheHiddenLayerOracle(method: SearchMethod) throws {
        let model = try Self.model(seed: 21)
        let store = try directory.boundStore("oracle-\(method.rawValue)", model: model)
        let count = 400
        try store.write(images: (0..<count).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
        let encoder = try ImageEncoder(model: model)
        let items = try Self.encoded(Array(0..<count), encoder)
        #expect(try store.codes(of: [Self.image(5)]) == [BinaryCode(signsOf: items[5].codeValues)], "codes are the outputs' signs")
        var differsFromTheOutputs = false
        let cases = [(1000, 10, 4, 1), (1001, 5, 1, 1), (7, 10, 2, 10), (1002, 50, 3, 10), (1003, 1, 4, 10), (1004, 1, 1, 1), (1005, 2, 4, 60)]
        for (queryIndex, k, factor, minimum) in cases {
            let query = try Self.encoded([queryIndex], encoder)[0]
            let options = Refinement.Options(candidateFactor: factor, minimumCandidates: minimum, nearTieBand: 0)
            let hits = try store.search(image: Self.image(queryIndex), k: k, method: method, refinement: options).hits
            let expected = Self.oracle(query: query, items: items, k: k, factor: factor, minimum: minimum)
            #expect(hits.map(\.key) == expected, "query \(queryIndex), k \(k), factor \(factor), minimum \(minimum)")
            // The same query given as a row of code values and vector, as a caller encoding many at once does.
            let row = try store.queryRows(of: [Self.image(queryIndex)])
            #expect(row == query.codeValues + query.vector)
            #expect(try store.search(realValues: row, k: k, method: method, refinement: options).hits.map(\.key) == expected)
            let byOutputs = Self.oracle(query: Encoded(key: "", codeValues: query.codeValues, vector: query.codeValues),
                                        items: items.map { Encoded(key: $0.key, codeValues: $0.codeValues, vector: $0.codeValues) },
                                        k: k, factor: factor, minimum: minimum)
            differsFromTheOutputs = differsFromTheOutputs || byOutputs != expected
        }
        #expect(differsFromTheOutputs, "the cases tell refinement by the hidden layer from refinement by the outputs")
    }

    /// With pixels beside the hidden layer (`ModelFile.Header.refinementPixels`) the store keeps
    /// and compares the whole vector `ImageEncoder.outputsAndRefinementVectors(of:)` gives.
    @Test(arguments: [SearchMethod.linearScan, .multiIndex])
    func pixelsBesideTheHiddenLayerRankAsTheOracle(method: SearchMethod) throws {
        let model = try StoreImageTests.model(seed: 27).refining(by: .hiddenLayer, pixels: ModelFile.PixelSignature(side: 7, weight: 1))
        let store = try directory.boundStore("pixels-\(method.rawValue)", model: model)
        let count = 300
        let ids = try store.write(images: (0..<count).map { ImageItem(key: "i\($0)", image: Self.image($0)) }).insertedIDs
        let encoder = try ImageEncoder(model: model)
        let width = 32 + 16 + 49
        func rows(_ indices: [Int]) throws -> [Encoded] {
            let values = try encoder.outputsAndRefinementVectors(of: indices.map(Self.image).flatMap(model.header.preprocessing.input(from:)))
            return indices.enumerated().map { row, index in
                let row = Array(values[(row * width)..<((row + 1) * width)])
                return Encoded(key: "i\(index)", codeValues: Array(row.prefix(32)), vector: Array(row.dropFirst(32)))
            }
        }
        let items = try rows(Array(0..<count))
        let stored = try store.environment.read { txn in try txn.get(store.tables.refinements!, key: ids[7]).map { Array($0) } }
        #expect(stored == Refinement.quantize(items[7].vector).map { UInt8(bitPattern: $0) }, "16 hidden units and 49 pixels an item")
        for (queryIndex, k) in [(1000, 10), (1001, 1), (7, 5)] {
            let query = try rows([queryIndex])[0]
            let hits = try store.search(image: Self.image(queryIndex), k: k, method: method, refinement: Refinement.Options(nearTieBand: 0)).hits
            #expect(hits.map(\.key) == Self.oracle(query: query, items: items, k: k, factor: 4, minimum: 10), "query \(queryIndex), k \(k)")
        }
        #expect(try store.search(image: Self.image(7), k: 1).hits.first?.key == "i7")
        #expect(try store.verify().isHealthy)
    }

    @Test func theStoreKeepsTheHiddenLayerPerItem() throws {
        let model = try Self.model(seed: 22)
        let store = try directory.boundStore("vectors", model: model)
        let ids = try store.write(images: (0..<12).map { ImageItem(key: "i\($0)", image: Self.image($0)) }).insertedIDs
        let encoded = try Self.encoded(Array(0..<12), try ImageEncoder(model: model))
        let stored = try store.environment.read { txn in try ids.map { try txn.get(store.tables.refinements!, key: $0).map { Array($0) } } }
        #expect(stored == encoded.map { Refinement.quantize($0.vector).map { UInt8(bitPattern: $0) } }, "one byte per hidden unit")
        #expect(try store.statistics().refinementVectors == 12)
        #expect(try store.verify().isHealthy)
    }

    @Test func aStoredImageComesFirstEvenBehindEarlierItemsWithItsCode() throws {
        let store = try directory.boundStore("ties", model: try Self.model(seed: 23))
        let target = Self.image(42)
        let code = try store.codes(of: [target])[0]
        // Bare codes tied with the target have no hidden layer: they are compared through their codes' signs.
        try store.write((0..<30).map { StoreItem(key: "decoy\($0)", code: code) })
        try store.write(images: (100..<200).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
        try store.insert(image: target, key: "target")
        for mirrors in [false, true] {
            let refined = try store.search(image: target, k: 10, matchingMirrorImages: mirrors)
            #expect(refined.hits.first?.key == "target", "matching mirror images: \(mirrors)")
            #expect(refined.hits.first.map { $0.score! > 0.99 } == true)
        }
        #expect(try store.search(image: target, radius: 0).hits.first?.key == "target")
    }

    /// Code values alone (what `realValuedOutputs(of:)` gives) cannot be compared with hidden
    /// layers: every candidate is then compared through its code's signs, as a bare-code store does.
    @Test func codeValuesAloneRankByTheCodesSigns() throws {
        let store = try directory.boundStore("code-values", model: try Self.model(seed: 24))
        try store.write(images: (0..<200).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
        let values = try store.realValuedOutputs(of: [Self.image(500)])
        #expect(values.count == 32, "the outputs alone, one value per bit")
        let hits = try store.search(realValues: values, k: 5, refinement: Refinement.Options(nearTieBand: 0)).hits
        let unit = Refinement.normalizedQuery(values)
        for hit in hits {
            let signs: [Int8] = (0..<32).map { try! store.item(forKey: hit.key)!.code.bit($0) ? 127 : -127 }
            let cosine = unit.withUnsafeBufferPointer { q in signs.withUnsafeBufferPointer { Refinement.cosine(query: q, item: $0) } }
            #expect(abs(hit.score! - cosine) < 1e-6, "\(hit.key)")
        }
        let error = #expect(throws: StoreError.self) { try store.search(realValues: [Float](repeating: 1, count: 40), k: 1) }
        #expect(error?.message.contains("32 + 16") == true, "\(error?.message ?? "")")
    }

    @Test func asyncSearchesRefineAsBlockingOnesDo() async throws {
        let store = try directory.boundStore("async", model: try Self.model(seed: 25))
        try await store.write(images: (0..<150).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
        for query in [3, 700, 701] {
            let blocking = try await store.offPool { try $0.search(image: Self.image(query), k: 8).hits }
            let concurrent = try await store.search(image: Self.image(query), k: 8).hits
            #expect(blocking.map(\.key) == concurrent.map(\.key) && blocking.map(\.score) == concurrent.map(\.score))
            let values = try await store.realValuedOutputs(of: [Self.image(query)])
            #expect(values == (try await store.offPool { try $0.realValuedOutputs(of: [Self.image(query)]) }))
            #expect(values.count == 32)
        }
    }

    @Test func verifyNoticesAVectorOfTheOutputsWidth() throws {
        let store = try directory.boundStore("damaged", model: try Self.model(seed: 26))
        let id = try store.insert(image: Self.image(0), key: "x")
        try store.environment.write { txn in try txn.put(store.tables.refinements!, key: id, value: [UInt8](repeating: 1, count: 32)) }
        #expect(try store.verify().problems.contains { $0.contains("refinement vector has 32 bytes, not 16") })
        #expect(throws: StoreError.self) { try store.search(image: Self.image(0), k: 1) }
    }

    /// An application's encoder may keep its own refinement vector; one that breaks the promise is refused before any write.
    @Test func anApplicationEncoderWithAMisshapenRefinementIsRefused() throws {
        struct Widened: ImageCodeEncoder {
            let identity = EncoderIdentity(name: "com.example.widened", version: "1")
            let bitCount = 8
            let refinementWidth: Int? = 3
            let returnsWholeRows: Bool
            func prepare(_ image: PixelBuffer) throws -> [Float] {
                image.converted(to: .gray).areaResized(width: 3, height: 1).bytes.map { Float($0) - 100 }
            }
            func encode(_ prepared: [[Float]]) throws -> [Float] {
                prepared.flatMap { p in (0..<8).map { p[$0 % 3] + Float($0) } }
            }
            func encodeWithRefinement(_ prepared: [[Float]]) throws -> [Float] {
                prepared.flatMap { p in (0..<8).map { p[$0 % 3] + Float($0) } + (returnsWholeRows ? p : []) }
            }
        }
        let good = try Store.create(at: directory.sub("app"), encoder: Widened(returnsWholeRows: true))
        try good.insert(image: Self.image(1), key: "one")
        #expect(try good.environment.read { txn in try txn.get(good.tables.refinements!, key: UInt32(0))?.count } == 3)
        #expect(try good.search(image: Self.image(1), k: 1).hits.first?.key == "one")
        // Reopened without the encoder: code values alone still search, through the items' codes.
        let values = try Widened(returnsWholeRows: true).encode([try Widened(returnsWholeRows: true).prepare(Self.image(1))])
        good.close()
        let reopened = try Store(openingAt: directory.sub("app"), options: StoreOptions())
        let hit = try #require(try reopened.search(realValues: values, k: 1).hits.first)
        #expect(hit.key == "one" && hit.score.map { $0 > 0.5 } == true, "\(hit)")
        let bad = try Store.create(at: directory.sub("app-bad"), encoder: Widened(returnsWholeRows: false))
        let error = #expect(throws: StoreError.self) { try bad.insert(image: Self.image(1), key: "one") }
        #expect(error?.message.contains("encodeWithRefinement") == true)
        #expect(try bad.count() == 0, "nothing written")
    }
}
