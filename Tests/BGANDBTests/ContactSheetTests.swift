import PixelIO
import Testing
@testable import BGANDB

/// The contact sheet's layout, pictures and labels, pixel by pixel.
@Suite struct ContactSheetTests {
    static func solid(_ value: UInt8, width: Int, height: Int, format: PixelFormat = .gray) -> PixelBuffer {
        try! PixelBuffer(width: width, height: height, format: format, bytes: [UInt8](repeating: value, count: width * height * format.channels))
    }

    /// The label's box under the image at `origin`.
    static func labelInk(_ sheet: PixelBuffer, _ contact: ContactSheet, row: Int, column: Int) -> [Bool] {
        let origin = contact.origin(row: row, column: column)
        var ink: [Bool] = []
        for y in (origin.y + contact.tile)..<(origin.y + contact.tile + ContactSheet.labelHeight) {
            for x in origin.x..<(origin.x + contact.tile) { ink.append(sheet[x, y, 0] == 0) }
        }
        return ink
    }

    @Test func rowsHoldTheQueryThenItsResultsWithDistanceLabels() throws {
        var contact = ContactSheet(tile: 32)
        contact.rows.append(ContactSheet.Row(query: Self.solid(10, width: 16, height: 16),
                                             results: [(Self.solid(50, width: 16, height: 8), 3), (nil, 12)]))
        contact.rows.append(ContactSheet.Row(query: Self.solid(90, width: 64, height: 64, format: .rgb),
                                             results: [(Self.solid(130, width: 8, height: 8), 3)]))
        let sheet = contact.render()
        #expect(sheet.width == contact.size.width && sheet.height == contact.size.height)
        #expect(sheet.width == 2 * ContactSheet.margin + 3 * 32 + 2 * ContactSheet.gap + ContactSheet.separator)

        // Pictures: centred, enlarged by whole factors (16 → 32, 16×8 → 32×16, 8 → 32), shrunk when too big (64 → 32).
        func pixel(_ row: Int, _ column: Int, _ dx: Int, _ dy: Int) -> UInt8 {
            let o = contact.origin(row: row, column: column)
            return sheet[o.x + dx, o.y + dy, 0]
        }
        #expect(pixel(0, 0, 0, 0) == 10 && pixel(0, 0, 31, 31) == 10)
        #expect(pixel(0, 1, 0, 8) == 50 && pixel(0, 1, 0, 7) == ContactSheet.background && pixel(0, 1, 31, 23) == 50)
        #expect(pixel(0, 2, 5, 5) == ContactSheet.missing)
        #expect(pixel(1, 0, 0, 0) == 90 && pixel(1, 1, 0, 0) == 130)
        #expect(pixel(1, 2, 5, 5) == ContactSheet.background, "the second row has one result")

        // Labels: the same distance prints the same ink, another distance other ink; the query is labelled apart.
        let d3 = Self.labelInk(sheet, contact, row: 0, column: 1)
        #expect(d3.contains(true))
        #expect(Self.labelInk(sheet, contact, row: 1, column: 1) == d3)
        #expect(Self.labelInk(sheet, contact, row: 0, column: 2) != d3)
        #expect(Self.labelInk(sheet, contact, row: 0, column: 0) != d3)
    }

    @Test func theFontDrawsEachCharacterDifferently() {
        let characters = Array("0123456789d=query?")
        var seen: [[Bool]: Character] = [:]
        for character in characters {
            let text = String(character)
            var ink: [Bool] = []
            for y in 0..<BitmapFont.glyphHeight { for x in 0..<BitmapFont.glyphWidth { ink.append(BitmapFont.isInk(text, x: x, y: y)) } }
            #expect(ink.contains(true), "\(character) has ink")
            #expect(seen[ink] == nil, "\(character) looks like \(seen[ink].map(String.init) ?? "")")
            seen[ink] = character
        }
        #expect(BitmapFont.width(of: "d=12") == 4 * 6 - 1)
        #expect(!BitmapFont.isInk("1", x: 5, y: 3), "the spacing column is blank")
        #expect(BitmapFont.isInk("d=12", x: 2 * 6 + 2, y: 0), "the third character is a 1 with ink at its top middle")
    }
}
