@testable import BGAN
import NeuralNet
import Testing

/// The set-up of a training run beyond the exact lists' limit — lists, S and the spectral targets
/// in files — against the same built in memory from the same lists.
@Suite struct TrainingListsTests {
    @Test func structureAndTargetsFromListsInAFileEqualThoseFromTheSameListsInMemory() throws {
        var rng = SeededGenerator(seed: 31)
        let n = 2_500
        let features = (0..<(n * 5)).map { i in rng.normal() + Float(i / 5 % 4) * 3 }
        let lists = try TrainingLists(FeatureRows(features, dimension: 5), k: 12, inFile: true)
        guard case .file(let file) = lists else { Issue.record("the lists should be kept in a file"); return }
        let inMemory = try file.inMemory()
        let structure = try lists.structure(k1: 8, k2: 5)
        let expected = NeighborhoodStructure(neighbors: inMemory.prefix(8), k2: 5)
        #expect(structure.isKeptInFile && structure.pairCount == expected.pairCount)
        for i in stride(from: 0, to: n, by: 37) { #expect(try structure.similarItems(of: i) == expected.similarItems(of: i), "row \(i)") }
        let targets = try lists.spectralEmbedding(dimensions: 2, seed: 4)
        let memoryTargets = try SpectralEmbedding.embed(inMemory.prefix(FeatureSpace.smoothingNeighbors), dimensions: 2, seed: 4)
        guard case .file = targets.storage else { Issue.record("the targets should be kept in a file"); return }
        // Cosines between images do not depend on the eigensolver's signs.
        let values = try targets.values
        var worst: Float = 0
        for i in stride(from: 0, to: n, by: 53) {
            for j in stride(from: 11, to: n, by: 97) {
                let kept = values[2 * i] * values[2 * j] + values[2 * i + 1] * values[2 * j + 1]
                let memory = memoryTargets[2 * i] * memoryTargets[2 * j] + memoryTargets[2 * i + 1] * memoryTargets[2 * j + 1]
                worst = max(worst, abs(kept - memory))
            }
        }
        #expect(worst < 1e-2, "largest cosine difference \(worst)")
        #expect(try !TrainingLists(FeatureRows(features, dimension: 5), k: 12).isKeptInFile, "up to the exact lists' limit the lists stay in memory")
    }
}
