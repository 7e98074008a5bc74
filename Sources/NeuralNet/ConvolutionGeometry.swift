/// The geometry of a 2-D convolution over an image of `channels × height × width` with a square
/// kernel, and the unfolding of image patches into columns (im2col) and back (col2im).
///
/// Columns are `(channels · kernel · kernel) × (batch · outputHeight · outputWidth)`, row-major:
/// column `n · outputArea + oy · outputWidth + ox` holds the patch under output pixel (oy, ox) of
/// image n, so one matrix product serves the whole batch.
struct ConvolutionGeometry: Equatable {
    let channels: Int
    let height: Int
    let width: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    /// For kernel position `(ky, kx)` and output pixel `t`, `patchOffsets[(ky · kernel + kx) · outputArea + t]`
    /// is the offset in one channel plane of the input pixel the patch reads there, or −1 in the padding.
    /// One flat gather per kernel position, instead of a loop per output row with its edge cases:
    /// rows are short here (7 or 14 pixels), and their overhead made most of im2col's time.
    let patchOffsets: [Int32]

    init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let outputHeight = (height + 2 * padding - kernel) / stride + 1, outputWidth = (width + 2 * padding - kernel) / stride + 1
        var offsets: [Int32] = []
        offsets.reserveCapacity(kernel * kernel * outputHeight * outputWidth)
        for ky in 0..<kernel {
            for kx in 0..<kernel {
                for oy in 0..<outputHeight {
                    let iy = oy * stride - padding + ky
                    for ox in 0..<outputWidth {
                        let ix = ox * stride - padding + kx
                        offsets.append(iy >= 0 && iy < height && ix >= 0 && ix < width ? Int32(iy * width + ix) : -1)
                    }
                }
            }
        }
        patchOffsets = offsets
    }

    var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    var outputArea: Int { outputHeight * outputWidth }
    var patchSize: Int { channels * kernel * kernel }
    var imageSize: Int { channels * height * width }

    /// Writes the patches of `image` (one image) into columns `[n · outputArea, (n+1) · outputArea)`
    /// of `columns`, whose rows are `rowStride` long.
    func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, rowStride: Int, item n: Int) {
        let area = outputArea, positions = kernel * kernel, plane = height * width
        patchOffsets.withUnsafeBufferPointer { offsets in
            for c in 0..<channels {
                let source = image + c * plane
                for position in 0..<positions {
                    let row = columns + (c * positions + position) * rowStride + n * area
                    let map = offsets.baseAddress! + position * area
                    for t in 0..<area {
                        let offset = Int(map[t])
                        row[t] = offset >= 0 ? source[offset] : 0
                    }
                }
            }
        }
    }

    /// Adds the columns of item `n` back onto `image` (the adjoint of `im2col`).
    func col2im(_ columns: UnsafePointer<Float>, rowStride: Int, item n: Int, into image: UnsafeMutablePointer<Float>) {
        let area = outputArea, positions = kernel * kernel, plane = height * width
        patchOffsets.withUnsafeBufferPointer { offsets in
            for c in 0..<channels {
                let target = image + c * plane
                for position in 0..<positions {
                    let row = columns + (c * positions + position) * rowStride + n * area
                    let map = offsets.baseAddress! + position * area
                    for t in 0..<area {
                        let offset = Int(map[t])
                        if offset >= 0 { target[offset] += row[t] }
                    }
                }
            }
        }
    }
}

/// Moves a `(N, C, area)` tensor to `(C, N · area)` (channels first), or back, in parallel.
enum ChannelMajor {
    static func fromBatchMajor(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, batch: Int, channels: Int, area: Int) {
        parallelRanges(batch, tasks: BLAS.threads) { items in
            for n in items {
                for c in 0..<channels {
                    (target + (c * batch + n) * area).update(from: source + (n * channels + c) * area, count: area)
                }
            }
        }
    }

    /// `fromBatchMajor`, adding each channel's sum over the batch and the area to `sums[c]` while
    /// its values pass by: a convolution's bias gradient without a second pass over the tensor.
    static func fromBatchMajor(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, batch: Int, channels: Int, area: Int,
                               addingSumsTo sums: UnsafeMutablePointer<Float>) {
        parallelRanges(channels, tasks: BLAS.threads) { range in
            for c in range {
                var sum: Float = 0
                for n in 0..<batch {
                    let from = source + (n * channels + c) * area
                    (target + (c * batch + n) * area).update(from: from, count: area)
                    sum += vectorSum(from, count: area)
                }
                sums[c] += sum
            }
        }
    }

    /// The reverse move, adding `bias[c]` (if given) to every value of channel `c` on the way.
    static func toBatchMajor(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, batch: Int, channels: Int, area: Int,
                             bias: UnsafePointer<Float>? = nil) {
        parallelRanges(batch, tasks: BLAS.threads) { items in
            for n in items {
                for c in 0..<channels {
                    let from = source + (c * batch + n) * area, to = target + (n * channels + c) * area
                    if let bias {
                        let b = bias[c]
                        for i in 0..<area { to[i] = from[i] + b }
                    } else {
                        to.update(from: from, count: area)
                    }
                }
            }
        }
    }
}

/// Makes `buffer` hold exactly `count` values, reusing its storage when the size is unchanged.
/// The contents are unspecified: callers overwrite them.
func resize(_ buffer: inout [Float], to count: Int) {
    guard buffer.count != count else { return }
    buffer = [Float](repeating: 0, count: count)
}
