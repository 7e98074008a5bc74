import ArgumentParser
import NeuralNet

/// `bgan-db`: the admin tool of BGANStore stores. Results go to stdout, logs and progress to
/// stderr. Exit status: 0 success, 1 error, 64 bad usage, 3 `verify` found problems.
@main
struct BGANDB: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "bgan-db",
        abstract: "Create, fill, query and maintain BGANStore Hamming-search stores.",
        discussion: """
        A store is a directory holding one LMDB environment: items by key, their binary codes, \
        and a multi-index over the codes for exact nearest-neighbour search.
        Results go to stdout, logs and progress to stderr. Exit status: 0 success, 1 error, \
        64 bad usage, 3 `verify` found problems.
        """,
        version: version,
        subcommands: [
            CreateCommand.self, PutCommand.self, GetCommand.self, DeleteCommand.self, ImportCommand.self,
            QueryCommand.self, ExportCommand.self, ChangesCommand.self, StatsCommand.self, VerifyCommand.self,
            ReindexCommand.self, BackupCommand.self, IngestCommand.self, ReencodeCommand.self, PretrainCommand.self, TrainCommand.self, EncodeCommand.self, EvalCommand.self, ModelCommand.self, DoctorCommand.self,
        ]
    )

    /// Relaunches with fast OpenBLAS kernels if the library fell back to slow ones, then runs
    /// the command line.
    static func main() {
        BLASCore.relaunchIfSlow()
        main(Array(CommandLine.arguments.dropFirst()))
    }
}
