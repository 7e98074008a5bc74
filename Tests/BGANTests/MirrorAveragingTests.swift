import Foundation
@testable import BGAN
import NeuralNet
import PixelIO
import Testing

/// A model that averages mirror images gives an image and its mirror image one output, the mean
/// of the network's outputs for the two; its file says so in a format older builds refuse.
@Suite struct MirrorAveragingTests {
    static let fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

    /// The first `count` test images in the model's scale, and the same images mirrored.
    func imagesAndMirrors(_ count: Int) throws -> (images: [Float], mirrors: [Float]) {
        let images = try ImageSet(contentsOf: Self.fashion).scaledPixels(0..<count)
        var mirrors = images
        for row in stride(from: 0, to: images.count, by: 28) {
            for x in 0..<28 { mirrors[row + x] = images[row + 27 - x] }
        }
        return (images, mirrors)
    }

    @Test func outputsAreTheMeanOfTheImagesAndTheirMirrorImages() throws {
        let plain = try DefaultModel.load(bits: 32).averagingMirrorImages(false)
        let averaging = plain.averagingMirrorImages(true)
        let plainEncoder = try ImageEncoder(model: plain), averagingEncoder = try ImageEncoder(model: averaging)
        // More than one batch, the last one partial.
        let count = ImageEncoder.batchSize + 21
        let (images, mirrors) = try imagesAndMirrors(count)
        for hidden in [false, true] {
            func run(_ encoder: ImageEncoder, _ pixels: [Float]) throws -> [Float] {
                try hidden ? encoder.hiddenFeatures(of: pixels) : encoder.realValuedOutputs(of: pixels)
            }
            let ofImages = try run(plainEncoder, images), ofMirrors = try run(plainEncoder, mirrors)
            let averaged = try run(averagingEncoder, images), averagedMirrors = try run(averagingEncoder, mirrors)
            try #require(averaged.count == count * (hidden ? plainEncoder.hiddenUnits : 32))
            let largest = zip(averaged, zip(ofImages, ofMirrors)).map { abs($0 - ($1.0 + $1.1) / 2) }.max() ?? .infinity
            #expect(largest < 1e-4, "hidden \(hidden): largest difference from the mean \(largest)")
            #expect(averaged == averagedMirrors, "hidden \(hidden): an image and its mirror image get the same values, bit for bit")
            #expect(ofImages != ofMirrors, "hidden \(hidden): the network alone tells the two apart")
        }
        let codes = try averagingEncoder.signs(of: images), mirrorCodes = try averagingEncoder.signs(of: mirrors)
        #expect(codes == mirrorCodes)
        #expect(try plainEncoder.signs(of: images) != (try plainEncoder.signs(of: mirrors)))
    }

    @Test func theSettingTravelsInAVersion2FileWithANewDigest() throws {
        let plain = try DefaultModel.load(bits: 32).averagingMirrorImages(false)
        #expect(!plain.header.averagesMirrorImages && plain.encoded()[8] == 1, "a model without it stays format version 1")
        #expect(!String(decoding: plain.encoded(), as: UTF8.self).contains("mirrorAveraging"), "and its header does not name it")
        let averaging = plain.averagingMirrorImages(true)
        #expect(averaging.digest != plain.digest && averaging.parameters == plain.parameters)
        let parsed = try ModelFile(bytes: averaging.encoded())
        #expect(parsed.header.averagesMirrorImages && parsed.digest == averaging.digest && parsed.encoded()[8] == 2)
        #expect(parsed.header.training[ModelFile.changedAfterTrainingNote]?.contains("after training") == true)
        #expect(averaging.averagingMirrorImages(true).digest == averaging.digest, "setting it again changes nothing")
        #expect(averaging.averagingMirrorImages(false).encoded() == plain.encoded(), "turning it off again gives the original file back")
        // A model trained with it and turned off notes that; turned on again, it is the trained file.
        var trainedHeader = averaging.header
        trainedHeader.training.removeValue(forKey: ModelFile.changedAfterTrainingNote)
        let trained = ModelFile(header: trainedHeader, encoderParameters: try plain.networks().encoderParameters)
        let off = trained.averagingMirrorImages(false)
        #expect(!off.header.averagesMirrorImages && off.header.training[ModelFile.changedAfterTrainingNote] == "removed after training")
        #expect(off.averagingMirrorImages(true).encoded() == trained.encoded())
    }

    /// The bundled 32-bit model is an earlier model's weights with mirror averaging set: turned
    /// off, it is that file again (docs/quality.md, thirty-sixth session).
    @Test func theBundled32BitModelIsItsWeightsWithMirrorAveraging() throws {
        let bundled = try DefaultModel.load(bits: 32)
        #expect(bundled.header.averagesMirrorImages)
        #expect(bundled.averagingMirrorImages(false).digest.hasPrefix("08c9db15"))
    }

    /// The bundled 64-bit model was written with mirror averaging by `train` itself (forty-third
    /// session): its notes say the losses saw unaveraged outputs, and nothing was changed after.
    @Test func theBundled64BitModelWasTrainedToAverageMirrorImages() throws {
        let bundled = try DefaultModel.load(bits: 64)
        #expect(bundled.header.averagesMirrorImages)
        #expect(bundled.header.training["mirror_averaging_in_training"]?.hasPrefix("none: the losses saw each image's own outputs") == true)
        #expect(bundled.header.training[ModelFile.changedAfterTrainingNote] == nil)
    }

    /// A file without the setting is written as it always was: the header read back and written
    /// again gives the same bytes.
    @Test func aFileWithoutItKeepsItsBytes() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/bad/models/valid-16bit.bganmodel")
        let bytes = Array(try Data(contentsOf: fixture))
        let model = try ModelFile(bytes: bytes)
        #expect(!model.header.averagesMirrorImages && bytes[8] == 1)
        #expect(ModelFile.body(header: model.header, parameters: model.parameters) == Array(bytes.dropLast(32)))
    }

    /// Mirror images of colour images reverse each row of each channel.
    @Test func mirrorImagesReverseEveryRowOfEveryChannel() {
        // Two 3×2×4 images (channels × height × width), every value distinct.
        let values = (0..<48).map(Float.init)
        let mirrored = ImageEncoder.mirrorImages(of: values, width: 4)
        for image in 0..<2 {
            for channel in 0..<3 {
                for y in 0..<2 {
                    for x in 0..<4 {
                        let at = ((image * 3 + channel) * 2 + y) * 4
                        #expect(mirrored[at + x] == values[at + 3 - x])
                    }
                }
            }
        }
    }
}
