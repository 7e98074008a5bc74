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

    var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    var outputArea: Int { outputHeight * outputWidth }
    var patchSize: Int { channels * kernel * kernel }
    var imageSize: Int { channels * height * width }

    /// Writes the patches of `image` (one image) into columns `[n · outputArea, (n+1) · outputArea)`
    /// of `columns`, whose rows are `rowStride` long.
    func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, rowStride: Int, item n: Int) {
        let oh = outputHeight, ow = outputWidth
        for c in 0..<channels {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = columns + ((c * kernel + ky) * kernel + kx) * rowStride + n * oh * ow
                    for oy in 0..<oh {
                        let iy = oy * stride - padding + ky
                        let target = row + oy * ow
                        guard iy >= 0, iy < height else {
                            for ox in 0..<ow { target[ox] = 0 }
                            continue
                        }
                        let source = image + (c * height + iy) * width
                        for ox in 0..<ow {
                            let ix = ox * stride - padding + kx
                            target[ox] = ix >= 0 && ix < width ? source[ix] : 0
                        }
                    }
                }
            }
        }
    }

    /// Adds the columns of item `n` back onto `image` (the adjoint of `im2col`).
    func col2im(_ columns: UnsafePointer<Float>, rowStride: Int, item n: Int, into image: UnsafeMutablePointer<Float>) {
        let oh = outputHeight, ow = outputWidth
        for c in 0..<channels {
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let row = columns + ((c * kernel + ky) * kernel + kx) * rowStride + n * oh * ow
                    for oy in 0..<oh {
                        let iy = oy * stride - padding + ky
                        guard iy >= 0, iy < height else { continue }
                        let target = image + (c * height + iy) * width
                        let source = row + oy * ow
                        for ox in 0..<ow {
                            let ix = ox * stride - padding + kx
                            if ix >= 0 && ix < width { target[ix] += source[ox] }
                        }
                    }
                }
            }
        }
    }
}

/// Moves a `(N, C, area)` tensor to `(C, N · area)` (channels first), or back, in parallel.
enum ChannelMajor {
    static func fromBatchMajor(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, batch: Int, channels: Int, area: Int) {
        parallelRanges(batch) { items in
            for n in items {
                for c in 0..<channels {
                    (target + (c * batch + n) * area).update(from: source + (n * channels + c) * area, count: area)
                }
            }
        }
    }

    /// The reverse move, adding `bias[c]` (if given) to every value of channel `c` on the way.
    static func toBatchMajor(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, batch: Int, channels: Int, area: Int,
                             bias: UnsafePointer<Float>? = nil) {
        parallelRanges(batch) { items in
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
