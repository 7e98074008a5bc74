import ArgumentParser
import BGAN
import BGANStore
import Foundation
import PerceptualHash

/// Stores of N codes, queried by exact k-NN and radius search through multi-index hashing
/// (planner and forced) and our linear scan, one thread, in the same run.
struct SearchBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "MIH vs linear scan latency, ingest rate and bytes per item.")

    @Option(help: "Store sizes, comma-separated.")
    var sizes: String = "100000,1000000"

    @Option(help: "Code lengths, comma-separated.")
    var bits: String = "64,128,256"

    @Option(help: "uniform, clustered, copies, encoded (the bundled encoder's codes of Fashion-MNIST and augmented copies) or photos (PDQ hashes of crops of --photo-folder's photographs; 256 bits only), comma-separated.")
    var distributions: String = "uniform,clustered"

    @Option(help: "encoded: the IDX images stored (past their count, augmented copies of them).")
    var images: String = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

    @Option(help: "encoded: the IDX images whose codes are the queries.")
    var queryImages: String = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

    @Option(help: "encoded: folder of the code cache, kept between runs so that a larger run encodes only what is new (default: --directory).")
    var codeCache: String?

    @Option(help: "photos: the photographs whose crops are hashed (the photo benchmark's originals/ folder).")
    var photoFolder: String?

    @Option(help: "Queries per configuration.")
    var queries: Int = 1000

    @Option(name: .short, help: "Neighbours per k-NN query.")
    var k: Int = 10

    @Option(help: "Radii for radius queries, comma-separated.")
    var radii: String = "1,3"

    @Option(help: "Directory for the stores (deleted after each configuration).")
    var directory: String = NSTemporaryDirectory()

    @Option(help: "Also write each workload as DIR/<name>.database.npy and .queries.npy (for benchmarks/peers).")
    var saveNpy: String?

    @Option(help: "Seconds at most per timed column; slower paths are timed on the queries that fit.")
    var budget: Double = 10

    @Flag(help: "Also print the buckets and candidates of forced-MIH queries, and the distinct codes of random workloads (learned ones always).")
    var verbose = false

    @Option(help: "Fixed number of tables m (default: the store's log2 N rule).")
    var substrings: Int?

    @Option(help: "Distance kernel: avx512-vpopcntdq, popcnt or portable (default: the best this CPU has), to measure one against another on the same machine.")
    var kernel: String?

    func run() throws {
        if let kernel {
            guard let chosen = HammingKernel(rawValue: kernel), HammingKernel.use(chosen) == chosen else {
                throw ValidationError("--kernel \(kernel): not a kernel this CPU has (the best it has: \(HammingKernel.best.rawValue); also popcnt and portable below it)")
            }
        }
        let sizeList = sizes.split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "_", with: "")) }
        let bitList = bits.split(separator: ",").compactMap { Int($0) }
        let distributionList = distributions.split(separator: ",").compactMap { CodeWorkload.Distribution(rawValue: String($0)) }
        let radiusList = radii.split(separator: ",").compactMap { Int($0) }
        if distributionList.contains(.photos) {
            guard bitList.allSatisfy({ $0 == PDQ.bitCount }) else { throw ValidationError("photos: PDQ hashes have \(PDQ.bitCount) bits; give --bits \(PDQ.bitCount)") }
            guard photoFolder != nil else { throw ValidationError("photos: give --photo-folder (the photo benchmark's originals/ folder)") }
            guard sizeList.allSatisfy({ $0 > 0 }) else { throw ValidationError("photos: every size must be at least 1") }
        }
        print("kernel: \(HammingKernel.active.rawValue); one thread; \(queries) queries per row; exact \(k)-NN and radius \(radiusList.map(String.init).joined(separator: "/"))")
        print("| codes | m | ingest codes/s | bytes/item | \(k)-NN auto ms | \(k)-NN mih ms | \(k)-NN scan ms | scan/auto | paths (auto) | " + radiusList.map { "r≤\($0) auto ms | r≤\($0) scan ms" }.joined(separator: " | ") + " |")
        print("|---|---|---|---|---|---|---|---|---|" + radiusList.map { _ in "---|---" }.joined(separator: "|") + "|")
        // The photographs are decoded once, whatever the sizes.
        let photos = try photoFolder.flatMap { folder in try distributionList.contains(.photos) ? PhotoCropHashes(folder: folder) : nil }
        for distribution in distributionList {
            for bitCount in bitList {
                for size in sizeList {
                    try measure(distribution: distribution, bitCount: bitCount, size: size, radii: radiusList, photos: photos)
                }
            }
        }
    }

    func workload(_ distribution: CodeWorkload.Distribution, bitCount: Int, size: Int, photos: PhotoCropHashes?) throws -> CodeWorkload {
        if distribution == .photos, let photos {
            return CodeWorkload(distribution: distribution, bits: bitCount, database: try photos.database(count: size),
                                queries: try photos.queries(count: queries, databaseCount: size))
        }
        guard distribution == .encoded else {
            return CodeWorkload(distribution: distribution, bits: bitCount, count: size, queryCount: queries, seed: 2026)
        }
        let cache = try EncodedCodeCache(model: try DefaultModel.load(bits: bitCount), imagesPath: images, directory: codeCache ?? directory)
        return CodeWorkload(distribution: distribution, bits: bitCount, database: try cache.codes(count: size),
                            queries: try cache.codes(ofImagesIn: queryImages, count: queries))
    }

    func measure(distribution: CodeWorkload.Distribution, bitCount: Int, size: Int, radii: [Int], photos: PhotoCropHashes?) throws {
        let workload = try workload(distribution, bitCount: bitCount, size: size, photos: photos)
        let name = "\(distribution.rawValue)-\(bitCount)-\(size)"
        if let saveNpy {
            try FileManager.default.createDirectory(atPath: saveNpy, withIntermediateDirectories: true)
            try workload.database.encoded().write(to: URL(fileURLWithPath: "\(saveNpy)/\(name).database.npy"))
            try workload.queries.encoded().write(to: URL(fileURLWithPath: "\(saveNpy)/\(name).queries.npy"))
        }
        let path = "\(directory)/bgan-bench-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = StoreOptions()
        options.writeMap = true
        let store = try Store.create(at: path, bitCount: bitCount, substrings: substrings, options: options)
        let started = Date()
        _ = try store.importCodes(workload.database)
        let ingestRate = Double(size) / Date().timeIntervalSince(started)
        let stats = try store.statistics()
        let codes = try workload.queryCodes()

        func time(_ search: (BinaryCode) throws -> StoreSearchResult) rethrows -> (ms: Double, paths: [String: Int], probes: Double, candidates: Double, verified: Double) {
            var paths: [String: Int] = [:]
            var probes = 0, candidates = 0, verified = 0
            _ = try search(codes[0])
            let start = DispatchTime.now().uptimeNanoseconds
            var done = 0
            for code in codes {
                let statistics = try search(code).statistics
                paths[statistics.path.rawValue, default: 0] += 1
                probes += statistics.bucketsProbed
                candidates += statistics.candidates
                verified += statistics.distancesComputed
                done += 1
                // A slow path is timed on the queries that fit in the budget.
                if Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 > budget { break }
            }
            let n = Double(done)
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / n, paths, Double(probes) / n, Double(candidates) / n, Double(verified) / n)
        }
        let auto = try time { try store.search(code: $0, k: k, method: .automatic) }
        let mih = try time { try store.search(code: $0, k: k, method: .multiIndex) }
        let scan = try time { try store.search(code: $0, k: k, method: .linearScan) }
        var radiusCells: [String] = []
        for radius in radii {
            let radiusAuto = try time { try store.search(code: $0, radius: radius, method: .automatic) }
            let radiusScan = try time { try store.search(code: $0, radius: radius, method: .linearScan) }
            radiusCells.append(String(format: "%.4f | %.3f", radiusAuto.ms, radiusScan.ms))
        }
        let paths = auto.paths.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print(String(format: "| %@ %d×%d | %d | %.2fM | %.1f | %.4f | %.4f | %.3f | %.1f× | %@ | %@ |",
                     distribution.rawValue, size, bitCount, stats.substrings, ingestRate / 1e6, stats.bytesPerItem,
                     auto.ms, mih.ms, scan.ms, scan.ms / auto.ms, paths, radiusCells.joined(separator: " | ")))
        // Random workloads hardly repeat; counting means sorting a copy of every code (0.8 GB at 10⁸).
        if workload.distribution == .encoded || workload.distribution == .photos || verbose, let repetition = workload.repetition() {
            print(String(format: "  %@: %d distinct codes (%.1f %%), the most common held by %d items", name, repetition.distinct,
                         100 * Double(repetition.distinct) / Double(size), repetition.largestGroup))
        }
        if verbose {
            print(String(format: "  forced MIH: %.0f buckets, %.0f candidates, %.0f codes verified per query", mih.probes, mih.candidates, mih.verified))
        }
        fflush(nil)
    }
}
