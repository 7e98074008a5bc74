import PixelIO

/// Augmented copies of a data set's images, for benchmarks at sizes beyond it: an image shifted
/// by up to 2 pixels each way (uncovered pixels black), brightened ×0.8–1.1 and given Gaussian
/// noise of σ = 0.02 of full scale, clamped to [0, 1].
enum AugmentedCopies {
    /// Values of `copy`, a copy of image `copy % set.count`, scaled to [0, 1] in the set's
    /// `channels × height × width` order; `rng` draws the shift, the gain and the noise.
    static func values(of set: ImageSet, copy: Int, rng: inout SeededGenerator) -> [Float] {
        let source = set.image(copy % set.count)
        let start = source.startIndex
        let height = set.height, width = set.width
        let dx = Int(rng.next() % 5) - 2, dy = Int(rng.next() % 5) - 2
        let gain = 0.8 + 0.3 * rng.unit()
        var values: [Float] = []
        values.reserveCapacity(set.valuesPerImage)
        for c in 0..<set.channels {
            for y in 0..<height {
                for x in 0..<width {
                    let sy = y - dy, sx = x - dx
                    let value = (0..<height).contains(sy) && (0..<width).contains(sx) ? Float(source[start + (c * height + sy) * width + sx]) / 255 : 0
                    values.append(min(1, max(0, value * gain + 0.02 * rng.normal())))
                }
            }
        }
        return values
    }

    /// As ``values(of:copy:rng:)``, rounded to the 8-bit pixels a store would ingest.
    static func bytes(of set: ImageSet, copy: Int, rng: inout SeededGenerator) -> [UInt8] {
        values(of: set, copy: copy, rng: &rng).map { UInt8(($0 * 255).rounded()) }
    }
}
