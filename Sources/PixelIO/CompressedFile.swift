import CZlib
import Basics

/// Reads a whole file, inflating it if it is gzip-compressed (zlib's `gz*` API reads plain files
/// as they are). Errors come back as codes, never through `longjmp`.
enum CompressedFile {
    /// The file's (decompressed) bytes, refusing more than `limit` bytes.
    static func read(_ path: String, limit: Int = 1 << 32) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try inflate(path) { chunk in
            bytes.append(contentsOf: chunk)
            guard bytes.count <= limit else {
                throw DatasetError(.unsupported, "\(path) decompresses to more than \(limit) bytes; refusing it")
            }
        }
        return bytes
    }

    /// Calls `body` with the file's (decompressed) bytes a megabyte at a time, in order.
    static func inflate(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let file = gzopen(path, "rb") else {
            throw DatasetError(.unreadable, "cannot open \(path); check that it exists and is readable")
        }
        defer { gzclose(file) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if count < 0 {
                var code: Int32 = 0
                let message = String(cString: gzerror(file, &code))
                throw DatasetError(.malformed, "\(path) cannot be decompressed (\(message)); the file is damaged or truncated")
            }
            if count == 0 { return }
            try chunk.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<Int(count)])) }
        }
    }

    /// The file's bytes as they are on disk (image files: never inflated), refusing more than
    /// `limit` bytes.
    static func readPlain(_ path: String, limit: Int = 1 << 30) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw DatasetError(.unreadable, "cannot open \(path): \(reason); check that it exists and is readable")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw DatasetError(.unreadable, "\(path) is not a regular file")
        }
        guard Int(status.st_size) <= limit else {
            throw DatasetError(.tooLarge, "\(path) is \(status.st_size) bytes, more than the \(limit) read at most")
        }
        // Read straight into the array's storage: no zeroing first and no copy after (for a
        // 12-MP JPEG, 4 MB each: together ~1.5 % of a photo ingest's profile).
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: Int(status.st_size)) { buffer, initialized in
            var filled = 0
            while filled < buffer.count {
                let count = Glibc.read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if count == 0 { break }
                filled += count
            }
            initialized = filled
        }
        guard failure == 0 else {
            throw DatasetError(.unreadable, "cannot read \(path): \(String(cString: strerror(failure)))")
        }
        return bytes
    }
}
