import Basics
import Foundation
import Logging

/// The two stages of a training run.
public enum TrainingStage: String, Sendable, Equatable, Codable, CustomStringConvertible {
    /// Contrastive pre-training (``ContrastiveSession``).
    case pretrain
    /// The BGAN stage (``TrainingSession``).
    case train

    public var description: String { rawValue }
}

/// A training session that ``TrainingLoop`` can drive step by step: ``TrainingSession`` (the
/// BGAN stage) and ``ContrastiveSession`` (pre-training).
public protocol SteppedTrainingSession: AnyObject {
    /// Which stage this session runs.
    var stage: TrainingStage { get }
    var epoch: Int { get }
    var step: Int { get }
    var epochs: Int { get }
    var stepsPerEpoch: Int { get }
    var stepsTaken: Int { get }
    var totalSteps: Int { get }
    var isFinished: Bool { get }
    /// Images one step trains on (progress is counted in images).
    var imagesPerStep: Int { get }
    /// β of the smoothed sign, for a stage that has one.
    var beta: Float? { get }
    /// Runs one step and returns its losses, by name, in a fixed order.
    func runNamedStep() throws -> [NamedLoss]
    /// Everything needed to continue exactly where the session stands.
    func checkpoint() throws -> [UInt8]
    /// Writes ``checkpoint()`` to `path` as a whole or not at all.
    func writeCheckpoint(to path: String) throws
    /// Mean losses so far, one curve per loss that was not zero throughout.
    var lossCurves: [LossCurve] { get }
}

/// One loss's value in a step.
public struct NamedLoss: Sendable, Equatable, Codable {
    public var name: String
    public var value: Float

    public init(name: String, value: Float) {
        self.name = name
        self.value = value
    }
}

/// A loss's mean values against the (fractional) epoch.
public struct LossCurve: Sendable, Equatable {
    public var name: String
    public var points: [(epoch: Double, value: Double)]

    public init(name: String, points: [(epoch: Double, value: Double)]) {
        self.name = name
        self.points = points
    }

    public static func == (lhs: LossCurve, rhs: LossCurve) -> Bool {
        lhs.name == rhs.name && lhs.points.elementsEqual(rhs.points) { $0.epoch == $1.epoch && $0.value == $1.value }
    }

    /// The curves as a self-contained SVG line chart.
    public static func svg(_ curves: [LossCurve]) -> String {
        LineChart(xLabel: "epoch", yLabel: "mean loss",
                  series: curves.map { (name: $0.name, points: $0.points.map { (x: $0.epoch, y: $0.value) }) }).svg()
    }
}

/// Where a running session stands after a step, for progress displays.
public struct TrainingProgress: Sendable {
    public var stage: TrainingStage
    /// 1-based epoch being run (the last one once finished).
    public var epoch: Int
    public var epochs: Int
    /// Steps taken in the current epoch.
    public var step: Int
    public var stepsPerEpoch: Int
    public var imagesDone: Int
    public var imagesInAll: Int
    /// β of the smoothed sign (the BGAN stage), nil in pre-training.
    public var beta: Float?
    /// The losses of the step just taken.
    public var losses: [NamedLoss]
    /// Whether this step ended an epoch (a checkpoint and the loss curves were just written).
    public var endedEpoch: Bool

    public init(stage: TrainingStage, epoch: Int, epochs: Int, step: Int, stepsPerEpoch: Int, imagesDone: Int, imagesInAll: Int, beta: Float?,
                losses: [NamedLoss], endedEpoch: Bool) {
        self.stage = stage
        self.epoch = epoch
        self.epochs = epochs
        self.step = step
        self.stepsPerEpoch = stepsPerEpoch
        self.imagesDone = imagesDone
        self.imagesInAll = imagesInAll
        self.beta = beta
        self.losses = losses
        self.endedEpoch = endedEpoch
    }
}

