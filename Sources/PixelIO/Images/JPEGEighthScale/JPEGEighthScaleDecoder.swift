/// Decodes a baseline JPEG at 1/8 scale — one pixel per 8×8 block — with the same pixels as
/// TurboJPEG's `tjDecompress2` at that scale, but without decoding what those pixels do not use.
///
/// At 1/8 scale libjpeg-turbo keeps only each luma block's DC coefficient (and, for 4:2:0
/// chroma, a 2×2 inverse DCT), yet its Huffman decoder still takes every AC coefficient apart
/// one symbol at a time — the work that bounds ingestion of camera-sized JPEGs. Here the AC
/// symbols of blocks whose coefficients are not needed are passed over several at a time
/// (``JPEGHuffmanTable/skips``); everything else repeats libjpeg-turbo 2.1's arithmetic: the DC
/// sample (`jpeg_idct_1x1`), the 2×2 IDCT of 4:2:0 chroma (`jpeg_idct_2x2`), replicated chroma
/// for 4:2:2 and 4:4:0 (no fancy upsampling at this scale) and its YCbCr → RGB tables.
/// `JPEGEighthScaleTests` hold it to TurboJPEG's output byte for byte.
///
/// Asked for, the same pass also gives the luma at 1/4 scale (2×2 samples a block, `jpeg_idct_2x2`)
/// from a prefix of each luma block's coefficients — all of them: TurboJPEG's 1/4 decode, byte
/// for byte (`JPEGQuarterLumaTests`); the four lowest frequencies: what PDQ stores made now hash
/// (``ImageDecoder/QuarterScaleLuma/lowestFrequencies``).
///
/// Returns nil for any file outside ``JPEGBaselineLayout``'s layouts or whose data is not
/// exactly what a conforming encoder writes (a bad code, data left over or missing in a restart
/// interval, markers out of sequence): the caller then decodes with TurboJPEG, which decides
/// what such a file gives. It is built never to accept what TurboJPEG refuses, and checked so
/// on damaged files by its tests and on every JPEG the image fuzzer makes (in both of the modes
/// below too).
enum JPEGEighthScaleDecoder {
    struct Image {
        let width: Int
        let height: Int
        /// Gray or interleaved RGB, rows without padding.
        let pixels: [UInt8]
        /// With `quarterLumaThrough`: the luma at 1/4 scale, ⌈W/4⌉ × ⌈H/4⌉ for a file of W × H
        /// pixels, rows without padding.
        let quarterLuma: [UInt8]?
    }

    /// The image at 1/8 scale; with `quarterLumaThrough` (1…63), also its luma at 1/4 scale from
    /// each luma block's AC coefficients at zigzag positions up to that one (the rest passed over
    /// as at 1/8 scale, as if zero) through `jpeg_idct_2x2`. 63 gives TurboJPEG's 1/4-scale luma
    /// byte for byte; ``lowestFrequenciesLastPosition`` only the four coefficients of rows and
    /// columns 0 and 1 — the block's four quarters' means up to its finer detail, which the 2×2
    /// samples largely average away.
    ///
    /// With `chromaFromDC`, 4:2:0 chroma is taken from each block's DC coefficient alone (its AC
    /// coefficients passed over, each sample replicated 2×2) instead of `jpeg_idct_2x2`: not
    /// TurboJPEG's colours, but near them (the mean of the IDCT's four samples is the DC's), for a
    /// thumbnail and not for an encoder. Passed over, a chroma block's AC symbols are not checked
    /// as closely (a zero run past the block's end is taken, as TurboJPEG takes it), so a few more
    /// damaged files decode this way than with the IDCT.
    static func decode(_ file: UnsafeBufferPointer<UInt8>, quarterLumaThrough: Int? = nil, chromaFromDC: Bool = false) -> Image? {
        guard let layout = JPEGBaselineLayout(file), let data = JPEGEntropyData(file, from: layout.entropyStart) else { return nil }
        let scan = ScanDecoder(layout, quarterLumaThrough: quarterLumaThrough, chromaFromDC: chromaFromDC)
        let mcuCount = scan.mcusWide * scan.mcusHigh
        let interval = layout.restartInterval == 0 ? mcuCount : layout.restartInterval
        guard data.intervalCount == (mcuCount + interval - 1) / interval else { return nil }
        let decoded = data.bytes.withUnsafeBufferPointer { bytes -> Bool in
            for index in 0..<data.intervalCount {
                let start = data.intervalStarts[index], end = data.intervalStarts[index + 1]
                let first = index * interval
                guard scan.decodeInterval(bytes.baseAddress!, from: start, to: end, mcus: first..<min(first + interval, mcuCount)) else { return false }
            }
            return true
        }
        return decoded ? scan.image() : nil
    }

