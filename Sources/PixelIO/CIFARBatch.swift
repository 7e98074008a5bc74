/// CIFAR-10's binary format (`data_batch_1.bin` … `test_batch.bin`): records of one label byte
/// (0–9) and 3,072 pixel bytes, the red, green and blue 32 × 32 planes in turn, row-major.
public enum CIFARBatch {
    public static let side = 32
    public static let recordSize = 1 + 3 * 32 * 32

    /// The images and labels of a batch file's bytes.
    /// - Throws: ``DatasetError`` when the size is not a whole number of records or a label is
    ///   above 9 (another format).
    public static func images(bytes: [UInt8], source: String = "the CIFAR-10 batch") throws -> ImageSet {
        guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
            throw DatasetError(.malformed, "\(source) is neither an IDX file (no IDX magic) nor a CIFAR-10 binary batch (\(bytes.count) bytes is not a multiple of \(recordSize)-byte records)")
        }
        let count = bytes.count / recordSize
        var pixels: [UInt8] = []
        pixels.reserveCapacity(count * (recordSize - 1))
        var labels: [UInt8] = []
        labels.reserveCapacity(count)
        for record in 0..<count {
            let start = record * recordSize
            guard bytes[start] <= 9 else {
                throw DatasetError(.malformed, "\(source): record \(record) has label \(bytes[start]); CIFAR-10 labels are 0 to 9. Is this a CIFAR-100 file or another format?")
            }
            labels.append(bytes[start])
            pixels += bytes[(start + 1)..<(start + recordSize)]
        }
        return ImageSet(count: count, channels: 3, height: side, width: side, pixels: pixels, labels: labels)
    }
}
