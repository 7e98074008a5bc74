import Foundation
import NeuralNet

/// The container of model files and training checkpoints: an 8-byte magic, a format version
/// (`UInt32`), a JSON header with its length (`UInt32`), blobs each with its length (`UInt64`),
/// and a SHA-256 digest of every byte before it. All integers little-endian.
struct DigestedFile {
    let header: Data
    let blobs: [[UInt8]]
    /// Lower-case hex SHA-256 of the body.
    let digest: String

    /// The body (everything the digest covers) and the digest of a new file.
    static func body(magic: [UInt8], version: UInt32, header: Data, blobs: [[UInt8]]) -> [UInt8] {
        var bytes = magic
        bytes += withUnsafeBytes(of: version.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: UInt32(header.count).littleEndian, Array.init)
        bytes += Array(header)
        for blob in blobs {
            bytes += withUnsafeBytes(of: UInt64(blob.count).littleEndian, Array.init)
            bytes += blob
        }
        return bytes
    }

    /// Header JSON with sorted keys, so equal headers give equal bytes (and digests).
    static func json<Header: Encodable>(_ header: Header) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(header)
    }

    /// Parses and checks a file of `kind` ("a model", "a training checkpoint").
    /// - Throws: ``NeuralNetError/Code/invalidParameterFile`` saying what is wrong: too short,
    ///   another magic, truncated or altered (digest), another format version, lengths that do
    ///   not add up.
    init(bytes: [UInt8], magic: [UInt8], version expected: UInt32, blobCount: Int, kind: String, source: String) throws {
        func refuse(_ why: String) -> NeuralNetError {
            NeuralNetError(.invalidParameterFile, "\(source) is refused: \(why)")
        }
        let magicText = String(decoding: magic, as: UTF8.self)
        guard bytes.count >= magic.count + 4 + 4 + 8 * blobCount + 32 else { throw refuse("it is \(bytes.count) bytes, too short to be \(kind)") }
        guard Array(bytes.prefix(magic.count)) == magic else { throw refuse("it does not start with \(magicText); is it \(kind)?") }
        let body = Array(bytes.dropLast(32))
        let computed = SHA256.hash(body)
        guard computed == Array(bytes.suffix(32)) else {
            throw refuse("its SHA-256 digest does not match its contents: the file is truncated or altered")
        }
        func integer<T: FixedWidthInteger>(at offset: Int, as: T.Type) throws -> T {
            guard offset + MemoryLayout<T>.size <= body.count else { throw refuse("it ends inside its header") }
            var value: T = 0
            for i in 0..<MemoryLayout<T>.size { value |= T(body[offset + i]) << (8 * i) }
            return value
        }
        var offset = magic.count
        let version = try integer(at: offset, as: UInt32.self)
        guard version == expected else { throw refuse("it has format version \(version); this build reads version \(expected)") }
        offset += 4
        let headerLength = Int(try integer(at: offset, as: UInt32.self))
        offset += 4
        guard headerLength <= body.count - offset else { throw refuse("its header claims \(headerLength) bytes, more than the file holds") }
        header = Data(body[offset..<(offset + headerLength)])
        offset += headerLength
        var blobs: [[UInt8]] = []
        for index in 0..<blobCount {
            let length = try integer(at: offset, as: UInt64.self)
            offset += 8
            let isLast = index == blobCount - 1
            guard length <= UInt64(body.count - offset), !isLast || length == UInt64(body.count - offset) else {
                throw refuse("its part \(index + 1) claims \(length) bytes, but \(body.count - offset) follow")
            }
            blobs.append(Array(body[offset..<(offset + Int(length))]))
            offset += Int(length)
        }
        self.blobs = blobs
        digest = SHA256.hexDigits(computed)
    }

    /// Decodes the header, or says why it cannot be read.
    func decodeHeader<Header: Decodable>(_ type: Header.Type, source: String) throws -> Header {
        do {
            return try JSONDecoder().decode(type, from: header)
        } catch {
            throw NeuralNetError(.invalidParameterFile, "\(source) is refused: its header cannot be read (\(error))")
        }
    }
}
