import HammingSearch
import LMDBStorage
import PixelIO

/// What a store's search by image breaks near-ties of its refined scores with: the query's
/// thumbnail, made as the store makes those it keeps, against each tied candidate's kept
/// thumbnail (``Refinement/ranked(_:k:nearTieBand:closeness:)``).
///
/// Refined scores compare encodings, which are made to ignore brightness, small turns and crops;
/// two tiles of one clear sky or pale wall then score alike, and a re-saved copy finds its
/// sibling tile as often as its original. Their thumbnails still tell them apart, so among
/// candidates whose scores lie within the band, the one whose thumbnail looks most like the
/// query's comes first. Thumbnails are compared as ``ThumbnailSignature``s: gray, one size,
/// each brought to mean 0 and deviation 1 (so a brighter copy matches as the encoder has it),
/// and — when the encoder gives an image and its mirror image one code, or the search matches
/// mirror images — the nearer of the thumbnail and its mirror image. Only a candidate whose
/// thumbnail is a copy of the query's — within the options' `nearTieCopyDistance` at 64×64 or at
/// 16×16, where a low-quality re-save's blocks have averaged out — may win a near-tie.
struct NearTieBreak {
    /// The query image, whose thumbnail is made (as the store makes those it keeps) only once a
    /// near-tie needs it.
    let queryImage: PixelBuffer
    let thumbnailSide: Int
    let band: Float
    /// The farthest a thumbnail may lie, at either size, to be a copy that may win a near-tie
    /// (nil: any thumbnail may).
    let copyDistance: Float?
    let matchesMirrorImages: Bool

    /// The tie-break for a search by `image`, or nil when there is nothing to break ties with:
    /// no band, no refinement, or a store that keeps no thumbnails.
    static func forSearch(by image: PixelBuffer, refinement: Refinement.Options?, thumbnailSide: Int,
                          matchingMirrorImages: Bool, encoder: any ImageCodeEncoder) -> NearTieBreak? {
        guard let refinement, refinement.nearTieBand > 0, thumbnailSide > 0 else { return nil }
        return NearTieBreak(queryImage: image, thumbnailSide: thumbnailSide, band: refinement.nearTieBand,
                            copyDistance: refinement.nearTieCopyDistance, matchesMirrorImages: matchingMirrorImages || encoder.isMirrorInvariant)
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
            return signature.closeness(to: ThumbnailSignature(thumbnail), copyDistance: copyDistance, matchingMirrorImage: matchesMirrorImages)
        }
    }
}

/// A thumbnail as near-ties compare it: gray (BT.601), area-resized to ``side`` × ``side``
/// whatever its shape, brought to mean 0 and deviation 1 (a deviation under one level counts as
/// one, so a flat thumbnail stays flat); and the same at ``coarseSide`` × ``coarseSide``.
struct ThumbnailSignature {
    static let side = 64
    /// The size of the second comparison, which tells whether a candidate is a copy of the query:
    /// each of its pixels averages 16 of a 256-pixel photo's, so the 8×8 blocks of a JPEG q30
    /// re-save of a nearly flat photo, which put it farther than the copy ceiling from its
    /// original at 64×64, average out (docs/evaluation.md, "Only a copy wins a near-tie").
    static let coarseSide = 16
    /// The share of pixels, those that differ most, a distance leaves out: the black corners of
    /// a photo turned in place by 3–6° (5–10 % of its area) or a caption over part of it then do
    /// not decide which of two look-alike candidates is nearer. Set from that area, not tuned;
    /// chosen over the whole-thumbnail distance on validation photos (docs/evaluation.md,
    /// "Refinement").
    static let trimmedShare: Float = 0.1
    let values: [Float]
    let coarseValues: [Float]

    init(_ thumbnail: PixelBuffer) {
        let gray = thumbnail.converted(to: .gray).areaResized(width: Self.side, height: Self.side)
        values = Self.standardized(gray)
        coarseValues = Self.standardized(gray.areaResized(width: Self.coarseSide, height: Self.coarseSide))
    }

    /// A square gray image's values brought to mean 0 and deviation 1 (at least one level).
    private static func standardized(_ gray: PixelBuffer) -> [Float] {
        let side = gray.width
        var raw = [Float](repeating: 0, count: side * side)
        for y in 0..<side {
            for x in 0..<side { raw[y * side + x] = Float(gray.bytes[y * gray.rowStride + x]) }
        }
        let mean = raw.reduce(0, +) / Float(raw.count)
        let deviation = max(1, (raw.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(raw.count)).squareRoot())
        return raw.map { ($0 - mean) / deviation }
    }

    /// Root-mean-square difference from `other`'s at ``side`` × ``side`` over all but the
    /// ``trimmedShare`` of pixels that differ most, or the same from its mirror image if that is
    /// nearer and `matchingMirrorImage`.
    func distance(to other: ThumbnailSignature, matchingMirrorImage: Bool) -> Float {
        Self.distance(values, other.values, side: Self.side, matchingMirrorImage: matchingMirrorImage)
    }

    /// The same at ``coarseSide`` × ``coarseSide``.
    func coarseDistance(to other: ThumbnailSignature, matchingMirrorImage: Bool) -> Float {
        Self.distance(coarseValues, other.coarseValues, side: Self.coarseSide, matchingMirrorImage: matchingMirrorImage)
    }

    /// `other` as a near-tie sees it: its distance at ``side``, and whether it is a copy — within
    /// `copyDistance` at either size (nil: every candidate is one).
    func closeness(to other: ThumbnailSignature, copyDistance: Float?, matchingMirrorImage: Bool) -> Refinement.Closeness {
        let fine = distance(to: other, matchingMirrorImage: matchingMirrorImage)
        guard let copyDistance, fine > copyDistance else { return Refinement.Closeness(distance: fine, isCopy: true) }
        return Refinement.Closeness(distance: fine, isCopy: coarseDistance(to: other, matchingMirrorImage: matchingMirrorImage) <= copyDistance)
    }

    private static func distance(_ a: [Float], _ b: [Float], side: Int, matchingMirrorImage: Bool) -> Float {
        var squares = [Float](repeating: 0, count: a.count)
        squaredDifferences(a, b, side: side, mirrored: false, into: &squares)
        let straight = trimmedRootMeanSquare(&squares)
        guard matchingMirrorImage else { return straight }
        squaredDifferences(a, b, side: side, mirrored: true, into: &squares)
        return min(straight, trimmedRootMeanSquare(&squares))
    }

    /// Each pixel's squared difference from `b`'s pixel at the same place, or at the mirrored
    /// column when `mirrored`.
    private static func squaredDifferences(_ a: [Float], _ b: [Float], side: Int, mirrored: Bool, into squares: inout [Float]) {
        for y in 0..<side {
            for x in 0..<side {
                let difference = a[y * side + x] - b[y * side + (mirrored ? side - 1 - x : x)]
                squares[y * side + x] = difference * difference
            }
        }
    }

    /// The root of the mean of `squares` less their largest ``trimmedShare`` (rounded down to
    /// whole values); `squares` is left reordered.
    static func trimmedRootMeanSquare(_ squares: inout [Float]) -> Float {
        let kept = squares.count - Int(Float(squares.count) * trimmedShare)
        guard kept > 0 else { return 0 }
        if kept < squares.count { squares.partitionSmallest(count: kept) }
        return (squares[..<kept].reduce(0, +) / Float(kept)).squareRoot()
    }
}
