import Foundation
import Basics
import NeuralNet

/// The container of model files and training checkpoints: an 8-byte magic, a format version
/// (`UInt32`), a JSON header with its length (`UInt32`), blobs each with its length (`UInt64`),
/// and a SHA-256 digest of every byte before it. All integers little-endian.
struct DigestedFile {
    let header: Data
    let blobs: [[UInt8]]
    /// Where the blobs left in the file lie (``init(path:magic:versions:blobCount:inPlace:kind:invalid:)``).
    var extents: [Int: Range<Int>] = [:]
    /// The file read in place, if any.
    var file: PositionedFile?
    /// Lower-case hex SHA-256 of the body.
    let digest: String
    /// The format version the file has (one of those its reader accepts).
    let version: UInt32
    /// The code of the errors this file's contents raise.
    let invalid: BGANError.Code

    /// The body (everything the digest covers) and the digest of a new file.
    static func body(magic: [UInt8], version: UInt32, header: Data, blobs: [[UInt8]]) -> [UInt8] {
        let blobBytes: Int = blobs.reduce(0) { (total: Int, blob: [UInt8]) -> Int in total + 8 + blob.count }
        var writer = LittleEndianWriter(reservingCapacity: magic.count + 8 + header.count + blobBytes)
        writer.append(contentsOf: opening(magic: magic, version: version, header: header))
        for blob in blobs {
            writer.append(UInt64(blob.count))
            writer.append(contentsOf: blob)
        }
        return writer.bytes
    }

    /// What a file starts with: the magic, the version, the header's length and the header.
    static func opening(magic: [UInt8], version: UInt32, header: Data) -> [UInt8] {
        var writer = LittleEndianWriter(reservingCapacity: magic.count + 8 + header.count)
        writer.append(contentsOf: magic)
        writer.append(version)
        writer.append(UInt32(header.count))
        writer.append(contentsOf: header)
        return writer.bytes
    }

