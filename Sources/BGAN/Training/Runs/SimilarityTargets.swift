/// The targets of the neighbourhood loss: what the cosine of two images' codes is pulled toward.
///
/// Written as text in model files and on the command line (`description` and `init?(_:)` are
/// inverses): `neighbours`, `spectral:D`, `spectral:D+features:W`.
public enum SimilarityTargets: Sendable, Equatable, LosslessStringConvertible {
    /// The paper's S: +1 for similar pairs, the dissimilar target for the others.
    case neighbors
    /// Cosines of a `dimensions`-wide spectral embedding of the features' 10-NN graph (clusters),
    /// blended with the features' own cosines at `featureWeight` (fine similarity; 0: none).
    case spectral(dimensions: Int, featureWeight: Float)

    public init?(_ text: String) {
        if text == "neighbours" { self = .neighbors; return }
        let parts = text.split(separator: "+", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts[0].hasPrefix("spectral:"), let dimensions = Int(parts[0].dropFirst(9)),
              (1...64).contains(dimensions) else { return nil }
        guard parts.count == 2 else { self = .spectral(dimensions: dimensions, featureWeight: 0); return }
        guard parts[1].hasPrefix("features:"), let weight = Float(parts[1].dropFirst(9)), (0...1).contains(weight) else { return nil }
        self = .spectral(dimensions: dimensions, featureWeight: weight)
    }

    public var description: String {
        switch self {
        case .neighbors: "neighbours"
        case .spectral(let dimensions, let weight) where weight == 0: "spectral:\(dimensions)"
        case .spectral(let dimensions, let weight): "spectral:\(dimensions)+features:\(weight)"
        }
    }

    /// What the text forms are, for error messages and help.
    public static let syntax = "neighbours, spectral:DIMENSIONS (1 to 64) or spectral:DIMENSIONS+features:WEIGHT (a weight from 0 to 1)"
}
