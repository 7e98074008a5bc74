import ArgumentParser

/// `bgan-bench`: performance measurements, run on a release build. Every report puts our paths
/// side by side in one run (multi-index hashing against our own linear scan), since absolute
/// times on shared machines are noisy.
@main
struct BGANBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgan-bench",
        abstract: "Benchmarks of BGANStore (build with -c release).",
        subcommands: [SearchBenchmark.self, KernelBenchmark.self]
    )
}
