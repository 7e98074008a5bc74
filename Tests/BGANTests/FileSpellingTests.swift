import BGAN
import Foundation
import Testing

/// Identifiers use Swift's American spelling; model files, checkpoints and command lines keep
/// the spellings they were written with, so files made before the rename still open.
@Suite struct FileSpellingTests {
    @Test func filesAndFlagsKeepTheirSpellings() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let weights = String(decoding: try encoder.encode(LossWeights()), as: UTF8.self)
        #expect(weights.contains("\"neighbourhood\":10"), "\(weights)")
        let losses = String(decoding: try encoder.encode(StepLosses()), as: UTF8.self)
        #expect(losses.contains("\"neighbourhood\":0"), "\(losses)")
        let preprocessing = String(decoding: try encoder.encode(Preprocessing(channels: 1, height: 28, width: 28)), as: UTF8.self)
        #expect(preprocessing.contains("\"centreCrop\":false"), "\(preprocessing)")
        #expect(BatchSampling.neighbors.rawValue == "neighbours")
        #expect(BatchSampling.neighborsAndViews.rawValue == "neighbours-and-views")
        let old = Data(#"{"neighbourhood":3,"content":1,"pixel":0,"adversarial":1,"quantization":1,"dissimilarTarget":-1,"dissimilarQuantile":0,"similarPairWeight":1}"#.utf8)
        #expect(try JSONDecoder().decode(LossWeights.self, from: old).neighborhood == 3)
    }
}
