import Basics
import HammingSearch
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// Searches by image break near-ties of their refined scores by the items' kept thumbnails.
@Suite struct NearTieBreakTests {
    let directory = TemporaryDirectory("near-ties")

    static func image(_ index: Int) -> PixelBuffer { StoreImageTests.image(index) }

    /// `image` with every value scaled by `factor` about the middle gray and shifted by `offset`, clipped.
    static func retoned(_ image: PixelBuffer, factor: Float, offset: Float) -> PixelBuffer {
        let bytes = image.bytes.map { UInt8(max(0, min(255, ((Float($0) - 128) * factor + 128 + offset).rounded()))) }
        return try! PixelBuffer(width: image.width, height: image.height, format: image.format, bytes: bytes)
    }

    @Test func signaturesIgnoreBrightnessAndContrastAndMayIgnoreMirroring() {
        let image = Self.image(3), other = Self.image(4)
        let signature = ThumbnailSignature(image)
        #expect(signature.distance(to: signature, matchingMirrorImage: false) == 0)
        let retoned = ThumbnailSignature(Self.retoned(image, factor: 0.8, offset: 20))
        #expect(signature.distance(to: retoned, matchingMirrorImage: false) < 0.05, "a re-toned copy is the same picture")
        #expect(signature.distance(to: ThumbnailSignature(other), matchingMirrorImage: false) > 0.3)
        let mirrored = ThumbnailSignature(image.oriented(.mirrored))
        #expect(signature.distance(to: mirrored, matchingMirrorImage: true) == 0)
        #expect(signature.distance(to: mirrored, matchingMirrorImage: false) > 0.1)
        // A flat image stays flat instead of its rounding noise being blown up to deviation 1.
        let flat = try! PixelBuffer(width: 28, height: 28, format: .gray, bytes: (0..<784).map { UInt8(100 + $0 % 2) })
        #expect(ThumbnailSignature(flat).values.allSatisfy { abs($0) <= 0.5 })
    }

    /// The distance leaves out the tenth of pixels that differ most, so a copy with a part
    /// blacked out (the corners of a photo turned in place, a caption) stays nearer its original
    /// than another picture, and a difference confined to that tenth counts for nothing.
    @Test func theWorstTenthOfPixelsDoesNotDecide() throws {
        var squares = [Float](repeating: 1, count: 900) + [Float](repeating: 1_000, count: 100)
        var rng = SeededGenerator(seed: 5)
        squares.shuffle(using: &rng)
        #expect(ThumbnailSignature.trimmedRootMeanSquare(&squares) == 1)

        let image = Self.image(3), other = Self.image(4)
        var bytes = image.bytes
        for index in bytes.indices where index / image.rowStride >= 26 { bytes[index] = 0 }
        let occluded = try PixelBuffer(width: image.width, height: image.height, format: image.format, bytes: bytes)
        let signature = ThumbnailSignature(image)
        let occludedDistance = signature.distance(to: ThumbnailSignature(occluded), matchingMirrorImage: false)
        #expect(occludedDistance < signature.distance(to: ThumbnailSignature(other), matchingMirrorImage: false) / 2)
    }

