import BGAN
import Foundation
import PerceptualHash
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// Stores bound to encoders other than a model file: PDQ, known to every store by name, and an
/// application's own, which it passes again when it reopens the store.
@Suite struct EncoderBindingTests {
    let directory = TemporaryDirectory("encoders")

    /// The average hash of the ``ImageCodeEncoder`` documentation: 8×8 gray, each bit whether a
    /// cell is brighter than the mean.
    struct AverageHash: ImageCodeEncoder {
        var identity = EncoderIdentity(name: "com.example.average-hash", version: "1")
        let bitCount = 64
        func prepare(_ image: PixelBuffer) throws -> [Float] {
            let small = image.converted(to: .gray).areaResized(width: 8, height: 8)
            let pixels = small.bytes.map(Float.init)
            let mean = pixels.reduce(0, +) / 64
            return pixels.map { $0 - mean }
        }
        func encode(_ prepared: [[Float]]) throws -> [Float] { prepared.flatMap { $0 } }
    }

    /// An encoder that returns one value too few: it must not get to write anything.
    struct ShortChanging: ImageCodeEncoder {
        let identity = EncoderIdentity(name: "com.example.short", version: "1")
        let bitCount = 64
        func prepare(_ image: PixelBuffer) throws -> [Float] { [Float](repeating: 1, count: 64) }
        func encode(_ prepared: [[Float]]) throws -> [Float] { Array(prepared.flatMap { $0 }.dropLast()) }
    }

    static let scenes = ["scene-200x300.png", "scene-257x385.png", "scene-31x40.png", "scene-64x64.png", "scene-97x211.png"]
    static let pdqFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fixtures/pdq").standardized

    static func scene(_ name: String) throws -> PixelBuffer {
        try ImageDecoder().decode(contentsOf: pdqFolder.appendingPathComponent(name).path)
    }

    /// The scenes and 40 Fashion-MNIST garments: images PDQ tells apart.
    static func images() throws -> [ImageItem] {
        try scenes.map { ImageItem(key: $0, image: try scene($0)) }
            + (0..<40).map { ImageItem(key: "garment \($0)", image: StoreImageTests.image($0)) }
    }

    @Test func aPDQStoreFindsAResavedPhotoAndReopensWithoutHelp() throws {
        let path = directory.sub("pdq")
        let items = try Self.images()
        do {
            let store = try Store.create(at: path, encoder: PDQEncoder())
            #expect(store.bitCount == 256)
            #expect(try store.write(images: items).inserted == items.count)
        }
        let store = try Store(openingAt: path)
        #expect(try store.encoderIdentity() == PDQEncoder.identity)
        #expect(try store.statistics().encoder == PDQEncoder.identity && store.statistics().modelDigest == nil)
        // Every stored code is the image's PDQ hash.
        for item in items {
            #expect(try store.item(forKey: item.key)?.code == PDQ.hash(item.image).code, "\(item.key)")
        }
        // A JPEG q50 re-save of a stored photo comes back first, a few bits away.
        let original = try Self.scene("scene-257x385.png")
        let resaved = try ImageDecoder().decode(try original.jpegData(quality: 50))
        let hits = try store.search(image: resaved, k: 3).hits
        #expect(hits.first?.key == "scene-257x385.png")
        #expect((hits.first?.distance ?? 256) <= 24 && hits.dropFirst().allSatisfy { $0.distance > 60 })
        // Not a model file: the model calls say so instead of pretending.
        let noModel = #expect(throws: StoreError.self) { try store.boundModel() }
        #expect(noModel?.code == .noModel && noModel?.message.contains("pdq 1") == true)
        let mismatch = #expect(throws: StoreError.self) { try store.requireModel(try StoreImageTests.model(seed: 1)) }
        #expect(mismatch?.code == .modelMismatch)
        #expect(try store.verify().problems.isEmpty)
    }

