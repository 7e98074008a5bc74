import PixelIO

/// A 5×7 pixel font for the few characters contact sheets print (digits, "d=", "query", "?").
enum BitmapFont {
    static let glyphWidth = 5
    static let glyphHeight = 7
    /// Pixels between characters.
    static let spacing = 1

    /// Rows of each glyph, top first; bit 4 is the leftmost pixel.
    private static let glyphs: [Character: [UInt8]] = [
        "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        "3": [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        "5": [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        "7": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        "8": [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        "9": [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        "d": [0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111],
        "=": [0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000],
        "q": [0b00000, 0b00000, 0b01111, 0b10001, 0b01111, 0b00001, 0b00001],
        "u": [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101],
        "e": [0b00000, 0b00000, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110],
        "r": [0b00000, 0b00000, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000],
        "y": [0b00000, 0b00000, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110],
        "?": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100],
        " ": [0, 0, 0, 0, 0, 0, 0],
    ]

    /// Width in pixels of `text` at `scale`.
    static func width(of text: String, scale: Int = 1) -> Int {
        text.isEmpty ? 0 : (text.count * (glyphWidth + spacing) - spacing) * scale
    }

    /// Whether the pixel at (`x`, `y`) of `text`'s box (origin top left, at `scale`) is ink.
    /// Characters without a glyph print as "?".
    static func isInk(_ text: String, x: Int, y: Int, scale: Int = 1) -> Bool {
        let column = x / scale, row = y / scale
        guard row >= 0, row < glyphHeight, column >= 0 else { return false }
        let index = column / (glyphWidth + spacing), offset = column % (glyphWidth + spacing)
        guard index < text.count, offset < glyphWidth else { return false }
        let character = text[text.index(text.startIndex, offsetBy: index)]
        let rows = glyphs[character] ?? glyphs["?"]!
        return rows[row] & (1 << (glyphWidth - 1 - offset)) != 0
    }
}
