import NeuralNet
import PixelIO

/// An edit that keeps an image "the same picture": the near-duplicate test of an image store
/// queries with edited copies of stored images and expects the originals back first.
public enum Perturbation: String, CaseIterable, Sendable, Codable {
    /// The stored image itself.
    case identity
    /// Moved right by one pixel, the first column repeated.
    case shift = "shift-1px"
    /// Every value times 0.85.
    case brightness = "brightness-0.85"
    /// Gaussian noise of standard deviation 8 (of 255) added to every value.
    case noise = "noise-8"
    /// Written as a JPEG at quality 50 and decoded again.
    case jpeg = "jpeg-50"
    /// The central 90 % of each side (5 % cut from every edge), resized back by area averaging.
    case crop = "crop-10%"
    /// Mirrored left to right.
    case flip

    /// The edited copy of `image`, same size and format. `seed` drives the noise.
    public func apply(to image: PixelBuffer, seed: UInt64) throws -> PixelBuffer {
        let packed = image.converted(to: image.format)
        let (width, height, channels) = (packed.width, packed.height, packed.format.channels)
        let bytes = packed.bytes
        func make(_ value: (_ x: Int, _ y: Int, _ channel: Int) -> UInt8) throws -> PixelBuffer {
            var out = [UInt8](repeating: 0, count: bytes.count)
            for y in 0..<height { for x in 0..<width { for c in 0..<channels { out[(y * width + x) * channels + c] = value(x, y, c) } } }
            return try PixelBuffer(width: width, height: height, format: packed.format, bytes: out)
        }
        func at(_ x: Int, _ y: Int, _ c: Int) -> UInt8 { bytes[(y * width + x) * channels + c] }
        func clamped(_ value: Float) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
        switch self {
        case .identity:
            return packed
        case .shift:
            return try make { x, y, c in at(max(0, x - 1), y, c) }
        case .brightness:
            return try make { x, y, c in clamped(Float(at(x, y, c)) * 0.85) }
        case .noise:
            var rng = SeededGenerator(seed: seed)
            let noise = (0..<bytes.count).map { _ in rng.normal() * 8 }
            return try make { x, y, c in clamped(Float(at(x, y, c)) + noise[(y * width + x) * channels + c]) }
        case .jpeg:
            return try ImageDecoder().decode(try packed.jpegData(quality: 50), source: "a JPEG copy").converted(to: packed.format)
        case .crop:
            let cropWidth = max(1, Int((Float(width) * 0.9).rounded())), cropHeight = max(1, Int((Float(height) * 0.9).rounded()))
            return packed.cropped(left: (width - cropWidth) / 2, top: (height - cropHeight) / 2, width: cropWidth, height: cropHeight)
                .areaResized(width: width, height: height)
        case .flip:
            return try make { x, y, c in at(width - 1 - x, y, c) }
        }
    }
}

extension ImageSet {
    /// Edited copies of images `indices` (in that order), the `i`-th copy's noise seeded by
    /// `seed` and `i`. Labels follow the images when the set has them.
    public func perturbed(_ perturbation: Perturbation, indices: [Int], seed: UInt64) throws -> ImageSet {
        let plane = height * width
        var pixels = [UInt8]()
        pixels.reserveCapacity(indices.count * valuesPerImage)
        for (position, index) in indices.enumerated() {
            let edited = try perturbation.apply(to: pixelBuffer(index), seed: seed &+ UInt64(position) &* 0x9E37_79B9)
            // Back from interleaved pixels to the set's planes.
            let bytes = edited.converted(to: edited.format).bytes
            for c in 0..<channels { for i in 0..<plane { pixels.append(bytes[i * channels + c]) } }
        }
        return ImageSet(count: indices.count, channels: channels, height: height, width: width, pixels: pixels,
                        labels: labels.map { all in indices.map { all[$0] } })
    }
}
