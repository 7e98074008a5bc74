import Foundation

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
        precondition(channels == 1 || channels == 3, "a set holds gray or RGB images, not \(channels) channels")
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
        // A set holds gray or RGB images of its own geometry, so the planes always make one.
        try! PixelBuffer(planes: image(index), width: width, height: height)
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

    /// The labels of `set`, read from `imagePath`: its own (CIFAR-10 batches), else the IDX
    /// label file beside it (``labelPath(for:)``) when that holds one label per image; nil when
    /// neither exists.
    public static func labels(of set: ImageSet, at imagePath: String) -> [UInt8]? {
        set.labels ?? (try? LabelSet(contentsOf: labelPath(for: imagePath)).labels).flatMap { $0.count == set.count ? $0 : nil }
    }

    /// `…/train-images-idx3-ubyte.gz` → `…/train-labels-idx1-ubyte.gz`.
    public static func labelPath(for imagePath: String) -> String {
        let url = URL(fileURLWithPath: imagePath)
        let name = url.lastPathComponent.replacingOccurrences(of: "images", with: "labels").replacingOccurrences(of: "idx3", with: "idx1")
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }
}
