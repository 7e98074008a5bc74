import Basics
import Foundation

/// ``DigestedFile`` containers too large to hold twice in memory (a training checkpoint of a
/// million images carries S, over a gigabyte): written a piece at a time while the digest is
/// computed, and read with their large parts left in the file.
extension DigestedFile {
    /// A piece of a blob: bytes in memory, values whose bytes are written as they lie
    /// (little-endian hosts), a stretch of another file copied a megabyte at a time, or bytes
    /// made only when their blob is written (so that a file of several large blobs — a
    /// checkpoint's networks and optimiser states — holds one blob's bytes at a time).
    enum Piece {
        case bytes([UInt8])
        case floats([Float])
        case stretch(PositionedFile, offset: Int, length: Int)
        case deferred(() -> [UInt8])

        /// The piece with deferred bytes made.
        var made: Piece {
            if case .deferred(let make) = self { return .bytes(make()) }
            return self
        }

        /// Bytes the piece writes (deferred bytes are made to count them: count ``made`` pieces).
        var length: Int {
            switch self {
            case .bytes(let bytes): bytes.count
            case .floats(let values): 4 * values.count
            case .stretch(_, _, let length): length
            case .deferred(let make): make().count
            }
        }
    }

    /// The bytes of a file made of `blobs` (each a list of pieces), digest included: what
    /// ``write(to:magic:version:header:blobs:)`` writes.
    static func bytes(magic: [UInt8], version: UInt32, header: Data, blobs: [[Piece]]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var hasher = SHA256.Hasher()
        try stream(magic: magic, version: version, header: header, blobs: blobs) { piece in
            hasher.update(piece)
            bytes.append(contentsOf: piece)
        }
        return bytes + hasher.finish()
    }

    /// Writes a file made of `blobs` to `path` as a whole or not at all: into `path.partial`,
    /// flushed to disk, then renamed over `path`. Memory holds one megabyte of the stretches
    /// copied from other files at a time, never the whole file.
    /// - Throws: ``FileError`` `.unwritable` when the folder has no room or is not writable
    ///   (`path` is then unchanged and `path.partial` removed), `.unreadable` when a stretch
    ///   cannot be read from its file.
    static func write(to path: String, magic: [UInt8], version: UInt32, header: Data, blobs: [[Piece]]) throws {
        try writeAtomically(to: path) { output in
            var offset = 0
            var hasher = SHA256.Hasher()
            try stream(magic: magic, version: version, header: header, blobs: blobs) { piece in
                hasher.update(piece)
                try output.write(piece, at: offset)
                offset += piece.count
            }
            let digest = hasher.finish()
            try digest.withUnsafeBytes { try output.write($0, at: offset) }
        }
    }

    /// Reads the file at `path` and checks its digest a megabyte at a time; the blobs whose
    /// indices are in `inPlace` stay in the file (``extents``, read through ``file``), the others
    /// are read into ``blobs`` (empty for those left in place).
    /// - Throws: as ``init(bytes:magic:versions:blobCount:kind:source:invalid:)``, and
    ///   ``FileError`` `.unreadable` when the file cannot be read.
    init(path: String, magic: [UInt8], versions: ClosedRange<UInt32>, blobCount: Int, inPlace: Set<Int>, kind: String,
         invalid: BGANError.Code) throws {
        try self.init(reading: .file(try PositionedFile(reading: path)), named: path, magic: magic, versions: versions,
                      blobCount: blobCount, inPlace: inPlace, kind: kind, invalid: invalid)
    }

    /// Writes a whole file's `bytes` (digest included) to `path` as ``write(to:magic:version:header:blobs:)`` does.
    static func write(to path: String, whole bytes: [UInt8]) throws {
        try writeAtomically(to: path) { output in try bytes.withUnsafeBytes { try output.write($0, at: 0) } }
    }

    /// Calls `fill` with a new file beside `path`, flushes it and renames it over `path`; on any
    /// failure removes it and leaves `path` as it was.
    private static func writeAtomically(to path: String, fill: (PositionedFile) throws -> Void) throws {
        let output = try PositionedFile(creatingBeside: path)
        do {
            try fill(output)
            try output.synchronize()
            guard rename(output.name, path) == 0 else {
                let folder = (path as NSString).deletingLastPathComponent
                throw FileError(.unwritable, "cannot replace \(path) by its new version: \(String(cString: strerror(errno))); check that \(folder.isEmpty ? "the folder" : folder) is writable")
            }
        } catch {
            unlink(output.name)
            throw error
        }
    }

    /// Calls `emit` with the file's bytes in order, a piece at a time (the digest excluded).
    private static func stream(magic: [UInt8], version: UInt32, header: Data, blobs: [[Piece]],
                               emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try opening(magic: magic, version: version, header: header).withUnsafeBytes(emit)
        var chunk = [UInt8]()
        for deferredBlob in blobs {
            let blob = deferredBlob.map(\.made)
            var length = LittleEndianWriter()
            length.append(UInt64(blob.reduce(0) { $0 + $1.length }))
            try length.bytes.withUnsafeBytes(emit)
            for piece in blob {
                switch piece {
                case .bytes(let bytes): try bytes.withUnsafeBytes(emit)
                case .floats(let values): try values.withUnsafeBytes(emit)
                case .deferred(let make): try make().withUnsafeBytes(emit)
                case .stretch(let file, let offset, let length):
                    var done = 0
                    while done < length {
                        let size = min(1 << 20, length - done)
                        if chunk.count < size { chunk = [UInt8](repeating: 0, count: size) }
                        try chunk.withUnsafeMutableBytes { buffer in
                            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
                            try file.read(into: part, at: offset + done)
                            try emit(UnsafeRawBufferPointer(part))
                        }
                        done += size
                    }
                }
            }
        }
    }
}

extension PositionedFile {
    /// `path.partial`, created empty (or emptied: what a stopped write left there) for writing,
    /// with the permissions the umask gives new files; its name is its path.
    /// - Throws: ``FileError`` `.unwritable` when the folder has no room or is not writable.
    convenience init(creatingBeside path: String) throws {
        let partial = path + ".partial"
        let descriptor = open(partial, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw FileError(.unwritable, "cannot create \(partial): \(String(cString: strerror(errno))); check that its folder exists, is writable and has room")
        }
        self.init(adopting: descriptor, name: partial)
    }
}

#if _endian(big)
#error("checkpoint pieces and records read in place are written in the host's byte order, which must be little-endian")
#endif
