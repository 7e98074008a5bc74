/// What a decode at 1/8 scale needs from a baseline JPEG's markers: the frame, its tables, the
/// restart interval and where the one scan's entropy-coded data starts.
///
/// Only the layouts ``JPEGEighthScaleDecoder`` reproduces exactly are accepted: 8-bit baseline or
/// extended sequential Huffman coding, one scan holding every component, one gray component or
/// three (Y with sampling 1×1, 2×1, 1×2 or 2×2, both chroma components 1×1). Anything else —
/// progressive or arithmetic coding, 12-bit samples, several scans, CMYK, a table missing or
/// malformed — gives nil, and TurboJPEG decodes the file instead (and reports any damage).
///
/// Where the decoder reproduces TurboJPEG (its default mode) that choice never shows: both give
/// the same pixels. The 1/4-scale luma from the lowest frequencies (with the chroma from the DC
/// alone) is not TurboJPEG's, so there what is accepted — by this layout and by the decoder's
/// checks in that mode — decides which luma a PDQ store hashes: widening or narrowing it changes
/// stored hashes, and needs a new value of the store's `image-decoding` record
/// (docs/on-disk-format.md).
struct JPEGBaselineLayout {
    struct Component {
        let id: UInt8
        let horizontalSampling: Int
        let verticalSampling: Int
        let quantizationTable: Int
        var dcTable = 0
        var acTable = 0
    }

    var width = 0
    var height = 0
    var components: [Component] = []
    /// Each quantisation table in natural (row-major) order, as the IDCT reads it: 16-bit
    /// entries are truncated to Int16 as libjpeg-turbo's `ISLOW_MULT_TYPE` does.
    var quantizationTables: [[Int16]?] = Array(repeating: nil, count: 4)
    var dcTables: [JPEGHuffmanTable?] = Array(repeating: nil, count: 4)
    var acTables: [JPEGHuffmanTable?] = Array(repeating: nil, count: 4)
    /// MCUs between restart markers; 0 when the file has none.
    var restartInterval = 0
    /// Offset of the first byte after the scan header.
    var entropyStart = 0

    var maximumHorizontalSampling: Int { components.map(\.horizontalSampling).max() ?? 1 }
    var maximumVerticalSampling: Int { components.map(\.verticalSampling).max() ?? 1 }

    /// The layout of `bytes`, or nil when the file is not one the 1/8 decoder reproduces exactly.
    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var position = 2
        var sawFrame = false
        while true {
            guard position < bytes.count, bytes[position] == 0xFF else { return nil }
            // Any number of 0xFF fill bytes may precede a marker.
            while position < bytes.count, bytes[position] == 0xFF { position += 1 }
            guard position + 2 < bytes.count else { return nil }
            let marker = bytes[position]
            let length = Int(bytes[position + 1]) << 8 | Int(bytes[position + 2])
            let body = position + 3
            let end = position + 1 + length
            guard length >= 2, end <= bytes.count else { return nil }
            let segment = UnsafeBufferPointer(rebasing: bytes[body..<end])
            switch marker {
            case 0xC0, 0xC1:
                guard !sawFrame, readFrame(segment) else { return nil }
                sawFrame = true
            case 0xC4:
                guard readHuffmanTables(segment) else { return nil }
            case 0xDB:
                guard readQuantizationTables(segment) else { return nil }
            case 0xDD:
                guard segment.count == 2 else { return nil }
                restartInterval = Int(segment[0]) << 8 | Int(segment[1])
            case 0xE0...0xEF, 0xFE:
                break
            case 0xDA:
                guard sawFrame, readScan(segment) else { return nil }
                entropyStart = end
                return
            default:
                // Other frame types (progressive, lossless, arithmetic, hierarchical), DNL, a
                // second SOI, restart markers or EOI before the scan.
                return nil
            }
            position = end
        }
    }

    private mutating func readFrame(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        guard segment.count >= 6, segment[0] == 8 else { return false }
        height = Int(segment[1]) << 8 | Int(segment[2])
        width = Int(segment[3]) << 8 | Int(segment[4])
        let count = Int(segment[5])
        guard width > 0, height > 0, count == 1 || count == 3, segment.count == 6 + 3 * count else { return false }
        for index in 0..<count {
            let entry = 6 + 3 * index
            let sampling = segment[entry + 1]
            let component = Component(id: segment[entry], horizontalSampling: Int(sampling >> 4),
                                      verticalSampling: Int(sampling & 15), quantizationTable: Int(segment[entry + 2]))
            guard (1...2).contains(component.horizontalSampling), (1...2).contains(component.verticalSampling),
                  component.quantizationTable < 4 else { return false }
            components.append(component)
        }
        if count == 3 {
            // Chroma at one sample per MCU; libjpeg-turbo's choice of IDCT size and upsampling
            // for these four luma samplings is what the decoder reproduces.
            guard components[1].horizontalSampling == 1, components[1].verticalSampling == 1,
                  components[2].horizontalSampling == 1, components[2].verticalSampling == 1 else { return false }
        }
        return Set(components.map(\.id)).count == count
    }

    private mutating func readHuffmanTables(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        var position = 0
        while position < segment.count {
            guard position + 17 <= segment.count else { return false }
            let tableClass = segment[position] >> 4, index = Int(segment[position] & 15)
            guard tableClass <= 1, index < 4 else { return false }
            let counts = Array(segment[(position + 1)..<(position + 17)])
            let total = counts.reduce(0) { $0 + Int($1) }
            guard total <= 256, position + 17 + total <= segment.count else { return false }
            let values = Array(segment[(position + 17)..<(position + 17 + total)])
            guard let table = JPEGHuffmanTable(counts: counts, values: values, isDC: tableClass == 0) else { return false }
            if tableClass == 0 { dcTables[index] = table } else { acTables[index] = table }
            position += 17 + total
        }
        return true
    }

    private mutating func readQuantizationTables(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        var position = 0
        while position < segment.count {
            let precision = segment[position] >> 4, index = Int(segment[position] & 15)
            guard precision <= 1, index < 4 else { return false }
            let entryBytes = precision == 0 ? 1 : 2
            guard position + 1 + 64 * entryBytes <= segment.count else { return false }
            var natural = [Int16](repeating: 0, count: 64)
            for zigzag in 0..<64 {
                let at = position + 1 + zigzag * entryBytes
                let value = precision == 0 ? UInt16(segment[at]) : UInt16(segment[at]) << 8 | UInt16(segment[at + 1])
                natural[JPEGHuffmanTable.naturalOrder[zigzag]] = Int16(truncatingIfNeeded: value)
            }
            quantizationTables[index] = natural
            position += 1 + 64 * entryBytes
        }
        return true
    }

    private mutating func readScan(_ segment: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = components.count
        guard segment.count == 4 + 2 * count, Int(segment[0]) == count else { return false }
        for index in 0..<count {
            // The scan must list the frame's components in the frame's order.
            guard segment[1 + 2 * index] == components[index].id else { return false }
            let tables = segment[2 + 2 * index]
            components[index].dcTable = Int(tables >> 4)
            components[index].acTable = Int(tables & 15)
            guard components[index].dcTable < 4, components[index].acTable < 4,
                  dcTables[components[index].dcTable] != nil, acTables[components[index].acTable] != nil,
                  quantizationTables[components[index].quantizationTable] != nil else { return false }
        }
        // Spectral selection 0…63, no successive approximation: a sequential scan.
        let tail = 1 + 2 * count
        return segment[tail] == 0 && segment[tail + 1] == 63 && segment[tail + 2] == 0
    }
}
