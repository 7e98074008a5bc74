/// The IDX format of MNIST and Fashion-MNIST (`train-images-idx3-ubyte[.gz]`): a big-endian
/// header — two zero bytes, a type byte (0x08 = unsigned bytes), the number of dimensions — then
/// each dimension as a big-endian `UInt32`, then the values. Files may be gzip-compressed.
public struct IDXFile: Sendable {
    /// Sizes of the dimensions, outermost first (e.g. `[60000, 28, 28]`).
    public let dimensions: [Int]
    /// The values, row-major.
    public let values: [UInt8]

    /// Reads and checks an IDX file of unsigned bytes.
    /// - Throws: `DatasetError` naming the file and what is wrong (magic, type, truncation).
    public init(contentsOf path: String) throws {
        try self.init(bytes: try CompressedFile.read(path), source: path)
    }

    /// Parses IDX bytes; `source` names them in errors.
    public init(bytes: [UInt8], source: String = "IDX data") throws {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DatasetError(.malformed, "\(source) is not an IDX file (it does not start with two zero bytes); expected an MNIST-style *-idx?-ubyte file")
        }
        guard bytes[2] == 0x08 else {
            throw DatasetError(.unsupported, "\(source) holds IDX type 0x\(String(bytes[2], radix: 16)); only unsigned bytes (0x08), the type of image and label files, are read")
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else {
            throw DatasetError(.malformed, "\(source) declares \(rank) dimensions but its header is cut short")
        }
        var dimensions: [Int] = []
        var total = 1
        for d in 0..<rank {
            let offset = 4 + 4 * d
            let size = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            dimensions.append(size)
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow else { throw DatasetError(.malformed, "\(source) declares dimensions \(dimensions) too large to hold") }
            total = product
        }
        let header = 4 + 4 * rank
        guard bytes.count - header == total else {
            throw DatasetError(.malformed, "\(source) declares \(dimensions.map(String.init).joined(separator: "×")) = \(total) values but holds \(bytes.count - header); the file is truncated or damaged")
        }
        self.dimensions = dimensions
        values = Array(bytes[header...])
    }
}
