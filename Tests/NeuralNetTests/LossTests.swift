import Foundation
import Testing
@testable import NeuralNet

/// Every loss's gradient against central differences (in Double), and its value against the formula.
@Suite struct LossTests {
    func check(_ prediction: Tensor, step: Float = 1e-3, _ loss: (Tensor) throws -> (value: Float, gradient: Tensor)) throws -> Float {
        let analytic = try loss(prediction).gradient
        var worst: Float = 0
        for i in prediction.storage.indices {
            var plus = prediction, minus = prediction
            plus.storage[i] += step
            minus.storage[i] -= step
            let numeric = (Double(try loss(plus).value) - Double(try loss(minus).value)) / Double(2 * step)
            // Relative error, absolute below 0.1: the loss value is a Float, so tiny gradients are noise.
            worst = max(worst, Float(abs(numeric - Double(analytic.storage[i])) / max(0.1, abs(numeric))))
        }
        return worst
    }

    @Test func meanSquaredError() throws {
        let p = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        let t = Tensor(shape: [2, 3], storage: [1, 1, 1, 1, 1, 1])
        #expect(try Loss.meanSquaredError(p, t).value == (0 + 1 + 4 + 9 + 16 + 25) / 6)
        let target = randomTensor([3, 4], seed: 9)
        #expect(try check(randomTensor([3, 4], seed: 1)) { try Loss.meanSquaredError($0, target) } < 1e-2)
    }

    @Test func binaryCrossEntropyIsStableAndCorrect() throws {
        let logits = Tensor(shape: [1, 4], storage: [0, 2, -3, 100])
        let targets = Tensor(shape: [1, 4], storage: [1, 0, 1, 1])
        let value = try Loss.binaryCrossEntropy(logits: logits, targets: targets).value
        let terms: [Double] = [log(2.0), 2 + log(1 + exp(-2.0)), 3 + log(1 + exp(-3.0)), 0]
        let expected = terms.reduce(0, +) / 4
        #expect(abs(Double(value) - expected) < 1e-5)
        let extreme = try Loss.binaryCrossEntropy(logits: Tensor(shape: [1, 2], storage: [-500, 500]), targets: Tensor(shape: [1, 2], storage: [1, 0]))
        #expect(extreme.value.isFinite && abs(extreme.value - 500) < 1e-3)
        let soft = Tensor(shape: [2, 3], storage: [0.2, 0.9, 0, 1, 0.5, 0.1])
        #expect(try check(randomTensor([2, 3], seed: 2, scale: 3)) { try Loss.binaryCrossEntropy(logits: $0, targets: soft) } < 1e-2)
    }

    @Test func pairwiseSimilarityMatchesItsDefinition() throws {
        let z = randomTensor([5, 8], seed: 3)
        var s = Tensor(zeros: [5, 5])
        for i in 0..<5 { for j in 0..<5 { s.storage[i * 5 + j] = (i + j) % 2 == 0 ? 1 : -1 } }
        var expected: Double = 0
        for i in 0..<5 {
            for j in 0..<5 {
                var dot: Double = 0
                for k in 0..<8 { dot += Double(z.storage[i * 8 + k]) * Double(z.storage[j * 8 + k]) }
                let d = dot / 8 - Double(s.storage[i * 5 + j])
                expected += d * d
            }
        }
        #expect(abs(Double(try Loss.pairwiseSimilarity(codes: z, similarity: s).value) - expected / 25) < 1e-4)
        #expect(try check(z) { try Loss.pairwiseSimilarity(codes: $0, similarity: s) } < 1e-2)
        // An asymmetric S (pairs weighted one way) still gets the exact gradient.
        var asymmetric = s
        asymmetric.storage[1] = 0
        #expect(try check(z) { try Loss.pairwiseSimilarity(codes: $0, similarity: asymmetric) } < 1e-2)
    }