    /// A nearly flat photo re-saved with blocky artefacts (8×8 blocks each up to a level off, as
    /// a low-quality JPEG leaves them) lies beyond the copy ceiling at 64×64, where its deviation
    /// of a few levels is brought to one, but within it at 16×16, where the blocks average out:
    /// it is a copy. Another flat photo, shaded the other way, is a copy at neither size.
    @Test func blockyResavesOfFlatPhotosAreCopiesAtTheCoarseSize() throws {
        func flat(_ shade: (Int, Int) -> Float, blocks: Bool) throws -> PixelBuffer {
            var rng = SeededGenerator(seed: 9)
            let offsets = (0..<(32 * 32)).map { _ in blocks ? Float(Int(rng.next() % 3) - 1) : 0 }
            let bytes = (0..<(256 * 256)).map { index -> UInt8 in
                let (y, x) = (index / 256, index % 256)
                return UInt8(max(0, min(255, (120 + shade(x, y) + offsets[(y / 8) * 32 + x / 8]).rounded())))
            }
            return try PixelBuffer(width: 256, height: 256, format: .gray, bytes: bytes)
        }
        let slope = { (x: Int, y: Int) in Float(x + y) * 24 / 510 }
        func signature(_ image: PixelBuffer) -> ThumbnailSignature {
            ThumbnailSignature(Store.thumbnail(of: ImageItem(key: "", image: image), side: Store.defaultThumbnailSide))
        }
        let original = signature(try flat(slope, blocks: false))
        let resaved = signature(try flat(slope, blocks: true))
        let other = signature(try flat({ x, y in Float(x - y + 255) * 24 / 510 }, blocks: false))
        let ceiling = try #require(Refinement.Options.defaultNearTieCopyDistance)
        #expect(resaved.distance(to: original, matchingMirrorImage: false) > ceiling, "beyond the ceiling at 64×64")
        #expect(resaved.coarseDistance(to: original, matchingMirrorImage: false) <= ceiling, "within it at 16×16")
        #expect(resaved.closeness(to: original, copyDistance: ceiling, matchingMirrorImage: false).isCopy)
        #expect(!resaved.closeness(to: other, copyDistance: ceiling, matchingMirrorImage: false).isCopy)
        #expect(resaved.closeness(to: other, copyDistance: nil, matchingMirrorImage: false).isCopy, "without a ceiling every candidate may win")
    }