    @Test func bulkIngestionPreparesWithTheBoundEncoder() throws {
        let store = try Store.create(at: directory.sub("bulk"), encoder: PDQEncoder(), thumbnailSide: 0)
        let units = try Self.images().map { item in IngestionUnit(key: item.key, payload: [], name: item.key) { item.image } }
        let report = try BulkIngestion(store: store, batchSize: 7, workers: 2).run(units)
        #expect(report.added == units.count && report.rejected.isEmpty)
        #expect(try store.item(forKey: "scene-31x40.png")?.code == PDQ.hash(try Self.scene("scene-31x40.png")).code)
    }

    @Test func aStoreOfAnApplicationsEncoderNeedsItBackToEncode() throws {
        let path = directory.sub("app")
        let items = try Self.images()
        do {
            let store = try Store.create(at: path, encoder: AverageHash(), thumbnailSide: 0)
            #expect(try store.write(images: items).inserted == items.count)
        }
        do {
            // Reopened without the encoder: searching by code works, encoding is refused by name.
            let without = try Store(openingAt: path)
            #expect(try without.encoderIdentity() == AverageHash().identity)
            #expect(try without.count() == items.count)
            let missing = #expect(throws: StoreError.self) { try without.insert(image: items[0].image, key: "again") }
            #expect(missing?.code == .encoderUnavailable && missing?.message.contains("com.example.average-hash 1") == true)
            #expect(missing?.message.contains("StoreOptions.encoders") == true)
            #expect(try without.count() == items.count)
        }
        do {
            // With another version of it: refused too (its codes may differ).
            var otherVersion = StoreOptions()
            var newer = AverageHash()
            newer.identity.version = "2"
            otherVersion.encoders = [newer]
            let store = try Store(openingAt: path, options: otherVersion)
            let error = #expect(throws: StoreError.self) { try store.codes(of: [items[0].image]) }
            #expect(error?.code == .encoderUnavailable && error?.message.contains("com.example.average-hash 2") == true)
        }

        var options = StoreOptions()
        options.encoders = [AverageHash()]
        let with = try Store(openingAt: path, options: options)
        let query = items[7]
        #expect(try with.codes(of: [query.image]) == [try #require(try with.item(forKey: query.key)).code])
        let hit = try #require(try with.search(image: query.image, k: 1).hits.first)
        #expect(hit.key == query.key && hit.distance == 0)
    }

    @Test func anEncoderThatBreaksItsPromiseWritesNothing() throws {
        let store = try Store.create(at: directory.sub("short"), encoder: ShortChanging(), thumbnailSide: 0)
        let error = #expect(throws: StoreError.self) { try store.write(images: try Array(Self.images().prefix(3))) }
        #expect(error?.code == .invalidArgument && error?.message.contains("191 values for 3 images of 64 bits") == true)
        #expect(try store.count() == 0)
    }

    @Test func imagesPreparedForOneEncoderAreRefusedByAnother() throws {
        let pdq = try Store.create(at: directory.sub("a"), encoder: PDQEncoder(), thumbnailSide: 0)
        let average = try Store.create(at: directory.sub("b"), encoder: AverageHash(), thumbnailSide: 0)
        let prepared = try Self.images().prefix(2).map(average.prepare)
        let error = #expect(throws: StoreError.self) { try pdq.write(prepared: prepared) }
        #expect(error?.code == .modelMismatch && error?.message.contains("com.example.average-hash") == true)
        #expect(try pdq.count() == 0)
    }

    @Test func aPDQStoreKeepsTheMinimumQualityItWasGiven() throws {
        let path = directory.sub("quality")
        let flat = try PixelBuffer(width: 64, height: 64, format: .gray, bytes: [UInt8](repeating: 120, count: 64 * 64))
        var options = StoreOptions()
        options.encoders = [PDQEncoder(minimumQuality: 50)]
        do {
            let store = try Store.create(at: path, encoder: PDQEncoder(minimumQuality: 50), thumbnailSide: 0)
            let error = #expect(throws: DatasetError.self) { try store.insert(image: flat, key: "flat") }
            #expect(error?.message.contains("PDQ quality is 0, below the minimum of 50") == true)
            try store.insert(image: try Self.scene("scene-200x300.png"), key: "scene")
        }
        do {
            let reopened = try Store(openingAt: path, options: options)
            #expect(throws: DatasetError.self) { try reopened.insert(image: flat, key: "flat") }
            #expect(try reopened.count() == 1)
        }
        // Without it, the store takes any image: PDQ's codes are the same either way.
        let plain = try Store(openingAt: path)
        try plain.insert(image: flat, key: "flat")
        #expect(try plain.count() == 2)
    }

