import ArgumentParser
import Foundation
import NeuralNet

/// Raw sgemm against our layers at the shapes the layers use, side by side in one run.
struct NeuralNetBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "sgemm GFLOP/s vs forward+backward GFLOP/s and images/s of each layer and a whole encoder.")

    @Option(help: "Batch size.")
    var batch: Int = 64

    @Option(help: "Seconds per measurement (split over the rounds).")
    var seconds: Double = 3

    @Option(help: "Alternating rounds of layer and raw sgemm timings; each side reports its median.")
    var rounds: Int = 5

    @Option(help: "Measure only the layer with this name (for profiling).")
    var only: String?

    @Option(help: "BLAS threads (default: every core).")
    var threads: Int?

    func run() throws {
        if let threads { BLAS.threads = threads }
        print("OpenBLAS \(BLAS.coreName), \(BLAS.threads) threads; batch \(batch); forward+backward; GFLOP/s counts multiply-adds as 2")
        let store = ParameterStore()
        var rng = SeededGenerator(seed: 1)
        // A Fashion-MNIST-sized encoder of the shape BGAN uses: two strided convolutions, a wide
        // fully connected layer, the code layer and the smoothed sign. As in BGAN's encoder, the
        // first convolution computes no gradient for its input (the data).
        let first = Conv2D("conv1", inputChannels: 1, outputChannels: 32, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng)
        first.needsInputGradient = false
        let layers: [(Layer, [Int])] = [
            (first, [batch, 1, 28, 28]),
            (BatchNormalization("bn1", channels: 32, parameters: store), [batch, 32, 14, 14]),
            (LeakyReLU(slope: 0.2), [batch, 32, 14, 14]),
            (Conv2D("conv2", inputChannels: 32, outputChannels: 64, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng), [batch, 32, 14, 14]),
            (BatchNormalization("bn2", channels: 64, parameters: store), [batch, 64, 7, 7]),
            (LeakyReLU(slope: 0.2), [batch, 64, 7, 7]),
            (Reshape(to: [64 * 7 * 7]), [batch, 64, 7, 7]),
            (Linear("fc1", inputs: 64 * 7 * 7, outputs: 1024, parameters: store, rng: &rng), [batch, 3136]),
            (BatchNormalization("bn3", channels: 1024, parameters: store), [batch, 1024]),
            (LeakyReLU(slope: 0.2), [batch, 1024]),
            (Linear("code", inputs: 1024, outputs: 64, parameters: store, rng: &rng), [batch, 1024]),
            (ScaledTanh(beta: 2), [batch, 64]),
            (ConvTranspose2D("deconv", inputChannels: 64, outputChannels: 32, kernel: 4, stride: 2, padding: 1, parameters: store, rng: &rng), [batch, 64, 7, 7]),
        ]
        print("| layer | input | forward+backward ms | GFLOP/s | raw sgemm GFLOP/s (same shapes) | layer / sgemm | images/s |")
        print("|---|---|---|---|---|---|---|")
        for (layer, shape) in layers where only == nil || layer.name == only {
            let input = Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in rng.normal() })
            let output = try layer.forward(input, training: true)
            let gradient = Tensor(shape: output.shape, storage: [Float](repeating: 0.01, count: output.count))
            let shapes = gemmShapes(layer, input: shape)
            let flops = shapes.reduce(0) { $0 + 2 * Double($1.m * $1.n * $1.k) }
            // Layer and raw sgemm alternate in rounds and each keeps its median, so that a burst of
            // load on this shared machine hits both sides alike.
            var layerTimes: [Double] = [], rawRates: [Double] = []
            for _ in 0..<rounds {
                layerTimes.append(try measure(seconds: seconds / Double(rounds)) {
                    _ = try layer.forward(input, training: true)
                    _ = try layer.backward(gradient)
                })
                if flops > 0 { rawRates.append(try sgemmRate(shapes, seconds: seconds / Double(rounds))) }
            }
            let ms = median(layerTimes)
            let raw = flops > 0 ? median(rawRates) : 0
            let rate = flops / ms / 1e6
            print(String(format: "| %@ | %@ | %.3f | %@ | %@ | %@ | %.0f |", layer.name, shape.map(String.init).joined(separator: "×"), ms,
                         flops > 0 ? String(format: "%.1f", rate) : "—", flops > 0 ? String(format: "%.1f", raw) : "—",
                         flops > 0 ? String(format: "%.0f%%", 100 * rate / raw) : "—", Double(batch) / ms * 1000))
        }
        guard only == nil else { return }
        let encoder = Sequential("encoder", layers.dropLast().map(\.0))
        let input = Tensor(shape: [batch, 1, 28, 28], storage: (0..<batch * 784).map { _ in rng.normal() })
        let output = try encoder.forward(input, training: true)
        let gradient = Tensor(shape: output.shape, storage: [Float](repeating: 0.01, count: output.count))
        let shapes = layers.dropLast().flatMap { gemmShapes($0.0, input: $0.1) }
        let flops = shapes.reduce(0) { $0 + 2 * Double($1.m * $1.n * $1.k) }
        var encoderTimes: [Double] = [], rawRates: [Double] = []
        for _ in 0..<rounds {
            encoderTimes.append(try measure(seconds: seconds / Double(rounds)) {
                _ = try encoder.forward(input, training: true)
                _ = try encoder.backward(gradient)
            })
            rawRates.append(try sgemmRate(shapes, seconds: seconds / Double(rounds)))
        }
        let ms = median(encoderTimes)
        let raw = median(rawRates)
        print(String(format: "| **whole encoder** | %d×1×28×28 | %.3f | %.1f | %.1f | %.0f%% | %.0f |", batch, ms, flops / ms / 1e6, raw,
                     100 * flops / ms / 1e6 / raw, Double(batch) / ms * 1000))
    }

    /// Median of `values`.
    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Mean milliseconds of `body` over about `seconds`.
    func measure(seconds: Double, _ body: () throws -> Void) throws -> Double {
        try body()
        var runs = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        while elapsed < seconds || runs < 3 {
            try body()
            runs += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return elapsed * 1000 / Double(runs)
    }

    struct GEMMShape { let m, n, k: Int; let transposeA, transposeB: Bool }

    /// The products a layer's forward and backward passes make.
    func gemmShapes(_ layer: Layer, input shape: [Int]) -> [GEMMShape] {
        switch layer {
        case let conv as Conv2D:
            let oh = (shape[2] + 2 * conv.padding - conv.kernel) / conv.stride + 1
            let ow = (shape[3] + 2 * conv.padding - conv.kernel) / conv.stride + 1
            let patch = conv.inputChannels * conv.kernel * conv.kernel, wide = shape[0] * oh * ow
            return [GEMMShape(m: conv.outputChannels, n: wide, k: patch, transposeA: false, transposeB: false),
                    GEMMShape(m: conv.outputChannels, n: patch, k: wide, transposeA: false, transposeB: true)]
                + (conv.needsInputGradient ? [GEMMShape(m: patch, n: wide, k: conv.outputChannels, transposeA: true, transposeB: false)] : [])
        case let deconv as ConvTranspose2D:
            let patch = deconv.outputChannels * deconv.kernel * deconv.kernel, wide = shape[0] * shape[2] * shape[3]
            return [GEMMShape(m: patch, n: wide, k: deconv.inputChannels, transposeA: true, transposeB: false),
                    GEMMShape(m: deconv.inputChannels, n: patch, k: wide, transposeA: false, transposeB: true),
                    GEMMShape(m: deconv.inputChannels, n: wide, k: patch, transposeA: false, transposeB: false)]
        case let linear as Linear:
            return [GEMMShape(m: shape[0], n: linear.outputs, k: linear.inputs, transposeA: false, transposeB: true),
                    GEMMShape(m: linear.outputs, n: linear.inputs, k: shape[0], transposeA: true, transposeB: false),
                    GEMMShape(m: shape[0], n: linear.inputs, k: linear.outputs, transposeA: false, transposeB: false)]
        default:
            return []
        }
    }

    /// GFLOP/s of plain sgemm over these shapes, run back to back.
    func sgemmRate(_ shapes: [GEMMShape], seconds: Double) throws -> Double {
        var rng = SeededGenerator(seed: 2)
        let buffers = shapes.map { s in
            ((0..<(s.m * s.k)).map { _ in rng.normal() }, (0..<(s.k * s.n)).map { _ in rng.normal() }, [Float](repeating: 0, count: s.m * s.n))
        }
        var outputs = buffers.map(\.2)
        let ms = try measure(seconds: seconds) {
            for (index, s) in shapes.enumerated() {
                buffers[index].0.withUnsafeBufferPointer { a in
                    buffers[index].1.withUnsafeBufferPointer { b in
                        outputs[index].withUnsafeMutableBufferPointer { c in
                            BLAS.gemm(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k,
                                      a: a.baseAddress!, lda: s.transposeA ? s.m : s.k, b: b.baseAddress!, ldb: s.transposeB ? s.k : s.n,
                                      c: c.baseAddress!, ldc: s.n)
                        }
                    }
                }
            }
        }
        return shapes.reduce(0) { $0 + 2 * Double($1.m * $1.n * $1.k) } / ms / 1e6
    }
}
