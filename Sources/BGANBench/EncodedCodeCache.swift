import ArgumentParser
import BGAN
import BGANStore
import Foundation
import PixelIO

/// Codes that a bundled encoder gives to real images, for search benchmarks at sizes beyond a
/// data set: row i is the code of training image i, and past the set's end of an
/// ``AugmentedCopies`` copy of image `i % count`. Encoding 10⁸ images takes hours on 2 cores, so
/// the codes are appended to a cache file a chunk at a time; a later run reads what is there and
/// encodes only the rest (a run stopped midway loses at most one chunk). Every copy draws its
/// augmentation from its own seed, so the file holds the same codes however many runs made it.
struct EncodedCodeCache {
    /// Images encoded and appended at a time.
    static let chunk = 16_384

    let model: ModelFile
    let images: ImageSet
    /// The cache file: packed codes, row after row, nothing else.
    let path: String

    /// The cache for `model`'s codes of `images` (file `imagesPath`) in `directory`, named by the
    /// model's digest and the data set's file name so that a different model or set never
    /// reads another's codes.
    init(model: ModelFile, imagesPath: String, directory: String) throws {
        self.model = model
        images = try ImageSet(contentsOf: imagesPath)
        let setName = URL(fileURLWithPath: imagesPath).lastPathComponent
        path = "\(directory)/encoded-\(model.digest.prefix(16))-\(setName).codes"
    }

    var bytesPerCode: Int { model.header.architecture.bits / 8 }

    /// The first `count` rows, encoding (and appending) those the file does not hold yet. A run
    /// that encodes holds a lock on the file, so a second one is refused rather than let the two
    /// append over each other; a run that only reads needs none.
    func codes(count: Int) throws -> NumPyByteMatrix {
        let chunkBytes = Self.chunk * bytesPerCode
        let existing = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if existing < count * bytesPerCode { try encode(through: count, startingAt: existing / chunkBytes * Self.chunk) }
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? file.close() }
        guard let bytes = try file.read(upToCount: count * bytesPerCode), bytes.count == count * bytesPerCode else {
            throw ValidationError("\(path) holds fewer than \(count) codes after encoding: was it truncated by another run?")
        }
        return NumPyByteMatrix(rows: count, columns: bytesPerCode, bytes: bytes)
    }

    /// Appends the codes of rows `held ..< count` (whole chunks) after the file's first `held`
    /// rows, dropping a part-written chunk a stopped run left.
    private func encode(through count: Int, startingAt held: Int) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? file.close() }
        guard flock(file.fileDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            throw ValidationError("another run is encoding into \(path); wait for it, or give this one another --code-cache")
        }
        try file.truncate(atOffset: UInt64(held * bytesPerCode))
        try file.seekToEnd()
        let encoder = try ImageEncoder(model: model)
        let started = Date()
        var done = held
        while done < count {
            try file.write(contentsOf: try encodeChunk(startingAt: done, encoder: encoder))
            done += Self.chunk
            let rate = Double(done - held) / Date().timeIntervalSince(started)
            FileHandle.standardError.write(String(format: "\rencoded %d of %d codes (%.0f images/s, %.0f min to go)   ",
                                                  min(done, count), count, rate, Double(max(0, count - done)) / rate / 60).data(using: .utf8)!)
        }
        FileHandle.standardError.write("\n".data(using: .utf8)!)
        try file.synchronize()
    }

    /// The codes of rows `start ..< start + chunk`, packed. The images are made and brought to
    /// the model's input on every core (each copy draws from its own seed), then encoded
    /// through BLAS.
    private func encodeChunk(startingAt start: Int, encoder: ImageEncoder) throws -> Data {
        let size = encoder.valuesPerImage
        var inputs = [Float](repeating: 0, count: Self.chunk * size)
        try inputs.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            nonisolated(unsafe) var failure: Error?
            let lock = NSLock()
            parallelRanges(Self.chunk, tasks: ProcessInfo.processInfo.activeProcessorCount, minimumPerTask: 256) { range in
                do {
                    for offset in range {
                        let input = model.header.preprocessing.input(from: try image(start + offset))
                        precondition(input.count == size, "the model's preprocessing gave \(input.count) values, not \(size)")
                        for (i, value) in input.enumerated() { buffer[offset * size + i] = value }
                    }
                } catch {
                    lock.withLock { failure = error }
                }
            }
            if let failure { throw failure }
        }
        return packed(try encoder.signs(of: inputs))
    }

    /// Row `row`'s image: a training image, or past the set's end an augmented copy whose
    /// draws come from a seed of its own.
    private func image(_ row: Int) throws -> PixelBuffer {
        guard row >= images.count else { return images.pixelBuffer(row) }
        var seeds = SeededGenerator(seed: UInt64(row))
        var rng = SeededGenerator(seed: 0xC0DE_0000 ^ seeds.next())
        return try PixelBuffer(planes: AugmentedCopies.bytes(of: images, copy: row, rng: &rng), width: images.width, height: images.height)
    }

    /// Codes given as ±1 values, `bits` per row, packed row after row.
    private func packed(_ signs: [Float]) -> Data {
        let bits = model.header.architecture.bits
        var packed = Data(capacity: signs.count / 8)
        for start in stride(from: 0, to: signs.count, by: bits) {
            packed.append(contentsOf: BinaryCode(signsOf: Array(signs[start..<(start + bits)])).bytes)
        }
        return packed
    }

    /// The codes of the first `count` images of the IDX file at `path` (queries: images never stored).
    func codes(ofImagesIn path: String, count: Int) throws -> NumPyByteMatrix {
        let queries = try ImageSet(contentsOf: path)
        guard count <= queries.count else {
            throw ValidationError("\(path) holds \(queries.count) images, fewer than the \(count) queries asked for")
        }
        let signs = try ImageEncoder(model: model).signs(of: (0..<count).map { queries.pixelBuffer($0) })
        return NumPyByteMatrix(rows: count, columns: bytesPerCode, bytes: packed(signs))
    }
}
