import Testing
import TestSupport
@testable import HammingSearch
import CHammingKernels

/// Every kernel against plain Swift, over every word count a code can have. Each kernel's
/// functions are called directly: the kernel the process uses is never changed, so suites that
/// run in parallel keep the default.
@Suite struct KernelTests {
    func reference(_ codes: [UInt64], count: Int, words: Int, query: [UInt64]) -> [Int] {
        (0..<count).map { i in (0..<words).map { (codes[i * words + $0] ^ query[$0]).nonzeroBitCount }.reduce(0, +) }
    }

    @Test(arguments: HammingKernel.allCases)
    func scanMatchesReference(kernel: HammingKernel) {
        let functions = bgan_hamming_kernel_functions(kernel.cValue)
        if HammingKernel.best == .avx512 { #expect(HammingKernel(functions.kernel) == kernel, "this CPU supports every kernel") }
        var rng = SeededGenerator(seed: 7)
        for words in 1...16 {
            for count in [0, 1, 7, 8, 9, 63, 100] {
                let codes = (0..<count * words).map { _ in UInt64.random(in: .min ... .max, using: &rng) }
                let query = (0..<words).map { _ in UInt64.random(in: .min ... .max, using: &rng) }
                let live = (0..<(count + 7) / 8).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let distances = reference(codes, count: count, words: words, query: query)
                let threshold = words * 32
                var ids = [UInt32](repeating: 0, count: max(count, 1))
                var found = [UInt16](repeating: 0, count: max(count, 1))
                let n = functions.scan(codes, count, words, query, UInt32(threshold), live, 100, &ids, &found)
                let expected = (0..<count).filter { distances[$0] <= threshold && live[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
                #expect(Array(ids[..<n]) == expected.map { UInt32($0 + 100) }, "words \(words) count \(count)")
                #expect(Array(found[..<n]).map(Int.init) == expected.map { distances[$0] })
                let all = functions.scan(codes, count, words, query, UInt32(words * 64), nil, 0, &ids, &found)
                #expect(all == count)
                if count > 0 {
                    #expect(Int(functions.distance(codes, query, words)) == distances[0])
                }
            }
        }
    }

    @Test(arguments: HammingKernel.allCases)
    func verifyMatchesReference(kernel: HammingKernel) {
        let functions = bgan_hamming_kernel_functions(kernel.cValue)
        var rng = SeededGenerator(seed: 11)
        for bits in [8, 64, 128, 200, 1024] {
            let index = try! InMemoryIndex(bitCount: bits, substrings: (bits + 23) / 24)
            var codes: [BinaryCode] = []
            for _ in 0..<5000 {
                let code = randomCode(bits: bits, rng: &rng)
                codes.append(code)
                try! index.append(code)
            }
            for id in stride(from: 0, to: 5000, by: 7) { index.remove(UInt32(id)) }
            let snapshot = index.snapshot()
            let query = randomCode(bits: bits, rng: &rng)
            let candidates: [UInt32] = (0..<600).map { _ in UInt32.random(in: 0..<6000, using: &rng) }
            let threshold = bits / 2
            var outIDs = [UInt32](repeating: 0, count: candidates.count)
            var outDistances = [UInt16](repeating: 0, count: candidates.count)
            let n = snapshot.chunks.pointers.withUnsafeBufferPointer { chunks in
                functions.verify(candidates, candidates.count, chunks.baseAddress, chunks.count, UInt32(CodeChunkLayout.shift),
                                    snapshot.chunks.layout.words, snapshot.chunks.layout.liveOffset, query.words, UInt32(threshold),
                                    &outIDs, &outDistances)
            }
            let expected = candidates.filter { id in
                id < 5000 && id % 7 != 0 && codes[Int(id)].distance(to: query) <= threshold
            }
            #expect(Array(outIDs[..<n]) == expected, "bits \(bits)")
            #expect(Array(outDistances[..<n]).map(Int.init) == expected.map { codes[Int($0)].distance(to: query) })
        }
    }

    /// The ids whose fingerprint is within `limit` bits of `query`'s, in order.
    func passing(_ ids: ArraySlice<UInt32>, _ fingerprints: ArraySlice<UInt32>, query: UInt32, limit: Int) -> [UInt32] {
        zip(ids, fingerprints).filter { ($0.1 ^ query).nonzeroBitCount <= limit }.map(\.0)
    }

    @Test(arguments: HammingKernel.allCases)
    func fingerprintFilterMatchesReference(kernel: HammingKernel) {
        let functions = bgan_hamming_kernel_functions(kernel.cValue)
        var rng = SeededGenerator(seed: 13)
        for count in [0, 1, 2, 15, 16, 17, 31, 32, 33, 100, 257] {
            let ids = (0..<count).map { _ in UInt32.random(in: .min ... .max, using: &rng) }
            let fingerprints = (0..<count).map { _ in UInt32.random(in: .min ... .max, using: &rng) }
            let query = UInt32.random(in: .min ... .max, using: &rng)
            for limit in [0, 12, 16, 20, 32] {
                // Sentinels after the output: no kernel writes past `count` entries, and the
                // vector one (which stores whole registers under a mask) not past the ids that pass.
                var out = [UInt32](repeating: 0xDEAD_BEEF, count: count + 16)
                let copied = functions.filter(ids, fingerprints, count, query, UInt32(limit), &out)
                let expected = passing(ids[...], fingerprints[...], query: query, limit: limit)
                #expect(Array(out[..<copied]) == expected, "count \(count) limit \(limit)")
                #expect(out[count...].allSatisfy { $0 == 0xDEAD_BEEF }, "count \(count) limit \(limit)")
                if HammingKernel(functions.kernel) == .avx512 {
                    #expect(out[copied...].allSatisfy { $0 == 0xDEAD_BEEF }, "count \(count) limit \(limit)")
                }
            }
        }
    }

    @Test(arguments: HammingKernel.allCases)
    func collectFilteredMatchesReference(kernel: HammingKernel) {
        let functions = bgan_hamming_kernel_functions(kernel.cValue)
        var rng = SeededGenerator(seed: 17)
        // A table of 64 buckets in CSR form: offsets[b] ..< offsets[b + 1] are bucket b's entries.
        let sizes = (0..<64).map { _ in Int.random(in: 0...40, using: &rng) }
        var offsets: [UInt32] = [0]
        for size in sizes { offsets.append(offsets.last! + UInt32(size)) }
        let total = Int(offsets.last!)
        let ids = (0..<total).map { UInt32($0) * 3 + 1 }
        let fingerprints = (0..<total).map { _ in UInt32.random(in: .min ... .max, using: &rng) }
        let values = (0..<50).map { _ in UInt32.random(in: 0..<64, using: &rng) }
        let query = UInt32.random(in: .min ... .max, using: &rng)
        for capacity in [0, 10, 41, 300, total * 2] {
            for limit in [14, 32] {
                // The reference: whole buckets while they fit in what is left of the capacity.
                var expected: [UInt32] = [], used = 0, nonempty = 0, read = 0, reserved = 0
                for value in values {
                    let range = Int(offsets[Int(value)])..<Int(offsets[Int(value) + 1])
                    if reserved + range.count > capacity { break }
                    let passed = passing(ids[range], fingerprints[range], query: query, limit: limit)
                    expected += passed
                    reserved += passed.count
                    read += range.count
                    nonempty += range.isEmpty ? 0 : 1
                    used += 1
                }
                var out = [UInt32](repeating: 0, count: max(capacity, 1))
                var valuesUsed = 0, probedNonempty = 0, entriesRead = 0
                let copied = functions.collect_filtered(offsets, ids, fingerprints, values, values.count, query, UInt32(limit),
                                                        &out, capacity, &valuesUsed, &probedNonempty, &entriesRead)
                #expect(Array(out[..<copied]) == expected, "capacity \(capacity) limit \(limit)")
                #expect(valuesUsed == used && probedNonempty == nonempty && entriesRead == read, "capacity \(capacity) limit \(limit)")
            }
        }
    }

    @Test func theBestKernelIsActiveByDefault() {
        #expect(HammingKernel.active == HammingKernel.best)
    }
}
