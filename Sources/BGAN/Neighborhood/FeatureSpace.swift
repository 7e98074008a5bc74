import Foundation
import NeuralNet

/// The space in which training looks for each image's neighbours: where the neighbourhood
/// structure S, the spectral targets and neighbour partners come from.
///
/// Written as text in model files, checkpoints and on the command line (`description` and
/// `init?(_:)` are inverses): `pixels`, `pca:D`, `smoothed:D:STEPS`, `model:FILE`,
/// `hidden:FILE`, and any of these followed by `+pixels:WEIGHT`.
public indirect enum FeatureSpace: Sendable, Equatable, LosslessStringConvertible {
    /// The images' values as they are.
    case pixels
    /// The first `dimensions` principal components of the pixels.
    case principalComponents(dimensions: Int)
    /// Those components averaged `steps` times over each image's 10 nearest neighbours.
    case smoothed(dimensions: Int, steps: Int)
    /// A trained model's encoder outputs `h` before the sign, scaled to unit length.
    case modelOutputs(path: String)
    /// A trained model's hidden layer, scaled to unit length.
    case modelHidden(path: String)
    /// A space's rows followed by each image's centred pixels at unit length times `weight`
    /// (``FeatureConcatenation``): a learned space corrected by what pixels see.
    case joinedWithPixels(FeatureSpace, weight: Float)

    /// Neighbours of each image in the graph that `smoothed` averages over.
    public static let smoothingNeighbors = 10

    public init?(_ text: String) {
        if let plus = text.range(of: "+pixels:", options: .backwards) {
            guard let weight = Float(text[plus.upperBound...]), weight > 0, weight.isFinite,
                  let base = FeatureSpace(String(text[..<plus.lowerBound])) else { return nil }
            self = .joinedWithPixels(base, weight: weight)
            return
        }
        if text == "pixels" { self = .pixels; return }
        if text.hasPrefix("model:"), text.count > 6 { self = .modelOutputs(path: String(text.dropFirst(6))); return }
        if text.hasPrefix("hidden:"), text.count > 7 { self = .modelHidden(path: String(text.dropFirst(7))); return }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, parts[0] == "pca", let dimensions = Int(parts[1]), dimensions >= 1 {
            self = .principalComponents(dimensions: dimensions)
            return
        }
        if parts.count == 3, parts[0] == "smoothed", let dimensions = Int(parts[1]), let steps = Int(parts[2]), dimensions >= 1, steps >= 0 {
            self = .smoothed(dimensions: dimensions, steps: steps)
            return
        }
        return nil
    }

    public var description: String {
        switch self {
        case .pixels: "pixels"
        case .principalComponents(let dimensions): "pca:\(dimensions)"
        case .smoothed(let dimensions, let steps): "smoothed:\(dimensions):\(steps)"
        case .modelOutputs(let path): "model:\(path)"
        case .modelHidden(let path): "hidden:\(path)"
        case .joinedWithPixels(let base, let weight): "\(base)+pixels:\(weight)"
        }
    }

    /// The space as a model file's training note records it: a model named by the digest of its
    /// file (`digest(path)`) instead of the path it was read from, so the note — and the digest
    /// of the model that carries it — do not depend on where a run kept its files.
    public func note(digest: (String) throws -> String) rethrows -> String {
        switch self {
        case .modelOutputs(let path): "model:" + (try digest(path))
        case .modelHidden(let path): "hidden:" + (try digest(path))
        case .joinedWithPixels(let base, let weight): "\(try base.note(digest: digest))+pixels:\(weight)"
        default: description
        }
    }

    /// What the text forms are, for error messages and help.
    public static let syntax = "pixels, pca:DIMENSIONS, smoothed:DIMENSIONS:STEPS, model:FILE or hidden:FILE, optionally followed by +pixels:WEIGHT"

    /// The features of `count` images (`pixels`: `count × channels × height × width` values in
    /// [0, 1]), row after row, and their width.
    /// - Throws: ``BGANError`` `.invalidArgument` when the space asks for more components than
    ///   the images have values, `.modelNotFound` / `.invalidModelFile` for an unreadable model,
    ///   `.invalidArgument` when the model takes images of another geometry.
    public func features(of pixels: [Float], channels: Int, height: Int, width: Int) throws -> (values: [Float], width: Int) {
        try features(of: try ImageRows(floats: pixels, valuesPerImage: channels * height * width), channels: channels, height: height, width: width)
    }

    /// The features of `images` (`channels × height × width` values each, in [0, 1]), row after
    /// row, and their width. A model's features are computed a batch of images at a time; the
    /// other spaces read every image's values as floats at once.
    public func features(of images: ImageRows, channels: Int, height: Int, width: Int) throws -> (values: [Float], width: Int) {
        let dimension = channels * height * width
        try images.requireShape(channels: channels, height: height, width: width)
        if let model = try modelRows(of: images, channels: channels, height: height, width: width, inScratchFile: false) {
            return (try model.allRows(), model.dimension)
        }
        let pixels = try images.floats()
        switch self {
        case .pixels:
            return (pixels, dimension)
        case .principalComponents(let dimensions):
            try Self.check(dimensions: dimensions, of: dimension)
            return (try PrincipalComponents(features: pixels, dimension: dimension, dimensions: dimensions).project(pixels), dimensions)
        case .smoothed(let dimensions, let steps):
            try Self.check(dimensions: dimensions, of: dimension)
            let projected = try PrincipalComponents(features: pixels, dimension: dimension, dimensions: dimensions).project(pixels)
            let graph = NearestNeighborLists.searching(projected, dimension: dimensions, k: Self.smoothingNeighbors)
            return (GraphSmoothing.smooth(projected, dimension: dimensions, neighbors: graph, steps: steps), dimensions)
        case .modelOutputs, .modelHidden:
            preconditionFailure("model features are computed above, a batch at a time")
        case .joinedWithPixels(let base, let weight):
            let (values, baseWidth) = try base.features(of: pixels, channels: channels, height: height, width: width)
            return (FeatureConcatenation.joiningCentredPixels(values, width: baseWidth, pixels: pixels, dimension: dimension, weight: weight),
                    baseWidth + dimension)
        }
    }

    /// The features of `images` as rows read when they are needed: a model's features written
    /// into a temporary file when `inScratchFile` (256 bytes an image at 64 dimensions, which a
    /// training run on a million images then does not hold), pixels read from the images
    /// themselves, any other space computed whole in memory. The same values as
    /// ``features(of:channels:height:width:)-(ImageRows,_,_,_)``.
    /// - Throws: as ``features(of:channels:height:width:)-(ImageRows,_,_,_)``, and ``FileError``
    ///   when the temporary file cannot be written.
    public func rows(of images: ImageRows, channels: Int, height: Int, width: Int, inScratchFile: Bool) throws -> FeatureRows {
        try images.requireShape(channels: channels, height: height, width: width)
        if let model = try modelRows(of: images, channels: channels, height: height, width: width, inScratchFile: inScratchFile) {
            return model
        }
        if self == .pixels { return FeatureRows(pixelsOf: images) }
        let (values, dimension) = try features(of: images, channels: channels, height: height, width: width)
        return FeatureRows(values, dimension: dimension)
    }

    /// A model space's features (nil for the other spaces), a batch of images at a time.
    private func modelRows(of images: ImageRows, channels: Int, height: Int, width: Int, inScratchFile: Bool) throws -> FeatureRows? {
        switch self {
        case .modelOutputs(let path):
            try Self.modelFeatures(path: path, hidden: false, images: images, channels: channels, height: height, width: width, inScratchFile: inScratchFile)
        case .modelHidden(let path):
            try Self.modelFeatures(path: path, hidden: true, images: images, channels: channels, height: height, width: width, inScratchFile: inScratchFile)
        default:
            nil
        }
    }

    private static func check(dimensions: Int, of dimension: Int) throws {
        guard dimensions <= dimension else {
            throw BGANError(.invalidArgument, "\(dimensions) principal components asked of images with \(dimension) values; ask for at most \(dimension)")
        }
    }

    private static func modelFeatures(path: String, hidden: Bool, images: ImageRows, channels: Int, height: Int, width: Int,
                                      inScratchFile: Bool) throws -> FeatureRows {
        // Through the inference encoder, so the features are the model's outputs as every other
        // user of the model gets them (mirror images averaged when the model says so).
        let encoder = try ImageEncoder(model: DefaultModel.load(path: path, bits: 0))
        let a = encoder.model.header.architecture
        guard a.channels == channels, a.height == height, a.width == width else {
            throw BGANError(.invalidArgument, "\(path) takes \(a.channels)×\(a.height)×\(a.width) images, these are \(channels)×\(height)×\(width): "
                                + "use a model trained on images of this geometry")
        }
        let count = images.count
        let rowWidth = hidden ? a.hiddenUnits : a.bits
        func batches(_ append: ([Float]) throws -> Void) throws {
            for start in stride(from: 0, to: count, by: 256) {
                let size = min(256, count - start)
                let batch = try images.floats(start..<(start + size))
                var features = try hidden ? encoder.hiddenFeatures(of: batch) : encoder.realValuedOutputs(of: batch)
                // Directions, not lengths: contrastive training only shapes the angles between outputs.
                for row in stride(from: 0, to: features.count, by: rowWidth) {
                    var sum: Float = 0
                    for k in row..<(row + rowWidth) { sum += features[k] * features[k] }
                    let scale = sum > 0 ? 1 / sum.squareRoot() : 0
                    for k in row..<(row + rowWidth) { features[k] *= scale }
                }
                try append(features)
            }
        }
        if inScratchFile {
            return try FeatureRows.inScratchFile(dimension: rowWidth, purpose: "the \(hidden ? "hidden features" : "outputs") of \(path)", writing: batches)
        }
        var features: [Float] = []
        features.reserveCapacity(count * rowWidth)
        try batches { features += $0 }
        return FeatureRows(features, dimension: rowWidth)
    }
}
