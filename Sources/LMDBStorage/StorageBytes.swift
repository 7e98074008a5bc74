import CLMDB

/// A value that can lend its bytes to LMDB as a key or a value, without copying.
///
/// Integers lend their native-endian bytes, as `MDB_INTEGERKEY` tables expect; strings lend UTF-8.
public protocol StorageBytes {
    /// Calls `body` with the bytes of `self`, valid only during the call.
    func withStorageBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: StorageBytes where Element == UInt8 {
    @inlinable
    public func withStorageBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension ArraySlice: StorageBytes where Element == UInt8 {
    @inlinable
    public func withStorageBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension UnsafeRawBufferPointer: StorageBytes {
    @inlinable
    public func withStorageBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(self)
    }
}

extension String: StorageBytes {
    @inlinable
    public func withStorageBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}

extension UInt64: StorageBytes {
    @inlinable
    public func withStorageBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self, body)
    }
}

extension UInt32: StorageBytes {
    @inlinable
    public func withStorageBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self, body)
    }
}

extension UnsafeRawBufferPointer {
    /// The value as a native-endian `UInt64`, if it is 8 bytes long.
    @inlinable
    public var uint64Value: UInt64? {
        count == 8 ? loadUnaligned(as: UInt64.self) : nil
    }

    /// The bytes as a native-endian `UInt32` (an id key), or nil if they are not exactly 4.
    public var uint32Value: UInt32? {
        count == 4 ? loadUnaligned(as: UInt32.self) : nil
    }

    /// The bytes as UTF-8 text (invalid sequences repaired).
    public var stringValue: String {
        String(decoding: self, as: UTF8.self)
    }
}

/// Builds an `MDB_val` that points at `bytes` (LMDB never writes through a key or value it is given).
@inline(__always)
func makeValue(_ bytes: UnsafeRawBufferPointer) -> MDB_val {
    MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
}

extension MDB_val {
    /// The bytes this value points at; valid until the transaction ends or the next write.
    @inline(__always)
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mv_data, count: mv_size)
    }
}
