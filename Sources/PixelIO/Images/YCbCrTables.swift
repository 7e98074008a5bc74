/// libjpeg-turbo's YCbCr → RGB arithmetic (jdcolor.c's `build_ycc_rgb_table`, SCALEBITS 16),
/// for the pixels BGANStore's own JPEG paths convert: the same values TurboJPEG's colour
/// conversion gives for the same samples.
struct YCbCrTables: @unchecked Sendable {
    static let shared = YCbCrTables()

    /// Cr → red, Cb → blue, Cr → green and Cb → green (the last with the rounding half), 256
    /// entries each, in one allocation kept for the life of the process (the tables are only
    /// read), so that the conversion loops index plain memory.
    private let table: UnsafeMutablePointer<Int>

    private init() {
        func fixed(_ value: Double) -> Int { Int(value * 65536 + 0.5) }
        let half = 1 << 15
        let range = (0...255).map { $0 - 128 }
        let tables = [range.map { (fixed(1.40200) * $0 + half) >> 16 }, range.map { (fixed(1.77200) * $0 + half) >> 16 },
                      range.map { -fixed(0.71414) * $0 }, range.map { -fixed(0.34414) * $0 + half }]
        table = .allocate(capacity: 1024)
        table.initialize(from: Array(tables.joined()), count: 1024)
    }

    /// The RGB pixel of samples `y`, `cb` and `cr` into `pixel[0…2]`.
    @inline(__always)
    func store(y: Int, cb: Int, cr: Int, into pixel: UnsafeMutablePointer<UInt8>) {
        @inline(__always) func clamp(_ value: Int) -> UInt8 { UInt8(truncatingIfNeeded: min(max(value, 0), 255)) }
        pixel[0] = clamp(y &+ table[cr])
        pixel[1] = clamp(y &+ ((table[768 &+ cb] &+ table[512 &+ cr]) &>> 16))
        pixel[2] = clamp(y &+ table[256 &+ cb])
    }

    /// RGB from equal-sized Y, Cb and Cr planes of `count` samples each.
    func rgb(y: [UInt8], cb: [UInt8], cr: [UInt8], count: Int) -> [UInt8] {
        precondition(y.count >= count && cb.count >= count && cr.count >= count, "planes of \(count) samples")
        return [UInt8](unsafeUninitializedCapacity: count * 3) { out, written in
            y.withUnsafeBufferPointer { y in
                cb.withUnsafeBufferPointer { cb in
                    cr.withUnsafeBufferPointer { cr in
                        for i in 0..<count { store(y: Int(y[i]), cb: Int(cb[i]), cr: Int(cr[i]), into: out.baseAddress! + 3 * i) }
                    }
                }
            }
            written = count * 3
        }
    }
}
