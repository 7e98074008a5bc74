import NeuralNet

extension TrainingSession {
    /// Images whose real-valued outputs set ``codeBitScales()``: about this many, evenly spread.
    static let outputScaleSample = 10_000

    /// One positive scale per bit that gives each bit's real-valued output (`h`, before the
    /// sign) a root mean square of 1 over an even sample of the training images.
    ///
    /// A store refines the Hamming candidates by the cosine of these values (``Refinement``
    /// in HammingSearch), so their scale decides how much each bit counts there. Codes in two
    /// parts need it: the neighbourhood term's bits, pulled to ±1 by the quantisation term,
    /// come out about six times as large as the listwise bits, which the quantisation term
    /// does not touch, and would decide the cosine alone (docs/quality.md, twenty-sixth session).
    func codeBitScales() throws -> (scales: [Float], images: Int) {
        let bits = settings.architecture.bits, count = images.count
        let sample = Array(stride(from: 0, to: count, by: max(1, count / Self.outputScaleSample)))
        let a = settings.architecture
        var squares = [Double](repeating: 0, count: bits)
        for start in stride(from: 0, to: sample.count, by: 500) {
            let indices = Array(sample[start..<min(start + 500, sample.count)])
            let batch = Tensor(shape: [indices.count, a.channels, a.height, a.width], storage: try images.gather(indices))
            let h = try networks.preSignOutputs(of: batch)
            for (i, value) in h.storage.enumerated() { squares[i % bits] += Double(value * value) }
        }
        let scales = squares.map { sum -> Float in
            let rms = Float((sum / Double(sample.count)).squareRoot())
            return rms > 0 && rms.isFinite ? 1 / rms : 1
        }
        return (scales, sample.count)
    }
}
