/// libjpeg-turbo's YCbCr → RGB arithmetic (jdcolor.c's `build_ycc_rgb_table`, SCALEBITS 16),
/// for the pixels BGANStore's own JPEG paths convert: the same values TurboJPEG's colour
/// conversion gives for the same samples.
struct YCbCrTables {
    static let shared = YCbCrTables()
    let crToRed: [Int], cbToBlue: [Int], crToGreen: [Int], cbToGreen: [Int]

    private init() {
        func fixed(_ value: Double) -> Int { Int(value * 65536 + 0.5) }
        let half = 1 << 15
        let range = (0...255).map { $0 - 128 }
        crToRed = range.map { (fixed(1.40200) * $0 + half) >> 16 }
        cbToBlue = range.map { (fixed(1.77200) * $0 + half) >> 16 }
        crToGreen = range.map { -fixed(0.71414) * $0 }
        cbToGreen = range.map { -fixed(0.34414) * $0 + half }
    }
}
