import ArgumentParser
import BGANStore
import Foundation

/// Raw scan throughput of each distance kernel over codes in memory, one thread.
struct KernelBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Codes per second of each popcount kernel scanning in-memory codes.")

    @Option(help: "Codes to scan.")
    var count: Int = 10_000_000

    @Option(help: "Code lengths, comma-separated.")
    var bits: String = "64,128,256"

    func run() throws {
        print("| bits | kernel | G codes/s | GB/s |")
        print("|---|---|---|---|")
        for bitCount in bits.split(separator: ",").compactMap({ Int($0) }) {
            let index = try InMemoryIndex(bitCount: bitCount, substrings: (bitCount + 23) / 24)
            let workload = CodeWorkload(distribution: .uniform, bits: bitCount, count: count, queryCount: 20, seed: 7)
            for row in 0..<count { try index.append(try BinaryCode(bytes: workload.database.row(row))) }
            let snapshot = index.snapshot()
            let searcher = HammingSearcher()
            let queries = try workload.queryCodes()
            for kernel in HammingKernel.allCases {
                guard HammingKernel.use(kernel) == kernel else { continue }
                _ = try searcher.nearest(to: queries[0], k: 10, in: snapshot, method: .linearScan)
                let start = DispatchTime.now().uptimeNanoseconds
                for query in queries { _ = try searcher.nearest(to: query, k: 10, in: snapshot, method: .linearScan) }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let rate = Double(count * queries.count) / seconds
                print(String(format: "| %d | %@ | %.2f | %.1f |", bitCount, kernel.rawValue, rate / 1e9, rate * Double(bitCount / 8) / 1e9))
            }
            HammingKernel.use(.best)
        }
    }
}
