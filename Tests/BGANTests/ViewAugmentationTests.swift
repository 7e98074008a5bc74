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

    @Test func contrastScalesEachValuesDistanceFromTheMean() {
        var contrastOnly = ViewAugmentation.identity
        contrastOnly.contrast = 0.3
        let mean = image.reduce(0, +) / Float(image.count)
        var factors: [Float] = []
        for seed in 0..<10 as Range<UInt64> {
            let output = view(contrastOnly, seed: seed)
            #expect(output.allSatisfy { $0 >= 0 && $0 <= 1 })
            // One factor for the whole view: every unclipped value's distance from the mean scaled alike.
            var ratios: [Float] = []
            for (changed, original) in zip(output, image) where changed > 0 && changed < 1 && abs(original - mean) > 0.05 {
                ratios.append((changed - mean) / (original - mean))
            }
            let first = ratios[0]
            #expect(ratios.allSatisfy { abs($0 - first) < 1e-4 })
            #expect(first >= 0.7 - 1e-4 && first <= 1.3 + 1e-4)
            factors.append(ratios[0])
        }
        #expect(factors.filter { abs($0 - 1) > 0.01 }.count >= 8, "\(factors)")
        #expect(factors.contains { $0 < 1 } && factors.contains { $0 > 1 }, "lower and higher contrast both drawn: \(factors)")
    }

    @Test func aQuarterTurnMovesEveryPixelToItsTurnedPlace() {
        // A square image turned by 90° about its centre: output (y, x) shows the pixel at row x, column 7 − y.
        let square: [Float] = (0..<64).map { Float(($0 * 29) % 64) / 63 }
        let choice = ViewAugmentation.Choice(cropHeight: 8, cropWidth: 8, top: 0, left: 0, flip: false, gain: 1, sigma: 0, angle: .pi / 2)
        var output = [Float](repeating: -1, count: 64)
        var rng = SeededGenerator(seed: 1)
        square.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { ViewAugmentation().render(source, into: $0, choice, channels: 1, height: 8, width: 8, rng: &rng) }
        }
        for y in 0..<8 {
            for x in 0..<8 { #expect(abs(output[y * 8 + x] - square[x * 8 + 7 - y]) < 1e-4, "(\(y), \(x))") }
        }
    }

    @Test func smallTurnsStayInTheImagesRangeAndDifferBySeed() {
        var turnsOnly = ViewAugmentation.identity
        turnsOnly.rotation = 10
        let a = view(turnsOnly, seed: 1), b = view(turnsOnly, seed: 2)
        #expect(a == view(turnsOnly, seed: 1) && a != b && a != image && b != image)
        let low = image.min()!, high = image.max()!
        #expect(a.allSatisfy { $0 >= low - 1e-6 && $0 <= high + 1e-6 }, "bilinear samples stay between their pixels")
    }

    @Test(arguments: [3, 5] as [Float])
    func turnedInPlaceAViewHasBlackCornersOfTheTurnsArea(degrees: Float) {
        // A flat gray square turned about its centre: the turned frame leaves the square over a
        // share tan θ (1 − tan θ) / 2 of the view, in its four corners, which black corners set to 0.
        let side = 32
        let gray = [Float](repeating: 0.5, count: side * side)
        func render(blackCorners: Bool) -> [Float] {
            var choice = ViewAugmentation.Choice(cropHeight: Float(side), cropWidth: Float(side), top: 0, left: 0, flip: false, gain: 1, sigma: 0,
                                                 angle: degrees * .pi / 180)
            choice.blackCorners = blackCorners
            var output = [Float](repeating: -1, count: side * side)
            var rng = SeededGenerator(seed: 1)
            gray.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { ViewAugmentation().render(source, into: $0, choice, channels: 1, height: side, width: side, rng: &rng) }
            }
            return output
        }
        let black = render(blackCorners: true), edge = render(blackCorners: false)
        let tangent = tanf(degrees * .pi / 180), expected = tangent * (1 - tangent) / 2
        let share = Float(black.filter { $0 == 0 }.count) / Float(side * side)
        #expect(abs(share - expected) < 0.3 * expected, "black share \(share), turned-away area \(expected)")
        #expect(black.allSatisfy { $0 == 0 || abs($0 - 0.5) < 1e-6 }, "the rest is the gray image")
        for corner in [0, side - 1, side * (side - 1), side * side - 1] { #expect(black[corner] == 0, "corner \(corner)") }
        #expect(black[side * side / 2 + side / 2] == 0.5)
        #expect(edge.allSatisfy { abs($0 - 0.5) < 1e-6 }, "without black corners the nearest edge fills them")
    }

    @Test func blackCornersAreDrawnWithTheirProbabilityAndNoted() throws {
        var turns = ViewAugmentation()
        turns.rotation = 5
        let plainNote = turns.note
        turns.blackCorners = 0.25
        #expect(turns.note == plainNote + ", black corners p 0.25")
        #expect(try JSONDecoder().decode(ViewAugmentation.self, from: try JSONEncoder().encode(turns)) == turns)
        var rng = SeededGenerator(seed: 5)
        let drawn = (0..<2000).filter { _ in turns.choose(height: 8, width: 12, rng: &rng).blackCorners }.count
        #expect(drawn > 400 && drawn < 600, "\(drawn) of 2000 views with black corners at p 0.25")
        turns.blackCorners = 0
        let encoded = String(decoding: try JSONEncoder().encode(turns), as: UTF8.self)
        #expect(!encoded.contains("blackCorners"), "\(encoded)")
        // Without black corners a turned view draws what it drew before they existed.
        var without = SeededGenerator(seed: 9), withThem = without
        _ = turns.choose(height: 8, width: 12, rng: &without)
        turns.blackCorners = 0.5
        _ = turns.choose(height: 8, width: 12, rng: &withThem)
        var expected = SeededGenerator(seed: 9)
        var previous = turns
        previous.blackCorners = 0
        _ = previous.choose(height: 8, width: 12, rng: &expected)
        #expect(without.state == expected.state && withThem.state != expected.state, "black corners take a draw of their own, only when set")
    }

    @Test func captionsAreDrawnWithTheirProbabilityAndNoted() throws {
        var captioned = ViewAugmentation()
        let plainNote = captioned.note
        captioned.captions = 0.25
        #expect(captioned.note == plainNote + ", captions p 0.25")
        #expect(try JSONDecoder().decode(ViewAugmentation.self, from: try JSONEncoder().encode(captioned)) == captioned)
        var rng = SeededGenerator(seed: 5)
        let drawn = (0..<2000).filter { _ in captioned.choose(height: 8, width: 12, rng: &rng).caption != nil }.count
        #expect(drawn > 400 && drawn < 600, "\(drawn) of 2000 views with a caption at p 0.25")
        captioned.captions = 0
        #expect(!String(decoding: try JSONEncoder().encode(captioned), as: UTF8.self).contains("captions"))
        // Without captions a view draws what it drew before they existed.
        var without = SeededGenerator(seed: 9), expected = without
        _ = captioned.choose(height: 8, width: 12, rng: &without)
        var previous = ViewAugmentation()
        previous.captions = 0
        _ = previous.choose(height: 8, width: 12, rng: &expected)
        #expect(without.state == expected.state)
        captioned.captions = 1
        var with = SeededGenerator(seed: 9)
        _ = captioned.choose(height: 8, width: 12, rng: &with)
        #expect(with.state != expected.state, "captions take draws of their own, only when set")
        captioned.captions = 1.5
        #expect(throws: BGANError.self) { try captioned.validate() }
    }

    /// A caption over a flat gray RGB view: a band of white and black only, below the middle,
    /// outlined in black above and below, the same in every channel; the rest untouched.
    @Test func aCaptionIsWhiteStrokesOutlinedInBlackAcrossTheLowerPart() {
        let (side, channels) = (32, 3)
        let gray = [Float](repeating: 0.5, count: channels * side * side)
        var always = ViewAugmentation.identity
        always.captions = 1
        for seed in 0..<20 as Range<UInt64> {
            var rng = SeededGenerator(seed: seed)
            var output = [Float](repeating: -1, count: gray.count)
            gray.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { always.view(of: source, into: $0, channels: channels, height: side, width: side, rng: &rng) }
            }
            let plane = side * side
            let changed = (0..<plane).filter { output[$0] != 0.5 }
            let rows = Set(changed.map { $0 / side })
            #expect(!changed.isEmpty && changed.allSatisfy { output[$0] == 0 || output[$0] == 1 }, "seed \(seed): only white and black")
            #expect(changed.contains { output[$0] == 1 } && changed.contains { output[$0] == 0 }, "seed \(seed): strokes and outline")
            #expect(rows.min()! >= side / 2 && rows.count >= 3 && rows.count <= 5, "seed \(seed): rows \(rows.sorted())")
            let top = rows.min()!, bottom = rows.max()!
            #expect(changed.filter { $0 / side == top || $0 / side == bottom }.allSatisfy { output[$0] == 0 }, "seed \(seed): outlined")
            #expect((0..<plane).allSatisfy { output[$0] == output[plane + $0] && output[$0] == output[2 * plane + $0] }, "seed \(seed): every channel")
        }
    }

    @Test func viewsWithoutContrastOrRotationKeepTheirNotesAndBytes() throws {
        let plain = ViewAugmentation()
        #expect(plain.note == "crop area ≥ 0.35, aspect ≤ 1.3333334, flips true, brightness ±0.4, noise σ ≤ 0.04")
        let encoded = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!encoded.contains("contrast") && !encoded.contains("rotation"), "\(encoded)")
        var photo = plain
        photo.contrast = 0.3
        photo.rotation = 5
        #expect(photo.note == plain.note + ", contrast ±0.3, rotation ±5.0°")
        #expect(try JSONDecoder().decode(ViewAugmentation.self, from: try JSONEncoder().encode(photo)) == photo)
        // Without contrast or rotation a view draws the same numbers as before they existed: the
        // stream after one default view is the one the crop, flip, gain, noise level and noise take.
        var withoutThem = SeededGenerator(seed: 9), withThem = withoutThem
        var output = [Float](repeating: 0, count: image.count)
        image.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { plain.view(of: source, into: $0, channels: 1, height: 8, width: 12, rng: &withoutThem) }
            output.withUnsafeMutableBufferPointer { photo.view(of: source, into: $0, channels: 1, height: 8, width: 12, rng: &withThem) }
        }
        var expected = SeededGenerator(seed: 9)
        _ = plain.choose(height: 8, width: 12, rng: &expected)
        expected.skip(SeededGenerator.drawsPerNormal * image.count)
        #expect(withoutThem.state == expected.state)
        #expect(withThem.state != expected.state, "contrast and rotation take draws of their own")
    }

    @Test(arguments: [(1, 0.04, 0, 0, 0, 0), (3, 0.04, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0), (3, 0.04, 0.3, 5, 0, 0), (1, 0, 0.3, 0, 0, 0),
                      (1, 0, 0, 5, 0, 0), (3, 0.04, 0.3, 5, 0.5, 0), (3, 0.04, 0.3, 5, 0.5, 0.5), (1, 0, 0, 0, 0, 1)]
                     as [(Int, Float, Float, Float, Float, Float)])
    func viewsOfABatchAreTheViewsOneStreamGivesInTurn(channels: Int, noise: Float, contrast: Float, rotation: Float, blackCorners: Float,
                                                      captions: Float) {
        // Enough views to be shared among threads, each image different, noise, contrast, turns,
        // black corners and captions on and off.
        var augmentation = ViewAugmentation()
        augmentation.noise = noise
        augmentation.contrast = contrast
        augmentation.rotation = rotation
        augmentation.blackCorners = blackCorners
        augmentation.captions = captions
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
        bad = ViewAugmentation()
        bad.contrast = 1
        #expect(throws: BGANError.self) { try bad.validate() }
        bad = ViewAugmentation()
        bad.rotation = 46
        #expect(throws: BGANError.self) { try bad.validate() }
        bad.rotation = -1
        #expect(throws: BGANError.self) { try bad.validate() }
        bad = ViewAugmentation()
        bad.blackCorners = 0.5
        #expect(throws: BGANError.self, "black corners without a rotation") { try bad.validate() }
        bad.rotation = 5
        bad.blackCorners = 1.5
        #expect(throws: BGANError.self) { try bad.validate() }
        #expect(throws: Never.self) { try ViewAugmentation().validate() }
    }
}
