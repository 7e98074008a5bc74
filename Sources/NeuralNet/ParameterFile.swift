/// Saving and loading a ``ParameterStore``: one little-endian, versioned, checksummed blob.
///
/// Layout: magic `BGANPRM1`; format version (`UInt32`); entry count (`UInt32`); per entry: name
/// length (`UInt16`) and UTF-8 name, trainable flag (`UInt8`), rank (`UInt8`) and dimensions
/// (`UInt32` each); value count (`UInt64`); the values (`Float32`); an FNV-1a 64-bit checksum of
/// every byte before it (`UInt64`).
public enum ParameterFile {
    static let magic = Array("BGANPRM1".utf8)
    public static let formatVersion: UInt32 = 1

    /// The store's entries and values as bytes.
    public static func encode(_ store: ParameterStore) -> [UInt8] {
        var bytes = magic
        append(formatVersion, to: &bytes)
        append(UInt32(store.entries.count), to: &bytes)
        for entry in store.entries {
            let name = Array(entry.name.utf8)
            append(UInt16(name.count), to: &bytes)
            bytes += name
            bytes.append(entry.trainable ? 1 : 0)
            bytes.append(UInt8(entry.shape.count))
            for dimension in entry.shape { append(UInt32(dimension), to: &bytes) }
        }
        append(UInt64(store.values.count), to: &bytes)
        for value in store.values { append(value.bitPattern, to: &bytes) }
        append(checksum(bytes), to: &bytes)
        return bytes
    }

    /// Loads values into `store`, whose entries (names, shapes, order) must be those saved.
    /// - Throws: ``NeuralNetError/Code/invalidParameterFile`` naming what is wrong: truncated,
    ///   altered (checksum), another format version, or another network.
    public static func decode(_ bytes: [UInt8], into store: ParameterStore) throws {
        var reader = ByteReader(bytes: bytes)
        guard bytes.count >= magic.count + 12 else { throw invalid("it is \(bytes.count) bytes, too short to be a parameter file") }
        guard Array(bytes[0..<magic.count]) == magic else { throw invalid("it does not start with BGANPRM1; is this a parameter file?") }
        let stored = bytes.suffix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard stored == checksum(Array(bytes.dropLast(8))) else {
            throw invalid("its checksum does not match: the file is truncated or altered")
        }
        reader.position = magic.count
        let version: UInt32 = try reader.read()
        guard version == formatVersion else {
            throw invalid("it has format version \(version); this build reads version \(formatVersion)")
        }
        let count: UInt32 = try reader.read()
        guard Int(count) == store.entries.count else {
            throw invalid("it holds \(count) parameters, the network has \(store.entries.count): it was saved from another architecture")
        }
        for entry in store.entries {
            let nameLength: UInt16 = try reader.read()
            let name = String(decoding: try reader.bytes(Int(nameLength)), as: UTF8.self)
            let trainable: UInt8 = try reader.read()
            let rank: UInt8 = try reader.read()
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(try reader.read() as UInt32)) }
            guard name == entry.name, shape == entry.shape, (trainable == 1) == entry.trainable else {
                throw invalid("it has '\(name)' of shape \(Tensor.describe(shape)) where the network has '\(entry.name)' of shape \(Tensor.describe(entry.shape))")
            }
        }
        let valueCount: UInt64 = try reader.read()
        guard valueCount == UInt64(store.values.count) else {
            throw invalid("it holds \(valueCount) values, the network has \(store.values.count)")
        }
        var values = [Float](repeating: 0, count: store.values.count)
        for i in values.indices { values[i] = Float(bitPattern: try reader.read()) }
        guard reader.position == bytes.count - 8 else { throw invalid("it has \(bytes.count - 8 - reader.position) unexpected bytes at the end") }
        store.values = values
    }

    static func invalid(_ why: String) -> NeuralNetError {
        NeuralNetError(.invalidParameterFile, "the parameter file is refused: \(why)")
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    /// FNV-1a, 64 bits.
    static func checksum(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}

/// Bounds-checked little-endian reading.
struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    mutating func read<T: FixedWidthInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        guard position + size <= bytes.count else { throw ParameterFile.invalid("it ends in the middle of a record (offset \(position))") }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[position + i]) << (8 * i) }
        position += size
        return value
    }

    mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, position + count <= bytes.count else { throw ParameterFile.invalid("it ends in the middle of a name (offset \(position))") }
        defer { position += count }
        return bytes[position..<position + count]
    }
}
