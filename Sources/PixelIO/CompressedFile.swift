import CZlib

/// Reads a whole file, inflating it if it is gzip-compressed (zlib's `gz*` API reads plain files
/// as they are). Errors come back as codes, never through `longjmp`.
enum CompressedFile {
    /// The file's (decompressed) bytes, refusing more than `limit` bytes.
    static func read(_ path: String, limit: Int = 1 << 32) throws -> [UInt8] {
        guard let file = gzopen(path, "rb") else {
            throw DatasetError(.unreadable, "cannot open \(path); check that it exists and is readable")
        }
        defer { gzclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if count < 0 {
                var code: Int32 = 0
                let message = String(cString: gzerror(file, &code))
                throw DatasetError(.malformed, "\(path) cannot be decompressed (\(message)); the file is damaged or truncated")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(count)])
            guard bytes.count <= limit else {
                throw DatasetError(.unsupported, "\(path) decompresses to more than \(limit) bytes; refusing it")
            }
        }
        return bytes
    }
}