    @Test func bulkIngestionWithoutTheApplicationsEncoderFailsInsteadOfRejectingEveryImage() throws {
        let path = directory.sub("bulk-app")
        _ = try Store.create(at: path, encoder: AverageHash(), thumbnailSide: 0)
        let store = try Store(openingAt: path)
        let units = try Self.images().map { item in IngestionUnit(key: item.key, payload: [], name: item.key) { item.image } }
        let error = #expect(throws: StoreError.self) { try BulkIngestion(store: store, batchSize: 8, workers: 2).run(units) }
        #expect(error?.code == .encoderUnavailable)
        #expect(try store.count() == 0)
    }

    /// Records whether two calls of `encode` ever overlapped.
    final class OverlapDetecting: ImageCodeEncoder, @unchecked Sendable {
        let identity = EncoderIdentity(name: "com.example.overlap", version: "1")
        let bitCount = 64
        private let lock = NSLock()
        private var inside = 0
        private(set) var overlapped = false
        private(set) var calls = 0
        private(set) var images = 0
        func prepare(_ image: PixelBuffer) throws -> [Float] { try AverageHash().prepare(image) }
        func encode(_ prepared: [[Float]]) throws -> [Float] {
            lock.withLock { inside += 1; calls += 1; images += prepared.count; if inside > 1 { overlapped = true } }
            Thread.sleep(forTimeInterval: 0.002)
            lock.withLock { inside -= 1 }
            return prepared.flatMap { $0 }
        }
    }

