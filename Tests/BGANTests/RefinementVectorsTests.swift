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
        #expect(parsed.header.training[ModelFile.refinementChosenNote] == "outputs when trained")
        #expect(parsed.header.refinementWidth == bundled.header.architecture.hiddenUnits && bundled.header.refinementWidth == nil)
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

    @Test func pixelsTravelInTheHeaderAndTheNoteKeepsTheTrainedSetting() throws {
        let bundled = try DefaultModel.load(bits: 32)
        let pixels = ModelFile.PixelSignature(side: 7, weight: 2)
        let both = bundled.refining(by: .hiddenLayer, pixels: pixels)
        let parsed = try ModelFile(bytes: both.encoded())
        #expect(parsed.header.refinementPixels == pixels && parsed.encoded()[8] == 5)
        #expect(parsed.header.refinementWidth == bundled.header.architecture.hiddenUnits + 49)
        #expect(bundled.refining(by: .outputs, pixels: pixels).header.refinementWidth == 32 + 49)
        // Changed twice: the note still names the setting it was trained with; back to it, the original file.
        let twice = both.refining(by: .outputs, pixels: pixels)
        #expect(twice.header.training[ModelFile.refinementChosenNote] == "outputs when trained")
        #expect(twice.refining(by: .outputs).encoded() == bundled.encoded())
        #expect(both.refining(by: .hiddenLayer, pixels: pixels).digest == both.digest)
    }

    @Test func aSignatureThatDoesNotFitTheInputIsRefused() throws {
        let bundled = try DefaultModel.load(bits: 32).refining(by: .outputs, pixels: ModelFile.PixelSignature(side: 7, weight: 2))
        let bytes = bundled.encoded()
        let headerLength = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        let header = String(decoding: bytes[16..<(16 + headerLength)], as: UTF8.self)
        for (from, to) in [("\"side\":7", "\"side\":5"), ("\"weight\":2", "\"weight\":0")] {
            let changed = Array(header.replacingOccurrences(of: from, with: to).utf8)
            try #require(changed.count == headerLength && changed != Array(header.utf8), "\(from) in \(header.prefix(80))…")
            let body = Array(bytes[..<16]) + changed + Array(bytes[(16 + headerLength)..<(bytes.count - 32)])
            let error = #expect(throws: BGANError.self) { try ModelFile(bytes: body + SHA256.hash(body)) }
            #expect(error?.message.contains("pixel signature") == true, "\(error?.message ?? "")")
        }
    }

    /// The refinement vector with pixels: the layer at unit length, then the standardised input
    /// averaged over blocks (and with its mirror image), at length √weight — computed here the obvious way.
    @Test func pixelsAreTheStandardisedInputPooledBesideTheLayer() throws {
        let pixels = ModelFile.PixelSignature(side: 7, weight: 2)
        for base in [try DefaultModel.load(bits: 32), try DefaultModel.load(bits: 32).averagingMirrorImages(false)] {
            let model = base.refining(by: .outputs, pixels: pixels)
            let encoder = try ImageEncoder(model: model)
            let count = 9
            let images = try ImageSet(contentsOf: MirrorAveragingTests.fashion).scaledPixels(0..<count)
            let rows = try encoder.outputsAndRefinementVectors(of: images)
            let outputs = try ImageEncoder(model: base).realValuedOutputs(of: images)
            let width = 32 + 32 + 49
            try #require(encoder.refinementWidth == 32 + 49 && rows.count == count * width)
            for image in 0..<count {
                let row = Array(rows[(image * width)..<((image + 1) * width)])
                let own = Array(outputs[(image * 32)..<((image + 1) * 32)])
                #expect(Array(row.prefix(32)) == own, "the code's values come first, unchanged")
                let norm = own.reduce(0) { $0 + $1 * $1 }.squareRoot()
                #expect(zip(row[32..<64], own).allSatisfy { abs($0 - $1 / norm) < 1e-5 }, "then the outputs at unit length")
                let x = Array(images[(image * 784)..<((image + 1) * 784)])
                let mean = x.reduce(0, +) / 784
                let deviation = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 784 + 1e-4).squareRoot()
                var pooled = [Float](repeating: 0, count: 49)
                for y in 0..<28 { for column in 0..<28 { pooled[(y / 4) * 7 + column / 4] += (x[y * 28 + column] - mean) / deviation / 16 } }
                if base.header.averagesMirrorImages {
                    pooled = (0..<49).map { (pooled[$0] + pooled[($0 / 7) * 7 + 6 - $0 % 7]) / 2 }
                }
                let pooledNorm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let expected = pooled.map { $0 / pooledNorm * Float(2).squareRoot() }
                let largest = zip(row[64...], expected).map { abs($0 - $1) }.max() ?? .infinity
                #expect(largest < 1e-4, "image \(image), mirror averaging \(base.header.averagesMirrorImages): pixels off by \(largest)")
            }
        }
    }
}
