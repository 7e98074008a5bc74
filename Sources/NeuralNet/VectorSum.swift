/// The sum of `count` floats, in sixteen lanes added pairwise at the end: the compiler cannot
/// vectorise a plain running sum (each addition waits for the last), and bias gradients sum
/// rows of hundreds of thousands of values.
func vectorSum(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD16<Float>(repeating: 0)
    let whole = count / 16 * 16
    let raw = UnsafeRawPointer(values)
    for offset in stride(from: 0, to: whole, by: 16) {
        lanes += raw.loadUnaligned(fromByteOffset: offset * MemoryLayout<Float>.stride, as: SIMD16<Float>.self)
    }
    var sum = lanes.sum()
    for i in whole..<count { sum += values[i] }
    return sum
}
