import CZlib
import Foundation
import PixelIO
import Testing
import TestSupport

@Suite struct IDXFileTests {
    let directory = TemporaryDirectory("idx")

    func idx(_ dimensions: [Int], values: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
        for d in dimensions { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + values
    }

    func gzip(_ bytes: [UInt8], to path: String) {
        let file = gzopen(path, "wb")!
        _ = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        gzclose(file)
    }

    @Test func plainAndGzippedFilesReadTheSame() throws {
        let values = (0..<(3 * 4 * 5)).map { UInt8($0) }
        let bytes = idx([3, 4, 5], values: values)
        let plain = directory.sub("images-idx3-ubyte")
        try Data(bytes).write(to: URL(fileURLWithPath: plain))
        gzip(bytes, to: directory.sub("images-idx3-ubyte.gz"))
        for path in [plain, directory.sub("images-idx3-ubyte.gz")] {
            let images = try ImageSet(contentsOf: path)
            #expect(images.count == 3 && images.height == 4 && images.width == 5)
            #expect(Array(images.image(1)) == Array(values[20..<40]))
        }
        let labels = try LabelSet(idx: try IDXFile(bytes: idx([4], values: [9, 0, 3, 1])))
        #expect(labels.labels == [9, 0, 3, 1])
    }

    @Test func badFilesAreRefusedWithTheReason() throws {
        let cases: [([UInt8], DatasetError.Code, String)] = [
            ([1, 2, 3], .malformed, "not an IDX file"),
            (idx([2, 2], values: [1, 2, 3, 4], type: 0x0D), .unsupported, "type 0xd"),
            (idx([2, 3], values: [1, 2, 3]), .malformed, "truncated"),
            (Array(idx([2, 3], values: []).prefix(6)), .malformed, "cut short"),
        ]
        for (bytes, code, reason) in cases {
            let error = #expect(throws: DatasetError.self) { try IDXFile(bytes: bytes, source: "case") }
            #expect(error?.code == code)
            #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        }
        let labelsAsImages = #expect(throws: DatasetError.self) { try ImageSet(idx: try IDXFile(bytes: idx([3], values: [1, 2, 3]))) }
        #expect(labelsAsImages?.message.contains("label file") == true)
        let missing = #expect(throws: DatasetError.self) { try IDXFile(contentsOf: directory.sub("nothing.gz")) }
        #expect(missing?.code == .unreadable)
        // A gzip stream cut in the middle.
        let path = directory.sub("cut.gz")
        gzip(idx([100, 28, 28], values: [UInt8](repeating: 7, count: 78_400)), to: path)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
        #expect(throws: DatasetError.self) { try IDXFile(contentsOf: path) }
    }

    @Test func fashionMNISTFromDebianReads() throws {
        let root = "/usr/share/datasets/fashion-mnist"
        let images = try ImageSet(contentsOf: "\(root)/train-images-idx3-ubyte.gz")
        let labels = try LabelSet(contentsOf: "\(root)/train-labels-idx1-ubyte.gz")
        #expect(images.count == 60_000 && images.height == 28 && images.width == 28)
        #expect(labels.labels.count == 60_000)
        #expect(Set(labels.labels) == Set(0...9))
        let test = try ImageSet(contentsOf: "\(root)/t10k-images-idx3-ubyte.gz")
        #expect(test.count == 10_000)
    }
}
