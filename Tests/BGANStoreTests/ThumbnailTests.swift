import BGAN
import Foundation
import HammingSearch
import PixelIO
import Testing
import TestSupport
@testable import BGANStore

/// The small pictures a store keeps of its images: made, shrunk, replaced and removed with their items.
@Suite struct ThumbnailTests {
    let directory = TemporaryDirectory("thumbnails")

    static func gradient(width: Int, height: Int) -> PixelBuffer {
        var bytes: [UInt8] = []
        for y in 0..<height { for x in 0..<width { bytes += [UInt8(x % 256), UInt8(y % 256), UInt8((x + y) % 256)] } }
        return try! PixelBuffer(width: width, height: height, format: .rgb, bytes: bytes)
    }

    @Test func imagesKeepAThumbnailThatFollowsTheirItem() throws {
        let store = try directory.boundStore("s", model: try StoreImageTests.model(seed: 1), thumbnailSide: 16)
        #expect(try store.thumbnailSide() == 16)
        try store.insert(image: StoreImageTests.image(0), key: "small")
        try store.insert(image: Self.gradient(width: 80, height: 40), key: "wide")
        // A 28×28 image is shrunk to 16×16; 80×40 keeps its aspect: 16×8, each pixel the mean of a 5×5 area.
        let small = try #require(try store.thumbnail(forKey: "small"))
        #expect(small.width == 16 && small.height == 16 && small == StoreImageTests.image(0).fitted(within: 16))
        let wide = try #require(try store.thumbnail(forKey: "wide"))
        #expect(wide.width == 16 && wide.height == 8 && wide.format == .rgb)
        #expect(wide[0, 0, 0] == 2 && wide[15, 0, 0] == 77, "column 15 averages x = 75…79")
        let statistics = try store.statistics()
        #expect(statistics.thumbnailSide == 16 && statistics.thumbnails == 2 && statistics.tableBytes["thumbnails"] != nil)

        // Codes written without an image drop the stale thumbnail; removal drops it too.
        let code = try #require(try store.item(forKey: "wide")?.code)
        try store.upsert(StoreItem(key: "wide", code: code))
        #expect(try store.thumbnail(forKey: "wide") == nil)
        let id = try #require(try store.item(forKey: "small")?.id)
        #expect(try store.remove(key: "small"))
        #expect(try store.thumbnail(id: id) == nil)
        #expect(try store.verify().isHealthy)
    }

    @Test func aStoreMayKeepNoThumbnails() throws {
        let store = try directory.boundStore("none", model: try StoreImageTests.model(seed: 1), thumbnailSide: 0)
        try store.insert(image: StoreImageTests.image(0), key: "a")
        #expect(try store.thumbnail(forKey: "a") == nil)
        #expect(try store.search(image: StoreImageTests.image(0), k: 1).hits.first?.key == "a")
        #expect(throws: StoreError.self) { try directory.boundStore("bad", model: try StoreImageTests.model(seed: 1), thumbnailSide: -1) }
    }

    @Test func verifyFindsThumbnailsWithoutItemsOrThatAreNotPictures() throws {
        let store = try directory.boundStore("v", model: try StoreImageTests.model(seed: 1))
        try store.insert(image: StoreImageTests.image(0), key: "a")
        let table = try #require(store.tables.thumbnails)
        try store.environment.write { txn in
            try txn.put(table, key: UInt32(999), value: try StoreImageTests.image(1).pngData())
            try txn.put(table, key: UInt32(0), value: [UInt8](repeating: 7, count: 40))
        }
        let problems = try store.verify().problems
        #expect(problems.contains { $0.contains("id 999") }, "\(problems)")
        #expect(problems.contains { $0.contains("item 0's thumbnail is not a PNG") }, "\(problems)")
        #expect(throws: StoreError.self) { try store.thumbnail(id: 0) }
    }

    @Test func preparedImagesAreRefusedByAStoreOfAnotherModel() throws {
        let first = try directory.boundStore("one", model: try StoreImageTests.model(seed: 1))
        let second = try directory.boundStore("two", model: try StoreImageTests.model(seed: 2))
        let prepared = try first.prepare(ImageItem(key: "x", image: StoreImageTests.image(0)))
        let error = #expect(throws: StoreError.self) { try second.write(prepared: [prepared]) }
        #expect(error?.code == .modelMismatch)
        #expect(try second.count() == 0)
        #expect(try first.write(prepared: [prepared]).inserted == 1)
    }
}
