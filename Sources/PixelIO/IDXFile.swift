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

/// A set of equally sized 8-bit images, channel planes one after the other per image (C × H × W,
/// the networks' layout): the 60,000 Fashion-MNIST training images (1 × 28 × 28), a CIFAR-10
/// batch (3 × 32 × 32).
public struct ImageSet: Sendable {
    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    /// All pixels, image after image, each as `channels` row-major planes; 0 = black.
    public let pixels: [UInt8]
    /// One label per image when the format carries them (CIFAR-10 batches).
    public let labels: [UInt8]?

    public init(count: Int, channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [UInt8]? = nil) {
        precondition(pixels.count == count * channels * height * width && (labels?.count ?? count) == count)
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
    }

    /// The gray images of an IDX file of shape `[count, height, width]`.
    public init(idx file: IDXFile, source: String = "the IDX file") throws {
        guard file.dimensions.count == 3 else {
            throw DatasetError(.unsupported, "\(source) has \(file.dimensions.count) dimensions; an image file has 3 (count, height, width). Is it a label file?")
        }
        self.init(count: file.dimensions[0], channels: 1, height: file.dimensions[1], width: file.dimensions[2], pixels: file.values)
    }

    /// Reads an IDX image file (`train-images-idx3-ubyte[.gz]`) or a CIFAR-10 binary batch
    /// (`data_batch_1.bin`), told apart by content: IDX files start with their magic number.
    public init(contentsOf path: String) throws {
        let bytes = try CompressedFile.read(path)
        // A CIFAR record can begin like an IDX header (label 0, then dark pixels); the sizes decide.
        let idxLike = bytes.count >= 4 && bytes[0] == 0 && bytes[1] == 0 && (0x08...0x0E).contains(bytes[2]) && (1...4).contains(bytes[3])
        if idxLike {
            do {
                self = try ImageSet(idx: try IDXFile(bytes: bytes, source: path), source: path)
                return
            } catch let error as DatasetError where bytes.count % CIFARBatch.recordSize != 0 {
                throw error
            } catch {
                // Not a consistent IDX file but sized like a CIFAR batch: read it as one.
            }
        }
        self = try CIFARBatch.images(bytes: bytes, source: path)
    }

    /// Values per image: channels × height × width.
    public var valuesPerImage: Int { channels * height * width }

    /// The pixels of images `range` as floats, each 8-bit value times `scale` (1/255 maps to [0, 1]):
    /// the features networks and baselines read.
    public func scaledPixels(_ range: Range<Int>? = nil, scale: Float = 1.0 / 255) -> [Float] {
        let images = range ?? 0..<count
        let size = valuesPerImage
        return pixels[(images.lowerBound * size)..<(images.upperBound * size)].map { Float($0) * scale }
    }

    /// Pixels of image `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        let size = valuesPerImage
        return pixels[(index * size)..<((index + 1) * size)]
    }

    /// Image `index` as a gray or RGB ``PixelBuffer`` (planes interleaved into pixels).
    public func pixelBuffer(_ index: Int) -> PixelBuffer {
        let planes = image(index), plane = height * width, base = planes.startIndex
        var bytes = Array(planes)
        if channels > 1 {
            for i in 0..<plane { for c in 0..<channels { bytes[i * channels + c] = planes[base + c * plane + i] } }
        }
        return try! PixelBuffer(width: width, height: height, format: channels == 1 ? .gray : .rgb, bytes: bytes)
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