    /// With a band wider than any two cosines differ and no ceiling, every candidate is in one
    /// near-tie: the answer is the exact candidates (the 32 nearest codes for 8 results, and
    /// their ties) in order of how closely their kept thumbnails match the query's.
    @Test func aWideBandOrdersTheCandidatesByThumbnail() throws {
        let model = try StoreImageTests.model(seed: 41)
        let store = try directory.boundStore("wide", model: model)
        let count = 150, k = 8
        let images = (0..<count).map(Self.image)
        try store.write(images: images.enumerated().map { ImageItem(key: "i\($0.offset)", image: $0.element) })
        let query = Self.retoned(Self.image(17), factor: 0.9, offset: 10)
        let hits = try store.search(image: query, k: k, refinement: Refinement.Options(nearTieBand: 3, nearTieCopyDistance: nil)).hits

        let queryCode = try store.codes(of: [query])[0]
        let distances = try store.codes(of: images).map { $0.distance(to: queryCode) }
        let reach = distances.sorted()[Refinement.Options().candidateCount(for: k) - 1]
        let signature = ThumbnailSignature(Store.thumbnail(of: ImageItem(key: "", image: query), side: Store.defaultThumbnailSide))
        func thumbnailDistance(_ index: Int) throws -> Float {
            signature.distance(to: ThumbnailSignature(try #require(try store.thumbnail(forKey: "i\(index)"))), matchingMirrorImage: false)
        }
        let oracle = try distances.indices.filter { distances[$0] <= reach }
            .map { (index: $0, distance: try thumbnailDistance($0)) }
            .sorted { $0.distance < $1.distance }.prefix(k).map { "i\($0.index)" }
        #expect(hits.map(\.key) == oracle)
        #expect(hits.first?.key == "i17", "a re-toned copy's original has the nearest thumbnail")
        // Scores are still the cosines: the band reorders, it does not rescore.
        let plain = try store.search(image: query, k: count, refinement: Refinement.Options(minimumCandidates: count, nearTieBand: 0)).hits
        let scores = Dictionary(uniqueKeysWithValues: plain.map { ($0.key, $0.score) })
        #expect(hits.allSatisfy { scores[$0.key] == $0.score })
    }

    /// The band changes nothing where no thumbnails are kept, in a search by values without an
    /// image, or at 0; a search by an image's values with the image answers as the search by image.
    @Test func theBandActsOnlyWhereThumbnailsAndAnImageAre() throws {
        let model = try StoreImageTests.model(seed: 42)
        let kept = try directory.boundStore("kept", model: model)
        let none = try directory.boundStore("none", model: model, thumbnailSide: 0)
        let items = (0..<100).map { ImageItem(key: "i\($0)", image: Self.image($0)) }
        try kept.write(images: items)
        try none.write(images: items)
        let wide = Refinement.Options(nearTieBand: 3, nearTieCopyDistance: nil), off = Refinement.Options(nearTieBand: 0)
        var reordered = 0
        for index in [1000, 1001, 1002, 5] {
            let query = Self.image(index)
            let values = try kept.realValuedOutputs(of: [query])
            #expect(try none.search(image: query, k: 5, refinement: wide).hits.map(\.key) == none.search(image: query, k: 5, refinement: off).hits.map(\.key))
            #expect(try kept.search(realValues: values, k: 5, refinement: wide).hits.map(\.key) == kept.search(realValues: values, k: 5, refinement: off).hits.map(\.key))
            let byImage = try kept.search(image: query, k: 5, refinement: wide).hits.map(\.key)
            #expect(try kept.search(realValues: values, of: query, k: 5, refinement: wide).hits.map(\.key) == byImage)
            if try byImage != kept.search(image: query, k: 5, refinement: off).hits.map(\.key) { reordered += 1 }
        }
        #expect(reordered > 0, "the wide band reorders where thumbnails are kept")
    }

    /// With the default ceiling a near-tie goes by thumbnail only to a copy of the query: a
    /// re-toned copy finds its original first however wide the band, and a query that copies
    /// nothing stored gets the cosines' order, as without a band.
    @Test func onlyACopyOfTheQueryOverridesTheCosines() throws {
        let store = try directory.boundStore("copies", model: try StoreImageTests.model(seed: 45))
        try Self.writeImages(store)
        let gated = Refinement.Options(nearTieBand: 3), off = Refinement.Options(nearTieBand: 0)
        #expect(gated.nearTieCopyDistance == Refinement.Options.defaultNearTieCopyDistance)
        for index in [11, 29, 64] {
            let copy = Self.retoned(Self.image(index), factor: 0.85, offset: -12)
            #expect(try store.search(image: copy, k: 5, refinement: gated).hits.first?.key == "i\(index)")
        }
        var differ = 0
        for index in [1000, 1001, 1002, 1003] {
            let query = Self.image(index)
            #expect(try Self.blockingKeys(store, query, gated) == Self.blockingKeys(store, query, off))
            let unbounded = Refinement.Options(nearTieBand: 3, nearTieCopyDistance: nil)
            if try Self.blockingKeys(store, query, unbounded) != Self.blockingKeys(store, query, off) { differ += 1 }
        }
        #expect(differ > 0, "without the ceiling the same band reorders these queries")
    }

    /// A thumbnail that no longer decodes, met in a near-tie, is reported as damage to the store.
    @Test func aDamagedThumbnailInANearTieIsReported() throws {
        let store = try directory.boundStore("damaged", model: try StoreImageTests.model(seed: 44))
        try Self.writeImages(store)
        let id = try #require(try store.environment.read { txn in try store.id(forKey: "i7", txn) })
        try store.environment.write { txn in try txn.put(store.tables.thumbnails!, key: id, value: [UInt8](repeating: 7, count: 20)) }
        #expect(throws: StoreError.self) { try store.search(image: Self.image(7), k: 3, refinement: Refinement.Options(nearTieBand: 3)) }
        #expect(try store.search(image: Self.image(7), k: 3).hits.first?.key == "i7", "without a band the thumbnail is not read")
    }

    /// The async search by image breaks near-ties as the blocking one does.
    @Test func asyncSearchesBreakNearTiesAlike() async throws {
        let store = try directory.boundStore("async", model: try StoreImageTests.model(seed: 43))
        try Self.writeImages(store)
        let wide = Refinement.Options(nearTieBand: 3)
        for index in [1000, 1001] {
            let blocking = try Self.blockingKeys(store, Self.image(index), wide)
            #expect(try await store.search(image: Self.image(index), k: 5, refinement: wide).hits.map(\.key) == blocking)
        }
    }

    static func writeImages(_ store: Store) throws {
        try store.write(images: (0..<100).map { ImageItem(key: "i\($0)", image: Self.image($0)) })
    }

    static func blockingKeys(_ store: Store, _ image: PixelBuffer, _ options: Refinement.Options) throws -> [String] {
        try store.search(image: image, k: 5, refinement: options).hits.map(\.key)
    }
}
