import Basics
import PixelIO

/// The images a training session reads, image after image, `valuesPerImage` (C × H × W) values
/// each, as floats in the model's scale.
///
/// Data sets arrive as 8-bit pixels; held as bytes and scaled one batch at a time, a million
/// 28×28 images take 0.78 GB instead of the 3.1 GB of a float copy — and read from an IDX file
/// on disk (``init(_:count:scale:)`` with an ``IDXImageFile``) or from the file a folder was
/// decoded into (``init(bytesIn:count:valuesPerImage:scale:)``), none at all: each image is read
/// when a batch needs it, from the page cache once the file has been read. Sessions gather their
/// batches and views from here, and only the feature spaces that need every pixel as a float
/// (`pixels`, `pca:`, `smoothed:`, `+pixels:`) make that copy, for as long as they use it.
public struct ImageRows: Sendable {
    private enum Storage: Sendable {
        case floats([Float])
        case bytes([UInt8], scale: Float)
        case file(IDXImageFile, scale: Float)
        /// `count × valuesPerImage` bytes from the start of a (scratch) file.
        case byteFile(PositionedFile, scale: Float)
    }

    private let storage: Storage
    public let count: Int
    public let valuesPerImage: Int

    /// Images given as floats (`count × valuesPerImage`), used as they are.
    /// - Throws: ``BGANError`` `.invalidArgument` if the values are not a whole number of images.
    public init(floats: [Float], valuesPerImage: Int) throws {
        guard valuesPerImage > 0, floats.count % valuesPerImage == 0 else {
            throw BGANError(.invalidArgument, "\(floats.count) values are not a whole number of images of \(valuesPerImage) values")
        }
        storage = .floats(floats)
        count = floats.count / valuesPerImage
        self.valuesPerImage = valuesPerImage
    }

    /// The first `count` images of `set` (all by default), each 8-bit value times `scale` when read.
    public init(_ set: ImageSet, count: Int? = nil, scale: Float = 1.0 / 255) {
        let used = max(0, min(count ?? set.count, set.count))
        let bytes = used == set.count ? set.pixels : Array(set.pixels[0..<(used * set.valuesPerImage)])
        storage = .bytes(bytes, scale: scale)
        self.count = used
        valuesPerImage = set.valuesPerImage
    }

    /// The first `count` images of `file` (all by default), read from disk when a batch needs
    /// them, each 8-bit value times `scale`.
    public init(_ file: IDXImageFile, count: Int? = nil, scale: Float = 1.0 / 255) {
        storage = .file(file, scale: scale)
        self.count = max(0, min(count ?? file.count, file.count))
        valuesPerImage = file.valuesPerImage
    }

    /// `count` images of `valuesPerImage` 8-bit values each, one after the other from the start
    /// of `file` (decoded images written to a scratch file), read when a batch needs them, each
    /// value times `scale`.
    public init(bytesIn file: PositionedFile, count: Int, valuesPerImage: Int, scale: Float = 1.0 / 255) {
        precondition(count >= 0 && valuesPerImage > 0)
        storage = .byteFile(file, scale: scale)
        self.count = count
        self.valuesPerImage = valuesPerImage
    }

    /// Whether the images are read from a file rather than held in memory.
    public var isStreamed: Bool {
        switch storage {
        case .file, .byteFile: true
        case .floats, .bytes: false
        }
    }

    /// Refuses images whose size is not `channels × height × width` values.
    /// - Throws: ``BGANError`` `.invalidArgument`.
    public func requireShape(channels: Int, height: Int, width: Int) throws {
        guard valuesPerImage == channels * height * width else {
            throw BGANError(.invalidArgument, "the images have \(valuesPerImage) values each, not the \(channels)×\(height)×\(width) expected")
        }
    }

    /// Writes image `index`'s values into `destination` (`valuesPerImage` of them).
    /// - Throws: `DatasetError` `.unreadable` (an IDX file) or ``FileError`` `.unreadable` (a
    ///   scratch file) when images read from a file cannot be read.
    public func copy(_ index: Int, into destination: UnsafeMutableBufferPointer<Float>) throws {
        precondition((0..<count).contains(index) && destination.count == valuesPerImage)
        let start = index * valuesPerImage
        switch storage {
        case .floats(let values):
            values.withUnsafeBufferPointer { source in
                _ = destination.initialize(from: source[start..<(start + valuesPerImage)])
            }
        case .bytes(let bytes, let scale):
            bytes.withUnsafeBufferPointer { source in
                for offset in 0..<valuesPerImage { destination[offset] = Float(source[start + offset]) * scale }
            }
        case .file(let file, let scale):
            try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: valuesPerImage) { bytes in
                try file.read(index, into: UnsafeMutableRawBufferPointer(bytes))
                for offset in 0..<valuesPerImage { destination[offset] = Float(bytes[offset]) * scale }
            }
        case .byteFile(let file, let scale):
            try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: valuesPerImage) { bytes in
                try file.read(into: UnsafeMutableRawBufferPointer(bytes), at: start)
                for offset in 0..<valuesPerImage { destination[offset] = Float(bytes[offset]) * scale }
            }
        }
    }

    /// The images at `indices`, one after the other.
    public func gather(_ indices: [Int]) throws -> [Float] {
        var batch = [Float](repeating: 0, count: indices.count * valuesPerImage)
        try batch.withUnsafeMutableBufferPointer { target in
            for (row, index) in indices.enumerated() {
                try copy(index, into: UnsafeMutableBufferPointer(rebasing: target[(row * valuesPerImage)..<((row + 1) * valuesPerImage)]))
            }
        }
        return batch
    }

    /// The images in `range` (all by default), one after the other.
    public func floats(_ range: Range<Int>? = nil) throws -> [Float] {
        let images = range ?? 0..<count
        if case .floats(let values) = storage, images == 0..<count { return values }
        return try gather(Array(images))
    }

    /// The squared Euclidean distance between images `i` and `j`.
    func squaredDistance(_ i: Int, _ j: Int) throws -> Float {
        let pair = try gather([i, j])
        var distance: Float = 0
        for k in 0..<valuesPerImage {
            let d = pair[k] - pair[valuesPerImage + k]
            distance += d * d
        }
        return distance
    }

    /// A session's fingerprint of its images, computed once (it reads every image), at the
    /// first checkpoint that records it.
    struct FingerprintCache {
        private var computed: UInt64?

        mutating func value(of images: ImageRows) throws -> UInt64 {
            if let computed { return computed }
            let fingerprint = try images.fingerprint()
            computed = fingerprint
            return fingerprint
        }
    }

    /// A fingerprint of every value (FNV-1a over the floats' bits, image after image): the same
    /// for the same images whether held as floats or as bytes.
    func fingerprint() throws -> UInt64 {
        var hash = FNV1a()
        var row = [Float](repeating: 0, count: valuesPerImage)
        for index in 0..<count {
            try row.withUnsafeMutableBufferPointer { try copy(index, into: $0) }
            for value in row { hash.combine(value.bitPattern) }
        }
        return hash.value
    }
}
