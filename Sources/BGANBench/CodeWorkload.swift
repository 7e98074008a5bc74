import BGANStore
import Foundation

/// Seeded code sets for benchmarks: uniform random, or clustered around 1,000 centres with each
/// bit flipped with probability 0.1 (queries drawn the same way, never stored).
struct CodeWorkload {
    /// `uniform`: random codes; `clustered`: codes around 1,000 centres, 10 % of bits flipped;
    /// `copies`: photo matching (PDQ-like) — random database codes, and queries of which half
    /// are copies of database codes with 4 % of bits flipped (about 10 of 256: a re-saved
    /// photo) and half are codes of photos not stored; `encoded`: codes a bundled encoder gives
    /// to real images (``EncodedCodeCache``: Fashion-MNIST's training images and augmented
    /// copies of them stored, its test images as queries), read from a cache, never generated;
    /// `photos`: PDQ hashes of crops of real photographs (``PhotoCropHashes``), computed.
    enum Distribution: String, CaseIterable {
        case uniform, clustered, copies, encoded, photos
    }

    let distribution: Distribution
    let bits: Int
    /// Row-major packed codes.
    let database: NumPyByteMatrix
    let queries: NumPyByteMatrix

    init(distribution: Distribution, bits: Int, database: NumPyByteMatrix, queries: NumPyByteMatrix) {
        self.distribution = distribution
        self.bits = bits
        self.database = database
        self.queries = queries
    }

    init(distribution: Distribution, bits: Int, count: Int, queryCount: Int, seed: UInt64) {
        self.distribution = distribution
        self.bits = bits
        var rng = SeededGenerator(seed: seed ^ UInt64(bits) << 32 ^ UInt64(count))
        let bytesPerCode = bits / 8
        let centers = distribution == .clustered ? (0..<1000).map { _ in Self.randomBytes(bytesPerCode, &rng) } : []
        func generate(_ n: Int) -> Data {
            var data = Data(count: n * bytesPerCode)
            data.withUnsafeMutableBytes { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                for row in 0..<n {
                    let base = row * bytesPerCode
                    switch distribution {
                    case .uniform, .copies:
                        var i = 0
                        while i < bytesPerCode {
                            var word = rng.next()
                            for _ in 0..<min(8, bytesPerCode - i) {
                                bytes[base + i] = UInt8(truncatingIfNeeded: word)
                                word >>= 8
                                i += 1
                            }
                        }
                    case .encoded, .photos:
                        preconditionFailure("\(distribution) codes are read or computed from images, not generated")
                    case .clustered:
                        let center = centers[Int(rng.next() % UInt64(centers.count))]
                        for i in 0..<bytesPerCode {
                            bytes[base + i] = center[i] ^ Self.flipMask(&rng)
                        }
                    }
                }
            }
            return data
        }
        database = NumPyByteMatrix(rows: count, columns: bytesPerCode, bytes: generate(count))
        guard distribution == .copies else {
            queries = NumPyByteMatrix(rows: queryCount, columns: bytesPerCode, bytes: generate(queryCount))
            return
        }
        var copies = generate(queryCount)
        let stored = database
        copies.withUnsafeMutableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            for row in stride(from: 0, to: queryCount, by: 2) {
                let original = Array(stored.row(Int(rng.next() % UInt64(count))))
                for i in 0..<bytesPerCode { bytes[row * bytesPerCode + i] = original[i] ^ Self.flipMask(&rng, threshold: 10) }
            }
        }
        queries = NumPyByteMatrix(rows: queryCount, columns: bytesPerCode, bytes: copies)
    }

    /// Eight bits, each set with probability `threshold` / 256 (26: p ≈ 0.1 flips).
    static func flipMask(_ rng: inout SeededGenerator, threshold: UInt64 = 26) -> UInt8 {
        var mask: UInt8 = 0
        let draw = rng.next()
        for bit in 0..<8 where (draw >> UInt64(bit * 8)) & 0xFF < threshold { mask |= 1 << UInt8(bit) }
        return mask
    }

    static func randomBytes(_ count: Int, _ rng: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// How many distinct codes the database holds and how many items share the most common
    /// one (codes of at most 64 bits; nil for longer ones): learned codes repeat, random ones
    /// do not.
    func repetition() -> (distinct: Int, largestGroup: Int)? {
        let width = database.columns
        guard width <= 8 else { return nil }
        var words = database.bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [UInt64] in
            let bytes = raw.bindMemory(to: UInt8.self)
            return (0..<database.rows).map { row in
                (0..<width).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[row * width + $1]) }
            }
        }
        words.sort()
        var distinct = 0, largest = 0, run = 0
        for (index, word) in words.enumerated() {
            if index > 0, word == words[index - 1] {
                run += 1
            } else {
                distinct += 1
                run = 1
            }
            largest = max(largest, run)
        }
        return (distinct, largest)
    }

    func queryCodes() throws -> [BinaryCode] {
        try (0..<queries.rows).map { try BinaryCode(bytes: queries.row($0)) }
    }
}
