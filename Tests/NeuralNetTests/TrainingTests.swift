import Testing
@testable import NeuralNet

@Suite struct TrainingTests {
    func xorNetwork(_ store: ParameterStore, seed: UInt64) -> Sequential {
        var rng = SeededGenerator(seed: seed)
        return Sequential("xor", [
            Linear("hidden", inputs: 2, outputs: 8, parameters: store, rng: &rng),
            Tanh(),
            Linear("out", inputs: 8, outputs: 1, parameters: store, rng: &rng),
        ])
    }

    let inputs = Tensor(shape: [4, 2], storage: [0, 0, 0, 1, 1, 0, 1, 1])
    let targets = Tensor(shape: [4, 1], storage: [0, 1, 1, 0])

    func train(_ optimizer: Optimizer, steps: Int) throws -> Float {
        let store = ParameterStore()
        let network = xorNetwork(store, seed: 5)
        var loss: Float = .infinity
        for _ in 0..<steps {
            store.zeroGradients()
            let logits = try network.forward(inputs, training: true)
            let (value, gradient) = try Loss.binaryCrossEntropy(logits: logits, targets: targets)
            loss = value
            _ = try network.backward(gradient)
            optimizer.step(store)
        }
        return loss
    }

    @Test func adamLearnsXOR() throws {
        #expect(try train(Adam(learningRate: 0.05), steps: 400) < 0.05)
    }

    @Test func sgdWithMomentumLearnsXOR() throws {
        #expect(try train(SGD(learningRate: 0.5, momentum: 0.9), steps: 600) < 0.05)
    }

    @Test func adamWithTheReferenceEpsilonTakesSmallerSteps() throws {
        // ε = 1.0 (the BGAN reference) damps steps of small gradients: after the same number of steps
        // the loss is higher than with the usual ε.
        let damped = try train(Adam(learningRate: 0.05, epsilon: 1.0), steps: 100)
        let usual = try train(Adam(learningRate: 0.05), steps: 100)
        #expect(damped > usual)
    }

    @Test func sameSeedSameTraining() throws {
        #expect(try train(Adam(learningRate: 0.05), steps: 50) == train(Adam(learningRate: 0.05), steps: 50))
    }

    @Test(arguments: TrainingKernel.available)
    func aVectorisedParallelAdamStepIsTheTextbookFormulaBitForBit(kernel: TrainingKernel) throws {
        // Sizes that leave tails of every length, an entry of several pieces (shared among threads),
        // and a frozen entry between trainable ones.
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 77)
        for (index, count) in [3 * Adam.pieceSize + 5, 17, 40_000, 1, 30_003].enumerated() {
            _ = store.add("p\(index)", shape: [count], trainable: index != 2) { _ in rng.normal() }
        }
        #expect(store.entries.filter(\.trainable).reduce(0) { $0 + $1.count } >= Adam.parallelMinimum, "shared among threads")
        let adam = Adam(learningRate: 0.01, epsilon: 1e-8)
        adam.kernel = kernel
        var values = store.values
        var first = [Float](repeating: 0, count: store.count), second = first
        for step in 1...3 {
            for i in store.gradients.indices { store.gradients[i] = rng.normal() * (i % 7 == 0 ? 1e-4 : 1) }
            adam.step(store)
            let (c1, c2) = (1 - pow(Float(0.9), Float(step)), 1 - pow(Float(0.999), Float(step)))
            for entry in store.entries where entry.trainable {
                for i in entry.offset..<(entry.offset + entry.count) {
                    let g = store.gradients[i]
                    first[i] = 0.9 * first[i] + (1 - 0.9) * g
                    second[i] = 0.999 * second[i] + (1 - 0.999) * g * g
                    values[i] -= 0.01 * (first[i] / c1) / ((second[i] / c2).squareRoot() + 1e-8)
                }
            }
            #expect(firstDifference(store.values, values) == nil, "step \(step)")
        }
        #expect(firstDifference(adam.state.first, first) == nil)
        #expect(firstDifference(adam.state.second, second) == nil)
    }

    @Test func nonTrainableEntriesAreNotOptimized() throws {
        let store = ParameterStore()
        let bn = BatchNormalization("bn", channels: 2, parameters: store)
        _ = try bn.forward(Tensor(shape: [2, 2], storage: [1, 2, 3, 4]), training: true)
        let running = store.values[store.entry("bn.running_mean")!.offset]
        for i in store.gradients.indices { store.gradients[i] = 1 }
        Adam(learningRate: 0.1).step(store)
        #expect(store.values[store.entry("bn.running_mean")!.offset] == running)
        #expect(store.values[store.entry("bn.scale")!.offset] != 1)
    }
}

