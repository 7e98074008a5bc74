import BGAN
import NeuralNet
import Testing

@Suite struct BGANNetworksTests {
    let small = BGANArchitecture(channels: 1, height: 8, width: 8, bits: 8, filters: 2, hiddenUnits: 6, featureUnits: 6)

    func images(_ n: Int, _ a: BGANArchitecture, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [n, a.channels, a.height, a.width], storage: (0..<(n * a.channels * a.height * a.width)).map { _ in rng.unit() })
    }

    @Test(arguments: [BGANArchitecture(channels: 1, height: 28, width: 28, bits: 64, filters: 4, hiddenUnits: 32, featureUnits: 32),
                      BGANArchitecture(channels: 3, height: 32, width: 32, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16)])
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
            #expect(throws: BGANError.self) { try BGANNetworks(architecture: bad, seed: 1) }
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

/// The same three-network chain as BGAN's content loss, built with smooth activations (ELU, tanh,
/// sigmoid) so that finite differences are meaningful everywhere, checked parameter by parameter
/// against backward passes across the three parameter stores.
@Suite struct ThreeNetworkChainTests {
    @Test func contentLossGradientsMatchFiniteDifferences() throws {
        var rng = SeededGenerator(seed: 11)
        let (e, g, d) = (ParameterStore(), ParameterStore(), ParameterStore())
        let encoder = Sequential("E", [
            Conv2D("e.conv", inputChannels: 1, outputChannels: 2, kernel: 4, stride: 2, padding: 1, parameters: e, rng: &rng),
            BatchNormalization("e.bn", channels: 2, parameters: e), ELU(),
            Reshape(to: [2 * 4 * 4]),
            Linear("e.code", inputs: 32, outputs: 8, parameters: e, rng: &rng), ScaledTanh(beta: 1),
        ])
        let generator = Sequential("G", [
            Linear("g.fc", inputs: 8, outputs: 2 * 4 * 4, parameters: g, rng: &rng),
            BatchNormalization("g.bn", channels: 32, parameters: g), ELU(),
            Reshape(to: [2, 4, 4]),
            ConvTranspose2D("g.deconv", inputChannels: 2, outputChannels: 1, kernel: 4, stride: 2, padding: 1, parameters: g, rng: &rng),
            Sigmoid(),
        ])
        let features = Sequential("D", [
            Conv2D("d.conv", inputChannels: 1, outputChannels: 2, kernel: 4, stride: 2, padding: 1, parameters: d, rng: &rng), ELU(),
            Reshape(to: [2 * 4 * 4]),
            Linear("d.features", inputs: 32, outputs: 6, parameters: d, rng: &rng),
            BatchNormalization("d.bn", channels: 6, parameters: d), Tanh(),
        ])
        let x = Tensor(shape: [4, 1, 8, 8], storage: (0..<256).map { _ in rng.unit() })
        func loss(backward: Bool) throws -> Double {
            let real = try features.forward(x, training: true)
            let fake = try features.forward(try generator.forward(try encoder.forward(x, training: true), training: true), training: true)
            let (value, gradient) = try Loss.meanSquaredError(fake, real)
            if backward {
                for store in [e, g, d] { store.zeroGradients() }
                _ = try encoder.backward(try generator.backward(try features.backward(gradient)))
            }
            return Double(value)
        }
        _ = try loss(backward: true)
        var worst = 0.0, place = ""
        for store in [e, g] {
            let analytic = store.gradients
            let scale = max(analytic.map { abs(Double($0)) }.max() ?? 0, 1e-6)
            for entry in store.entries where entry.trainable {
                for i in entry.offset..<min(entry.offset + 4, entry.offset + entry.count) {
                    let saved = store.values[i]
                    store.values[i] = saved + 1e-2
                    let up = try loss(backward: false)
                    store.values[i] = saved - 1e-2
                    let down = try loss(backward: false)
                    store.values[i] = saved
                    let difference = abs((up - down) / 2e-2 - Double(analytic[i])) / scale
                    if difference > worst { worst = difference; place = "\(entry.name)[\(i - entry.offset)]" }
                }
            }
        }
        #expect(worst < 1e-2, "largest difference \(worst) of the largest gradient, at \(place)")
    }
}
