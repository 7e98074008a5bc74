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
    /// Files read and written a few values at a time (`chunk`) cross every chunk boundary; the
    /// file's layout is the checkpoint record's, so the checkpoint reader accepts it as it is.
    @Test(arguments: [(n: 6_000, k1: 5, k2: 4, bytes: 4_096, chunk: 1 << 18), (n: 6_000, k1: 5, k2: 4, bytes: 1 << 20, chunk: 7),
                      (n: 120, k1: 6, k2: 4, bytes: 1 << 20, chunk: 5), (n: 50, k1: 3, k2: 2, bytes: 4, chunk: 1)])
    func aStructureBuiltInAFileEqualsTheOneBuiltInMemory(n: Int, k1: Int, k2: Int, bytes: Int, chunk: Int) throws {
        let lists = NearestNeighborLists(features: features(n, dimension: 3, seed: UInt64(n)), dimension: 3, k: k1)
        let memory = NeighborhoodStructure(neighbors: lists, k2: k2)
        let file = try NeighborhoodStructure(neighbors: lists, k2: k2, scratchWorkingBytes: bytes, valuesPerChunk: chunk)
        guard case .file(let opened, let base) = file.storage else { Issue.record("S should be kept in a file"); return }
        let read = try CheckpointCodec.structure(in: opened, at: base..<(try opened.size()), source: "S", rowsPerRead: 3, valuesPerRead: 5)
        #expect(try rows(read) == rows(memory))
        #expect(file.count == n && file.pairCount == memory.pairCount)
        #expect(try rows(file) == rows(memory))
        let batch = [0, n / 3, n / 2, n - 1, 1, 2]
        #expect(try file.batchMatrix(batch, dissimilar: -0.5) == memory.batchMatrix(batch, dissimilar: -0.5))
        #expect(try (0..<n).allSatisfy { try file.isSimilar($0, $0) })
        let fromListFile = try NeighborhoodStructure(neighbors: try NeighborListFile(lists), k2: k2, scratchWorkingBytes: bytes, valuesPerChunk: chunk)
        #expect(fromListFile.isKeptInFile && fromListFile.pairCount == memory.pairCount)
        #expect(try rows(fromListFile) == rows(memory), "lists and who lists whom read from files vote as in memory")
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
        // A byte of the last record changed: the digest no longer matches.
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
        // A checkpoint that cannot be written says why; one that cannot replace what is at its
        // path (here a folder) leaves that as it was and no partial file beside it.
        #expect { try session.writeCheckpoint(to: path + "-no-such-folder/x.checkpoint") } throws: { ($0 as? FileError)?.code == .unwritable }
        let folder = path + "-folder"
        try FileManager.default.createDirectory(atPath: folder + "/inside", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect { try session.writeCheckpoint(to: folder) } throws: { error in
            (error as? FileError)?.code == .unwritable && "\(error)".contains("cannot replace")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + ".partial"))
        #expect(FileManager.default.fileExists(atPath: folder + "/inside"))
    }

    /// The part of a training checkpoint that holds S, as (offset, length) in `bytes`.
    func structureRecord(in bytes: [UInt8]) -> Range<Int> {
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let headerLength = (0..<4).reduce(0) { $0 | Int(bytes[12 + $1]) << (8 * $1) }
        var offset = 16 + headerLength
        for _ in 0..<TrainingSession.structureBlob { offset += 8 + u64(offset) }
        return (offset + 8)..<(offset + 8 + u64(offset))
    }

    /// Checkpoints whose digest was made to match contents that are not S any more — a count
    /// beyond the file, offsets that go back, an image beyond the count — are refused, not
    /// read out of bounds.
    @Test(arguments: ["count", "offsets", "image"])
    func aCheckpointWithADigestButNoStructureIsRefused(damage: String) throws {
        let pixels = images(60)
        let session = try sessions(pixels).file
        try session.runStep()
        var bytes = try session.checkpoint()
        let record = structureRecord(in: bytes)
        let count = 60
        switch damage {
        case "count": for i in 0..<8 { bytes[record.lowerBound + i] = 0xFF }
        case "offsets": bytes[record.lowerBound + 8 + 8 * 3] = 0xFF; bytes[record.lowerBound + 8 + 8 * 3 + 1] = 0xFF
        default:
            let values = record.lowerBound + 8 * (count + 2)
            for (i, byte) in withUnsafeBytes(of: UInt32(count).littleEndian, Array.init).enumerated() { bytes[values + 4 + i] = byte }
        }
        bytes = Array(bytes.dropLast(32)) + SHA256.hash(Array(bytes.dropLast(32)))
        let path = temporaryPath("crafted.checkpoint")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try TrainingSession(checkpointAt: path, images: try ImageRows(floats: pixels, valuesPerImage: 64)) } throws: { error in
            (error as? BGANError)?.code == .invalidCheckpoint && "\(error)".contains("neighbourhood structure")
        }
        #expect(throws: BGANError.self) { try TrainingSession(checkpoint: bytes, images: pixels) }
    }
}