    /// Header JSON with sorted keys, so equal headers give equal bytes (and digests).
    static func json<Header: Encodable>(_ header: Header) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(header)
    }

    /// Parses and checks a file of `kind` ("a model file", "a training checkpoint").
    /// - Throws: ``BGANError`` with code `invalid` (`invalidModelFile`, `invalidCheckpoint`)
    ///   saying what is wrong: too short, another magic, truncated or altered (digest), another
    ///   format version than `versions`, lengths that do not add up.
    init(bytes: [UInt8], magic: [UInt8], versions: ClosedRange<UInt32>, blobCount: Int, kind: String, source: String,
         invalid: BGANError.Code) throws {
        try self.init(reading: .memory(bytes), named: source, magic: magic, versions: versions, blobCount: blobCount, inPlace: [],
                      kind: kind, invalid: invalid)
    }

    /// Where a file is parsed from: its bytes in memory, or a file read a part at a time.
    enum Contents {
        case memory([UInt8])
        case file(PositionedFile)

        func size() throws -> Int {
            switch self {
            case .memory(let bytes): bytes.count
            case .file(let file): try file.size()
            }
        }

        func read(_ count: Int, at offset: Int) throws -> [UInt8] {
            switch self {
            case .memory(let bytes): Array(bytes[offset..<(offset + count)])
            case .file(let file): try file.read(UInt8.self, count: count, at: offset)
            }
        }

        /// The SHA-256 of the first `length` bytes, read a megabyte at a time from a file.
        func digest(ofFirst length: Int) throws -> [UInt8] {
            var hasher = SHA256.Hasher()
            switch self {
            case .memory(let bytes):
                bytes.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            case .file(let file):
                var chunk = [UInt8](repeating: 0, count: 1 << 20)
                var done = 0
                while done < length {
                    let size = min(chunk.count, length - done)
                    try chunk.withUnsafeMutableBytes { buffer in
                        let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
                        try file.read(into: part, at: done)
                        hasher.update(UnsafeRawBufferPointer(part))
                    }
                    done += size
                }
            }
            return hasher.finish()
        }
    }

    /// Parses and checks `contents`, a file of `kind` called `name` in errors: the digest first,
    /// then the format version, the header and each blob's length. The blobs whose indices are in
    /// `inPlace` are left where they lie (``extents``; only for a file), the others are read into
    /// ``blobs`` (empty for those left in place).
    init(reading contents: Contents, named name: String, magic: [UInt8], versions: ClosedRange<UInt32>, blobCount: Int,
         inPlace: Set<Int>, kind: String, invalid: BGANError.Code) throws {
        func refuse(_ why: String) -> BGANError {
            BGANError(invalid, "\(name) is refused: \(why)")
        }
        let size = try contents.size()
        guard size >= magic.count + 4 + 4 + 8 * blobCount + 32 else { throw refuse("it is \(size) bytes, too short to be \(kind)") }
        guard try contents.read(magic.count, at: 0) == magic else {
            throw refuse("it does not start with \(String(decoding: magic, as: UTF8.self)); is it \(kind)?")
        }
        let body = size - 32
        let computed = try contents.digest(ofFirst: body)
        guard computed == (try contents.read(32, at: body)) else {
            throw refuse("its SHA-256 digest does not match its contents: the file is truncated or altered")
        }
        func integer<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
            try contents.read(MemoryLayout<T>.size, at: offset).reversed().reduce(0) { $0 << 8 | T($1) }
        }
        let version = try integer(UInt32.self, at: magic.count)
        guard versions.contains(version) else {
            let readable = versions.count == 1 ? "version \(versions.lowerBound)"
                : versions.count == 2 ? "versions \(versions.lowerBound) and \(versions.upperBound)" : "versions \(versions.lowerBound) to \(versions.upperBound)"
            throw refuse("it has format version \(version); this build reads \(readable)\(version > versions.upperBound ? " (a newer build wrote it)" : "")")
        }
        self.version = version
        let headerLength = Int(try integer(UInt32.self, at: magic.count + 4))
        var offset = magic.count + 8
        guard headerLength <= body - offset else { throw refuse("its header claims \(headerLength) bytes, more than the file holds") }
        header = Data(try contents.read(headerLength, at: offset))
        offset += headerLength
        var blobs: [[UInt8]] = [], extents: [Int: Range<Int>] = [:]
        for index in 0..<blobCount {
            guard body - offset >= 8 else { throw refuse("it ends inside its header") }
            let length = try integer(UInt64.self, at: offset)
            offset += 8
            let remaining = body - offset
            guard length <= UInt64(remaining), index < blobCount - 1 || length == UInt64(remaining) else {
                throw refuse("its part \(index + 1) claims \(length) bytes, but \(remaining) follow")
            }
            let range = offset..<(offset + Int(length))
            if inPlace.contains(index) {
                extents[index] = range
                blobs.append([])
            } else {
                blobs.append(try contents.read(range.count, at: range.lowerBound))
            }
            offset = range.upperBound
        }
        self.blobs = blobs
        self.extents = extents
        if case .file(let file) = contents { self.file = file }
        self.invalid = invalid
        digest = SHA256.hexDigits(computed)
    }

    /// Decodes the header, or says why it cannot be read.
    func decodeHeader<Header: Decodable>(_ type: Header.Type, source: String) throws -> Header {
        do {
            return try JSONDecoder().decode(type, from: header)
        } catch {
            throw BGANError(invalid, "\(source) is refused: its header cannot be read", cause: error)
        }
    }

    /// Loads a blob of parameters into `store`, or says which file refused them.
    func decodeParameters(_ blob: Int, source: String, into store: ParameterStore) throws {
        do {
            try ParameterFile.decode(blobs[blob], into: store)
        } catch {
            throw BGANError(invalid, "\(source) is refused: its parameters do not fit the network it describes", cause: error)
        }
    }
}
