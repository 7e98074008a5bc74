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
