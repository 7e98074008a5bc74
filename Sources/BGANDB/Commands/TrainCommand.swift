import ArgumentParser
import BGAN
import Foundation
import NeuralNet
import PixelIO

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a BGAN encoder on unlabelled images and write the model file.",
        discussion: """
        SOURCE is an IDX image file (MNIST / Fashion-MNIST, plain or .gz). The neighbourhood \
        structure S is built from the pixels (K1 nearest neighbours, K2 voters), then BGAN trains \
        with β stepping 2, 5, 10, 15, 20 across the epochs. Progress and losses go to stderr.
        """)

    @Option(help: "IDX image file to train on.")
    var data: String

    @Option(help: "Code length in bits (a multiple of 8, 16 to 256).")
    var bits: Int = 64

    @Option(help: "Where to write the model file.")
    var out: String

    @Option(help: "Passes over the data.")
    var epochs: Int = 1

    @Option(help: "Images per step.")
    var batch: Int = 40

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "Seed of initialisation, shuffling and noise.")
    var seed: UInt64 = 2026

    @Option(help: "Use only the first N images (quick runs).")
    var limit: Int?

    @Option(help: "Nearest neighbours per image for S.")
    var k1: Int = 20

    @Option(help: "Voters per image for S.")
    var k2: Int = 30

    func validate() throws {
        guard bits >= 16, bits <= 256, bits % 8 == 0 else { throw ValidationError("--bits must be a multiple of 8 from 16 to 256") }
        guard epochs >= 1, batch >= 2 else { throw ValidationError("--epochs must be at least 1 and --batch at least 2") }
    }

    func run() throws {
        try Console.reportingErrors {
            let set = try GrayImageSet(contentsOf: data)
            let count = min(limit ?? set.count, set.count)
            guard count >= batch else {
                throw ValidationError("\(count) images do not fill one batch of \(batch); lower --batch or raise --limit")
            }
            let dimension = set.height * set.width
            let pixels = set.scaledPixels(0..<count)
            var started = Date()
            Console.log("building the neighbourhood structure of \(count) images (K1 = \(k1), K2 = \(k2))…")
            let structure = NeighbourhoodStructure(neighbours: NearestNeighbourLists(features: pixels, dimension: dimension, k: k1), k2: k2)
            Console.log(String(format: "structure built in %.1fs: %.0f similar images per image", Date().timeIntervalSince(started), structure.averageSimilar))
            let architecture = BGANArchitecture(channels: 1, height: set.height, width: set.width, bits: bits)
            let networks = try BGANNetworks(architecture: architecture, seed: seed)
            let trainer = BGANTrainer(networks: networks, structure: structure, learningRate: lr, seed: seed)
            var rng = SeededGenerator(seed: seed ^ 0x5eed)
            let betas: [Float] = [2, 5, 10, 15, 20]
            let stepsPerEpoch = count / batch
            var progress = ProgressReporter(label: "train", total: epochs * stepsPerEpoch * batch)
            started = Date()
            var losses = StepLosses()
            for epoch in 0..<epochs {
                networks.smoothedSign.beta = betas[min(betas.count - 1, epoch * betas.count / epochs)]
                var order = Array(0..<count)
                order.shuffle(using: &rng)
                for step in 0..<stepsPerEpoch {
                    let indices = Array(order[(step * batch)..<((step + 1) * batch)])
                    var storage: [Float] = []
                    storage.reserveCapacity(batch * dimension)
                    for index in indices { storage += pixels[(index * dimension)..<((index + 1) * dimension)] }
                    losses = try trainer.step(images: Tensor(shape: [batch, 1, set.height, set.width], storage: storage), indices: indices)
                    progress.update((epoch * stepsPerEpoch + step + 1) * batch)
                }
                Console.log(String(format: "epoch %d/%d (β %.0f): neighbourhood %.4f, quantisation %.4f, content %.4f, adversarial %.4f, discriminator %.4f",
                                   epoch + 1, epochs, networks.smoothedSign.beta, losses.neighbourhood, losses.quantization, losses.content,
                                   losses.generatorAdversarial, losses.discriminator))
            }
            let header = ModelFile.Header(
                architecture: architecture, preprocessing: Preprocessing(channels: 1, height: set.height, width: set.width),
                training: ["data": data, "images": "\(count)", "epochs": "\(epochs)", "batch": "\(batch)", "lr": "\(lr)",
                           "seed": "\(seed)", "k1": "\(k1)", "k2": "\(k2)", "seconds": String(format: "%.0f", Date().timeIntervalSince(started))],
                beta: networks.smoothedSign.beta)
            let model = ModelFile(header: header, encoder: networks)
            try Data(model.encoded()).write(to: URL(fileURLWithPath: out))
            Console.log("wrote \(out) (digest \(model.digest))")
        }
    }
}
