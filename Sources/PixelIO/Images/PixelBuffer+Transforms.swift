extension PixelBuffer {
    /// The image in `format`: gray from colour by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B),
    /// colour from gray by repeating it, alpha composited over `background` (0 = black, 255 =
    /// white) when dropped and set opaque when added. The result's bytes are its rows packed
    /// (`rowStride` is `width` times the format's channels) and nothing after the last row,
    /// whatever the source's were.
    public func converted(to format: PixelFormat, background: UInt8 = 0) -> PixelBuffer {
        if format == self.format {
            let packedBytes = width * height * format.channels
            if rowStride == width * format.channels {
                // Packed already: the bytes as they are, without any that lie after the last row.
                return bytes.count == packedBytes ? self : try! PixelBuffer(width: width, height: height, format: format, bytes: Array(bytes.prefix(packedBytes)))
            }
            // Same format, padded rows (a crop's view): the rows copied as they are.
            let rows = bytes.withUnsafeBufferPointer {
                Self.packedRows(of: $0.baseAddress!, stride: self.rowStride, width: self.width * format.channels, height: self.height)
            }
            return try! PixelBuffer(width: self.width, height: self.height, format: format, bytes: rows)
        }
        let sourceChannels = self.format.channels, targetChannels = format.channels
        let (width, height, rowStride, sourceFormat) = (width, height, rowStride, self.format)
        let out = [UInt8](unsafeUninitializedCapacity: width * height * targetChannels) { target, count in
            bytes.withUnsafeBufferPointer { source in
                for y in 0..<height {
                    for x in 0..<width {
                        let base = y * rowStride + x * sourceChannels
                        var (r, g, b, a): (Float, Float, Float, Float)
                        switch sourceFormat {
                        case .gray:
                            r = Float(source[base]); g = r; b = r; a = 255
                        case .rgb:
                            r = Float(source[base]); g = Float(source[base + 1]); b = Float(source[base + 2]); a = 255
                        case .rgba:
                            r = Float(source[base]); g = Float(source[base + 1]); b = Float(source[base + 2]); a = Float(source[base + 3])
                        }
                        if format != .rgba, a < 255 {
                            let cover = a / 255, behind = Float(background) * (1 - cover)
                            r = r * cover + behind; g = g * cover + behind; b = b * cover + behind
                        }
                        let at = (y * width + x) * targetChannels
                        switch format {
                        case .gray:
                            target[at] = Self.byte(0.299 * r + 0.587 * g + 0.114 * b)
                        case .rgb:
                            target[at] = Self.byte(r); target[at + 1] = Self.byte(g); target[at + 2] = Self.byte(b)
                        case .rgba:
                            target[at] = Self.byte(r); target[at + 1] = Self.byte(g); target[at + 2] = Self.byte(b); target[at + 3] = Self.byte(a)
                        }
                    }
                }
            }
            count = width * height * targetChannels
        }
        return try! PixelBuffer(width: width, height: height, format: format, bytes: out)
    }

    /// The top-left `width` × `height` bytes of a plane whose rows are `stride` bytes apart,
    /// packed row after row: what ``converted(to:background:)`` and the decoders that write into
    /// padded planes hand on.
    static func packedRows(of plane: UnsafePointer<UInt8>, stride: Int, width: Int, height: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: width * height) { buffer, count in
            for y in 0..<height { (buffer.baseAddress! + y * width).initialize(from: plane + y * stride, count: width) }
            count = width * height
        }
    }

    /// The largest centred region with the aspect ratio `aspectWidth : aspectHeight`.
    public func centerCropped(aspectWidth: Int, aspectHeight: Int) -> PixelBuffer {
        precondition(aspectWidth > 0 && aspectHeight > 0)
        var cropWidth = width, cropHeight = height
        if width * aspectHeight > height * aspectWidth {
            cropWidth = max(1, height * aspectWidth / aspectHeight)
        } else {
            cropHeight = max(1, width * aspectHeight / aspectWidth)
        }
        if cropWidth == width && cropHeight == height { return self }
        return cropped(left: (width - cropWidth) / 2, top: (height - cropHeight) / 2, width: cropWidth, height: cropHeight)
    }

    /// The `width`×`height` region whose top left pixel is (`left`, `top`); it must lie inside the image.
    public func cropped(left: Int, top: Int, width cropWidth: Int, height cropHeight: Int) -> PixelBuffer {
        precondition(left >= 0 && top >= 0 && cropWidth > 0 && cropHeight > 0 && left + cropWidth <= width && top + cropHeight <= height,
                     "a \(cropWidth)×\(cropHeight) region at (\(left), \(top)) is not inside a \(width)×\(height) image")
        let channels = format.channels
        var out: [UInt8] = []
        out.reserveCapacity(cropWidth * cropHeight * channels)
        for y in top..<(top + cropHeight) {
            let start = y * rowStride + left * channels
            out += bytes[start..<(start + cropWidth * channels)]
        }
        return try! PixelBuffer(width: cropWidth, height: cropHeight, format: format, bytes: out)
    }

    /// The image resized to `newWidth × newHeight` by area averaging: each output pixel is the
    /// mean of the input area it covers, partial pixels weighted by their coverage (a box
    /// filter: no aliasing when shrinking, plain replication when growing).
    public func areaResized(width newWidth: Int, height newHeight: Int) -> PixelBuffer {
        precondition(newWidth > 0 && newHeight > 0)
        if newWidth == width && newHeight == height && rowStride == width * format.channels { return self }
        return areaResized(width: newWidth, height: newHeight,
                           horizontal: Coverage(from: width, to: newWidth), vertical: Coverage(from: height, to: newHeight))
    }

    /// Area averaging with the input positions and weights each output covers given.
    func areaResized(width newWidth: Int, height newHeight: Int, horizontal: Coverage, vertical: Coverage) -> PixelBuffer {
        let channels = format.channels, rowStride = rowStride
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        var row = [Float](repeating: 0, count: newWidth * channels)
        bytes.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                row.withUnsafeMutableBufferPointer { row in
                    horizontal.withUnsafePointers { columns, columnWeights, columnStarts in
                        vertical.withUnsafePointers { lines, lineWeights, lineStarts in
                            let row = row.baseAddress!
                            for oy in 0..<newHeight {
                                row.update(repeating: 0, count: newWidth &* channels)
                                for v in lineStarts[oy]..<lineStarts[oy &+ 1] {
                                    let line = source.baseAddress! + lines[v] &* rowStride, wy = lineWeights[v]
                                    Self.addResampledLine(line, into: row, channels: channels, outputs: newWidth,
                                                          columns: columns, weights: columnWeights, starts: columnStarts, lineWeight: wy)
                                }
                                let outputRow = target.baseAddress! + oy &* newWidth &* channels
                                for i in 0..<(newWidth &* channels) { outputRow[i] = Self.byte(row[i]) }
                            }
                        }
                    }
                }
            }
        }
        return try! PixelBuffer(width: newWidth, height: newHeight, format: format, bytes: out)
    }

    /// For each of `target` output positions along one axis, the input positions it covers and
    /// their weights (summing to 1), flattened: output `o` covers entries `range(o)`.
    struct Coverage {
        var positions: [Int] = []
        var weights: [Float] = []
        var starts: [Int] = [0]

        /// `source` pixels onto `target`; with `block` > 1, the input positions are blocks of that
        /// many pixels (the last one what remains), each weighted by how much of it an output covers.
        init(from source: Int, to target: Int, block: Int = 1) {
            let scale = Double(source) / Double(target), blocks = (source + block - 1) / block
            for o in 0..<target {
                let start = Double(o) * scale, end = Double(o + 1) * scale
                var b = Int(start.rounded(.down)) / block
                while b < blocks, Double(b * block) < end {
                    let overlap = min(end, Double(min((b + 1) * block, source))) - max(start, Double(b * block))
                    if overlap > 1e-9 {
                        positions.append(b)
                        weights.append(Float(overlap / scale))
                    }
                    b += 1
                }
                starts.append(positions.count)
            }
        }

        /// The input positions, their weights and each output's first entry (one past the last
        /// output: the end), as pointers valid inside `body`.
        func withUnsafePointers<Result>(_ body: (UnsafePointer<Int>, UnsafePointer<Float>, UnsafePointer<Int>) -> Result) -> Result {
            positions.withUnsafeBufferPointer { positions in
                weights.withUnsafeBufferPointer { weights in
                    starts.withUnsafeBufferPointer { starts in body(positions.baseAddress!, weights.baseAddress!, starts.baseAddress!) }
                }
            }
        }
    }

    /// Adds one input line, resampled along the row and weighted by `lineWeight`, to the output
    /// row's sums: output `o` of channel `c` gains `weights[h] · lineWeight · line[columns[h]·channels + c]`
    /// for each of its entries `h`, in order. One, three and four channels have loops of their
    /// own, so the sums stay in registers; the arithmetic, and so every sum, is the same.
    @inline(__always)
    static func addResampledLine(_ line: UnsafePointer<UInt8>, into row: UnsafeMutablePointer<Float>, channels: Int, outputs: Int,
                                 columns: UnsafePointer<Int>, weights: UnsafePointer<Float>, starts: UnsafePointer<Int>, lineWeight: Float) {
        switch channels {
        case 1:
            for o in 0..<outputs {
                var sum = row[o]
                for h in starts[o]..<starts[o &+ 1] { sum += weights[h] * lineWeight * Float(line[columns[h]]) }
                row[o] = sum
            }
        case 3:
            for o in 0..<outputs {
                let at = row + o &* 3
                var (r, g, b) = (at[0], at[1], at[2])
                for h in starts[o]..<starts[o &+ 1] {
                    let weight = weights[h] * lineWeight, pixel = line + columns[h] &* 3
                    r += weight * Float(pixel[0]); g += weight * Float(pixel[1]); b += weight * Float(pixel[2])
                }
                (at[0], at[1], at[2]) = (r, g, b)
            }
        default:
            for o in 0..<outputs {
                let at = row + o &* channels
                for h in starts[o]..<starts[o &+ 1] {
                    let weight = weights[h] * lineWeight, pixel = line + columns[h] &* channels
                    for c in 0..<channels { at[c] += weight * Float(pixel[c]) }
                }
            }
        }
    }

    static func byte(_ value: Float) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
}

