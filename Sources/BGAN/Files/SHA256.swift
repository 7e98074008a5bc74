import CSHA256

/// SHA-256 (FIPS 180-4), for model digests: a model's identity in a store. The compression runs
/// in C (`Sources/CSHA256`), which stays fast in debug builds where every store open hashes a
/// model of several megabytes.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { data in
            digest.withUnsafeMutableBufferPointer { bgan_sha256(data.baseAddress, data.count, $0.baseAddress) }
        }
        return digest
    }

    /// The digest as lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String { hexDigits(hash(bytes)) }

    /// Bytes (a digest) as lower-case hex.
    public static func hexDigits(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}

extension SHA256 {
    /// A digest computed over bytes given in pieces (a file written or read a part at a time).
    public struct Hasher {
        private var context = bgan_sha256_context()

        public init() { bgan_sha256_begin(&context) }

        /// Adds `bytes` after those given before.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            bgan_sha256_update(&context, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        }

        /// Adds `bytes` after those given before.
        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The 32-byte digest of every byte given; the hasher is spent afterwards.
        public mutating func finish() -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: 32)
            digest.withUnsafeMutableBufferPointer { bgan_sha256_end(&context, $0.baseAddress) }
            return digest
        }
    }
}
