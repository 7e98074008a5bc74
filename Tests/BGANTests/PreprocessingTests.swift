import BGAN
import NeuralNet
import PixelIO
import Testing

@Suite struct PreprocessingTests {
    let preprocessing = Preprocessing(channels: 1, height: 28, width: 28)

    /// A Fashion-MNIST test image as the IDX file holds it.
    func fashionImage(_ index: Int) throws -> (set: ImageSet, buffer: PixelBuffer) {
        let set = try ImageSet(contentsOf: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
        return (set, try PixelBuffer(width: 28, height: 28, format: .gray, bytes: Array(set.image(index))))
    }

    @Test func anImageAtTheModelsGeometryIsOnlyScaled() throws {
        let (set, buffer) = try fashionImage(3)
        #expect(preprocessing.input(from: buffer) == set.scaledPixels(3..<4))
    }

    @Test func enlargedColorPaddedCopiesComeBackToTheSameInput() throws {
        let (set, buffer) = try fashionImage(7)
        // Each pixel as a 2×2 block of RGB, on a black band 56 pixels wide on either side.
        var bytes: [UInt8] = []
        for y in 0..<56 {
            bytes += [UInt8](repeating: 0, count: 56 * 3)
            for x in 0..<56 { let v = buffer[x / 2, y / 2, 0]; bytes += [v, v, v] }
            bytes += [UInt8](repeating: 0, count: 56 * 3)
        }
        let wide = try PixelBuffer(width: 168, height: 56, format: .rgb, bytes: bytes)
        var cropping = preprocessing
        cropping.centerCrop = true
        let input = cropping.input(from: wide)
        let expected = set.scaledPixels(7..<8)
        let worst = zip(input, expected).map { abs($0 - $1) }.max() ?? 1
        #expect(worst <= 1.0 / 255 + 1e-6, "largest difference \(worst)")
    }

    @Test func theEncoderTakesDecodedImages() throws {
        let architecture = BGANArchitecture(channels: 1, height: 28, width: 28, bits: 16, filters: 2, hiddenUnits: 8, featureUnits: 8)
        let networks = try BGANNetworks(architecture: architecture, seed: 4)
        let model = ModelFile(header: .init(architecture: architecture, preprocessing: preprocessing, training: [:], beta: 2), encoder: networks)
        let encoder = try ImageEncoder(model: model)
        let (set, buffer) = try fashionImage(11)
        let decoded = try ImageDecoder().decode(try buffer.pngData(), source: "round trip")
        #expect(try encoder.signs(of: [decoded]) == encoder.signs(of: set.scaledPixels(11..<12)))
    }
}