@Suite struct ParameterFileTests {
    func network() -> (ParameterStore, Sequential) {
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 21)
        let net = Sequential("n", [
            Conv2D("c", inputChannels: 1, outputChannels: 2, kernel: 3, padding: 1, parameters: store, rng: &rng),
            BatchNormalization("bn", channels: 2, parameters: store),
            ReLU(),
            Reshape(to: [2 * 4 * 4]),
            Linear("fc", inputs: 32, outputs: 3, parameters: store, rng: &rng),
        ])
        return (store, net)
    }

    @Test func saveThenLoadGivesIdenticalOutputs() throws {
        let (store, net) = network()
        let input = randomTensor([2, 1, 4, 4], seed: 22)
        _ = try net.forward(input, training: true)
        let bytes = ParameterFile.encode(store)
        let expected = try net.forward(input, training: false)
        let (fresh, freshNet) = network()
        var scrambled = SeededGenerator(seed: 99)
        for i in fresh.values.indices { fresh.values[i] = scrambled.normal() }
        try ParameterFile.decode(bytes, into: fresh)
        #expect(fresh.values == store.values)
        #expect(try freshNet.forward(input, training: false) == expected)
    }

    @Test func truncatedAlteredAndForeignFilesAreRefused() throws {
        let (store, _) = network()
        let bytes = ParameterFile.encode(store)
        let cases: [([UInt8], String)] = [
            (Array(bytes.prefix(bytes.count - 13)), "checksum"),
            (Array(bytes.prefix(10)), "too short"),
            ({ var b = bytes; b[bytes.count / 2] ^= 0x40; return b }(), "checksum"),
            (Array("NOTAFILE".utf8) + Array(bytes.dropFirst(8)), "BGANPRM1"),
            ([], "too short"),
        ]
        for (bad, reason) in cases {
            let error = #expect(throws: NeuralNetError.self) { try ParameterFile.decode(bad, into: store) }
            #expect(error?.code == .invalidParameterFile)
            #expect(error?.message.contains(reason) == true, "\(error?.message ?? "") should mention \(reason)")
        }
        // Another architecture, with a valid file of its own.
        let other = ParameterStore()
        var rng = SeededGenerator(seed: 1)
        _ = Linear("fc", inputs: 32, outputs: 4, parameters: other, rng: &rng)
        let error = #expect(throws: NeuralNetError.self) { try ParameterFile.decode(ParameterFile.encode(other), into: store) }
        #expect(error?.message.contains("another architecture") == true)
    }

    @Test func versionIsChecked() throws {
        let (store, _) = network()
        var bytes = ParameterFile.encode(store)
        bytes[8] = 2
        // Re-seal the checksum so only the version is wrong.
        bytes.removeLast(8)
        withUnsafeBytes(of: FNV1a.hash(bytes).littleEndian) { bytes += $0 }
        let error = #expect(throws: NeuralNetError.self) { try ParameterFile.decode(bytes, into: store) }
        #expect(error?.message.contains("format version 2") == true)
    }

    @Test func layersRefuseWrongShapesNamingThemselves() throws {
        let (_, net) = network()
        let error = #expect(throws: NeuralNetError.self) { try net.forward(Tensor(zeros: [1, 3, 4, 4]), training: false) }
        #expect(error?.code == .shapeMismatch)
        #expect(error?.message.contains("c expects (N, 1, H, W)") == true)
        #expect(error?.message.contains("(1, 3, 4, 4)") == true)
        var rng = SeededGenerator(seed: 0)
        let unused = Linear("x", inputs: 2, outputs: 2, parameters: ParameterStore(), rng: &rng)
        let backward = #expect(throws: NeuralNetError.self) { try unused.backward(Tensor(zeros: [1, 2])) }
        #expect(backward?.code == .noForward)
    }
}