extension PixelBuffer {
    /// The image shrunk by area averaging until neither side exceeds `side`, aspect ratio kept
    /// (each side at least 1 pixel); an image that already fits is returned as it is. Thumbnails.
    ///
    /// An image at least six times as large as the result along both sides is first averaged in
    /// square blocks (``blockAveraged(by:)``, at most half the final reduction), which costs a
    /// fraction of the area averaging it saves: a 64-pixel thumbnail of an 816×612 photo then takes
    /// about a fifth of the time. Each block weighs what an output covers of it, so pixels differ
    /// from a direct ``areaResized(width:height:)`` only where an output's edge cuts through a
    /// block (its mean stands for the part covered), by a level or two on photographs.
    public func fitted(within side: Int) -> PixelBuffer {
        precondition(side > 0)
        guard width > side || height > side else { return self }
        let (newWidth, newHeight) = Self.fittedSize(width: width, height: height, within: side)
        return shrunk(width: newWidth, height: newHeight)
    }

    /// The size ``fitted(within:)`` gives an image of `width` × `height` pixels.
    public static func fittedSize(width: Int, height: Int, within side: Int) -> (width: Int, height: Int) {
        guard width > side || height > side else { return (width, height) }
        let scale = Double(side) / Double(max(width, height))
        return (max(1, min(side, Int((Double(width) * scale).rounded()))), max(1, min(side, Int((Double(height) * scale).rounded()))))
    }

