import Foundation
import Basics
import NeuralNet

/// The container of model files and training checkpoints: an 8-byte magic, a format version
/// (`UInt32`), a JSON header with its length (`UInt32`), blobs each with its length (`UInt64`),
/// and a SHA-256 digest of every byte before it. All integers little-endian.
struct DigestedFile {
    let header: Data
    let blobs: [[UInt8]]
    /// Where the blobs left in the file lie (``init(path:magic:version:blobCount:inPlace:kind:invalid:)``).
    var extents: [Int: Range<Int>] = [:]
    /// The file read in place, if any.
    var file: PositionedFile?
    /// Lower-case hex SHA-256 of the body.
    let digest: String
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
    ///   format version, lengths that do not add up.
    init(bytes: [UInt8], magic: [UInt8], version expected: UInt32, blobCount: Int, kind: String, source: String,
         invalid: BGANError.Code) throws {
        func refuse(_ why: String) -> BGANError {
            BGANError(invalid, "\(source) is refused: \(why)")
        }
        let magicText = String(decoding: magic, as: UTF8.self)
        guard bytes.count >= magic.count + 4 + 4 + 8 * blobCount + 32 else { throw refuse("it is \(bytes.count) bytes, too short to be \(kind)") }
        guard Array(bytes.prefix(magic.count)) == magic else { throw refuse("it does not start with \(magicText); is it \(kind)?") }
        let body = Array(bytes.dropLast(32))
        let computed = SHA256.hash(body)
        guard computed == Array(bytes.suffix(32)) else {
            throw refuse("its SHA-256 digest does not match its contents: the file is truncated or altered")
        }
        var reader = LittleEndianReader(body) { _ in refuse("it ends inside its header") }
        _ = try reader.readBytes(magic.count)
        let version = try reader.read(UInt32.self)
        guard version == expected else { throw refuse("it has format version \(version); this build reads version \(expected)") }
        let headerLength = Int(try reader.read(UInt32.self))
        guard headerLength <= reader.remaining else { throw refuse("its header claims \(headerLength) bytes, more than the file holds") }
        header = Data(try reader.readBytes(headerLength))
        var blobs: [[UInt8]] = []
        for index in 0..<blobCount {
            let length = try reader.read(UInt64.self)
            let isLast = index == blobCount - 1
            guard length <= UInt64(reader.remaining), !isLast || length == UInt64(reader.remaining) else {
                throw refuse("its part \(index + 1) claims \(length) bytes, but \(reader.remaining) follow")
            }
            blobs.append(Array(try reader.readBytes(Int(length))))
        }
        self.blobs = blobs
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
