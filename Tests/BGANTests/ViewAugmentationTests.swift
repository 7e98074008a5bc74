@testable import BGAN
import Foundation
import NeuralNet
import Testing

@Suite struct ViewAugmentationTests {
    /// A 1×8×12 image whose every pixel differs, in [0.1, 0.9].
    let image: [Float] = (0..<96).map { 0.1 + 0.8 * Float(($0 * 37) % 96) / 95 }

    func view(_ augmentation: ViewAugmentation, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var output = [Float](repeating: -1, count: image.count)
        image.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { augmentation.view(of: source, into: $0, channels: 1, height: 8, width: 12, rng: &rng) }
        }
        return output
    }

    func mirrored(_ pixels: [Float]) -> [Float] {
        (0..<8).flatMap { y in (0..<12).reversed().map { pixels[y * 12 + $0] } }
    }

    @Test func theIdentityLeavesTheImageAsItIs() {
        for seed in 0..<5 as Range<UInt64> { #expect(view(.identity, seed: seed) == image) }
    }

    @Test func flipsAloneGiveTheImageOrItsMirrorBothOften() {
        var flipsOnly = ViewAugmentation.identity
        flipsOnly.flips = true
        var mirrors = 0
        for seed in 0..<40 as Range<UInt64> {
            let output = view(flipsOnly, seed: seed)
            #expect(output == image || output == mirrored(image))
            if output == mirrored(image) { mirrors += 1 }
        }
        #expect(mirrors > 8 && mirrors < 32, "\(mirrors) mirrors in 40 views")
    }

    @Test func cropsInterpolateWithinTheImagesRangeAndDifferBySeed() {
        var cropsOnly = ViewAugmentation()
        cropsOnly.brightness = 0
        cropsOnly.noise = 0
        let a = view(cropsOnly, seed: 1), b = view(cropsOnly, seed: 2)
        #expect(a == view(cropsOnly, seed: 1), "seeded")
        #expect(a != b && a != image)
        let low = image.min()!, high = image.max()!
        #expect(a.allSatisfy { $0 >= low - 1e-6 && $0 <= high + 1e-6 }, "bilinear samples stay between their pixels")
    }

    @Test func brightnessScalesAndClips() {
        var brightnessOnly = ViewAugmentation.identity
        brightnessOnly.brightness = 0.5
        var changed = 0
        for seed in 0..<10 as Range<UInt64> {
            let output = view(brightnessOnly, seed: seed)
            #expect(output.allSatisfy { $0 >= 0 && $0 <= 1 })
            // One gain for the whole image: every unclipped pixel's ratio to the original agrees.
            let gains = zip(output, image).filter { $0.0 < 1 }.map { $0.0 / $0.1 }
            #expect(gains.allSatisfy { abs($0 - gains[0]) < 1e-4 && $0 >= 0.5 - 1e-4 && $0 <= 1.5 + 1e-4 })
            if abs(gains[0] - 1) > 0.01 { changed += 1 }
        }
        #expect(changed >= 8)
    }

    @Test func noiseIsSeededZeroMeanAndBounded() throws {
        var noiseOnly = ViewAugmentation.identity
        noiseOnly.noise = 0.04
        let a = view(noiseOnly, seed: 5)
        #expect(a == view(noiseOnly, seed: 5) && a != view(noiseOnly, seed: 6) && a != image)
        var deviations: [Float] = []
        for seed in 0..<30 as Range<UInt64> { deviations += zip(view(noiseOnly, seed: seed), image).map { $0 - $1 } }
        let mean = deviations.reduce(0, +) / Float(deviations.count)
        let sd = (deviations.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(deviations.count)).squareRoot()
        #expect(abs(mean) < 0.003 && sd > 0.01 && sd < 0.04, "mean \(mean), sd \(sd): σ is drawn from [0, 0.04] per view")
        // Views written before noise existed read back without it.
        let old = #"{"minimumArea":0.5,"maximumAspect":1.2,"flips":true,"brightness":0.1}"#
        let decoded = try JSONDecoder().decode(ViewAugmentation.self, from: Data(old.utf8))
        #expect(decoded.noise == 0 && decoded.minimumArea == 0.5)
    }

    @Test(arguments: [(1, 0.04), (3, 0.04), (1, 0)] as [(Int, Float)])
    func viewsOfABatchAreTheViewsOneStreamGivesInTurn(channels: Int, noise: Float) {
        // Enough views to be shared among threads, each image different, noise on and off.
        var augmentation = ViewAugmentation()
        augmentation.noise = noise
        let (count, height, width) = (50, 8, 12)
        let size = channels * height * width
        let images: [[Float]] = (0..<count).map { index in
            (0..<size).map { (value: Int) -> Float in Float((value * 37 + index * 11) % 97) / 96 }
        }
        var one = SeededGenerator(seed: 31), batch = one
        var expected = [Float]()
        for image in images {
            var output = [Float](repeating: -1, count: size)
            image.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { augmentation.view(of: source, into: $0, channels: channels, height: height, width: width, rng: &one) }
            }
            expected += output
        }
        var views = [Float](repeating: -1, count: count * size)
        views.withUnsafeMutableBufferPointer { target in
            augmentation.views(count: count, channels: channels, height: height, width: width, into: target, rng: &batch) { i, buffer in
                _ = buffer.initialize(from: images[i])
            }
        }
        #expect(views == expected)
        #expect(batch.state == one.state, "the stream ends where the views one at a time leave it")
    }

    @Test func rangesAreChecked() {
        var bad = ViewAugmentation()
        bad.minimumArea = 0
        #expect(throws: BGANError.self) { try bad.validate() }
        bad = ViewAugmentation()
        bad.maximumAspect = 0.5
        #expect(throws: BGANError.self) { try bad.validate() }
        bad = ViewAugmentation()
        bad.brightness = 1
        #expect(throws: BGANError.self) { try bad.validate() }
        #expect(throws: Never.self) { try ViewAugmentation().validate() }
    }
}
