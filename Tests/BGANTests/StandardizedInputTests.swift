@testable import BGAN
import NeuralNet
import Testing

/// A model whose encoder standardises its input gives an image and a brighter or lower-contrast
/// copy of it the same outputs; its file says so in a format older builds refuse.
@Suite struct StandardizedInputTests {
    /// A random-weight model of 3×8×8 images with 16-bit codes, standardising or not.
    func model(standardizing: Bool, mirrorAveraging: Bool = false, robustly: Bool = false) throws -> ModelFile {
        let architecture = BGANArchitecture(channels: 3, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 24, featureUnits: 16,
                                            standardizesInput: standardizing, standardizesRobustly: robustly)
        let networks = try BGANNetworks(architecture: architecture, beta: 2, seed: 7)
        let header = ModelFile.Header(architecture: architecture, preprocessing: Preprocessing(channels: 3, height: 8, width: 8),
                                      training: [:], beta: 2, averagesMirrorImages: mirrorAveraging)
        return ModelFile(header: header, encoder: networks)
    }

    /// Five images of values in [0.2, 0.8], each different.
    let images: [Float] = {
        var rng = SeededGenerator(seed: 3)
        return (0..<(5 * 192)).map { _ in 0.2 + 0.6 * Float(rng.next() >> 40) / Float(1 << 24) }
    }()

    @Test func brightnessAndContrastChangesGiveTheSameOutputs() throws {
        let brighter = images.map { 1.2 * $0 }, flatter = images.map { 0.5 + 0.8 * ($0 - 0.5) }
        let standardizing = try ImageEncoder(model: try model(standardizing: true))
        let outputs = try standardizing.realValuedOutputs(of: images)
        for changed in [brighter, flatter] {
            let again = try standardizing.realValuedOutputs(of: changed)
            let largest = zip(outputs, again).map { abs($0 - $1) }.max() ?? .infinity
            let scale = outputs.map { abs($0) }.max() ?? 0
            #expect(largest < 0.01 * scale, "largest difference \(largest) of outputs up to \(scale)")
        }
        let plain = try ImageEncoder(model: try model(standardizing: false))
        let plainOutputs = try plain.realValuedOutputs(of: images), plainBrighter = try plain.realValuedOutputs(of: brighter)
        let moved = zip(plainOutputs, plainBrighter).map { abs($0 - $1) }.max() ?? 0
        #expect(moved > 0.05 * (plainOutputs.map { abs($0) }.max() ?? 0), "without it the same change moves the outputs (\(moved))")
    }

    @Test func theSettingTravelsInAVersion3File() throws {
        let plain = try model(standardizing: false), standardizing = try model(standardizing: true)
        #expect(plain.encoded()[8] == 1 && !String(decoding: plain.encoded(), as: UTF8.self).contains("standardisedInput"),
                "a model without it stays format version 1 and its header does not name it")
        #expect(standardizing.encoded()[8] == 3)
        #expect(try model(standardizing: true, mirrorAveraging: true).encoded()[8] == 3, "version 3 covers mirror averaging too")
        #expect(try model(standardizing: false, mirrorAveraging: true).encoded()[8] == 2)
        let parsed = try ModelFile(bytes: standardizing.encoded())
        #expect(parsed.header.architecture.standardizesInput && parsed.digest == standardizing.digest)
        #expect(try parsed.encoderNetwork().layers.first is SampleStandardization)
        #expect(!(try plain.encoderNetwork().layers.first is SampleStandardization))
        // The same weights with the setting in a file of another version are refused.
        var bytes = standardizing.encoded()
        bytes[8] = 2
        let body = Array(bytes.dropLast(32))
        let resealed = body + SHA256.hash(body)
        #expect {
            try ModelFile(bytes: resealed)
        } throws: { error in
            "\(error)".contains("asks for a standardised input, which makes format version 3, but it is format version 2")
        }
    }

    /// A robust standardisation reaches the encoder's first layer and makes the file format
    /// version 4 (a version-3 reader would standardise by the mean and give other codes); a model
    /// with it also ignores brightness and contrast changes.
    @Test func aRobustStandardisationTravelsInAVersion4File() throws {
        let robust = try model(standardizing: true, robustly: true)
        #expect(robust.encoded()[8] == 4 && String(decoding: robust.encoded(), as: UTF8.self).contains("\"robustStandardisation\":true"))
        let parsed = try ModelFile(bytes: robust.encoded())
        #expect(parsed.header.architecture.standardizesRobustly && parsed.digest == robust.digest)
        #expect(try parsed.encoderNetwork().layers.first is RobustSampleStandardization)
        #expect(!String(decoding: try model(standardizing: true).encoded(), as: UTF8.self).contains("robustStandardisation"))
        let encoder = try ImageEncoder(model: robust)
        let outputs = try encoder.realValuedOutputs(of: images)
        let again = try encoder.realValuedOutputs(of: images.map { 0.5 + 0.8 * ($0 - 0.5) })
        let largest = zip(outputs, again).map { abs($0 - $1) }.max() ?? .infinity
        #expect(largest < 0.01 * (outputs.map { abs($0) }.max() ?? 0), "a lower-contrast copy moves the outputs by \(largest)")
        let plain = try ImageEncoder(model: try model(standardizing: true)).realValuedOutputs(of: images)
        #expect(zip(outputs, plain).contains { abs($0 - $1) > 0.01 }, "the two standardisations give other outputs")
        var bytes = robust.encoded()
        bytes[8] = 3
        let body = Array(bytes.dropLast(32))
        #expect {
            try ModelFile(bytes: body + SHA256.hash(body))
        } throws: { error in
            "\(error)".contains("asks for a robustly standardised input, which makes format version 4, but it is format version 3")
        }
        #expect {
            try model(standardizing: false, robustly: true).header.architecture.validate()
        } throws: { error in
            "\(error)".contains("give --standardise-input too")
        }
    }
}