    @Test func theStoreCallsEncodeOneCallerAtATimeWithConcurrentImagesBatched() throws {
        let encoder = OverlapDetecting()
        let store = try Store.create(at: directory.sub("overlap"), encoder: encoder, thumbnailSide: 0)
        let images = try Self.images()
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            if i % 2 == 0 {
                _ = try? store.write(images: [images[i]], mode: .upsert)
            } else {
                _ = try? store.search(image: images[i].image, k: 3)
            }
        }
        #expect(encoder.images == 16, "every image encoded once")
        #expect(encoder.calls <= 16)
        #expect(!encoder.overlapped)
    }

    @Test func concurrentSearchesByImageEachGetTheirOwnAnswer() throws {
        let model = try StoreImageTests.model(seed: 5)
        let store = try Store.create(at: directory.sub("batched"), model: model, thumbnailSide: 0)
        let images = (0..<48).map { StoreImageTests.image($0) }
        let alone = try images.map { try store.realValuedOutputs(of: [$0]) }
        let together = UnsafeSendableBox([[Float]](repeating: [], count: images.count))
        DispatchQueue.concurrentPerform(iterations: images.count) { i in
            let values = (try? store.realValuedOutputs(of: [images[i]])) ?? []
            together.lock.withLock { together.value[i] = values }
        }
        // Batched or not, each caller gets its own image's values (equal up to BLAS's summation order).
        for i in images.indices {
            #expect(together.value[i].count == 32)
            let worst = zip(together.value[i], alone[i]).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 1e-4, "image \(i): off by \(worst)")
        }
    }

    @Test func concurrentAsyncSearchesShareForwardPasses() async throws {
        let encoder = OverlapDetecting()
        let store = try await Store.create(at: directory.sub("async-batched"), encoder: encoder, thumbnailSide: 0)
        let images = try Self.images()
        try await store.write(images: images)
        let writtenCalls = encoder.calls
        let expected = try images.map { try AverageHash().codes(of: [$0.image])[0] }
        let found = try await withThrowingTaskGroup(of: (Int, BinaryCode, String?).self) { group in
            for (index, item) in images.enumerated() {
                group.addTask {
                    let code = try await store.codes(of: [item.image])[0]
                    let hit = try await store.search(image: item.image, k: 1).hits.first
                    return (index, code, hit?.key)
                }
            }
            var all: [(Int, BinaryCode, String?)] = []
            for try await result in group { all.append(result) }
            return all
        }
        for (index, code, key) in found {
            #expect(code == expected[index], "task \(index) got its own image's code")
            #expect(key.map { try! store.item(forKey: $0)?.code == code } == true, "and a stored item at its code first")
        }
        #expect(encoder.images == images.count * 3 && !encoder.overlapped, "each image encoded once per request, calls never overlapping")
        // 90 requests (45 codes, 45 searches) went through far fewer encoder calls.
        #expect(encoder.calls - writtenCalls < 90, "\(encoder.calls - writtenCalls) calls for 90 requests")
    }

    /// An encoder that refuses images narrower than 8 pixels when preparing them.
    final class RefusingNarrowImages: ImageCodeEncoder, @unchecked Sendable {
        let identity = EncoderIdentity(name: "com.example.refusing", version: "1")
        let bitCount = 64
        func prepare(_ image: PixelBuffer) throws -> [Float] {
            guard image.width >= 8 else { throw StoreError(.invalidArgument, "an image \(image.width) pixels wide is too narrow") }
            return try AverageHash().prepare(image)
        }
        func encode(_ prepared: [[Float]]) throws -> [Float] {
            Thread.sleep(forTimeInterval: 0.002)
            return prepared.flatMap { $0 }
        }
    }

    @Test func anImageTheEncoderRefusesFailsOnlyItsOwnSearchInABatch() async throws {
        let store = try await Store.create(at: directory.sub("refusing"), encoder: RefusingNarrowImages(), thumbnailSide: 0)
        let images = try Self.images()
        try await store.write(images: images)
        let narrow = try PixelBuffer(width: 4, height: 4, format: .gray, bytes: [UInt8](repeating: 128, count: 16))
        let outcomes = try await withThrowingTaskGroup(of: (Int, String?, String?).self) { group in
            for (index, item) in images.enumerated() {
                group.addTask {
                    do {
                        let hit = try await store.search(image: index % 3 == 0 ? narrow : item.image, k: 1).hits.first
                        return (index, hit?.key, nil)
                    } catch {
                        return (index, nil, "\(error)")
                    }
                }
            }
            var all: [(Int, String?, String?)] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.count == images.count)
        for (index, key, error) in outcomes {
            if index % 3 == 0 {
                #expect(key == nil && error?.contains("too narrow") == true, "task \(index) gets the encoder's refusal")
            } else {
                let found = try #require(key, "task \(index) is answered: \(error ?? "")")
                let foundCode = try await store.item(forKey: found)?.code
                let ownCode = try await store.item(forKey: images[index].key)?.code
                #expect(foundCode != nil && foundCode == ownCode, "task \(index) finds its own image's code first")
            }
        }
    }

    final class UnsafeSendableBox<T>: @unchecked Sendable {
        var value: T
        let lock = NSLock()
        init(_ value: T) { self.value = value }
    }

    @Test func theDecodingSideCoversTheEncodersInputAndTheThumbnails() throws {
        let model = try StoreImageTests.model(seed: 4)
        #expect(try Store.create(at: directory.sub("side-64"), model: model, thumbnailSide: 64).decodingSide() == 64)
        #expect(try Store.create(at: directory.sub("side-0"), model: model, thumbnailSide: 0).decodingSide() == 28, "the model's 28×28 input")
        #expect(try Store.create(at: directory.sub("side-pdq"), encoder: PDQEncoder()).decodingSide() == 512, "PDQ decodes at 512 or more a side")
    }

    /// A photograph-like JPEG (quality 90, 1600×1200 unless told): smooth waves, a disc, tinted
    /// channels, noise.
    static func largePhotoJPEG(seed: UInt64, width: Int = 1600, height: Int = 1200) throws -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) / Double(width), v = Double(y) / Double(height)
                let disc: Double = hypot(u - 0.3, v - 0.6) < 0.2 ? 1.5 : 0
                let wave: Double = sin(9 * u + 4 * v) + cos(13 * v - 5 * u * u) + disc
                let base: Double = 120 + 50 * wave
                for channel in 0..<3 {
                    let value: Double = base + Double(channel * 20) + 6 * Double(rng.normal())
                    bytes.append(UInt8(max(0, min(255, value))))
                }
            }
        }
        return try PixelBuffer(width: width, height: height, format: .rgb, bytes: bytes).jpegData(quality: 90)
    }

    /// A PDQ store decodes a large JPEG at a DCT scale keeping 512 pixels a side: the hash moves
    /// a few bits from the full-size one, far below PDQ's match threshold of 31.
    @Test func aPDQStoreHashesALargeJPEGDecodedSmallerWithinAFewBits() throws {
        let jpeg = try Self.largePhotoJPEG(seed: 12)
        let store = try Store.create(at: directory.sub("pdq-large"), encoder: PDQEncoder())
        let scaled = try ImageDecoder(minimumSide: try store.decodingSide()).decode(jpeg, source: "a 1600×1200 JPEG")
        #expect(scaled.width == 800 && scaled.height == 600, "half size: a quarter would be below 512")
        let full = try ImageDecoder().decode(jpeg, source: "a 1600×1200 JPEG")
        let distance = PDQ.hash(scaled).code.distance(to: PDQ.hash(full).code)
        #expect(distance <= 16, "\(distance) of 256 bits")
        try store.write(images: [ImageItem(key: "large", image: scaled)])
        #expect(try store.search(image: full, k: 1).hits.first?.key == "large", "a full-size decode of the same file finds it")
    }

    /// A PDQ store decodes colour JPEGs as their luma plane, the colour at thumbnail size: the
    /// hash moves at most a bit or two from the one of the RGB decode, the thumbnail stays in
    /// colour at its size, and a stored file queried again as the store decodes it comes back
    /// first at distance 0. A store bound to a model decodes as before.
    @Test func aPDQStoreDecodesColourJPEGsAsTheirLumaAndKeepsColourThumbnails() throws {
        let files = directory.sub("pdq-luma-files")
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        let jpeg = try Self.largePhotoJPEG(seed: 13)
        try Data(jpeg).write(to: URL(fileURLWithPath: files + "/photo.jpg"))

        let store = try Store.create(at: directory.sub("pdq-luma"), encoder: PDQEncoder())
        let decoder = try store.imageDecoder()
        #expect(decoder.minimumSide == 512 && decoder.colourSide == Store.defaultThumbnailSide)
        #expect(try Store.create(at: directory.sub("model-rgb"), model: try StoreImageTests.model(seed: 4)).imageDecoder().colourSide == nil,
                "a model reads colours: no luma shortcut")
        var rejected: [SkippedInput] = []
        let units = try ImageSources([files], decoder: decoder).units(payload: .path, rejected: &rejected)
        let report = try BulkIngestion(store: store).run(units)
        #expect(report.added == 1 && rejected.isEmpty)

        let stored = try #require(try store.item(forKey: "photo.jpg"))
        let rgbDecode = try ImageDecoder(minimumSide: 512).decode(jpeg)
        // Photographs: 0 bits on three in four, 6 at the 99th percentile (docs/benchmarks.md).
        let distance = stored.code.distance(to: PDQ.hash(rgbDecode).code)
        #expect(distance <= 8, "the luma plane's hash is \(distance) bits from the RGB pixels'")
        let thumbnail = try #require(try store.thumbnail(id: stored.id))
        #expect(thumbnail.format == .rgb && thumbnail.width == 64 && thumbnail.height == 48)
        let direct = rgbDecode.fitted(within: 64)
        let difference = zip(thumbnail.bytes, direct.bytes).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        #expect(Double(difference) / Double(direct.bytes.count) < 2, "the colour thumbnail is the RGB decode's, nearly")

        let query = try decoder.decodeForEncoding(contentsOf: files + "/photo.jpg").image
        let hit = try #require(try store.search(image: query, k: 1).hits.first)
        #expect(hit.key == "photo.jpg" && hit.distance == 0)
    }

    /// A PDQ store made before stores recorded how they decode keeps decoding colour JPEGs as
    /// RGB, as when it was filled; stores made now record the luma decoding.
    @Test func aPDQStoreWithoutTheDecodingRecordDecodesAsRGB() throws {
        let path = directory.sub("pdq-older")
        let made = try Store.create(at: path, encoder: PDQEncoder())
        #expect(try made.imageDecoder().colourSide == Store.defaultThumbnailSide)
        _ = try made.environment.write { txn in try txn.delete(made.tables.meta, key: StoreSchema.MetaKey.imageDecoding) }
        made.close()
        let older = try Store(openingAt: path)
        let decoder = try older.imageDecoder()
        #expect(decoder.colourSide == nil && decoder.minimumSide == 512)
        let jpeg = try Self.largePhotoJPEG(seed: 14)
        #expect(try decoder.decodeForEncoding(jpeg).image == (try ImageDecoder(minimumSide: 512).decode(jpeg)))
    }

    /// A PDQ store made now decodes a colour JPEG that needs 1/4 scale (both sides ≥ 2048) with
    /// its luma from each block's lowest frequencies: a few bits from the exact decode's hash at
    /// most, a 1/8-scale colour image for the thumbnail, and a stored file queried again comes
    /// back first at distance 0. A store that records the thirty-third session's `luma` keeps
    /// TurboJPEG's exact decode, so its files still decode as they were stored.
    @Test func aPDQStoreMadeNowDecodesQuarterScaleLumaFromTheLowestFrequencies() throws {
        let jpeg = try Self.largePhotoJPEG(seed: 17, width: 2064, height: 2048)
        let path = directory.sub("pdq-quarter")
        let store = try Store.create(at: path, encoder: PDQEncoder())
        let decoder = try store.imageDecoder()
        #expect(decoder.quarterScaleLuma == .lowestFrequencies)
        let decoded = try decoder.decodeForEncoding(jpeg)
        #expect(decoded.image.width == 516 && decoded.image.height == 512 && decoded.image.format == .gray)
        var exactDecoder = decoder
        exactDecoder.quarterScaleLuma = .exact
        let exact = try exactDecoder.decodeForEncoding(jpeg)
        #expect(exact.image.width == 516 && exact.image.height == 512)
        #expect(decoded.image != exact.image, "the lowest frequencies, not TurboJPEG's decode")
        let distance = PDQ.hash(decoded.image).code.distance(to: PDQ.hash(exact.image).code)
        #expect(distance <= 4, "\(distance) bits of 256 from the exact decode's hash")
        let colour = try #require(decoded.thumbnailSource)
        #expect(colour.format == .rgb && colour.width == 258 && colour.height == 256)

        try store.insert(decoded: decoded, key: "photo")
        let hit = try #require(try store.search(image: try decoder.decodeForEncoding(jpeg).image, k: 1).hits.first)
        #expect(hit.key == "photo" && hit.distance == 0)
        let thumbnail = try #require(try store.thumbnail(forKey: "photo"))
        #expect(thumbnail.format == .rgb && thumbnail.width == 64 && thumbnail.height == 64)

        _ = try store.environment.write { txn in try txn.put(store.tables.meta, key: StoreSchema.MetaKey.imageDecoding, value: Array("luma".utf8)) }
        store.close()
        let older = try Store(openingAt: path)
        #expect(try older.imageDecoder().quarterScaleLuma == .exact)
        #expect(try older.imageDecoder().decodeForEncoding(jpeg).image == exact.image)
    }

    /// The decoder for a store made now is the one such a store gives; a record this build does
    /// not know is refused as damage rather than guessed at.
    @Test func theDecodingRecordIsReadBackAndAnUnknownOneRefused() throws {
        let path = directory.sub("pdq-record")
        let store = try Store.create(at: path, encoder: PDQEncoder(), thumbnailSide: 96)
        let made = try store.imageDecoder(), predicted = Store.imageDecoder(for: PDQEncoder(), thumbnailSide: 96)
        #expect(made.minimumSide == predicted.minimumSide && made.colourSide == predicted.colourSide
                && made.quarterScaleLuma == predicted.quarterScaleLuma && made.quarterScaleLuma == .lowestFrequencies)
        _ = try store.environment.write { txn in try txn.put(store.tables.meta, key: StoreSchema.MetaKey.imageDecoding, value: Array("luma 1/3".utf8)) }
        store.close()
        let damaged = try Store(openingAt: path)
        let error = #expect(throws: StoreError.self) { try damaged.imageDecoder() }
        #expect(error?.code == .corrupted && error?.message.contains("luma 1/3") == true)
    }

    /// The thumbnail of a luma item is the size the RGB decode's would be, whatever the colour
    /// image's rounding (here a 7/8-scale decode of 1001×601 pixels: 876×526).
    @Test func thumbnailsOfLumaItemsTakeTheSizeOfTheImage() throws {
        var rng = SeededGenerator(seed: 15)
        let bytes = (0..<(1001 * 601 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next() % 64 + 96) }
        let jpeg = try PixelBuffer(width: 1001, height: 601, format: .rgb, bytes: bytes).jpegData(quality: 90)
        let decoded = try Store.imageDecoder(for: PDQEncoder(), thumbnailSide: 64).decodeForEncoding(jpeg)
        #expect(decoded.image.width == 876 && decoded.image.height == 526 && decoded.thumbnailSource != nil)
        let thumbnail = Store.thumbnail(of: ImageItem(key: "k", decoded: decoded), side: 64)
        let direct = try ImageDecoder(minimumSide: 512).decode(jpeg).fitted(within: 64)
        #expect(thumbnail.width == direct.width && thumbnail.height == direct.height, "\(thumbnail.width)×\(thumbnail.height) against \(direct.width)×\(direct.height)")
        #expect(thumbnail.format == .rgb)
    }

    /// A store whose encoder reads colours refuses a luma plane decoded for a PDQ store, before writing.
    @Test func aModelStoreRefusesAnImageDecodedAsItsLuma() throws {
        let store = try Store.create(at: directory.sub("model-luma"), model: try StoreImageTests.model(seed: 4))
        let decoded = try Store.imageDecoder(for: PDQEncoder(), thumbnailSide: 64).decodeForEncoding(try Self.largePhotoJPEG(seed: 16))
        let error = #expect(throws: StoreError.self) { try store.insert(decoded: decoded, key: "luma") }
        #expect(error?.code == .invalidArgument && error?.message.contains("imageDecoder()") == true)
        #expect(try store.count() == 0)
    }

    @Test func noEncoderMayPassForAModelFile() throws {
        var impostor = AverageHash()
        impostor.identity = EncoderIdentity(name: ModelEncoder.identityName, version: String(repeating: "0", count: 64))
        let error = #expect(throws: StoreError.self) { try Store.create(at: directory.sub("impostor"), encoder: impostor) }
        #expect(error?.code == .invalidArgument)
        #expect(!FileManager.default.fileExists(atPath: directory.sub("impostor") + "/data.mdb"))
    }

    @Test func aModelEncoderBindsAsCreateWithAModelDoes() throws {
        let model = try StoreImageTests.model(seed: 3)
        let store = try Store.create(at: directory.sub("model"), encoder: ModelEncoder(model: model))
        #expect(try store.modelDigest() == model.digest)
        #expect(try store.encoderIdentity() == EncoderIdentity(name: "bgan-model", version: model.digest))
        let image = StoreImageTests.image(5)
        let signs = try ImageEncoder(model: model).signs(of: [image])
        #expect(try store.codes(of: [image]) == [BinaryCode(signsOf: signs)], "the network's own signs")
    }
}
