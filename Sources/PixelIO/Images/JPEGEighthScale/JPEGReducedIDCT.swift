/// libjpeg-turbo 2.1's arithmetic for the reduced-size inverse DCTs the 1/8-scale decoder
/// (``JPEGEighthScaleDecoder``) repeats: `jpeg_idct_1x1` (a block's DC sample), `jpeg_idct_2x2`
/// (4:2:0 chroma at 1/8 scale, luma at 1/4) and the range limiting after them.
enum JPEGReducedIDCT {
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

    /// `jpeg_idct_2x2` of a block whose only nonzero coefficients lie in rows and columns 0 and 1
    /// (row-major positions 0, 1, 8 and 9) — ``inverseDCT2x2(_:_:top:bottom:)``'s samples with
    /// the zero terms left out; false where a value leaves the SIMD code's range. Its zero-column
    /// and zero-row shortcuts give what the full formulas give (the descaled terms are exact
    /// multiples), so there are no branches: each pass is one sum and one difference per pair.
    @inline(__always)
    static func inverseDCT2x2(lowest block: UnsafeMutablePointer<Int16>, _ quantization: UnsafeMutablePointer<Int16>,
                              top: UnsafeMutablePointer<UInt8>, bottom: UnsafeMutablePointer<UInt8>) -> Bool {
        let d00 = Int(block[0]) &* Int(quantization[0]), d01 = Int(block[1]) &* Int(quantization[1])
        let d10 = Int(block[8]) &* Int(quantization[8]), d11 = Int(block[9]) &* Int(quantization[9])
        let pass1 = idctConstBits - idctPass1Bits + 2, pass2 = idctConstBits + idctPass1Bits + 3 + 2
        @inline(__always) func pair(_ even: Int, _ odd: Int, _ shift: Int) -> (Int, Int) {
            let scaledEven = (even &<< (idctConstBits + 2)) &+ (1 &<< (shift &- 1)), scaledOdd = odd &* 29692
            return ((scaledEven &+ scaledOdd) &>> shift, (scaledEven &- scaledOdd) &>> shift)
        }
        let (w00, w10) = pair(d00, d10, pass1), (w01, w11) = pair(d01, d11, pass1)
        let (topLeft, topRight) = pair(w00, w01, pass2), (bottomLeft, bottomRight) = pair(w10, w11, pass2)
        // Each value offset into 0..<2^16 (16-bit) or 0..<1024 (the range table): their OR stays
        // below the bound only if every one does.
        @inline(__always) func offset(_ value: Int, _ by: Int) -> UInt { UInt(bitPattern: value &+ by) }
        let sixteenBits = offset(d00, 32768) | offset(d01, 32768) | offset(d10, 32768) | offset(d11, 32768)
            | offset(w00, 32768) | offset(w01, 32768) | offset(w10, 32768) | offset(w11, 32768)
        let samples = offset(topLeft, 512) | offset(topRight, 512) | offset(bottomLeft, 512) | offset(bottomRight, 512)
        guard sixteenBits < 65536, samples < 1024 else { return false }
        // In −512…511 the range table is x + 128 clamped to 0…255.
        @inline(__always) func sample(_ value: Int) -> UInt8 { UInt8(truncatingIfNeeded: min(max(value &+ 128, 0), 255)) }
        top[0] = sample(topLeft)
        top[1] = sample(topRight)
        bottom[0] = sample(bottomLeft)
        bottom[1] = sample(bottomRight)
        return true
    }

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
}