    @Test func weightedPairwiseSimilarityMatchesItsDefinitionAndGradient() throws {
        let z = randomTensor([6, 8], seed: 5)
        var s = Tensor(zeros: [6, 6]), w = Tensor(zeros: [6, 6])
        for i in 0..<6 {
            for j in 0..<6 {
                s.storage[i * 6 + j] = i == j || (i + j) % 3 == 0 ? 1 : (i * j) % 5 == 4 ? 0 : -1
                w.storage[i * 6 + j] = s.storage[i * 6 + j] == 1 && i != j ? 7 : 1
            }
        }
        var expected: Double = 0, total: Double = 0
        for i in 0..<6 {
            for j in 0..<6 where s.storage[i * 6 + j] != 0 {
                var dot: Double = 0
                for k in 0..<8 { dot += Double(z.storage[i * 8 + k]) * Double(z.storage[j * 8 + k]) }
                let d = dot / 8 - Double(s.storage[i * 6 + j])
                expected += Double(w.storage[i * 6 + j]) * d * d
                total += Double(w.storage[i * 6 + j])
            }
        }
        let value = try Loss.pairwiseSimilarity(codes: z, similarity: s, pairWeights: w).value
        #expect(abs(Double(value) - expected / total) < 1e-4)
        #expect(abs(value - (try Loss.pairwiseSimilarity(codes: z, similarity: s).value)) > 1e-3, "the weights change the value")
        #expect(try check(z) { try Loss.pairwiseSimilarity(codes: $0, similarity: s, pairWeights: w) } < 1e-2)
        #expect(throws: NeuralNetError.self) { try Loss.pairwiseSimilarity(codes: z, similarity: s, pairWeights: Tensor(zeros: [5, 5])) }
    }

    @Test func shapesAreCheckedWithClearMessages() {
        let error = #expect(throws: NeuralNetError.self) {
            try Loss.pairwiseSimilarity(codes: Tensor(zeros: [4, 8]), similarity: Tensor(zeros: [3, 3]))
        }
        #expect(error?.code == .shapeMismatch)
        #expect(error?.message.contains("(4, 4)") == true && error?.message.contains("(3, 3)") == true)
        #expect(throws: NeuralNetError.self) { try Loss.meanSquaredError(Tensor(zeros: [2]), Tensor(zeros: [3])) }
    }

    @Test func contrastiveLossMatchesItsDefinitionAndGradient() throws {
        var rng = SeededGenerator(seed: 31)
        let rows = 6, width = 5, temperature: Float = 0.5
        let z = Tensor(shape: [rows, width], storage: (0..<(rows * width)).map { _ in rng.normal() })
        // The definition in Double: unit rows, cosine logits over τ, each row's partner i ± N.
        let unit = (0..<rows).map { i -> [Double] in
            let row = (0..<width).map { Double(z.storage[i * width + $0]) }
            let length = row.map { $0 * $0 }.reduce(0, +).squareRoot()
            return row.map { $0 / length }
        }
        func logit(_ i: Int, _ k: Int) -> Double { zip(unit[i], unit[k]).map(*).reduce(0, +) / Double(temperature) }
        var expected: Double = 0
        for i in 0..<rows {
            let partner = (i + rows / 2) % rows
            let normalizer = (0..<rows).filter { $0 != i }.map { exp(logit(i, $0)) }.reduce(0, +)
            expected += -log(exp(logit(i, partner)) / normalizer)
        }
        expected /= Double(rows)
        let loss = try Loss.normalizedTemperatureCrossEntropy(embeddings: z, temperature: temperature)
        #expect(abs(Double(loss.value) - expected) < 1e-5)
        #expect(try check(z) { try Loss.normalizedTemperatureCrossEntropy(embeddings: $0, temperature: temperature) } < 1e-2)
        #expect(try check(z, step: 1e-3) { try Loss.normalizedTemperatureCrossEntropy(embeddings: $0, temperature: 0.1) } < 2e-2)
    }

    @Test func contrastiveLossIgnoresLengthAndRewardsMatchingViews() throws {
        var rng = SeededGenerator(seed: 32)
        let images = 4, width = 8
        let views = (0..<(images * width)).map { _ in rng.normal() }
        let matching = Tensor(shape: [2 * images, width], storage: views + views)
        var longer = matching
        for k in 0..<width { longer.storage[k] *= 7 }
        let shuffled = Tensor(shape: [2 * images, width], storage: views + Array(views[width...]) + Array(views[..<width]))
        let base = try Loss.normalizedTemperatureCrossEntropy(embeddings: matching, temperature: 0.2)
        #expect(abs(base.value - (try Loss.normalizedTemperatureCrossEntropy(embeddings: longer, temperature: 0.2).value)) < 1e-5)
        #expect(base.value < (try Loss.normalizedTemperatureCrossEntropy(embeddings: shuffled, temperature: 0.2).value) - 1)
        // Only directions matter: the gradient is orthogonal to each row.
        for i in 0..<(2 * images) {
            let along = (0..<width).map { base.gradient.storage[i * width + $0] * matching.storage[i * width + $0] }.reduce(0, +)
            #expect(abs(along) < 1e-5)
        }
        #expect(throws: NeuralNetError.self) { try Loss.normalizedTemperatureCrossEntropy(embeddings: Tensor(zeros: [3, 4]), temperature: 0.5) }
        #expect(throws: NeuralNetError.self) { try Loss.normalizedTemperatureCrossEntropy(embeddings: matching, temperature: 0) }
    }
}
