/// Feature spaces made of two: a learned space joined with the images' own pixels.
///
/// On Fashion-MNIST (validation protocol: the first 50,000 training images as database, the last
/// 10,000 as queries) the contrastive pre-training's outputs find same-class neighbours at
/// P@10 0.80 and centred pixels at 0.815, both together at 0.84: each sees what the other misses.
public enum FeatureConcatenation {
    /// Rows of `base` (`width` values each, used as they are) followed by each image's pixels,
    /// centred on the mean image, scaled to unit length and then by `weight`. When `base` rows
    /// have unit length, cosines in the joined space are `(cos_base + weight² · cos_pixels) / (1 + weight²)`.
    public static func joiningCentredPixels(_ base: [Float], width: Int, pixels: [Float], dimension: Int, weight: Float) -> [Float] {
        let count = pixels.count / dimension
        precondition(base.count == count * width, "\(base.count) base values do not make \(count) rows of \(width)")
        var mean = [Float](repeating: 0, count: dimension)
        for row in 0..<count {
            for k in 0..<dimension { mean[k] += pixels[row * dimension + k] }
        }
        for k in 0..<dimension { mean[k] /= Float(max(count, 1)) }
        let joinedWidth = width + dimension
        var joined = [Float](repeating: 0, count: count * joinedWidth)
        var centred = [Float](repeating: 0, count: dimension)
        for row in 0..<count {
            var sum: Float = 0
            for k in 0..<dimension {
                centred[k] = pixels[row * dimension + k] - mean[k]
                sum += centred[k] * centred[k]
            }
            let scale = sum > 0 ? weight / sum.squareRoot() : 0
            let out = row * joinedWidth
            for k in 0..<width { joined[out + k] = base[row * width + k] }
            for k in 0..<dimension { joined[out + width + k] = centred[k] * scale }
        }
        return joined
    }
}
