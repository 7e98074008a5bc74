import PixelIO

/// A picture of query results: one row per query, the query's image first, then its results
/// left to right in rank order, each over a label (the query's "query", a result's Hamming
/// distance "d=N"). Results without a stored image show as a grey box labelled "d=N ?".
struct ContactSheet {
    struct Row {
        var query: PixelBuffer
        var results: [(image: PixelBuffer?, distance: Int)]
    }

    /// Side of the square each image is fitted into, in pixels.
    let tile: Int
    var rows: [Row] = []

    static let margin = 8
    static let gap = 4
    /// Extra space between the query and its results.
    static let separator = 12
    static let labelScale = 1
    static var labelHeight: Int { BitmapFont.glyphHeight * labelScale + 6 }
    static let background: UInt8 = 255
    static let missing: UInt8 = 200

    init(tile: Int) {
        precondition(tile >= 8)
        self.tile = tile
    }

    /// Where the image of column `column` (0: the query) of row `row` starts, top left.
    func origin(row: Int, column: Int) -> (x: Int, y: Int) {
        let x = Self.margin + column * (tile + Self.gap) + (column > 0 ? Self.separator : 0)
        let y = Self.margin + row * (tile + Self.labelHeight + Self.gap)
        return (x, y)
    }

    var size: (width: Int, height: Int) {
        let columns = 1 + (rows.map(\.results.count).max() ?? 0)
        let end = origin(row: rows.count, column: columns)
        return (end.x - Self.gap + Self.margin, end.y - Self.gap + Self.margin)
    }

    /// The sheet as an RGB image.
    func render() -> PixelBuffer {
        let (width, height) = size
        var canvas = Canvas(width: width, height: height, fill: Self.background)
        for (r, row) in rows.enumerated() {
            draw(row.query, label: "query", at: origin(row: r, column: 0), on: &canvas)
            for (c, result) in row.results.enumerated() {
                let label = "d=\(result.distance)" + (result.image == nil ? " ?" : "")
                draw(result.image, label: label, at: origin(row: r, column: c + 1), on: &canvas)
            }
        }
        return try! PixelBuffer(width: width, height: height, format: .rgb, bytes: canvas.bytes)
    }

    private func draw(_ image: PixelBuffer?, label: String, at origin: (x: Int, y: Int), on canvas: inout Canvas) {
        if let image {
            let fitted = Self.fit(image.converted(to: .rgb), within: tile)
            let left = origin.x + (tile - fitted.width) / 2, top = origin.y + (tile - fitted.height) / 2
            for y in 0..<fitted.height {
                for x in 0..<fitted.width {
                    canvas.set(left + x, top + y, (fitted[x, y, 0], fitted[x, y, 1], fitted[x, y, 2]))
                }
            }
        } else {
            for y in 0..<tile { for x in 0..<tile { canvas.set(origin.x + x, origin.y + y, (Self.missing, Self.missing, Self.missing)) } }
        }
        let scale = Self.labelScale
        let textLeft = origin.x + max(0, (tile - BitmapFont.width(of: label, scale: scale)) / 2)
        let textTop = origin.y + tile + 3
        for y in 0..<(BitmapFont.glyphHeight * scale) {
            for x in 0..<BitmapFont.width(of: label, scale: scale) where BitmapFont.isInk(label, x: x, y: y, scale: scale) {
                canvas.set(textLeft + x, textTop + y, (0, 0, 0))
            }
        }
    }

    /// `image` brought to fit `side`: shrunk by area averaging, or enlarged by a whole factor
    /// (pixel replication keeps small images such as 28×28 crisp).
    static func fit(_ image: PixelBuffer, within side: Int) -> PixelBuffer {
        let longest = max(image.width, image.height)
        if longest > side { return image.fitted(within: side) }
        let factor = side / longest
        guard factor > 1 else { return image }
        return image.areaResized(width: image.width * factor, height: image.height * factor)
    }

    private struct Canvas {
        let width: Int
        let height: Int
        var bytes: [UInt8]

        init(width: Int, height: Int, fill: UInt8) {
            self.width = width
            self.height = height
            bytes = [UInt8](repeating: fill, count: width * height * 3)
        }

        mutating func set(_ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let i = (y * width + x) * 3
            bytes[i] = color.0
            bytes[i + 1] = color.1
            bytes[i + 2] = color.2
        }
    }
}
