import BGAN
import NeuralNet
import Testing

@Suite struct BGANNetworksTests {
    let small = BGANArchitecture(channels: 1, height: 8, width: 8, bits: 8, filters: 2, featureUnits: 6)

    func images(_ n: Int, _ a: BGANArchitecture, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [n, a.channels, a.height, a.width], storage: (0..<(n * a.channels * a.height * a.width)).map { _ in rng.unit() })
    }

    @Test(arguments: [BGANArchitecture(channels: 1, height: 28, width: 28, bits: 64, filters: 4, featureUnits: 32),
                      BGANArchitecture(channels: 3, height: 32, width: 32, bits: 16, filters: 4, featureUnits: 16)])
    func shapesFlowThroughAllThreeNetworks(architecture a: BGANArchitecture) throws {
        let networks = try BGANNetworks(architecture: a, seed: 1)
        let x = images(3, a, seed: 2)
        let z = try networks.encoder.forward(x, training: true)
        #expect(z.shape == [3, a.bits])
        #expect(z.storage.allSatisfy { abs($0) < 1 })
        let reconstruction = try networks.generator.forward(z, training: true)
        #expect(reconstruction.shape == x.shape)
        #expect(reconstruction.storage.allSatisfy { $0 > 0 && $0 < 1 })
        let features = try networks.discriminatorFeatures.forward(reconstruction, training: true)
        #expect(features.shape == [3, a.featureUnits])
        #expect(try networks.discriminatorHead.forward(features, training: true).shape == [3, 1])
        let codes = try networks.codes(of: x)
        #expect(codes.storage.allSatisfy { $0 == 1 || $0 == -1 })
    }

    @Test func eachNetworkOwnsItsParameters() throws {
        let networks = try BGANNetworks(architecture: small, seed: 3)
        let names = [networks.encoderParameters, networks.generatorParameters, networks.discriminatorParameters].map { Set($0.entries.map(\.name)) }
        #expect(names[0].allSatisfy { $0.hasPrefix("encoder.") })
        #expect(names[1].allSatisfy { $0.hasPrefix("generator.") })
        #expect(names[2].allSatisfy { $0.hasPrefix("discriminator.") })
        #expect(try BGANNetworks(architecture: small, seed: 3).encoderParameters.values == networks.encoderParameters.values, "seeded")
    }

    @Test func badGeometriesAreRefused() {
        for bad in [BGANArchitecture(channels: 1, height: 30, width: 28, bits: 32), BGANArchitecture(channels: 1, height: 28, width: 28, bits: 12)] {
            #expect(throws: NeuralNetError.self) { try BGANNetworks(architecture: bad, seed: 1) }
        }
    }

    /// The content loss ‖D_l(x) − D_l(G(E(x)))‖² reaches the encoder through the discriminator's
    /// features and the generator, and moves it: one step against that gradient lowers the loss.
    @Test func contentLossGradientReachesTheEncoder() throws {
        let networks = try BGANNetworks(architecture: small, beta: 1, seed: 4)
        let x = images(8, small, seed: 5)
        func loss(backward: Bool) throws -> Float {
            let realFeatures = try networks.discriminatorFeatures.forward(x, training: true)
            let z = try networks.encoder.forward(x, training: true)
            let reconstruction = try networks.generator.forward(z, training: true)
            let fakeFeatures = try networks.discriminatorFeatures.forward(reconstruction, training: true)
            let (value, gradient) = try Loss.meanSquaredError(fakeFeatures, realFeatures)
            if backward {
                networks.encoderParameters.zeroGradients()
                let toImage = try networks.discriminatorFeatures.backward(gradient)
                let toCode = try networks.generator.backward(toImage)
                _ = try networks.encoder.backward(toCode)
            }
            return value
        }
        let before = try loss(backward: true)
        let gradients = networks.encoderParameters.gradients
        #expect(gradients.contains { $0 != 0 }, "no gradient reached the encoder")
        let norm = gradients.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for i in gradients.indices { networks.encoderParameters.values[i] -= 1e-3 * gradients[i] / norm }
        #expect(try loss(backward: false) < before)
    }
}