    /// The image shrunk to `newWidth` × `newHeight` (each at most the image's) as ``fitted(within:)``
    /// shrinks: by area averaging, in square blocks first when it is at least six times as large.
    public func shrunk(width newWidth: Int, height newHeight: Int) -> PixelBuffer {
        precondition(newWidth >= 1 && newHeight >= 1 && newWidth <= width && newHeight <= height)
        if newWidth == width && newHeight == height { return self }
        let factor = min(width / newWidth, height / newHeight, 2 * Self.largestBlockFactor) / 2
        guard factor >= 3 else { return areaResized(width: newWidth, height: newHeight) }
        return blockAveraged(by: factor).areaResized(width: newWidth, height: newHeight,
                                                     horizontal: Coverage(from: width, to: newWidth, block: factor),
                                                     vertical: Coverage(from: height, to: newHeight, block: factor))
    }

    /// The largest factor ``blockAveraged(by:)`` takes: a column's sum over that many rows fits 16
    /// bits, which vectorises twice as wide as 32.
    public static let largestBlockFactor = 257

    /// The image shrunk `factor` times along both sides: each pixel the rounded mean of a
    /// `factor`×`factor` block (of what remains at the right and bottom edges), exactly.
    public func blockAveraged(by factor: Int) -> PixelBuffer {
        precondition(factor > 0 && factor <= Self.largestBlockFactor)
        let channels = format.channels, rowStride = rowStride, (width, height) = (width, height)
        let newWidth = (width + factor - 1) / factor, newHeight = (height + factor - 1) / factor
        let lineBytes = width * channels
        var columnSums = [UInt16](repeating: 0, count: lineBytes)
        let out = [UInt8](unsafeUninitializedCapacity: newWidth * newHeight * channels) { target, count in
            bytes.withUnsafeBufferPointer { source in
                columnSums.withUnsafeMutableBufferPointer { sums in
                    var divisor: UInt64 = 1, reciprocal = Self.reciprocal(of: 1)
                    for blockRow in 0..<newHeight {
                        let firstRow = blockRow * factor, rows = min(factor, height - firstRow)
                        sums.update(repeating: 0)
                        for y in firstRow..<(firstRow + rows) {
                            let line = source.baseAddress! + y &* rowStride
                            for i in 0..<lineBytes { sums[i] &+= UInt16(line[i]) }
                        }
                        let row = target.baseAddress! + blockRow * newWidth * channels
                        var done = 0
                        if channels == 1 && rows == factor {
                            done = Self.averageGrayBlocks(of: UnsafePointer(sums.baseAddress!), into: row, width: width, factor: factor)
                        }
                        Self.averageBlocks(of: UnsafePointer(sums.baseAddress! + done * factor), into: row + done, width: width - done * factor,
                                           channels: channels, factor: factor, rows: rows, divisor: &divisor, reciprocal: &reciprocal)
                    }
                }
            }
            count = newWidth * newHeight * channels
        }
        return try! PixelBuffer(width: newWidth, height: newHeight, format: format, bytes: out)
    }