/// Raised by ``TrainingLoop/run(_:onStep:)`` when its stop condition held: the checkpoint it
/// names was written, and a session made from it continues exactly where this one stopped.
public struct TrainingStopped: Error, Equatable, CustomStringConvertible {
    /// The stage that stopped: `.train` continues with
    /// ``TrainingPlan/resume(checkpointAt:on:writingTo:loop:onProgress:)``, `.pretrain` by
    /// running the same plan again.
    public let stage: TrainingStage
    public let checkpointPath: String

    public init(stage: TrainingStage, checkpointPath: String) {
        self.stage = stage
        self.checkpointPath = checkpointPath
    }

    public var description: String {
        "\(stage) stopped: the checkpoint \(checkpointPath) holds where it stood"
    }
}

/// Runs a training session to its end: a checkpoint (written atomically) and the loss curves
/// (SVG) after every epoch, and both when ``shouldStop`` turns true between steps, which then
/// throws ``TrainingStopped``. What `bgan-db train` and `pretrain` do, for an application that
/// trains in its own process; `shouldStop` is how it asks for a clean stop (a signal, a task's
/// cancellation, a deadline).
public struct TrainingLoop: Sendable {
    public var checkpointPath: String
    /// Where the loss curves go after every epoch; nil for nowhere.
    public var lossCurvePath: String?
    /// Checked before every step, on the thread that runs the loop.
    public var shouldStop: @Sendable () -> Bool
    /// Receives the run's `info` messages (stages, neighbourhood structure, one per finished
    /// epoch, the model written) and warnings.
    public var logger: Logger

    public init(checkpointPath: String, lossCurvePath: String? = nil, logger: Logger = .disabled, shouldStop: @escaping @Sendable () -> Bool = { false }) {
        self.checkpointPath = checkpointPath
        self.lossCurvePath = lossCurvePath
        self.logger = logger
        self.shouldStop = shouldStop
    }

    /// Runs `session` until it is finished, calling `onStep` after every step.
    /// - Throws: ``TrainingStopped`` after saving, when ``shouldStop`` held; what a step or
    ///   writing a file throws otherwise.
    public func run<Session: SteppedTrainingSession>(_ session: Session, onStep: (TrainingProgress) -> Void = { _ in }) throws {
        let started = Date()
        while !session.isFinished {
            if shouldStop() {
                try save(session)
                throw TrainingStopped(stage: session.stage, checkpointPath: checkpointPath)
            }
            let epochBefore = session.epoch
            let losses = try session.runNamedStep()
            let endedEpoch = session.epoch != epochBefore
            if endedEpoch { try save(session) }
            onStep(TrainingProgress(stage: session.stage, epoch: min(session.epoch + 1, session.epochs), epochs: session.epochs,
                                    step: session.step, stepsPerEpoch: session.stepsPerEpoch,
                                    imagesDone: session.stepsTaken * session.imagesPerStep,
                                    imagesInAll: session.totalSteps * session.imagesPerStep, beta: session.beta, losses: losses,
                                    endedEpoch: endedEpoch))
            if endedEpoch {
                let means = session.lossCurves.compactMap { curve in curve.points.last.map { "\(curve.name) \(String(format: "%.4f", $0.value))" } }
                logger.info("epoch \(session.epoch)/\(session.epochs) done after \(Int(Date().timeIntervalSince(started).rounded()))s: \(means.joined(separator: ", ")); checkpoint \(checkpointPath)")
            }
        }
        try writeLossCurves(session)
    }

    private func save<Session: SteppedTrainingSession>(_ session: Session) throws {
        try session.writeCheckpoint(to: checkpointPath)
        try writeLossCurves(session)
    }

    private func writeLossCurves<Session: SteppedTrainingSession>(_ session: Session) throws {
        guard let lossCurvePath else { return }
        try LossCurve.svg(session.lossCurves).write(toFile: lossCurvePath, atomically: true, encoding: .utf8)
    }
}
