import Foundation
@testable import BGAN
import NeuralNet
import Testing

/// S kept in a file (built there for training sets beyond the exact lists' limit, or read in
/// place from a checkpoint) against the same S in memory, and checkpoints written a piece at a time.
@Suite struct FileKeptStructureTests {
    func features(_ n: Int, dimension: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<(n * dimension)).map { _ in rng.normal() }
    }

    func rows(_ s: NeighborhoodStructure) throws -> [[Int32]] {
        try (0..<s.count).map { Array(try s.similarItems(of: $0)) }
    }

    /// Working memory from a few kilobytes (many ranges of images, each one pass over the voted
    /// rows) down to less than one row (one image per range); 6,000 images vote on both cores.
    @Test(arguments: [(n: 6_000, k1: 5, k2: 4, bytes: 4_096), (n: 120, k1: 6, k2: 4, bytes: 1 << 20), (n: 50, k1: 3, k2: 2, bytes: 4)])
    func aStructureBuiltInAFileEqualsTheOneBuiltInMemory(n: Int, k1: Int, k2: Int, bytes: Int) throws {
        let lists = NearestNeighborLists(features: features(n, dimension: 3, seed: UInt64(n)), dimension: 3, k: k1)
        let memory = NeighborhoodStructure(neighbors: lists, k2: k2)
        let file = try NeighborhoodStructure(neighbors: lists, k2: k2, scratchWorkingBytes: bytes)
        guard case .file = file.storage else { Issue.record("S should be kept in a file"); return }
        #expect(file.count == n && file.pairCount == memory.pairCount)
        #expect(try rows(file) == rows(memory))
        let batch = [0, n / 3, n / 2, n - 1, 1, 2]
        #expect(try file.batchMatrix(batch, dissimilar: -0.5) == memory.batchMatrix(batch, dissimilar: -0.5))
        #expect(try (0..<n).allSatisfy { try file.isSimilar($0, $0) })
    }

    func images(_ n: Int) -> [Float] {
        var rng = SeededGenerator(seed: 3)
        return (0..<(n * 64)).map { _ in min(1, max(0, 0.5 + 0.25 * rng.normal())) }
    }

    func settings() -> TrainingSettings {
        var weights = LossWeights()
        weights.content = 0
        weights.adversarial = 0
        return TrainingSettings(architecture: BGANArchitecture(channels: 1, height: 8, width: 8, bits: 16, filters: 4, hiddenUnits: 16, featureUnits: 16),
                                epochs: 2, batch: 12, learningRate: 1e-2, seed: 5, weights: weights, sampling: .neighbors)
    }

    /// One run's two sessions: S and (with `targets`) blended similarity targets kept in
    /// memory, or both in temporary files.
    func sessions(_ pixels: [Float], targets: Bool = false) throws -> (memory: TrainingSession, file: TrainingSession) {
        let lists = NearestNeighborLists(features: pixels, dimension: 64, k: 4)
        let n = pixels.count / 64
        let coarse = try SimilarityEmbedding.cosines(of: features(n, dimension: 3, seed: 9), dimension: 3)
        let fine = features(n, dimension: 5, seed: 10)
        return (try TrainingSession(settings: settings(), images: pixels, structure: NeighborhoodStructure(neighbors: lists, k2: 3),
                                    similarity: targets ? try .blend(coarse, try .cosines(of: fine, dimension: 5), weightOfSecond: 0.4) : nil),
                try TrainingSession(settings: settings(), images: pixels,
                                    structure: try NeighborhoodStructure(neighbors: lists, k2: 3, scratchWorkingBytes: 256),
                                    similarity: targets ? try .blendedInScratchFile(coarse, features: fine, dimension: 5, weightOfSecond: 0.4) : nil))
    }

    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("bgan-\(UUID().uuidString)-\(name)").path
    }

    /// The same run with S in memory or in a file takes the same steps and saves the same
    /// bytes, whether the checkpoint is made in memory or streamed to a file.
    @Test(arguments: [false, true])
    func bothKindsOfSTrainAlikeAndSaveTheSameCheckpoint(targets: Bool) throws {
        let pixels = images(60)
        let (memory, file) = try sessions(pixels, targets: targets)
        if targets {
            guard case .file = file.trainer.similarityEmbedding?.storage else { Issue.record("targets should be kept in a file"); return }
            #expect(file.trainer.similarityEmbedding == memory.trainer.similarityEmbedding, "the same values, bit for bit")
        }
        for _ in 0..<7 {
            try memory.runStep()
            try file.runStep()
        }
        #expect(file.networks.encoderParameters.values == memory.networks.encoderParameters.values)
        let bytes = try memory.checkpoint()
        #expect(try file.checkpoint() == bytes)
        let path = temporaryPath("streamed.checkpoint")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try file.writeCheckpoint(to: path)
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == bytes)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
            .filter { $0.hasPrefix((path as NSString).lastPathComponent + ".partial") }
        #expect(leftovers.isEmpty, "no partial file is left beside the checkpoint")
    }

    /// A run resumed from a checkpoint file reads S from it in place, keeps reading it after
    /// the file was replaced by the next checkpoint, and ends as a run that never stopped.
    @Test(arguments: [false, true])
    func resumingFromACheckpointFileEqualsARunWithoutAStop(targets: Bool) throws {
        let pixels = images(60)
        let whole = try sessions(pixels, targets: targets).file
        while !whole.isFinished { try whole.runStep() }

        let first = try sessions(pixels, targets: targets).file
        for _ in 0..<(first.stepsPerEpoch + 1) { try first.runStep() }
        let path = temporaryPath("resumed.checkpoint")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.writeCheckpoint(to: path)
        let resumed = try TrainingSession(checkpointAt: path, images: try ImageRows(floats: pixels, valuesPerImage: 64))
        guard case .file = resumed.structure.storage else { Issue.record("S should be read from the checkpoint file"); return }
        if targets {
            guard case .file = resumed.trainer.similarityEmbedding?.storage else { Issue.record("targets should be read from the checkpoint file"); return }
        } else {
            #expect(resumed.trainer.similarityEmbedding == nil)
        }
        try resumed.runStep()
        try resumed.writeCheckpoint(to: path)
        while !resumed.isFinished { try resumed.runStep() }
        #expect(resumed.networks.encoderParameters.values == whole.networks.encoderParameters.values, "bit-exact encoder")
        #expect(resumed.history == whole.history)
    }

    @Test func aDamagedTruncatedOrMissingCheckpointFileIsRefused() throws {
        let pixels = images(60)
        let session = try sessions(pixels).file
        try session.runStep()
        let path = temporaryPath("damaged.checkpoint")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = try session.checkpoint()
        let rows = try ImageRows(floats: pixels, valuesPerImage: 64)
        // A byte of S changed: the digest no longer matches.
        bytes[bytes.count - 40] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try TrainingSession(checkpointAt: path, images: rows) } throws: { error in
            (error as? BGANError)?.code == .invalidCheckpoint && "\(error)".contains("digest")
        }
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: path))
        #expect { try TrainingSession(checkpointAt: path, images: rows) } throws: { ($0 as? BGANError)?.code == .invalidCheckpoint }
        #expect { try TrainingSession(checkpointAt: path + ".missing", images: rows) } throws: { error in
            (error as? FileError)?.code == .unreadable && "\(error)".contains(".missing")
        }
        // A checkpoint that cannot be written says where and leaves nothing behind.
        #expect { try session.writeCheckpoint(to: path + "-no-such-folder/x.checkpoint") } throws: { ($0 as? FileError)?.code == .unwritable }
    }
}
