import HammingSearch
import LMDBStorage
import PixelIO

/// What a store's search by image breaks near-ties of its refined scores with: the query's
/// thumbnail, made as the store makes those it keeps, against each tied candidate's kept
/// thumbnail (``Refinement/ranked(_:k:nearTieBand:distance:)``).
///
/// Refined scores compare encodings, which are made to ignore brightness, small turns and crops;
/// two tiles of one clear sky or pale wall then score alike, and a re-saved copy finds its
/// sibling tile as often as its original. Their thumbnails still tell them apart, so among
/// candidates whose scores lie within the band, the one whose thumbnail looks most like the
/// query's comes first. Thumbnails are compared as ``ThumbnailSignature``s: gray, one size,
/// each brought to mean 0 and deviation 1 (so a brighter copy matches as the encoder has it),
/// and — when the encoder gives an image and its mirror image one code, or the search matches
/// mirror images — the nearer of the thumbnail and its mirror image.
struct NearTieBreak {
    /// The query image, whose thumbnail is made (as the store makes those it keeps) only once a
    /// near-tie needs it.
    let queryImage: PixelBuffer
    let thumbnailSide: Int
    let band: Float
    let matchesMirrorImages: Bool

    /// The tie-break for a search by `image`, or nil when there is nothing to break ties with:
    /// no band, no refinement, or a store that keeps no thumbnails.
    static func forSearch(by image: PixelBuffer, refinement: Refinement.Options?, thumbnailSide: Int,
                          matchingMirrorImages: Bool, encoder: any ImageCodeEncoder) -> NearTieBreak? {
        guard let refinement, refinement.nearTieBand > 0, thumbnailSide > 0 else { return nil }
        return NearTieBreak(queryImage: image, thumbnailSide: thumbnailSide, band: refinement.nearTieBand,
                            matchesMirrorImages: matchingMirrorImages || encoder.isMirrorInvariant)
    }

    /// `scored`'s first `k`, near-ties broken by the distance of each candidate's kept thumbnail
    /// (candidates without one keep their near-tie in score order).
    func ranked(_ scored: [Refinement.Scored], k: Int, thumbnails: Table?, _ txn: borrowing Transaction) throws -> [Refinement.Scored] {
        guard let thumbnails else { return Refinement.ranked(scored, k: k) }
        var query: ThumbnailSignature?
        return try Refinement.ranked(scored, k: k, nearTieBand: band) { candidate in
            guard let png = try txn.get(thumbnails, key: candidate.neighbor.id) else { return nil }
            let thumbnail: PixelBuffer
            do {
                thumbnail = try ImageDecoder().decode(Array(png), source: "the thumbnail of item \(candidate.neighbor.id)")
            } catch {
                throw StoreError(.corrupted, "the thumbnail of item \(candidate.neighbor.id) does not decode; verify the store (`Store.verify()`)", cause: error)
            }
            let signature = query ?? ThumbnailSignature(Store.thumbnail(of: ImageItem(key: "", image: queryImage), side: thumbnailSide))
            query = signature
            return signature.distance(to: ThumbnailSignature(thumbnail), matchingMirrorImage: matchesMirrorImages)
        }
    }
}

/// A thumbnail as near-ties compare it: gray (BT.601), area-resized to ``side`` × ``side``
/// whatever its shape, brought to mean 0 and deviation 1 (a deviation under one level counts as
/// one, so a flat thumbnail stays flat).
struct ThumbnailSignature {
    static let side = 64
    let values: [Float]

    init(_ thumbnail: PixelBuffer) {
        let gray = thumbnail.converted(to: .gray).areaResized(width: Self.side, height: Self.side)
        var raw = [Float](repeating: 0, count: Self.side * Self.side)
        for y in 0..<Self.side {
            for x in 0..<Self.side { raw[y * Self.side + x] = Float(gray.bytes[y * gray.rowStride + x]) }
        }
        let mean = raw.reduce(0, +) / Float(raw.count)
        let deviation = max(1, (raw.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(raw.count)).squareRoot())
        values = raw.map { ($0 - mean) / deviation }
    }

    /// Root-mean-square difference from `other`, or from its mirror image if that is nearer and
    /// `matchingMirrorImage`.
    func distance(to other: ThumbnailSignature, matchingMirrorImage: Bool) -> Float {
        let side = Self.side
        var direct: Float = 0, mirrored: Float = 0
        for y in 0..<side {
            for x in 0..<side {
                let value = values[y * side + x]
                let straight = value - other.values[y * side + x]
                direct += straight * straight
                if matchingMirrorImage {
                    let flipped = value - other.values[y * side + side - 1 - x]
                    mirrored += flipped * flipped
                }
            }
        }
        let squares = matchingMirrorImage ? min(direct, mirrored) : direct
        return (squares / Float(side * side)).squareRoot()
    }
}
