import LMDBStorage

/// The `items` value: the key's length (UInt16, little-endian), the key's UTF-8, the payload.
struct ItemRecord {
    var key: String
    var payload: [UInt8]

    func encoded() -> [UInt8] {
        let keyBytes = Array(key.utf8)
        var bytes: [UInt8] = [UInt8(keyBytes.count & 0xFF), UInt8(keyBytes.count >> 8)]
        bytes.reserveCapacity(2 + keyBytes.count + payload.count)
        bytes += keyBytes
        bytes += payload
        return bytes
    }

    init(key: String, payload: [UInt8]) {
        self.key = key
        self.payload = payload
    }

    init(decoding bytes: UnsafeRawBufferPointer, id: UInt32) throws {
        guard bytes.count >= 2 else { throw StoreError(.corrupted, "item \(id)'s record is \(bytes.count) bytes, shorter than its header") }
        let keyLength = Int(bytes[0]) | Int(bytes[1]) << 8
        guard 2 + keyLength <= bytes.count else {
            throw StoreError(.corrupted, "item \(id)'s record claims a \(keyLength)-byte key in \(bytes.count) bytes")
        }
        key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[2..<2 + keyLength]), as: UTF8.self)
        payload = Array(bytes[(2 + keyLength)...])
    }
}
