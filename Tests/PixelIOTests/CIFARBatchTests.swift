import Foundation
import PixelIO
import Testing
import TestSupport

@Suite struct CIFARBatchTests {
    let directory = TemporaryDirectory("cifar")

    /// `count` records: label `i % 10`, red plane all `i`, green all `2i`, blue all `3i` (mod 256),
    /// except pixel (row 1, column 2) of the red plane, which is 255.
    static func batch(count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for i in 0..<count {
            bytes.append(UInt8(i % 10))
            for channel in 1...3 {
                var plane = [UInt8](repeating: UInt8(truncatingIfNeeded: channel * i), count: 1024)
                if channel == 1 { plane[1 * 32 + 2] = 255 }
                bytes += plane
            }
        }
        return bytes
    }

    @Test func recordsBecomeRGBPlanesAndLabels() throws {
        let path = directory.sub("data_batch_1.bin")
        try Data(Self.batch(count: 12)).write(to: URL(fileURLWithPath: path))
        let set = try ImageSet(contentsOf: path)
        #expect(set.count == 12 && set.channels == 3 && set.height == 32 && set.width == 32)
        #expect(set.labels == (0..<12).map { UInt8($0 % 10) })
        let fifth = Array(set.image(5))
        #expect(fifth.count == 3072)
        #expect(fifth[0] == 5 && fifth[1024] == 10 && fifth[2048] == 15, "red, green, blue planes in turn")
        #expect(fifth[34] == 255 && fifth[1024 + 34] == 10, "row-major planes")
        #expect(set.scaledPixels(5..<6)[34] == 1)
        let buffer = set.pixelBuffer(5)
        #expect(buffer.format == .rgb && buffer.width == 32 && buffer.height == 32)
        #expect(buffer[0, 0, 0] == 5 && buffer[0, 0, 1] == 10 && buffer[0, 0, 2] == 15, "planes interleaved into pixels")
        #expect(buffer[2, 1, 0] == 255 && buffer[2, 1, 1] == 10)
    }

    @Test func otherFilesAreRefusedWithTheReason() throws {
        let ragged = directory.sub("ragged.bin")
        try Data(Self.batch(count: 2).dropLast()).write(to: URL(fileURLWithPath: ragged))
        let size = #expect(throws: DatasetError.self) { try ImageSet(contentsOf: ragged) }
        #expect(size?.message.contains("multiple of 3073") == true, "\(size?.message ?? "")")
        var bytes = Self.batch(count: 2)
        bytes[3073] = 42
        let hundred = directory.sub("cifar100.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: hundred))
        let label = #expect(throws: DatasetError.self) { try ImageSet(contentsOf: hundred) }
        #expect(label?.message.contains("record 1 has label 42") == true, "\(label?.message ?? "")")
        let empty = directory.sub("empty.bin")
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(throws: DatasetError.self) { try ImageSet(contentsOf: empty) }
    }
}
