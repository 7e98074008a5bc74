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
        let header = try Header(bytes, source: source)
        try header.requireValues(bytes.count - header.byteCount, source: source)
        dimensions = header.dimensions
        values = Array(bytes[header.byteCount...])
    }

    /// The header of an IDX file of unsigned bytes: what ``IDXImageFile`` reads without the values.
    struct Header {
        let dimensions: [Int]
        /// Values the dimensions declare.
        let valueCount: Int
        /// Bytes before the first value.
        var byteCount: Int { 4 + 4 * dimensions.count }

        /// Parses the header at the start of `bytes` (the values may follow or not).
        init(_ bytes: [UInt8], source: String) throws {
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
            self.dimensions = dimensions
            valueCount = total
        }

        /// Refuses a file that holds `held` values where the header declares another number.
        func requireValues(_ held: Int, source: String) throws {
            guard held == valueCount else {
                throw DatasetError(.malformed, "\(source) declares \(dimensions.map(String.init).joined(separator: "×")) = \(valueCount) values but holds \(held); the file is truncated or damaged")
            }
        }
    }
}
