import Foundation
@testable import BGAN
import NeuralNet
import PixelIO
import Testing

/// A model may have stores refine by its hidden layer instead of its outputs: the setting travels
/// in a format-5 file with a new digest, and one pass of the network gives both layers.
@Suite struct RefinementVectorsTests {
    @Test func theSettingTravelsInAVersion5FileWithANewDigest() throws {
        let bundled = try DefaultModel.load(bits: 32)
        #expect(bundled.header.refinementVectors == .outputs)
        #expect(!String(decoding: bundled.encoded(), as: UTF8.self).contains("refinementVectors"), "a model without it does not name it")
        let hidden = bundled.refining(by: .hiddenLayer)
        #expect(hidden.digest != bundled.digest && hidden.parameters == bundled.parameters)
        let parsed = try ModelFile(bytes: hidden.encoded())
        #expect(parsed.header.refinementVectors == .hiddenLayer && parsed.digest == hidden.digest && parsed.encoded()[8] == 5)
        #expect(parsed.header.averagesMirrorImages == bundled.header.averagesMirrorImages, "other settings kept")
        #expect(parsed.header.training[ModelFile.refinementChosenNote]?.contains("hidden-layer, set after training") == true)
        #expect(hidden.refining(by: .hiddenLayer).digest == hidden.digest, "setting it again changes nothing")
        #expect(hidden.refining(by: .outputs).encoded() == bundled.encoded(), "setting it back gives the original file")
    }

    @Test func aFileClaimingAnOlderVersionIsRefused() throws {
        let hidden = try DefaultModel.load(bits: 32).refining(by: .hiddenLayer)
        var bytes = Array(hidden.encoded().dropLast(32))
        bytes[8] = 4
        let resigned = bytes + SHA256.hash(bytes)
        let error = #expect(throws: BGANError.self) { try ModelFile(bytes: resigned) }
        #expect(error?.message.contains("refinement by the hidden layer") == true, "\(error?.message ?? "")")
    }

    @Test func onePassGivesTheOutputsThenTheHiddenLayer() throws {
        for model in [try DefaultModel.load(bits: 32), try DefaultModel.load(bits: 32).averagingMirrorImages(false)] {
            let encoder = try ImageEncoder(model: model)
            // More than one batch, the last one partial.
            let count = ImageEncoder.batchSize + 5
            let images = try ImageSet(contentsOf: MirrorAveragingTests.fashion).scaledPixels(0..<count)
            let rows = try encoder.outputsAndHiddenFeatures(of: images)
            let outputs = try encoder.realValuedOutputs(of: images), hidden = try encoder.hiddenFeatures(of: images)
            let width = encoder.bits + encoder.hiddenUnits
            try #require(rows.count == count * width)
            for image in [0, 1, ImageEncoder.batchSize, count - 1] {
                let row = Array(rows[(image * width)..<((image + 1) * width)])
                #expect(Array(row.prefix(encoder.bits)) == Array(outputs[(image * encoder.bits)..<((image + 1) * encoder.bits)]),
                        "image \(image): the outputs, bit for bit (mirror averaging \(model.header.averagesMirrorImages))")
                #expect(Array(row.dropFirst(encoder.bits)) == Array(hidden[(image * encoder.hiddenUnits)..<((image + 1) * encoder.hiddenUnits)]),
                        "image \(image): the hidden layer, bit for bit")
            }
        }
    }
}
