extension PixelBuffer {
    /// The image in `format`: gray from colour by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B),
    /// colour from gray by repeating it, alpha composited over `background` (0 = black, 255 =
    /// white) when dropped and set opaque when added.
    public func converted(to format: PixelFormat, background: UInt8 = 0) -> PixelBuffer {
        if format == self.format && rowStride == width * format.channels { return self }
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
        let left = (width - cropWidth) / 2, top = (height - cropHeight) / 2
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
        let horizontal = Coverage(from: width, to: newWidth), vertical = Coverage(from: height, to: newHeight)
        let channels = format.channels, rowStride = rowStride
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        var row = [Float](repeating: 0, count: newWidth * channels)
        bytes.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                row.withUnsafeMutableBufferPointer { row in
                    horizontal.positions.withUnsafeBufferPointer { columns in
                        horizontal.weights.withUnsafeBufferPointer { columnWeights in
                            for oy in 0..<newHeight {
                                row.update(repeating: 0)
                                for v in vertical.range(oy) {
                                    let sy = vertical.positions[v], wy = vertical.weights[v]
                                    for ox in 0..<newWidth {
                                        for h in horizontal.range(ox) {
                                            let base = sy * rowStride + columns[h] * channels, weight = columnWeights[h] * wy
                                            for c in 0..<channels { row[ox * channels + c] += weight * Float(source[base + c]) }
                                        }
                                    }
                                }
                                for i in row.indices { target[oy * newWidth * channels + i] = Self.byte(row[i]) }
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

        init(from source: Int, to target: Int) {
            let scale = Double(source) / Double(target)
            for o in 0..<target {
                let start = Double(o) * scale, end = Double(o + 1) * scale
                var s = Int(start.rounded(.down))
                while Double(s) < end, s < source {
                    let overlap = min(end, Double(s + 1)) - max(start, Double(s))
                    if overlap > 1e-9 {
                        positions.append(s)
                        weights.append(Float(overlap / scale))
                    }
                    s += 1
                }
                starts.append(positions.count)
            }
        }

        func range(_ output: Int) -> Range<Int> { starts[output]..<starts[output + 1] }
    }

    static func byte(_ value: Float) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
}

extension PixelBuffer {
    /// The image shrunk by area averaging until neither side exceeds `side`, aspect ratio kept
    /// (each side at least 1 pixel); an image that already fits is returned as it is. Thumbnails.
    public func fitted(within side: Int) -> PixelBuffer {
        precondition(side > 0)
        guard width > side || height > side else { return self }
        let scale = Double(side) / Double(max(width, height))
        let newWidth = max(1, min(side, Int((Double(width) * scale).rounded())))
        let newHeight = max(1, min(side, Int((Double(height) * scale).rounded())))
        return areaResized(width: newWidth, height: newHeight)
    }
}
