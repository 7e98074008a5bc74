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

/// A set of equally sized 8-bit gray images, e.g. the 60,000 Fashion-MNIST training images.
public struct GrayImageSet: Sendable {
    public let count: Int
    public let height: Int
    public let width: Int
    /// All pixels, image after image, row-major, 0 = black.
    public let pixels: [UInt8]

    /// The images of an IDX file of shape `[count, height, width]`.
    public init(idx file: IDXFile, source: String = "the IDX file") throws {
        guard file.dimensions.count == 3 else {
            throw DatasetError(.unsupported, "\(source) has \(file.dimensions.count) dimensions; an image file has 3 (count, height, width). Is it a label file?")
        }
        count = file.dimensions[0]
        height = file.dimensions[1]
        width = file.dimensions[2]
        pixels = file.values
    }

    /// Reads `train-images-idx3-ubyte[.gz]`-style files.
    public init(contentsOf path: String) throws {
        try self.init(idx: try IDXFile(contentsOf: path), source: path)
    }

    /// The pixels of images `range` as floats, each 8-bit value times `scale` (1/255 maps to [0, 1]):
    /// the features networks and baselines read.
    public func scaledPixels(_ range: Range<Int>? = nil, scale: Float = 1.0 / 255) -> [Float] {
        let images = range ?? 0..<count
        let size = height * width
        return pixels[(images.lowerBound * size)..<(images.upperBound * size)].map { Float($0) * scale }
    }

    /// Pixels of image `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        let size = height * width
        return pixels[(index * size)..<((index + 1) * size)]
    }
}

/// Class labels, one byte per item (`train-labels-idx1-ubyte[.gz]`).
public struct LabelSet: Sendable {
    public let labels: [UInt8]

    public init(idx file: IDXFile, source: String = "the IDX file") throws {
        guard file.dimensions.count == 1 else {
            throw DatasetError(.unsupported, "\(source) has \(file.dimensions.count) dimensions; a label file has 1. Is it an image file?")
        }
        labels = file.values
    }

    public init(contentsOf path: String) throws {
        try self.init(idx: try IDXFile(contentsOf: path), source: path)
    }
}
