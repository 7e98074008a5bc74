import NeuralNet

/// A listwise term on the leading bits of the code, beside the neighbourhood term on the rest:
/// codes in two parts (a departure from the paper; docs/quality.md, twenty-fifth session).
///
/// The neighbourhood term pulls every bit toward one similarity target; when those targets
/// keep classes together (spectral cosines) whole clusters end up sharing codes, and when they
/// follow fine similarity the classes come apart. Here the leading ``bits`` are trained by
/// SimCLR's contrastive loss (``Loss/normalizedTemperatureCrossEntropy(embeddings:temperature:)``)
/// between each anchor of a neighbour-sampled batch and its partner — one of its neighbours or
/// a second view of it (with views off, the image itself: a pair that teaches nothing) —
/// against every other image of the batch: they order each image's own
/// nearest first and tell near-duplicates apart. The neighbourhood term then trains only the
/// remaining bits, which keep the class structure. The Hamming distance adds both parts up.
public struct ListwiseTerm: Codable, Sendable, Equatable {
    /// The leading bits the listwise term trains; the neighbourhood term trains the others.
    public var bits: Int
    /// Weight of the term relative to the neighbourhood term (as the quantisation and anchor
    /// terms' weights are).
    public var weight: Float
    /// The contrastive loss's temperature τ: smaller values weigh the nearest wrong partners more.
    public var temperature: Float
    /// Weight of the quantisation term on the listwise bits; nil: the run's quantisation weight,
    /// as on every other bit (the paper's objective). `0` leaves the listwise bits free of it:
    /// pulled toward ±1 from the first step, they fall into the clusters the other bits form
    /// (docs/quality.md, twenty-sixth session).
    public var quantizationWeight: Float?

    public init(bits: Int, weight: Float = 1, temperature: Float = 0.2, quantizationWeight: Float? = nil) {
        self.bits = bits
        self.weight = weight
        self.temperature = temperature
        self.quantizationWeight = quantizationWeight
    }

    /// Where the model file puts each trained bit: position `p` of the written code is trained
    /// bit `order[p]`. The neighbourhood term's bits (nearly cluster ids) are spread evenly
    /// among the listwise bits, so each substring the store's multi-index hashing cuts the code
    /// into holds some of both kinds: kept together at the end they would fill a 16-bit
    /// substring with a few dozen values and its largest bucket with a sixth of the database
    /// (docs/quality.md, twenty-sixth session). Hamming distances are the same in either order.
    public func codeBitOrder(codeBits: Int) -> [Int] {
        let neighborhoodBits = codeBits - bits
        let neighborhoodPositions = Set((0..<neighborhoodBits).map { (2 * $0 + 1) * codeBits / (2 * neighborhoodBits) })
        var nextListwise = 0, nextNeighborhood = bits
        return (0..<codeBits).map { position in
            if neighborhoodPositions.contains(position) {
                defer { nextNeighborhood += 1 }
                return nextNeighborhood
            }
            defer { nextListwise += 1 }
            return nextListwise
        }
    }

    /// Checks the term against a code of `codeBits` bits and the run's batch sampling.
    func validate(codeBits: Int, sampling: BatchSampling) throws {
        guard bits >= 1, bits < codeBits else {
            throw BGANError(.invalidArgument, "the listwise term's \(bits) bits must leave between 1 and \(codeBits - 1) of the \(codeBits)-bit code to the neighbourhood term")
        }
        guard weight > 0, weight.isFinite, temperature > 0, temperature.isFinite else {
            throw BGANError(.invalidArgument, "the listwise term's weight (\(weight)) and temperature (\(temperature)) must be positive")
        }
        if let quantizationWeight, !(quantizationWeight >= 0 && quantizationWeight.isFinite) {
            throw BGANError(.invalidArgument, "the quantisation weight on the listwise bits (\(quantizationWeight)) must be 0 or positive")
        }
        guard sampling != .shuffled else {
            throw BGANError(.invalidArgument, "the listwise term pairs each anchor with its partner: it needs neighbour sampling (neighbours or neighbours-and-views), not shuffled batches")
        }
    }
}
