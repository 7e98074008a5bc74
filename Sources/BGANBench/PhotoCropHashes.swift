import ArgumentParser
import Basics
import BGANStore
import Foundation
import PerceptualHash
import PixelIO

/// PDQ hashes of real photographs, for search benchmarks past the size of a photo collection:
/// row i is the hash of one crop of one of a folder's photographs (the photo benchmark's
/// originals: `benchmarks/photos/assemble.py`), its photograph, size (half of each side to all
/// of it), position and mirroring drawn from row i's own seed. Crops of one photograph that
/// overlap enough hash alike, as re-framed copies of one scene do in a real collection, and the
/// hashes have a photograph's structure (correlated bits, uneven substrings), which random codes
/// lack. Queries: half are stored rows re-saved as JPEG at quality 50 (a near-copy to be found
/// within PDQ's threshold), half crops drawn from seeds no stored row uses.
struct PhotoCropHashes {
    let photos: [PixelBuffer]

    /// Every image file under `folder`, decoded.
    init(folder: String) throws {
        guard let listing = try ImageFiles.expand(folder), !listing.images.isEmpty else {
            throw ValidationError("--photo-folder \(folder) holds no image files (give the photo benchmark's originals/ folder)")
        }
        photos = try listing.images.map { try ImageDecoder().decode(contentsOf: $0).converted(to: .rgb) }
    }

    /// The stored rows: hashes of the crops of rows `0 ..< count`, on every core.
    func database(count: Int) throws -> NumPyByteMatrix {
        try hashes(count: count) { PDQ.hash(crop(row: $0)).code.bytes }
    }

    /// `count` queries: even ones are JPEG q50 re-saves of stored crops (rows spread over
    /// `databaseCount`), odd ones crops of rows past every stored one.
    func queries(count: Int, databaseCount: Int) throws -> NumPyByteMatrix {
        try hashes(count: count) { query in
            if query % 2 == 1 { return PDQ.hash(crop(row: databaseCount + query)).code.bytes }
            let stored = crop(row: (query / 2 * 7_919) % databaseCount)
            return try PDQ.hash(ImageDecoder().decode(stored.jpegData(quality: 50))).code.bytes
        }
    }

    /// Row `row`'s crop: its photograph, width and height (each half to all of the photograph's),
    /// position and mirroring from the row's seed.
    func crop(row: Int) -> PixelBuffer {
        var rng = SeededGenerator(seed: 0x9D0C_0000 ^ UInt64(row))
        let photo = photos[Int(rng.next() % UInt64(photos.count))]
        let width = max(1, photo.width / 2 + Int(rng.next() % UInt64(photo.width - photo.width / 2 + 1)))
        let height = max(1, photo.height / 2 + Int(rng.next() % UInt64(photo.height - photo.height / 2 + 1)))
        let left = Int(rng.next() % UInt64(photo.width - width + 1)), top = Int(rng.next() % UInt64(photo.height - height + 1))
        let region = photo.cropped(left: left, top: top, width: width, height: height)
        return rng.next() % 2 == 1 ? region.oriented(.mirrored) : region
    }

    /// `count` rows of 32 bytes, `row(i)` each, computed on every core.
    private func hashes(count: Int, _ row: (Int) throws -> [UInt8]) throws -> NumPyByteMatrix {
        let tasks = ProcessInfo.processInfo.activeProcessorCount
        let parts = try parallelMap(tasks: tasks) { task in
            try ((count * task / tasks)..<(count * (task + 1) / tasks)).flatMap(row)
        }
        return NumPyByteMatrix(rows: count, columns: PDQ.bitCount / 8, bytes: Data(parts.joined()))
    }
}
