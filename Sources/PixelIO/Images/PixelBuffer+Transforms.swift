extension PixelBuffer {
    /// The image in `format`: gray from colour by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B),
    /// colour from gray by repeating it, alpha composited over `background` (0 = black, 255 =
    /// white) when dropped and set opaque when added.
    public func converted(to format: PixelFormat, background: UInt8 = 0) -> PixelBuffer {
        if format == self.format && rowStride == width * format.channels { return self }
        var out = [UInt8](repeating: 0, count: width * height * format.channels)
        for y in 0..<height {
            for x in 0..<width {
                let base = y * rowStride + x * self.format.channels
                var (r, g, b, a): (Float, Float, Float, Float)
                switch self.format {
                case .gray:
                    r = Float(bytes[base]); g = r; b = r; a = 255
                case .rgb:
                    r = Float(bytes[base]); g = Float(bytes[base + 1]); b = Float(bytes[base + 2]); a = 255
                case .rgba:
                    r = Float(bytes[base]); g = Float(bytes[base + 1]); b = Float(bytes[base + 2]); a = Float(bytes[base + 3])
                }
                if format != .rgba, a < 255 {
                    let cover = a / 255, behind = Float(background) * (1 - cover)
                    r = r * cover + behind; g = g * cover + behind; b = b * cover + behind
                }
                let target = (y * width + x) * format.channels
                switch format {
                case .gray:
                    out[target] = Self.byte(0.299 * r + 0.587 * g + 0.114 * b)
                case .rgb:
                    out[target] = Self.byte(r); out[target + 1] = Self.byte(g); out[target + 2] = Self.byte(b)
                case .rgba:
                    out[target] = Self.byte(r); out[target + 1] = Self.byte(g); out[target + 2] = Self.byte(b); out[target + 3] = Self.byte(a)
                }
            }
        }
        return try! PixelBuffer(width: width, height: height, format: format, bytes: out)
    }

    /// The largest centred region with the aspect ratio `aspectWidth : aspectHeight`.
    public func centreCropped(aspectWidth: Int, aspectHeight: Int) -> PixelBuffer {
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
        let horizontal = Self.coverage(from: width, to: newWidth), vertical = Self.coverage(from: height, to: newHeight)
        let channels = format.channels
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        var row = [Float](repeating: 0, count: newWidth * channels)
        for (oy, sources) in vertical.enumerated() {
            for i in row.indices { row[i] = 0 }
            for (sy, wy) in sources {
                for (ox, columns) in horizontal.enumerated() {
                    for (sx, wx) in columns {
                        let base = sy * rowStride + sx * channels, weight = wx * wy
                        for c in 0..<channels { row[ox * channels + c] += weight * Float(bytes[base + c]) }
                    }
                }
            }
            for i in row.indices { out[oy * newWidth * channels + i] = Self.byte(row[i]) }
        }
        return try! PixelBuffer(width: newWidth, height: newHeight, format: format, bytes: out)
    }

    /// For each of `target` output positions, the input positions it covers and their weights
    /// (summing to 1).
    static func coverage(from source: Int, to target: Int) -> [[(Int, Float)]] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { o in
            let start = Double(o) * scale, end = Double(o + 1) * scale
            var parts: [(Int, Float)] = []
            var s = Int(start.rounded(.down))
            while Double(s) < end, s < source {
                let overlap = min(end, Double(s + 1)) - max(start, Double(s))
                if overlap > 1e-9 { parts.append((s, Float(overlap / scale))) }
                s += 1
            }
            return parts
        }
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
