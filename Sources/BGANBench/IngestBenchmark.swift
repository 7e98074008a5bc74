import ArgumentParser
import BGAN
import BGANStore
import Dispatch
import Foundation
import HammingSearch
import NeuralNet
import PixelIO

/// Bulk ingestion end to end through ``BulkIngestion`` (what `bgan-db ingest` runs), on the
/// Fashion-MNIST training images and on JPEG files (generated 256×256 ones, or one or more folders
/// of camera photos, each measured in the same run), into stores bound to the bundled encoder and
/// to PDQ, with each stage's rate measured alone to show which one bounds the pipeline.
struct IngestBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Images/s of bulk ingestion into stores bound to the bundled encoder (an IDX data set, then JPEG files) and to the photo model and PDQ (the JPEG files).")

    @Option(help: "IDX image file.")
    var images: String = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

    @Option(help: "Images of the data set to ingest (default: all).")
    var count: Int?

    @Option(help: "JPEG files to generate and ingest (0: skip).")
    var jpegs: Int = 3000

    @Option(help: "Side of the generated JPEGs in pixels.")
    var jpegSide: Int = 256

    @Option(help: "Ingest the JPEG files of this folder (camera photos, say) instead of generating them; repeat the option to measure several folders in one run (2-MP and 12-MP photos, say).")
    var jpegFolder: [String] = []

    @Option(help: "Code length: a bundled model's (32 or 64).")
    var bits: Int = 64

    @Option(help: "Longest side of the thumbnails the stores keep (0: none).")
    var thumbnailSize: Int = Store.defaultThumbnailSide

    @Option(help: "End-to-end runs on the data set (the median is reported).")
    var repeats: Int = 3

    @Option(help: "Images per transaction.")
    var batch: Int = 512

    @Option(help: "Where to put the temporary stores and files (removed afterwards).")
    var scratch: String = NSTemporaryDirectory()

    func run() throws {
        HeapTuning.keepImageSizedBlocks()  // as `bgan-db ingest`
        let model = try DefaultModel.load(bits: bits)
        let set = try ImageSet(contentsOf: images)
        let n = min(count ?? set.count, set.count)
        let root = URL(fileURLWithPath: scratch).appendingPathComponent("bgan-bench-ingest-\(getpid())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        print("OpenBLAS \(BLAS.coreName), \(BLAS.threads) threads; \(ProcessInfo.processInfo.activeProcessorCount) cores; model \(model.digest.prefix(16))… (\(bits) bits); batches of \(batch); thumbnails \(thumbnailSize > 0 ? "up to \(thumbnailSize) px" : "none")")

        print("\n\(n) images of \(images) (\(set.channels)×\(set.height)×\(set.width))")
        let datasetUnits = (0..<n).map { index in
            IngestionUnit(key: "\(index)", payload: set.labels.map { [$0[index]] } ?? [], name: "#\(index)") { set.pixelBuffer(index) }
        }
        var rates: [Double] = []
        var store: Store!
        for round in 1...repeats {
            store?.close()
            try? FileManager.default.removeItem(atPath: root + "/dataset")
            store = try Store.create(at: root + "/dataset", model: model, thumbnailSide: thumbnailSize)
            let report = try BulkIngestion(store: store, batchSize: batch).run(datasetUnits)
            precondition(report.added == n && report.rejected.isEmpty, "every image is stored")
            rates.append(Double(n) / report.seconds)
            printRate("end to end (decode ∥ encode + write), run \(round)", count: n, seconds: report.seconds,
                      detail: String(format: "writer waited %.2f s for decoded batches", report.secondsWaitingForInput))
        }
        if repeats > 1 { print(String(format: "end to end, median of %d runs: %.0f images/s", repeats, rates.sorted()[repeats / 2])) }
        try stageRates(units: datasetUnits, store: store, model: model, root: root + "/dataset-stages")

        if jpegFolder.isEmpty {
            guard jpegs > 0 else { return }
            try measureJPEGs(try generateJPEGs(from: set, in: root + "/jpegs"), model: model, root: root + "/generated")
        }
        for (index, folder) in jpegFolder.enumerated() {
            let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                .filter { $0.lowercased().hasSuffix(".jpg") || $0.lowercased().hasSuffix(".jpeg") }.map { folder + "/" + $0 }
            let bytes = try files.reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
            print(String(format: "\n%d JPEG files of %@ (%.1f KB each on average)", files.count, folder, Double(bytes) / Double(max(files.count, 1)) / 1024))
            try measureJPEGs(files, model: model, root: root + "/folder\(index)")
        }
    }

    /// Decoding alone (full size, and at the store's side with and without the coefficient
    /// skipping), then ingestion end to end into a store bound to the model, decoded each way,
    /// into one bound to the photo model (what `ingest --create` makes for colour photos), and
    /// into a store bound to PDQ (which decodes at its own, larger side).
    private func measureJPEGs(_ files: [String], model: ModelFile, root: String) throws {
        guard !files.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let side = Store.decodingSide(for: ModelEncoder(model: model), thumbnailSide: thumbnailSize)
        // Decoded at the smallest DCT scale the store needs, as `bgan-db ingest` does; at 1/8 scale
        // baseline JPEGs skip the coefficients that scale does not use, unless TurboJPEG alone is asked for.
        let decoder = ImageDecoder(minimumSide: side)
        let turboJPEGAlone = ImageDecoder(minimumSide: side, skipsUnusedJPEGCoefficients: false)
        for (label, oneDecoder) in [("full size", ImageDecoder()), ("at the store's side (\(side ?? 0) px), TurboJPEG alone", turboJPEGAlone),
                                    ("at the store's side (\(side ?? 0) px), unused coefficients skipped", decoder)] {
            let started = Date()
            for file in files { _ = try oneDecoder.decode(contentsOf: file) }
            printRate("  decode only, one core, \(label)", count: files.count, seconds: Date().timeIntervalSince(started))
        }
        func units(_ oneDecoder: ImageDecoder) -> [IngestionUnit] {
            files.map { file in IngestionUnit(key: URL(fileURLWithPath: file).lastPathComponent, payload: [], name: file) { try oneDecoder.decode(contentsOf: file) } }
        }
        for (index, (label, oneDecoder)) in [("TurboJPEG alone", turboJPEGAlone), ("unused coefficients skipped", decoder)].enumerated() {
            let jpegStore = try Store.create(at: root + "/model\(index)", model: model, thumbnailSide: thumbnailSize)
            let jpegUnits = units(oneDecoder)
            let jpegReport = try BulkIngestion(store: jpegStore, batchSize: batch).run(jpegUnits)
            precondition(jpegReport.added == files.count && jpegReport.rejected.isEmpty, "every JPEG is stored")
            printRate("end to end (decode ∥ encode + write), \(label)", count: files.count, seconds: jpegReport.seconds,
                      detail: String(format: "writer waited %.2f s for decoded batches", jpegReport.secondsWaitingForInput))
            if index == 1 { try stageRates(units: jpegUnits, store: jpegStore, model: model, root: root + "/stages") }
        }
        // The store `bgan-db ingest --create` makes for colour photos: bound to the photo model.
        let photoModel = try DefaultModel.loadPhotoModel()
        let photoDecoder = Store.imageDecoder(for: ModelEncoder(model: photoModel), thumbnailSide: thumbnailSize)
        let photoStore = try Store.create(at: root + "/photo-model", model: photoModel, thumbnailSide: thumbnailSize)
        let photoReport = try BulkIngestion(store: photoStore, batchSize: batch).run(units(photoDecoder))
        precondition(photoReport.added == files.count && photoReport.rejected.isEmpty, "every JPEG is stored")
        printRate("end to end into a photo-model store (the default for colour images), unused coefficients skipped", count: files.count,
                  seconds: photoReport.seconds, detail: String(format: "writer waited %.2f s for decoded batches", photoReport.secondsWaitingForInput))
        let pdqSide = Store.decodingSide(for: PDQEncoder(), thumbnailSide: thumbnailSize)
        // As `bgan-db ingest` decodes for a PDQ store: colour JPEGs as their luma plane, the colour at
        // thumbnail size; at 1/4 scale from the lowest frequencies (stores made now) and exactly
        // (stores made by the thirty-third session), side by side.
        let storeDecoder = Store.imageDecoder(for: PDQEncoder(), thumbnailSide: thumbnailSize)
        var exactDecoder = storeDecoder
        exactDecoder.quarterScaleLuma = .exact
        func pdqUnits(_ pdqDecoder: ImageDecoder) -> [IngestionUnit] {
            files.map { file in IngestionUnit(key: URL(fileURLWithPath: file).lastPathComponent, payload: [], name: file) { try pdqDecoder.decodeForEncoding(contentsOf: file) } }
        }
        for (index, (label, pdqDecoder)) in [("exact luma", exactDecoder), ("as stores made now", storeDecoder)].enumerated() {
            let pdqStore = try Store.create(at: root + "/pdq\(index)", encoder: PDQEncoder(), thumbnailSide: thumbnailSize)
            let pdqReport = try BulkIngestion(store: pdqStore, batchSize: batch).run(pdqUnits(pdqDecoder))
            precondition(pdqReport.added == files.count && pdqReport.rejected.isEmpty, "every JPEG is stored")
            printRate("end to end into a PDQ store (decoded to \(pdqSide ?? 0) px, \(label))", count: files.count, seconds: pdqReport.seconds,
                      detail: String(format: "writer waited %.2f s for decoded batches", pdqReport.secondsWaitingForInput))
        }
        try pdqStageRates(units: pdqUnits(storeDecoder), exactUnits: pdqUnits(exactDecoder), side: pdqSide, root: root + "/pdq-stages")
    }

    /// A PDQ store's stages alone on the same images: decoding at its side on one core (exact
    /// `exactUnits`, and `units` as stores made now decode), decode + hash + thumbnail on every
    /// core, and the writer's share (codes, margins, thumbnails, MIH tables, commit) in
    /// transactions of `batch`.
    private func pdqStageRates(units: [IngestionUnit], exactUnits: [IngestionUnit], side: Int?, root: String) throws {
        for (label, someUnits) in [("exact luma", exactUnits), ("as stores made now: 1/4 scale from the lowest frequencies", units)] {
            let started = Date()
            for unit in someUnits { _ = try unit.loadDecoded() }
            printRate("  stage: decode only, one core, at \(side ?? 0) px (luma, colour at thumbnail size; \(label))", count: someUnits.count,
                      seconds: Date().timeIntervalSince(started))
        }
        if let side { try TurboJPEGOutputs.measure(files: units.map(\.name), side: side, printRate: printRate) }
        let store = try Store.create(at: root, encoder: PDQEncoder(), thumbnailSide: thumbnailSize)
        var started = Date()
        let prepared = try BulkIngestion(store: store).prepare(units).map { try $0.get() }
        printRate("  stage: decode + hash + thumbnail (every core)", count: units.count, seconds: Date().timeIntervalSince(started))
        started = Date()
        for start in stride(from: 0, to: prepared.count, by: batch) {
            _ = try store.write(prepared: Array(prepared[start..<min(prepared.count, start + batch)]))
        }
        printRate("  stage: write (the writer's share)", count: units.count, seconds: Date().timeIntervalSince(started))
    }

    /// `jpegs` photo-like JPEG files of `jpegSide` pixels made from the data set's images.
    private func generateJPEGs(from set: ImageSet, in folder: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var bytes = 0
        let files = try (0..<jpegs).map { index -> String in
            let path = folder + String(format: "/%06d.jpg", index)
            let data = try Self.photo(from: set.pixelBuffer(index % set.count), index: index, side: jpegSide).jpegData(quality: 90)
            bytes += data.count
            try Data(data).write(to: URL(fileURLWithPath: path))
            return path
        }
        print(String(format: "\n%d generated %d×%d RGB JPEG files (quality 90, %.1f KB each on average)", jpegs, jpegSide, jpegSide, Double(bytes) / Double(jpegs) / 1024))
        return files
    }

    /// Each stage alone on the same images: load + prepare on every core, encode through BLAS,
    /// write codes and thumbnails in transactions of `batch`.
    private func stageRates(units: [IngestionUnit], store: Store, model: ModelFile, root: String) throws {
        var started = Date()
        let prepared = try BulkIngestion(store: store).prepare(units).map { try $0.get() }
        printRate("  stage: decode + prepare (every core)", count: units.count, seconds: Date().timeIntervalSince(started))

        let encoder = try ImageEncoder(model: model)
        let inputs = try units.map { model.header.preprocessing.input(from: try $0.load()) }
        started = Date()
        var signs: [Float] = []
        for start in stride(from: 0, to: inputs.count, by: batch) {
            signs += try encoder.signs(of: Array(inputs[start..<min(inputs.count, start + batch)].joined()))
        }
        printRate("  stage: encode (BLAS)", count: units.count, seconds: Date().timeIntervalSince(started))

        let target = try Store.create(at: root, model: model, thumbnailSide: thumbnailSize)
        started = Date()
        for start in stride(from: 0, to: prepared.count, by: batch) {
            _ = try target.write(prepared: Array(prepared[start..<min(prepared.count, start + batch)]))
        }
        let encodeAndWrite = Date().timeIntervalSince(started)
        printRate("  stage: encode + write (the writer's share)", count: units.count, seconds: encodeAndWrite)
        precondition(signs.count == units.count * bits)
    }

    /// A photo-like RGB picture from a small gray image: enlarged, tinted by its index, with a
    /// gentle gradient so that JPEG sizes resemble real photos more than flat art.
    static func photo(from image: PixelBuffer, index: Int, side: Int) -> PixelBuffer {
        let large = image.areaResized(width: side, height: side)
        let tint = [(1.0, 0.8, 0.6), (0.6, 0.9, 1.0), (0.9, 1.0, 0.7), (1.0, 0.7, 0.9)][index % 4]
        var bytes = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side {
                let v = Double(large[x, y, 0]), background = Double((x * 3 + y * 5 + index * 7) % 64)
                let value = [v * tint.0, v * tint.1, v * tint.2].map { UInt8(min(255, $0 + background)) }
                for c in 0..<3 { bytes[(y * side + x) * 3 + c] = value[c] }
            }
        }
        return try! PixelBuffer(width: side, height: side, format: .rgb, bytes: bytes)
    }

    func printRate(_ label: String, count: Int, seconds: Double, detail: String = "") {
        let padded = label.padding(toLength: max(label.count, 46), withPad: " ", startingAt: 0)
        print(padded + String(format: " %8.0f images/s  (%d in %.2f s)", Double(count) / seconds, count, seconds) + (detail.isEmpty ? "" : "; " + detail))
    }
}