    /// The last zigzag position read for the 1/4-scale luma from the lowest frequencies: positions
    /// 1…4 hold rows and columns 0 and 1 (and row 2's first coefficient, which `jpeg_idct_2x2`
    /// does not read).
    static let lowestFrequenciesLastPosition = 4
}

/// The planes of one scan at 1/8 scale, the loop that fills them and the colour conversion
/// that turns them into the image. Planes and tables live in memory of its own (freed with it),
/// reached through plain pointers in the inner loops.
private final class ScanDecoder {
    let layout: JPEGBaselineLayout
    let isGray: Bool
    /// 4:2:0: chroma blocks give 2×2 samples each (libjpeg-turbo scales their IDCT up rather than
    /// upsample); other layouts give one sample per block.
    let chromaSide: Int
    let mcusWide: Int
    let mcusHigh: Int
    /// Luma blocks per MCU across and down (1 × 1 for a gray image, whose scan is not interleaved).
    let lumaAcross: Int
    let lumaDown: Int
    let lumaWide: Int
    let chromaWide: Int
    let luma: UnsafeMutablePointer<UInt8>
    /// The luma at 1/4 scale (2×2 samples a block, ``quarterWide`` a row), when asked for.
    let quarterLuma: UnsafeMutablePointer<UInt8>?
    let quarterWide: Int
    /// The last zigzag position whose coefficient the 1/4-scale luma reads.
    let quarterLastPosition: Int
    /// Whether that is 5 or less: the IDCT then reads only rows and columns 0 and 1 (positions 3
    /// and 5 are row 2 and column 2), and its four-coefficient form serves.
    let quarterFromFourCoefficients: Bool
    /// 4:2:0 chroma from the DC coefficient alone (``JPEGEighthScaleDecoder/decode(_:quarterLumaThrough:chromaFromDC:)``).
    let chromaFromDC: Bool
    let chroma: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>)
    /// DC and AC lookups of each component.
    let dcLookups: [JPEGHuffmanTable.Lookup]
    let acLookups: [JPEGHuffmanTable.Lookup]
    /// Each component's DC quantiser, and the chroma tables in full for the 2×2 IDCT.
    let dcQuantizers: [Int16]
    let chromaQuantization: (UnsafeMutablePointer<Int16>, UnsafeMutablePointer<Int16>)
    /// One 4:2:0 chroma block's coefficients, row-major.
    let coefficients: UnsafeMutablePointer<Int16>
    /// One luma block's coefficients (row-major) and its quantisation table, for the 1/4 scale.
    let lumaCoefficients: UnsafeMutablePointer<Int16>
    let lumaQuantization: UnsafeMutablePointer<Int16>
    /// ``JPEGHuffmanTable/naturalOrder``.
    let naturalOrder: UnsafeMutablePointer<Int>
    private var allocations: [UnsafeMutableRawPointer] = []

    init(_ layout: JPEGBaselineLayout, quarterLumaThrough: Int?, chromaFromDC: Bool) {
        self.chromaFromDC = chromaFromDC
        self.layout = layout
        isGray = layout.components.count == 1
        let outputWide = (layout.width + 7) / 8, outputHigh = (layout.height + 7) / 8
        if isGray {
            mcusWide = outputWide
            mcusHigh = outputHigh
            chromaSide = 1
            (lumaAcross, lumaDown) = (1, 1)
        } else {
            mcusWide = (layout.width + 8 * layout.maximumHorizontalSampling - 1) / (8 * layout.maximumHorizontalSampling)
            mcusHigh = (layout.height + 8 * layout.maximumVerticalSampling - 1) / (8 * layout.maximumVerticalSampling)
            chromaSide = layout.maximumHorizontalSampling == 2 && layout.maximumVerticalSampling == 2 ? 2 : 1
            (lumaAcross, lumaDown) = (layout.components[0].horizontalSampling, layout.components[0].verticalSampling)
        }
        lumaWide = mcusWide * lumaAcross
        chromaWide = mcusWide * chromaSide
        var allocations = [UnsafeMutableRawPointer]()
        func allocate<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 16)
            allocations.append(memory)
            return memory.bindMemory(to: T.self, capacity: count)
        }
        luma = allocate(UInt8.self, lumaWide * mcusHigh * lumaDown)
        quarterWide = 2 * lumaWide
        let quarterCount = quarterWide * 2 * mcusHigh * lumaDown
        quarterLuma = quarterLumaThrough == nil ? nil : allocate(UInt8.self, quarterCount)
        quarterLastPosition = min(max(quarterLumaThrough ?? 1, 1), 63)
        quarterFromFourCoefficients = quarterLastPosition <= 5
        let chromaCount = isGray ? 0 : chromaWide * mcusHigh * chromaSide
        chroma = (allocate(UInt8.self, chromaCount), allocate(UInt8.self, chromaCount))
        func lookup(_ table: JPEGHuffmanTable) -> JPEGHuffmanTable.Lookup {
            table.lookup(in: UnsafeMutableRawPointer(allocate(UInt8.self, JPEGHuffmanTable.Lookup.byteCount)))
        }
        dcLookups = layout.components.map { lookup(layout.dcTables[$0.dcTable]!) }
        acLookups = layout.components.map { lookup(layout.acTables[$0.acTable]!) }
        dcQuantizers = layout.components.map { layout.quantizationTables[$0.quantizationTable]![0] }
        func quantization(_ component: Int) -> UnsafeMutablePointer<Int16> {
            let table = allocate(Int16.self, 64)
            let values = component < layout.components.count ? layout.quantizationTables[layout.components[component].quantizationTable]! : [Int16](repeating: 0, count: 64)
            table.initialize(from: values, count: 64)
            return table
        }
        chromaQuantization = (quantization(1), quantization(2))
        lumaQuantization = quantization(0)
        coefficients = allocate(Int16.self, 64)
        lumaCoefficients = allocate(Int16.self, 64)
        naturalOrder = allocate(Int.self, 64)
        naturalOrder.initialize(from: JPEGHuffmanTable.naturalOrder, count: 64)
        self.allocations = allocations
    }

    deinit {
        for memory in allocations { memory.deallocate() }
    }

    /// Decodes the MCUs `mcus` from the bytes `start..<end` of the entropy data; false unless
    /// they use those bytes exactly (up to the padding bits of the last byte).
    func decodeInterval(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, mcus: Range<Int>) -> Bool {
        var reader = JPEGBitReader(bytes, at: start)
        let limit = end * 8
        var lumaPrediction: Int32 = 0, cbPrediction: Int32 = 0, crPrediction: Int32 = 0
        let lumaDC = dcLookups[0], lumaAC = acLookups[0], lumaQuantizer = dcQuantizers[0]
        for mcu in mcus {
            let mcuX = mcu % mcusWide, mcuY = mcu / mcusWide
            for row in 0..<lumaDown {
                let rowStart = luma + (mcuY * lumaDown + row) * lumaWide + mcuX * lumaAcross
                for column in 0..<lumaAcross {
                    guard let dc = Self.decodeDC(&reader, lumaDC) else { return false }
                    lumaPrediction &+= dc
                    rowStart[column] = JPEGReducedIDCT.dcSample(lumaPrediction, lumaQuantizer)
                    if let quarterLuma {
                        let at = quarterLuma + (mcuY * lumaDown + row) * 2 * quarterWide + (mcuX * lumaAcross + column) * 2
                        guard decodeQuarterLuma(&reader, lumaPrediction, at: at) else { return false }
                    } else {
                        guard Self.skipAC(&reader, lumaAC) else { return false }
                    }
                }
            }
            if !isGray {
                guard decodeChroma(&reader, 1, &cbPrediction, chroma.0, chromaQuantization.0, mcuX, mcuY),
                      decodeChroma(&reader, 2, &crPrediction, chroma.1, chromaQuantization.1, mcuX, mcuY) else { return false }
            }
            // Past the interval's data (damage): stop before the reader leaves the padding.
            guard reader.position <= limit, Int32(truncatingIfNeeded: Int16(truncatingIfNeeded: lumaPrediction)) == lumaPrediction else { return false }
        }
        // A conforming encoder pads the interval's last byte with 1-bits and nothing more.
        return limit - reader.position < 8
    }

    /// A luma block's 2×2 samples at 1/4 scale into `at` and the row a ``quarterWide`` below:
    /// its coefficients through ``quarterLastPosition`` with their values, the rest passed over.
    @inline(__always)
    private func decodeQuarterLuma(_ reader: inout JPEGBitReader, _ prediction: Int32, at: UnsafeMutablePointer<UInt8>) -> Bool {
        if quarterFromFourCoefficients {
            // Only the positions a block may write (1…5) are cleared.
            for position in 1...5 { lumaCoefficients[naturalOrder[position]] = 0 }
        } else {
            lumaCoefficients.initialize(repeating: 0, count: 64)
        }
        lumaCoefficients[0] = Int16(truncatingIfNeeded: prediction)
        guard let next = Self.decodeAC(&reader, acLookups[0], into: lumaCoefficients, naturalOrder, through: quarterLastPosition)?.next else { return false }
        if next < 64 {
            guard Self.skipAC(&reader, acLookups[0], from: next) else { return false }
        }
        if quarterFromFourCoefficients {
            return JPEGReducedIDCT.inverseDCT2x2(lowest: lumaCoefficients, lumaQuantization, top: at, bottom: at + quarterWide)
        }
        return JPEGReducedIDCT.inverseDCT2x2(lumaCoefficients, lumaQuantization, top: at, bottom: at + quarterWide)
    }

    @inline(__always)
    private func decodeChroma(_ reader: inout JPEGBitReader, _ component: Int, _ prediction: inout Int32,
                              _ plane: UnsafeMutablePointer<UInt8>, _ quantization: UnsafeMutablePointer<Int16>,
                              _ mcuX: Int, _ mcuY: Int) -> Bool {
        guard let dc = Self.decodeDC(&reader, dcLookups[component]) else { return false }
        prediction &+= dc
        guard Int32(truncatingIfNeeded: Int16(truncatingIfNeeded: prediction)) == prediction else { return false }
        if chromaSide == 1 {
            guard Self.skipAC(&reader, acLookups[component]) else { return false }
            plane[mcuY * chromaWide + mcuX] = JPEGReducedIDCT.dcSample(prediction, dcQuantizers[component])
            return true
        }
        let at = plane + mcuY * 2 * chromaWide + mcuX * 2
        if chromaFromDC {
            guard Self.skipAC(&reader, acLookups[component]) else { return false }
            return fillFromDC(at, Int(Int16(truncatingIfNeeded: prediction)) * Int(quantization[0]))
        }
        coefficients.initialize(repeating: 0, count: 64)
        coefficients[0] = Int16(truncatingIfNeeded: prediction)
        guard let touched = Self.decodeAC(&reader, acLookups[component], into: coefficients, naturalOrder, through: 63)?.touched else { return false }
        let read = touched & Self.readByIDCT2x2
        if read & ~Self.rowsAndColumns0And1 == 0 && read != 0 {
            return JPEGReducedIDCT.inverseDCT2x2(lowest: coefficients, quantization, top: at, bottom: at + chromaWide)
        }
        if read != 0 {
            return JPEGReducedIDCT.inverseDCT2x2(coefficients, quantization, top: at, bottom: at + chromaWide)
        }
        return fillFromDC(at, Int(coefficients[0]) * Int(quantization[0]))
    }

    /// What `jpeg_idct_2x2` gives a 4:2:0 chroma block when every coefficient it reads but the
    /// DC (`dequantized`) is zero — its zero-column and zero-row shortcuts in turn, four equal
    /// samples — into the 2×2 chroma samples at `at`; false out of the SIMD code's range.
    @inline(__always)
    private func fillFromDC(_ at: UnsafeMutablePointer<UInt8>, _ dequantized: Int) -> Bool {
        let value = ((dequantized << 2) + 16) >> 5
        guard JPEGReducedIDCT.fitsSIMD(dequantized), JPEGReducedIDCT.fitsSIMD(dequantized << 2), JPEGReducedIDCT.rangeAgrees(value) else { return false }
        let sample = JPEGReducedIDCT.rangeLimited(Int32(value))
        at[0] = sample
        at[1] = sample
        at[chromaWide] = sample
        at[chromaWide + 1] = sample
        return true
    }

    // MARK: Entropy decoding

    /// The DC difference of the next block.
    @inline(__always)
    private static func decodeDC(_ reader: inout JPEGBitReader, _ table: JPEGHuffmanTable.Lookup) -> Int32? {
        reader.refill()
        guard let (size, length) = table.decode(reader.window) else { return nil }
        reader.consume(length)
        return reader.signedValue(size)
    }

    /// Passes over a block's AC coefficients: several symbols per lookup where they fit in the
    /// lookahead, one at a time (as libjpeg-turbo's loop runs) where they do not. The reader is
    /// worked on in a local copy so that its window stays in a register, and refilled every
    /// second lookup: a skip lookup consumes at most 27 bits, so the 56 a refill leaves cover
    /// two and the refill's load leaves the chain of dependent lookups half the time; a long
    /// symbol decoded alone (up to 31 bits) refills before the second lookup consumes.
    @inline(__always)
    private static func skipAC(_ reader: inout JPEGBitReader, _ table: JPEGHuffmanTable.Lookup, from start: Int = 1) -> Bool {
        var local = reader
        defer { reader = local }
        let skips = table.skips
        var k = start
        /// One lookup; nil to go on, else the block's result.
        @inline(__always) func step(refilled: Bool) -> Bool? {
            let entry = Int(truncatingIfNeeded: skips[Int(truncatingIfNeeded: local.window &>> UInt64(64 - JPEGHuffmanTable.lookaheadBits))])
            let bits = entry & 31, reached = k &+ ((entry &>> 5) & 127)
            let endsBlock = entry & 0x1000 != 0
            // The whole run lies in this block unless it reaches position 64 early: then what
            // follows (an end-of-block in the entry) belongs to the next block.
            if bits != 0 && (reached < 64 || (reached == 64 && !endsBlock)) {
                // After a first step of one long symbol (up to 31 bits) the window may hold fewer
                // bits than this run covers (up to 27).
                if !refilled && local.count < bits { local.refill() }
                local.consume(bits)
                k = reached
                return endsBlock || k >= 64 ? true : nil
            }
            // One symbol with its value bits: up to 31 bits.
            if !refilled { local.refill() }
            guard let (symbol, length) = table.decode(local.window) else { return false }
            let run = symbol &>> 4, size = symbol & 15
            local.consume(length &+ size)
            if size != 0 {
                k &+= run &+ 1
            } else if run == 15 {
                k &+= 16
            } else {
                return true
            }
            return k >= 64 ? true : nil
        }
        while true {
            local.refill()
            if let result = step(refilled: true) { return result }
            if let result = step(refilled: false) { return result }
        }
    }

    /// Rows and columns 0, 1, 3, 5 and 7: the coefficients `jpeg_idct_2x2` reads, bit n for
    /// row-major position n (0xAB, columns 0, 1, 3, 5, 7, in the bytes of rows 0, 1, 3, 5, 7).
    static var readByIDCT2x2: UInt64 { 0xAB00_AB00_AB00_ABAB }

    /// Row-major positions 0, 1, 8 and 9, bit n for position n.
    static var rowsAndColumns0And1: UInt64 { 0x303 }

    /// A block's AC coefficients at zigzag positions up to `last` into `block` (row-major),
    /// stopping at the first symbol that lands past `last`: the zigzag position to go on from (64
    /// or more when the block has ended) and the positions written (bit n for row-major position
    /// n), or nil for data no encoder writes.
    @inline(__always)
    private static func decodeAC(_ reader: inout JPEGBitReader, _ table: JPEGHuffmanTable.Lookup,
                                 into block: UnsafeMutablePointer<Int16>, _ naturalOrder: UnsafePointer<Int>,
                                 through last: Int) -> (next: Int, touched: UInt64)? {
        var local = reader
        defer { reader = local }
        var touched: UInt64 = 0
        var k = 1
        while k <= last {
            local.refill()
            // The symbol's run and value (nil for size 0): from one lookup where code and value
            // bits fit in the value table, else the symbol first and its value bits after.
            let run: Int, value: Int16?
            let entry = table.coefficients[Int(truncatingIfNeeded: local.window &>> UInt64(64 - JPEGHuffmanTable.coefficientBits))]
            if entry & 31 != 0 {
                local.consume(Int(entry & 31))
                run = Int((entry &>> 5) & 15)
                value = entry & 0x200 == 0 ? Int16(truncatingIfNeeded: Int32(bitPattern: entry) &>> 16) : nil
            } else {
                guard let (symbol, length) = table.decode(local.window) else { return nil }
                local.consume(length)
                run = symbol &>> 4
                let size = symbol & 15
                value = size != 0 ? Int16(truncatingIfNeeded: local.signedValue(size)) : nil
            }
            if let value {
                k &+= run
                // A run past the block's end: libjpeg-turbo would write coefficient 63; no encoder does.
                guard k < 64 else { return nil }
                if k <= last {
                    let position = naturalOrder[k]
                    block[position] = value
                    touched |= 1 &<< UInt64(truncatingIfNeeded: position)
                }
                k &+= 1
            } else if run == 15 {
                k &+= 16
            } else {
                return (64, touched)
            }
        }
        return (k, touched)
    }

    /// The output image: the luma plane cropped, or YCbCr → RGB with chroma replicated where
    /// it has fewer samples (jdcolor.c's tables, SCALEBITS 16).
    func image() -> JPEGEighthScaleDecoder.Image {
        let width = (layout.width + 7) / 8, height = (layout.height + 7) / 8
        let quarter = quarterLuma.map { PixelBuffer.packedRows(of: $0, stride: quarterWide, width: (layout.width + 3) / 4, height: (layout.height + 3) / 4) }
        if isGray {
            return .init(width: width, height: height, pixels: PixelBuffer.packedRows(of: luma, stride: lumaWide, width: width, height: height), quarterLuma: quarter)
        }
        // Luma samples per chroma sample across and down are 1 or 2: shifts, not divisions.
        let acrossShift = layout.maximumHorizontalSampling / chromaSide - 1, downShift = layout.maximumVerticalSampling / chromaSide - 1
        let tables = YCbCrTables.shared
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, count in
            let out = buffer.baseAddress!
            for y in 0..<height {
                let chromaRow = (y &>> downShift) * chromaWide
                let lumaRow = luma + y * lumaWide
                for x in 0..<width {
                    let at = chromaRow + x &>> acrossShift
                    tables.store(y: Int(lumaRow[x]), cb: Int(chroma.0[at]), cr: Int(chroma.1[at]), into: out + (y * width + x) * 3)
                }
            }
            count = width * height * 3
        }
        return .init(width: width, height: height, pixels: pixels, quarterLuma: quarter)
    }

}
