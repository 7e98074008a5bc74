@testable import BGAN
import Foundation
import NeuralNet
import Testing

@Suite struct FeatureSpaceTests {
    @Test func textAndValueAreInverses() {
        let spaces: [FeatureSpace] = [.pixels, .principalComponents(dimensions: 30), .smoothed(dimensions: 8, steps: 3),
                                      .modelOutputs(path: "/m/a+b.bganmodel"), .modelHidden(path: "h.bganmodel"),
                                      .joinedWithPixels(.modelOutputs(path: "views.bganmodel"), weight: 0.7),
                                      .joinedWithPixels(.principalComponents(dimensions: 4), weight: 2)]
        for space in spaces {
            #expect(FeatureSpace(space.description) == space, "\(space)")
        }
        #expect(FeatureSpace("model:views.bganmodel+pixels:0.7") == .joinedWithPixels(.modelOutputs(path: "views.bganmodel"), weight: 0.7))
        for bad in ["", "pixel", "pca:0", "pca:x", "smoothed:8", "smoothed:8:-1", "model:", "hidden:", "pixels+pixels:0", "pixels+pixels:-1",
                    "nonsense+pixels:1", "pixels+pixels:inf"] {
            #expect(FeatureSpace(bad) == nil, "'\(bad)' should not parse")
        }
    }

    /// 12 random 2×3 "images" and 2-wide unit base rows.
    func sample() -> (pixels: [Float], base: [Float]) {
        var rng = SeededGenerator(seed: 3)
        let pixels = (0..<72).map { _ in Float.random(in: 0...1, using: &rng) }
        let base = (0..<12).flatMap { _ -> [Float] in
            let angle = Float.random(in: 0..<(2 * .pi), using: &rng)
            return [cos(angle), sin(angle)]
        }
        return (pixels, base)
    }

