import ArgumentParser
import NeuralNet

/// `bgan-bench`: performance measurements, run on a release build. Every report puts our paths
/// side by side in one run (multi-index hashing against our own linear scan), since absolute
/// times on shared machines are noisy.
@main
struct BGANBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgan-bench",
        abstract: "Benchmarks of BGANStore (build with -c release).",
        subcommands: [SearchBenchmark.self, KernelBenchmark.self, NeuralNetBenchmark.self, NeighborhoodBenchmark.self, IngestBenchmark.self, StressBenchmark.self, RefinementBenchmark.self]
    )

    /// Relaunches with fast OpenBLAS kernels if the library fell back to slow ones.
    static func main() {
        BLASCore.relaunchIfSlow()
        main(Array(CommandLine.arguments.dropFirst()))
    }
}
