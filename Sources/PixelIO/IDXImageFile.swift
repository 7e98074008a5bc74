import Basics

/// An IDX image file (`train-images-idx3-ubyte[.gz]`) read from disk one image at a time, so that
/// a training run over millions of images holds none of them in memory: a plain file is read
/// where it is; a gzip-compressed one is inflated once, a megabyte at a time, into an unlinked
/// temporary file (in `TMPDIR`, else `/tmp`) that disappears when this object does.
public final class IDXImageFile: Sendable {
    public let count: Int
    public let height: Int
    public let width: Int
    public var valuesPerImage: Int { height * width }
    /// The file the images came from.
    public let source: String
    /// Whether the images were inflated into a temporary file (the source is compressed).
    public let isInflatedCopy: Bool

    private let descriptor: Int32
    private let firstImageOffset: Int

    /// Opens `path` and checks its header against its size.
    /// - Throws: `DatasetError` `.unreadable` when it cannot be opened or inflated (`.malformed`
    ///   when damaged), `.malformed` / `.unsupported` when it is not an IDX file of 8-bit images
    ///   (three dimensions: count, height, width) whose size matches its header.
    public init(path: String) throws {
        source = path
        var plain = open(path, O_RDONLY | O_CLOEXEC)
        guard plain >= 0 else {
            throw DatasetError(.unreadable, "cannot open \(path): \(String(cString: strerror(errno))); check that it exists and is readable")
        }
        var magic: [UInt8] = [0, 0]
        let isCompressed = pread(plain, &magic, 2, 0) == 2 && magic == [0x1F, 0x8B]
        if isCompressed {
            close(plain)
            plain = try Self.inflatedCopy(of: path)
        }
        // Checked before any stored property is set, so a refusal closes the file here and
        // only here (a fully initialised object would close it again in deinit).
        let shape: (count: Int, height: Int, width: Int)
        do {
            shape = try Self.checkedShape(descriptor: plain, path: path)
        } catch {
            close(plain)
            throw error
        }
        (count, height, width) = shape
        firstImageOffset = 16
        descriptor = plain
        isInflatedCopy = isCompressed
    }

    /// Count, height and width from the header of the IDX file open at `descriptor`, checked
    /// against the file's size.
    private static func checkedShape(descriptor: Int32, path: String) throws -> (count: Int, height: Int, width: Int) {
        var bytes = [UInt8](repeating: 0, count: 16)
        let read = pread(descriptor, &bytes, 16, 0)
        let header = try IDXFile.Header(Array(bytes.prefix(max(0, read))), source: path)
        guard header.dimensions.count == 3 else {
            throw DatasetError(.unsupported, "\(path) has \(header.dimensions.count) dimensions; an image file has 3 (count, height, width). Is it a label file?")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw DatasetError(.unreadable, "cannot read the size of \(path)") }
        try header.requireValues(Int(status.st_size) - header.byteCount, source: path)
        return (header.dimensions[0], header.dimensions[1], header.dimensions[2])
    }

    deinit { close(descriptor) }

    /// Reads image `index`'s `valuesPerImage` bytes into `destination`.
    /// - Throws: `DatasetError` `.unreadable` when the read fails (the file shrank, an I/O error).
    public func read(_ index: Int, into destination: UnsafeMutableRawBufferPointer) throws {
        precondition((0..<count).contains(index) && destination.count == valuesPerImage)
        var filled = 0
        while filled < destination.count {
            let got = pread(descriptor, destination.baseAddress! + filled, destination.count - filled,
                            off_t(firstImageOffset + index * valuesPerImage + filled))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                throw DatasetError(.unreadable, "cannot read image \(index) of \(source)\(got < 0 ? ": \(String(cString: strerror(errno)))" : ": the file ends early")")
            }
            filled += got
        }
    }

    /// The decompressed bytes of `path` in a new temporary file, unlinked at once so that it
    /// goes with its last descriptor; returns that descriptor.
    private static func inflatedCopy(of path: String) throws -> Int32 {
        let folder = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(folder)/bgan-images-XXXXXX".utf8CString)
        let copy = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard copy >= 0 else {
            throw DatasetError(.unreadable, "cannot create a temporary file in \(folder) to inflate \(path) into: \(String(cString: strerror(errno))); set TMPDIR to a writable folder, or give the file uncompressed")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        do {
            try CompressedFile.inflate(path) { chunk in
                var written = 0
                while written < chunk.count {
                    let count = write(copy, chunk.baseAddress! + written, chunk.count - written)
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else {
                        throw DatasetError(.unreadable, "cannot write the inflated copy of \(path) into \(folder): \(String(cString: strerror(errno))); free space there, set TMPDIR to another folder, or give the file uncompressed")
                    }
                    written += count
                }
            }
        } catch {
            close(copy)
            throw error
        }
        return copy
    }
}
