import Foundation

/// A two-dimensional `uint8` NumPy array (`.npy`): the layout faiss, Milvus and NumPy's
/// `packbits` use for binary vectors — one row per code, `bits / 8` bytes per row, in the bit
/// order of `BinaryCode`.
///
/// Reads format versions 1.0, 2.0 and 3.0, C order only; writes version 1.0.
public struct NumPyByteMatrix: Sendable {
    public let rows: Int
    public let columns: Int
    /// Row-major bytes, `rows × columns`.
    public let bytes: Data

    public init(rows: Int, columns: Int, bytes: Data) {
        precondition(bytes.count == rows * columns, "\(bytes.count) bytes for a \(rows)×\(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.bytes = bytes
    }

    /// Row `row` as bytes.
    public func row(_ row: Int) -> Data {
        let start = bytes.startIndex + row * columns
        return bytes[start..<start + columns]
    }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads (memory-maps) the file at `path`.
    /// - Throws: `StoreError` `.invalidArgument` naming what is wrong: not `.npy`, another
    ///   dtype than unsigned bytes, Fortran order, not two-dimensional, truncated.
    public init(contentsOf path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw StoreError(.invalidArgument, "cannot read \(path): \(error.localizedDescription)")
        }
        func fail(_ why: String) -> StoreError {
            StoreError(.invalidArgument, "\(path) is not a usable .npy code file: \(why). Write one with numpy.save(path, codes.astype(numpy.uint8)) on an array of shape (N, bits/8)")
        }
        guard data.count >= 10, Array(data.prefix(6)) == Self.magic else { throw fail("it does not start with the NumPy magic bytes") }
        let major = data[data.startIndex + 6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw fail("the header is truncated") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[data.startIndex + 8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail("format version \(major) is unknown")
        }
        guard data.count >= headerStart + headerLength else { throw fail("the header is truncated") }
        let header = String(decoding: data[(data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)], as: UTF8.self)
        guard let descr = Self.field("descr", in: header) else { throw fail("the header has no 'descr'") }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        guard ["|u1", "<u1", ">u1", "u1"].contains(dtype) else {
            throw fail("its dtype is \(dtype), not uint8 (pack bits with numpy.packbits first)")
        }
        guard let order = Self.field("fortran_order", in: header), order.trimmingCharacters(in: .whitespaces) == "False" else {
            throw fail("it is in Fortran order; save a C-ordered array (numpy.ascontiguousarray)")
        }
        guard let shapeText = Self.field("shape", in: header) else { throw fail("the header has no 'shape'") }
        let dimensions = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dimensions.compactMap { Int($0) }
        guard shape.count == 2, shape.count == dimensions.count else {
            throw fail("its shape is (\(dimensions.joined(separator: ", "))), not (N, bytes per code)")
        }
        let (expected, overflow) = shape[0].multipliedReportingOverflow(by: shape[1])
        guard shape[0] >= 0, shape[1] >= 0, !overflow else {
            throw fail("its shape (\(shape[0]), \(shape[1])) is impossible")
        }
        let bodyStart = headerStart + headerLength
        guard data.count - bodyStart >= expected else {
            throw fail("it holds \(data.count - bodyStart) bytes of data, \(expected) were expected for shape (\(shape[0]), \(shape[1])); the file is truncated")
        }
        rows = shape[0]
        columns = shape[1]
        bytes = data[(data.startIndex + bodyStart)..<(data.startIndex + bodyStart + expected)]
    }

    /// The file contents: a version 1.0 header padded to 64 bytes, then the bytes.
    public func encoded() -> Data {
        var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(Self.magic)
        data.append(contentsOf: [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(bytes)
        return data
    }

    /// The value text of `key` in a Python dict literal (up to the next top-level comma).
    private static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        guard let colon = header[keyRange.upperBound...].firstIndex(of: ":") else { return nil }
        var depth = 0
        var value = ""
        for character in header[header.index(after: colon)...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if (character == "," && depth == 0) || character == "}" { break }
            value.append(character)
        }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
