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
/// Returns nil for any file outside ``JPEGBaselineLayout``'s layouts or whose data is not
/// exactly what a conforming encoder writes (a bad code, data left over or missing in a restart
/// interval, markers out of sequence): the caller then decodes with TurboJPEG, which decides
/// what such a file gives. It is built never to accept what TurboJPEG refuses, and checked so
/// on damaged files by its tests and on every JPEG the image fuzzer makes.
enum JPEGEighthScaleDecoder {
    struct Image {
        let width: Int
        let height: Int
        /// Gray or interleaved RGB, rows without padding.
        let pixels: [UInt8]
    }

    static func decode(_ file: UnsafeBufferPointer<UInt8>) -> Image? {
        guard let layout = JPEGBaselineLayout(file), let data = JPEGEntropyData(file, from: layout.entropyStart) else { return nil }
        let scan = ScanDecoder(layout)
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
    let chroma: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>)
    /// DC and AC lookups of each component.
    let dcLookups: [JPEGHuffmanTable.Lookup]
    let acLookups: [JPEGHuffmanTable.Lookup]
    /// Each component's DC quantiser, and the chroma tables in full for the 2×2 IDCT.
    let dcQuantizers: [Int16]
    let chromaQuantization: (UnsafeMutablePointer<Int16>, UnsafeMutablePointer<Int16>)
    /// One 4:2:0 chroma block's coefficients, row-major.
    let coefficients: UnsafeMutablePointer<Int16>
    /// ``JPEGHuffmanTable/naturalOrder``.
    let naturalOrder: UnsafeMutablePointer<Int>
    private var allocations: [UnsafeMutableRawPointer] = []

