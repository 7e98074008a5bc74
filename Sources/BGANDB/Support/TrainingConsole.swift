import ArgumentParser
import BGAN
import Foundation
import Logging
import NeuralNet

/// How `train` and `pretrain` show a library training run: the run's messages and a progress
/// line with the recent mean losses on stderr, Ctrl-C as a clean stop (checkpoint, then exit
/// status 130), and what to type to continue.
enum TrainingConsole {
    /// The library's training messages, as plain lines on stderr (warnings prefixed `bgan-db:`).
    static let logger = Logger(label: "bgan-db.training") { _ in PlainLineHandler() }

    /// Runs `body` with a loop that checkpoints to `checkpointPath` and stops on Ctrl-C, and a
    /// progress callback; a stop is reported with `resumeHint` and becomes exit status 130.
    @discardableResult
    static func run<Result>(checkpointPath: String, lossCurvePath: String, resumeHint: (TrainingStopped) -> String,
                            _ body: (TrainingLoop, (TrainingProgress) -> Void) throws -> Result) throws -> Result {
        if let slow = BLASCore.slowKernelsChosenBeforeStart(coreName: BLAS.coreName, features: BLASCore.cpuFeatures(),
                                                            environment: ProcessInfo.processInfo.environment) {
            Console.log("note: \(slow) (training takes longer with slower kernels, and a model's bytes depend on the kernels that trained it)")
        }
        let interrupt = InterruptFlag()
        defer { interrupt.restore() }
        let loop = TrainingLoop(checkpointPath: checkpointPath, lossCurvePath: lossCurvePath, logger: logger, shouldStop: interrupt.check)
        var display = ProgressDisplay()
        do {
            return try body(loop) { display.show($0) }
        } catch let stopped as TrainingStopped {
            Console.log("interrupted: checkpoint \(stopped.checkpointPath) written; \(resumeHint(stopped))")
            throw ExitCode(130)
        }
    }

    /// A progress line per stage, with each loss's mean over the last 50 steps.
    private struct ProgressDisplay {
        private var reporter: ProgressReporter?
        private var stage: TrainingStage?
        private var sums: [NamedLoss] = []
        private var steps = 0

        mutating func show(_ progress: TrainingProgress) {
            if progress.stage != stage || reporter == nil {
                stage = progress.stage
                reporter = ProgressReporter(label: progress.stage.rawValue, total: progress.imagesInAll, startingAt: progress.imagesDone)
                sums = []
                steps = 0
            }
            if sums.count != progress.losses.count { sums = progress.losses.map { NamedLoss(name: $0.name, value: 0) }; steps = 0 }
            for index in sums.indices { sums[index].value += progress.losses[index].value }
            steps += 1
            let means = sums.map { "\(Self.shortName($0.name)) \(String(format: "%.4f", $0.value / Float(steps)))" }.joined(separator: " ")
            let finished = progress.imagesDone >= progress.imagesInAll
            reporter?.update(progress.imagesDone, detail: "epoch \(progress.epoch)/\(progress.epochs) step \(progress.step)/\(progress.stepsPerEpoch) "
                                 + (progress.beta.map { "β \(String(format: "%.0f", $0)) " } ?? "") + means,
                             force: finished)
            if steps == 50 { sums = sums.map { NamedLoss(name: $0.name, value: 0) }; steps = 0 }
        }

        private static func shortName(_ name: String) -> String {
            ["neighbourhood": "nbr", "quantisation": "quant", "adversarial": "adv", "discriminator": "disc", "contrastive": "loss"][name] ?? name
        }
    }
}

/// A swift-log handler that writes each message as one plain line through ``Console/log(_:)``.
private struct PlainLineHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Console.log(event.level >= .warning ? "bgan-db: \(event.message)" : "\(event.message)")
    }
}
