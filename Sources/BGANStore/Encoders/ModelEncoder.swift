import BGAN
import Foundation
import PixelIO

/// A BGAN model file (`BGAN.ModelFile`) as a store's encoder: images are brought to the
/// model's input (`BGAN.Preprocessing`) when prepared, and encoded in batches through BLAS.
/// Its identity is the model file's digest. A store bound to it keeps the file inside, so it
/// opens without it.
public final class ModelEncoder: ImageCodeEncoder, @unchecked Sendable {
    /// Identity name of every model encoder; the version is the model's digest.
    public static let identityName = "bgan-model"

    public let model: ModelFile
    public let identity: EncoderIdentity
    public var bitCount: Int { model.header.architecture.bits }

    private let lock = NSLock()
    // Built at the first encode (a model's networks take tens of MB); its layers keep work
    // buffers per call, hence the lock.
    private var network: ImageEncoder?

    public init(model: ModelFile) {
        self.model = model
        identity = EncoderIdentity(name: Self.identityName, version: model.digest)
    }

    /// The longer side of the model's input: its preprocessing area-averages down to it.
    public var minimumInputSide: Int? {
        let p = model.header.preprocessing
        return max(p.height, p.width)
    }

    /// A model that averages mirror images gives an image and its mirror image one code.
    public var isMirrorInvariant: Bool { model.header.averagesMirrorImages }

    public func prepare(_ image: PixelBuffer) throws -> [Float] {
        model.header.preprocessing.input(from: image)
    }

    /// A model refining by its hidden layer or keeping pixels in its refinement vectors
    /// (`ModelFile.Header.refinementVectors`, `refinementPixels`) has stores keep that vector.
    public var refinementWidth: Int? { model.header.refinementWidth }

    public func encode(_ prepared: [[Float]]) throws -> [Float] {
        try run(prepared) { try $0.realValuedOutputs(of: $1) }
    }

    /// The outputs and the refinement vectors the model's stores keep, from one pass.
    public func encodeWithRefinement(_ prepared: [[Float]]) throws -> [Float] {
        guard refinementWidth != nil else { return try encode(prepared) }
        return try run(prepared) { try $0.outputsAndRefinementVectors(of: $1) }
    }

    /// `pass` on the network (built at the first call) with the prepared images laid end to end.
    private func run(_ prepared: [[Float]], _ pass: (ImageEncoder, [Float]) throws -> [Float]) throws -> [Float] {
        var input: [Float] = []
        input.reserveCapacity(prepared.reduce(0) { $0 + $1.count })
        for values in prepared { input += values }
        lock.lock()
        defer { lock.unlock() }
        if network == nil { network = try ImageEncoder(model: model) }
        return try pass(network!, input)
    }
}