    /// One row of blocks: the rounded mean of each `factor` columns (fewer at the right edge) of
    /// `sums`, the column sums of `rows` image rows, channel by channel. Plain pointer loops: the
    /// compiler leaves range iterators in this loop, which ran at a few nanoseconds per output.
    @inline(__always)
    static func averageBlocks(of sums: UnsafePointer<UInt16>, into target: UnsafeMutablePointer<UInt8>, width: Int, channels: Int, factor: Int,
                              rows: Int, divisor: inout UInt64, reciprocal: inout UInt64) {
        var column = 0, out = target
        while column < width {
            let columns = factor < width &- column ? factor : width &- column
            let pixels = UInt64(rows &* columns)
            // Only edge blocks have other sizes: one division per size change.
            if pixels != divisor { (divisor, reciprocal) = (pixels, Self.reciprocal(of: pixels)) }
            let half = pixels / 2
            var c = 0
            while c < channels {
                var sum: UInt64 = 0, at = sums + (column &* channels &+ c), k = 0
                while k < columns {
                    sum &+= UInt64(at.pointee)
                    at += channels
                    k &+= 1
                }
                out[c] = UInt8(truncatingIfNeeded: Self.quotient(sum &+ half, divisor, reciprocal))
                c &+= 1
            }
            out += channels
            column &+= factor
        }
    }