    init(_ layout: JPEGBaselineLayout) {
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
        coefficients = allocate(Int16.self, 64)
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
                    guard let dc = Self.decodeDC(&reader, lumaDC), Self.skipAC(&reader, lumaAC) else { return false }
                    lumaPrediction &+= dc
                    rowStart[column] = Self.dcSample(lumaPrediction, lumaQuantizer)
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

    @inline(__always)
    private func decodeChroma(_ reader: inout JPEGBitReader, _ component: Int, _ prediction: inout Int32,
                              _ plane: UnsafeMutablePointer<UInt8>, _ quantization: UnsafeMutablePointer<Int16>,
                              _ mcuX: Int, _ mcuY: Int) -> Bool {
        guard let dc = Self.decodeDC(&reader, dcLookups[component]) else { return false }
        prediction &+= dc
        guard Int32(truncatingIfNeeded: Int16(truncatingIfNeeded: prediction)) == prediction else { return false }
        if chromaSide == 1 {
            guard Self.skipAC(&reader, acLookups[component]) else { return false }
            plane[mcuY * chromaWide + mcuX] = Self.dcSample(prediction, dcQuantizers[component])
            return true
        }
        coefficients.initialize(repeating: 0, count: 64)
        coefficients[0] = Int16(truncatingIfNeeded: prediction)
        guard let readByIDCT = Self.decodeAC(&reader, acLookups[component], into: coefficients, naturalOrder) else { return false }
        let at = plane + mcuY * 2 * chromaWide + mcuX * 2
        if readByIDCT {
            return Self.inverseDCT2x2(coefficients, quantization, top: at, bottom: at + chromaWide)
        }
        // What jpeg_idct_2x2 gives when every coefficient it reads but the DC is zero: its
        // zero-column and zero-row shortcuts in turn, four equal samples.
        let dequantized = Int(coefficients[0]) * Int(quantization[0])
        let value = ((dequantized << 2) + 16) >> 5
        guard Self.fitsSIMD(dequantized), Self.fitsSIMD(dequantized << 2), Self.rangeAgrees(value) else { return false }
        let sample = Self.rangeLimited(Int32(value))
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
    private static func skipAC(_ reader: inout JPEGBitReader, _ table: JPEGHuffmanTable.Lookup) -> Bool {
        var local = reader
        defer { reader = local }
        let skips = table.skips
        var k = 1
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

    /// A block's AC coefficients into `block` (row-major), for the 4:2:0 chroma IDCT; whether
    /// any of them that the IDCT reads is nonzero, or nil for data no encoder writes.
    @inline(__always)
    private static func decodeAC(_ reader: inout JPEGBitReader, _ table: JPEGHuffmanTable.Lookup,
                                 into block: UnsafeMutablePointer<Int16>, _ naturalOrder: UnsafePointer<Int>) -> Bool? {
        var local = reader
        defer { reader = local }
        var touched: UInt64 = 0
        var k = 1
        while k < 64 {
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
                let position = naturalOrder[k]
                block[position] = value
                touched |= 1 &<< UInt64(truncatingIfNeeded: position)
                k &+= 1
            } else if run == 15 {
                k &+= 16
            } else {
                break
            }
        }
        return touched & readByIDCT2x2 != 0
    }

    // MARK: libjpeg-turbo's arithmetic

    /// `jpeg_idct_1x1`: an eighth of the dequantised DC coefficient, through the post-IDCT range
    /// table (which wraps, as libjpeg-turbo's does, for values no real image gives).
    @inline(__always)
    static func dcSample(_ dc: Int32, _ quantization: Int16) -> UInt8 {
        let value = Int32(Int16(truncatingIfNeeded: dc)) * Int32(quantization)
        return rangeLimited((value + 4) >> 3)
    }

    /// libjpeg-turbo's `IDCT_range_limit` table: x + 128 clamped to 0…255 for x in −512…511
    /// (indexed by x & 1023).
    @inline(__always)
    static func rangeLimited(_ value: Int32) -> UInt8 {
        let index = value & 1023
        if index < 128 { return UInt8(index + 128) }
        if index < 512 { return 255 }
        if index < 896 { return 0 }
        return UInt8(index - 896)
    }

    /// `jpeg_idct_2x2` (jidctred.c, 8-bit samples: CONST_BITS 13, PASS1_BITS 2): the block's
    /// four samples into `top[0…1]` and `bottom[0…1]`. TurboJPEG runs this IDCT in SIMD code
    /// (16-bit products and workspace, 32-bit sums, saturation at the end) where the C code
    /// computes in full width and wraps through the range table: the two agree while every value
    /// stays in range, which real images' do. False — decline the file — where one leaves it.
    static func inverseDCT2x2(_ block: UnsafeMutablePointer<Int16>, _ quantization: UnsafeMutablePointer<Int16>,
                              top: UnsafeMutablePointer<UInt8>, bottom: UnsafeMutablePointer<UInt8>) -> Bool {
        guard let c0 = idctColumn(block, quantization, 0), let c1 = idctColumn(block, quantization, 1),
              let c3 = idctColumn(block, quantization, 3), let c5 = idctColumn(block, quantization, 5),
              let c7 = idctColumn(block, quantization, 7) else { return false }
        return idctRow(c0.0, c1.0, c3.0, c5.0, c7.0, into: top) && idctRow(c0.1, c1.1, c3.1, c5.1, c7.1, into: bottom)
    }

    private static let idctConstBits = 13, idctPass1Bits = 2

    @inline(__always)
    private static func descale(_ value: Int, _ shift: Int) -> Int { (value &+ (1 &<< (shift &- 1))) &>> shift }

    /// A value libjpeg-turbo's SIMD IDCT holds in 16 bits as the C code does in full width.
    @inline(__always)
    static func fitsSIMD(_ value: Int) -> Bool { value >= Int(Int16.min) && value <= Int(Int16.max) }

    /// A sum the SIMD IDCT accumulates in 32 bits.
    @inline(__always)
    private static func fitsSIMDSum(_ value: Int) -> Bool { value >= Int(Int32.min) && value <= Int(Int32.max) }

    /// An output the C range table (x & 1023) and the SIMD saturation map alike: −512…511.
    @inline(__always)
    static func rangeAgrees(_ value: Int) -> Bool { value >= -512 && value <= 511 }

    /// The odd part from the terms 7, 5, 3 and 1 (jidctred.c's FIX_0_720959822, FIX_0_850430095,
    /// FIX_1_272758580 and FIX_3_624509785 at CONST_BITS 13).
    @inline(__always)
    private static func odd(_ c7: Int, _ c5: Int, _ c3: Int, _ c1: Int) -> Int {
        c7 &* -5906 &+ c5 &* 6967 &+ c3 &* -10426 &+ c1 &* 29692
    }

    /// Pass 1 for one column: rows 0 and 1 of the workspace; nil out of the SIMD code's range.
    @inline(__always)
    private static func idctColumn(_ block: UnsafeMutablePointer<Int16>, _ quantization: UnsafeMutablePointer<Int16>, _ column: Int) -> (Int, Int)? {
        @inline(__always) func dequantized(_ index: Int) -> Int { Int(block[index]) &* Int(quantization[index]) }
        let d0 = dequantized(column), d1 = dequantized(8 + column), d3 = dequantized(24 + column)
        let d5 = dequantized(40 + column), d7 = dequantized(56 + column)
        guard fitsSIMD(d0), fitsSIMD(d1), fitsSIMD(d3), fitsSIMD(d5), fitsSIMD(d7) else { return nil }
        if block[8 + column] == 0 && block[24 + column] == 0 && block[40 + column] == 0 && block[56 + column] == 0 {
            let dc = d0 &<< idctPass1Bits
            return fitsSIMD(dc) ? (dc, dc) : nil
        }
        let even = d0 &<< (idctConstBits + 2)
        let oddPart = odd(d7, d5, d3, d1)
        guard fitsSIMDSum(even &+ oddPart), fitsSIMDSum(even &- oddPart) else { return nil }
        let shift = idctConstBits - idctPass1Bits + 2
        let top = descale(even &+ oddPart, shift), bottom = descale(even &- oddPart, shift)
        return fitsSIMD(top) && fitsSIMD(bottom) ? (top, bottom) : nil
    }

    /// Pass 2 for one row of the workspace: two samples; false out of the SIMD code's range.
    @inline(__always)
    private static func idctRow(_ w0: Int, _ w1: Int, _ w3: Int, _ w5: Int, _ w7: Int, into out: UnsafeMutablePointer<UInt8>) -> Bool {
        if w1 == 0 && w3 == 0 && w5 == 0 && w7 == 0 {
            let value = descale(w0, idctPass1Bits + 3)
            guard rangeAgrees(value) else { return false }
            let dc = rangeLimited(Int32(value))
            out[0] = dc
            out[1] = dc
            return true
        }
        let even = w0 &<< (idctConstBits + 2)
        let oddPart = odd(w7, w5, w3, w1)
        guard fitsSIMDSum(even &+ oddPart), fitsSIMDSum(even &- oddPart) else { return false }
        let shift = idctConstBits + idctPass1Bits + 3 + 2
        let left = descale(even &+ oddPart, shift), right = descale(even &- oddPart, shift)
        guard rangeAgrees(left), rangeAgrees(right) else { return false }
        out[0] = rangeLimited(Int32(left))
        out[1] = rangeLimited(Int32(right))
        return true
    }

    /// The output image: the luma plane cropped, or YCbCr → RGB with chroma replicated where
    /// it has fewer samples (jdcolor.c's tables, SCALEBITS 16).
    func image() -> JPEGEighthScaleDecoder.Image {
        let width = (layout.width + 7) / 8, height = (layout.height + 7) / 8
        if isGray {
            let pixels = [UInt8](unsafeUninitializedCapacity: width * height) { buffer, count in
                for y in 0..<height { (buffer.baseAddress! + y * width).initialize(from: luma + y * lumaWide, count: width) }
                count = width * height
            }
            return .init(width: width, height: height, pixels: pixels)
        }
        // Luma samples per chroma sample across and down are 1 or 2: shifts, not divisions.
        let acrossShift = layout.maximumHorizontalSampling / chromaSide - 1, downShift = layout.maximumVerticalSampling / chromaSide - 1
        let tables = YCbCrTables.shared
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, count in
            let out = buffer.baseAddress!
            tables.crToRed.withUnsafeBufferPointer { crToRed in
            tables.cbToBlue.withUnsafeBufferPointer { cbToBlue in
            tables.crToGreen.withUnsafeBufferPointer { crToGreen in
            tables.cbToGreen.withUnsafeBufferPointer { cbToGreen in
                for y in 0..<height {
                    let chromaRow = (y &>> downShift) * chromaWide
                    let lumaRow = luma + y * lumaWide
                    for x in 0..<width {
                        let at = chromaRow + x &>> acrossShift
                        let yValue = Int(lumaRow[x]), cb = Int(chroma.0[at]), cr = Int(chroma.1[at])
                        let pixel = out + (y * width + x) * 3
                        pixel[0] = Self.clamp(yValue + crToRed[cr])
                        pixel[1] = Self.clamp(yValue + ((cbToGreen[cb] + crToGreen[cr]) >> 16))
                        pixel[2] = Self.clamp(yValue + cbToBlue[cb])
                    }
                }
            }
            }
            }
            }
            count = width * height * 3
        }
        return .init(width: width, height: height, pixels: pixels)
    }

    @inline(__always)
    private static func clamp(_ value: Int) -> UInt8 { UInt8(min(max(value, 0), 255)) }
}
