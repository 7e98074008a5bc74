import Basics
import PixelIO

/// The images a training session reads, image after image, `valuesPerImage` (C × H × W) values
/// each, as floats in the model's scale.
///
/// Data sets arrive as 8-bit pixels; held as bytes and scaled one batch at a time, a million
/// 28×28 images take 0.78 GB instead of the 3.1 GB of a float copy. Sessions gather their
/// batches and views from here, and only the feature spaces that need every pixel as a float
/// (`pixels`, `pca:`, `smoothed:`, `+pixels:`) make that copy, for as long as they use it.
public struct ImageRows: Sendable {
    private enum Storage: Sendable {
        case floats([Float])
        case bytes([UInt8], scale: Float)
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

    /// Refuses images whose size is not `channels × height × width` values.
    /// - Throws: ``BGANError`` `.invalidArgument`.
    public func requireShape(channels: Int, height: Int, width: Int) throws {
        guard valuesPerImage == channels * height * width else {
            throw BGANError(.invalidArgument, "the images have \(valuesPerImage) values each, not the \(channels)×\(height)×\(width) expected")
        }
    }

    /// Writes image `index`'s values into `destination` (`valuesPerImage` of them).
    public func copy(_ index: Int, into destination: UnsafeMutableBufferPointer<Float>) {
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
        }
    }

    /// The images at `indices`, one after the other.
    public func gather(_ indices: [Int]) -> [Float] {
        var batch = [Float](repeating: 0, count: indices.count * valuesPerImage)
        batch.withUnsafeMutableBufferPointer { target in
            for (row, index) in indices.enumerated() {
                copy(index, into: UnsafeMutableBufferPointer(rebasing: target[(row * valuesPerImage)..<((row + 1) * valuesPerImage)]))
            }
        }
        return batch
    }

    /// The images in `range` (all by default), one after the other.
    public func floats(_ range: Range<Int>? = nil) -> [Float] {
        let images = range ?? 0..<count
        if case .floats(let values) = storage, images == 0..<count { return values }
        return gather(Array(images))
    }

    /// The squared Euclidean distance between images `i` and `j`.
    func squaredDistance(_ i: Int, _ j: Int) -> Float {
        let pair = gather([i, j])
        var distance: Float = 0
        for k in 0..<valuesPerImage {
            let d = pair[k] - pair[valuesPerImage + k]
            distance += d * d
        }
        return distance
    }

    /// A fingerprint of every value (FNV-1a over the floats' bits, image after image): the same
    /// for the same images whether held as floats or as bytes.
    func fingerprint() -> UInt64 {
        var hash = FNV1a()
        var row = [Float](repeating: 0, count: valuesPerImage)
        for index in 0..<count {
            row.withUnsafeMutableBufferPointer { copy(index, into: $0) }
            for value in row { hash.combine(value.bitPattern) }
        }
        return hash.value
    }
}