    /// Full square gray blocks of 2, 4, 8 or 16 pixels a side, sixteen column sums at a time: each
    /// pair of neighbours added (`evenHalf + oddHalf`) until one sum per block remains, the mean a
    /// rounded shift (a block holds a power of four pixels). The same values as ``averageBlocks``;
    /// returns how many blocks it wrote (none for other factors), the rest left to it.
    @inline(__always)
    static func averageGrayBlocks(of sums: UnsafePointer<UInt16>, into target: UnsafeMutablePointer<UInt8>, width: Int, factor: Int) -> Int {
        guard factor == 2 || factor == 4 || factor == 8 || factor == 16 else { return 0 }
        let shift = UInt16(2 * factor.trailingZeroBitCount), half = UInt16(1) &<< (shift &- 1)
        let raw = UnsafeRawPointer(sums)
        var block = 0
        // Sixteen sums give 16 / factor blocks; sums of up to 16 × 16 levels of 255 fit 16 bits.
        while (block &+ 16 / factor) &* factor <= width {
            let v = raw.loadUnaligned(fromByteOffset: block &* factor &* 2, as: SIMD16<UInt16>.self)
            let out = target + block
            switch factor {
            case 2:
                let means = ((v.evenHalf &+ v.oddHalf) &+ half) &>> shift
                for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: means[i]) }
            case 4:
                let pairs = v.evenHalf &+ v.oddHalf
                let means = ((pairs.evenHalf &+ pairs.oddHalf) &+ half) &>> shift
                for i in 0..<4 { out[i] = UInt8(truncatingIfNeeded: means[i]) }
            case 8:
                let pairs = v.evenHalf &+ v.oddHalf, quads = pairs.evenHalf &+ pairs.oddHalf
                let means = ((quads.evenHalf &+ quads.oddHalf) &+ half) &>> shift
                out[0] = UInt8(truncatingIfNeeded: means[0])
                out[1] = UInt8(truncatingIfNeeded: means[1])
            default:
                let total = (v.evenHalf &+ v.oddHalf).wrappedSum()
                out[0] = UInt8(truncatingIfNeeded: (UInt32(total) &+ UInt32(half)) &>> UInt32(shift))
            }
            block &+= 16 / factor
        }
        return block
    }

    /// ⌈2⁶⁴ / divisor⌉ for divisors from 2 on (0 for 1): with it ``quotient(_:_:_:)`` divides by a
    /// multiplication, a fraction of the time of an integer division in the loop above.
    @inline(__always)
    static func reciprocal(of divisor: UInt64) -> UInt64 { divisor == 1 ? 0 : UInt64.max / divisor &+ 1 }

    /// ⌊n / divisor⌋ exactly for n below 2³²: n · ⌈2⁶⁴/d⌉ / 2⁶⁴ exceeds n/d by less than n/2⁶⁴,
    /// which is far below the 1/d that separates n/d from the next integer.
    @inline(__always)
    static func quotient(_ n: UInt64, _ divisor: UInt64, _ reciprocal: UInt64) -> UInt64 {
        divisor == 1 ? n : n.multipliedFullWidth(by: reciprocal).high
    }
}