    @Test func joiningPixelsBlendsTheCosinesOfBothSpaces() {
        let (pixels, base) = sample()
        let weight: Float = 0.7
        let joined = FeatureConcatenation.joiningCentredPixels(base, width: 2, pixels: pixels, dimension: 6, weight: weight)
        #expect(joined.count == 12 * 8)
        func row(_ values: [Float], _ i: Int, _ width: Int) -> [Float] { Array(values[(i * width)..<((i + 1) * width)]) }
        func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map(*).reduce(0, +) }
        func cosine(_ a: [Float], _ b: [Float]) -> Float { dot(a, b) / (dot(a, a) * dot(b, b)).squareRoot() }
        func columnSum(_ values: [Float], width: Int, column: Int) -> Float {
            var sum: Float = 0
            for i in 0..<12 { sum += values[i * width + column] }
            return sum
        }
        let mean: [Float] = (0..<6).map { columnSum(pixels, width: 6, column: $0) / 12 }
        for i in 0..<12 {
            let centred = (0..<6).map { pixels[i * 6 + $0] - mean[$0] }
            let length = dot(centred, centred).squareRoot()
            for k in 0..<6 {
                #expect(abs(joined[i * 8 + 2 + k] - weight * centred[k] / length) < 1e-5, "row \(i): the pixels, centred on the mean image, at length \(weight)")
            }
            #expect(Array(joined[(i * 8)..<(i * 8 + 2)]) == row(base, i, 2), "row \(i): the base row as it was")
        }
        for i in 0..<12 {
            #expect(abs(dot(row(joined, i, 8), row(joined, i, 8)) - (1 + weight * weight)) < 1e-4)
            for j in 0..<12 {
                let centred = { (n: Int) -> [Float] in (0..<6).map { pixels[n * 6 + $0] - mean[$0] } }
                let baseCosine = cosine(row(base, i, 2), row(base, j, 2))
                let pixelCosine = cosine(centred(i), centred(j))
                let expected = (baseCosine + weight * weight * pixelCosine) / (1 + weight * weight)
                #expect(abs(cosine(row(joined, i, 8), row(joined, j, 8)) - expected) < 1e-4)
            }
        }
    }

    @Test func eachSpaceHasTheWidthItSays() throws {
        let (pixels, _) = sample()
        #expect(try FeatureSpace.pixels.features(of: pixels, channels: 1, height: 2, width: 3).width == 6)
        let pca = try FeatureSpace.principalComponents(dimensions: 3).features(of: pixels, channels: 1, height: 2, width: 3)
        #expect(pca.width == 3 && pca.values.count == 36)
        let joined = try FeatureSpace.joinedWithPixels(.principalComponents(dimensions: 2), weight: 1).features(of: pixels, channels: 1, height: 2, width: 3)
        #expect(joined.width == 8 && joined.values.count == 96)
        let tooMany = #expect(throws: BGANError.self) { try FeatureSpace.principalComponents(dimensions: 7).features(of: pixels, channels: 1, height: 2, width: 3) }
        #expect(tooMany?.message.contains("at most 6") == true)
    }

    @Test func modelOutputsAreUnitDirectionsOfTheEncoder() throws {
        let a = BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16)
        let networks = try BGANNetworks(architecture: a, seed: 9)
        let model = ModelFile(header: .init(architecture: a, preprocessing: Preprocessing(channels: 1, height: 8, width: 8), training: [:], beta: 2),
                              encoder: networks)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("feature-space-\(UUID().uuidString).bganmodel").path
        try Data(model.encoded()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rng = SeededGenerator(seed: 4)
        let pixels = (0..<(5 * 64)).map { _ in Float.random(in: 0...1, using: &rng) }
        let (values, width) = try FeatureSpace.modelOutputs(path: path).features(of: pixels, channels: 1, height: 8, width: 8)
        #expect(width == 16)
        let h = try networks.preSignOutputs(of: Tensor(shape: [5, 1, 8, 8], storage: pixels)).storage
        for i in 0..<5 {
            let row = values[(i * 16)..<((i + 1) * 16)], raw = h[(i * 16)..<((i + 1) * 16)]
            #expect(abs(row.map { $0 * $0 }.reduce(0, +) - 1) < 1e-4)
            #expect(zip(row, raw).allSatisfy { ($0 > 0) == ($1 > 0) })
        }
        #expect(try FeatureSpace.modelHidden(path: path).features(of: pixels, channels: 1, height: 8, width: 8).width == 16)
        // 600 images, three batches of the model (the last one short): every row is the unit
        // direction of the whole set's outputs, in memory and kept in a file alike.
        let many = (0..<(600 * 64)).map { _ in Float.random(in: 0...1, using: &rng) }
        let images = try ImageRows(floats: many, valuesPerImage: 64)
        let whole = try networks.preSignOutputs(of: Tensor(shape: [600, 1, 8, 8], storage: many)).storage
        let inMemory = try FeatureSpace.modelOutputs(path: path).features(of: images, channels: 1, height: 8, width: 8).values
        let kept = try FeatureSpace.modelOutputs(path: path).rows(of: images, channels: 1, height: 8, width: 8, inScratchFile: true)
        #expect(kept.count == 600 && kept.dimension == 16)
        #expect(try kept.allRows() == inMemory)
        for i in [0, 255, 256, 511, 512, 599] {
            let row = inMemory[(i * 16)..<((i + 1) * 16)], raw = whole[(i * 16)..<((i + 1) * 16)]
            let length = raw.map { $0 * $0 }.reduce(0, +).squareRoot()
            #expect(zip(row, raw).allSatisfy { abs($0 - $1 / length) < 1e-5 }, "row \(i)")
        }
        let hidden = FeatureSpace.modelHidden(path: path)
        #expect(try hidden.rows(of: images, channels: 1, height: 8, width: 8, inScratchFile: true).allRows()
                == hidden.features(of: images, channels: 1, height: 8, width: 8).values)
        let otherGeometry = #expect(throws: BGANError.self) {
            try FeatureSpace.modelOutputs(path: path).features(of: Array(pixels.prefix(4 * 49)), channels: 1, height: 7, width: 7)
        }
        #expect(otherGeometry?.message.contains("takes 1×8×8 images") == true)
    }
}
