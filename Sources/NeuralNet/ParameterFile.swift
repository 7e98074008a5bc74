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
        var writer = LittleEndianWriter(reservingCapacity: 64 * store.entries.count + 4 * store.values.count + 32)
        writer.append(contentsOf: magic)
        writer.append(formatVersion)
        writer.append(UInt32(store.entries.count))
        for entry in store.entries {
            let name = Array(entry.name.utf8)
            writer.append(UInt16(name.count))
            writer.append(contentsOf: name)
            writer.append(UInt8(entry.trainable ? 1 : 0))
            writer.append(UInt8(entry.shape.count))
            for dimension in entry.shape { writer.append(UInt32(dimension)) }
        }
        writer.append(UInt64(store.values.count))
        for value in store.values { writer.append(value) }
        writer.append(FNV1a.hash(writer.bytes))
        return writer.bytes
    }

    /// Loads values into `store`, whose entries (names, shapes, order) must be those saved.
    /// - Throws: ``NeuralNetError`` `invalidParameterFile` naming what is wrong: truncated,
    ///   altered (checksum), another format version, or another network.
    public static func decode(_ bytes: [UInt8], into store: ParameterStore) throws {
        guard bytes.count >= magic.count + 12 else { throw invalid("it is \(bytes.count) bytes, too short to be a parameter file") }
        guard Array(bytes[0..<magic.count]) == magic else { throw invalid("it does not start with BGANPRM1; is this a parameter file?") }
        var checksumReader = LittleEndianReader(Array(bytes.suffix(8))) { _ in invalid("it has no checksum") }
        guard try checksumReader.read(UInt64.self) == FNV1a.hash(bytes.dropLast(8)) else {
            throw invalid("its checksum does not match: the file is truncated or altered")
        }
        // Records run up to the 8-byte checksum; reading into it is caught by the final check.
        var reader = LittleEndianReader(bytes) { offset in invalid("it ends in the middle of a record (offset \(offset))") }
        _ = try reader.readBytes(magic.count)
        let version = try reader.read(UInt32.self)
        guard version == formatVersion else {
            throw invalid("it has format version \(version); this build reads version \(formatVersion)")
        }
        let count = try reader.read(UInt32.self)
        guard Int(count) == store.entries.count else {
            throw invalid("it holds \(count) parameters, the network has \(store.entries.count): it was saved from another architecture")
        }
        for entry in store.entries {
            let nameLength = try reader.read(UInt16.self)
            let name = String(decoding: try reader.readBytes(Int(nameLength)), as: UTF8.self)
            let trainable = try reader.read(UInt8.self)
            let rank = try reader.read(UInt8.self)
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(try reader.read(UInt32.self))) }
            guard name == entry.name, shape == entry.shape, (trainable == 1) == entry.trainable else {
                throw invalid("it has '\(name)' of shape \(Tensor.describe(shape)) where the network has '\(entry.name)' of shape \(Tensor.describe(entry.shape))")
            }
        }
        let valueCount = try reader.read(UInt64.self)
        guard valueCount == UInt64(store.values.count) else {
            throw invalid("it holds \(valueCount) values, the network has \(store.values.count)")
        }
        let values = try reader.readFloats(store.values.count)
        guard reader.remaining == 8 else { throw invalid("it has \(reader.remaining - 8) unexpected bytes at the end") }
        store.values = values
    }

    static func invalid(_ why: String) -> NeuralNetError {
        NeuralNetError(.invalidParameterFile, "the parameter file is refused: \(why)")
    }
}
