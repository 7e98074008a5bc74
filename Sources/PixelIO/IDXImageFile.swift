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

    private let file: PositionedFile
    private let firstImageOffset = 16

    /// Opens `path` and checks its header against its size.
    /// - Throws: `DatasetError` `.unreadable` when it cannot be opened or inflated (`.malformed`
    ///   when damaged), `.malformed` / `.unsupported` when it is not an IDX file of 8-bit images
    ///   (three dimensions: count, height, width) whose size matches its header.
    public init(path: String) throws {
        source = path
        var file: PositionedFile
        do {
            file = try PositionedFile(reading: path)
        } catch let error as FileError {
            throw DatasetError(.unreadable, error.message)
        }
        var magic: [UInt8] = [0, 0]
        let isCompressed = (try? magic.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }) != nil && magic == [0x1F, 0x8B]
        if isCompressed { file = try Self.inflatedCopy(of: path) }
        (count, height, width) = try Self.checkedShape(file, path: path)
        self.file = file
        isInflatedCopy = isCompressed
    }

    /// Count, height and width from the header of the IDX file `file`, checked against its size.
    private static func checkedShape(_ file: PositionedFile, path: String) throws -> (count: Int, height: Int, width: Int) {
        let size: Int
        do { size = try file.size() } catch let error as FileError { throw DatasetError(.unreadable, error.message) }
        var bytes = [UInt8](repeating: 0, count: min(size, 16))
        try? bytes.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        let header = try IDXFile.Header(bytes, source: path)
        guard header.dimensions.count == 3 else {
            throw DatasetError(.unsupported, "\(path) has \(header.dimensions.count) dimensions; an image file has 3 (count, height, width). Is it a label file?")
        }
        try header.requireValues(size - header.byteCount, source: path)
        return (header.dimensions[0], header.dimensions[1], header.dimensions[2])
    }

    /// Reads image `index`'s `valuesPerImage` bytes into `destination`.
    /// - Throws: `DatasetError` `.unreadable` when the read fails (the file shrank, an I/O error).
    public func read(_ index: Int, into destination: UnsafeMutableRawBufferPointer) throws {
        precondition((0..<count).contains(index) && destination.count == valuesPerImage)
        do {
            try file.read(into: destination, at: firstImageOffset + index * valuesPerImage)
        } catch let error as FileError {
            throw DatasetError(.unreadable, "image \(index) of \(source) could not be read (\(error.message))")
        }
    }

    /// The decompressed bytes of `path` in a new temporary file, unlinked at once so that it
    /// goes with the last reference to it.
    private static func inflatedCopy(of path: String) throws -> PositionedFile {
        do {
            let copy = try PositionedFile(scratchFor: "the inflated copy of \(path)")
            var written = 0
            try CompressedFile.inflate(path) { chunk in
                try copy.write(UnsafeRawBufferPointer(chunk), at: written)
                written += chunk.count
            }
            return copy
        } catch let error as FileError {
            throw DatasetError(.unreadable, "\(error.message), or give the file uncompressed")
        }
    }
}
