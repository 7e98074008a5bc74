import ArgumentParser
import BGAN
import BGANStore
import Dispatch
import Foundation
import PixelIO

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Encode images with the store's model and store them, in bulk, resumably.",
        discussion: """
        SOURCE is an image file (PNG, JPEG, PGM, PPM, by content), a folder (its image files, \
        recursively, symbolic links not followed), an IDX image file or a CIFAR-10 batch. Keys are \
        paths relative to the folder (a single file: its name) or FILE#INDEX for data sets. \
        Batches are decoded on every core, encoded through OpenBLAS and written in one \
        transaction each: an interrupted run leaves whole batches, and running it again skips \
        the keys already stored. Files that cannot be read or decoded are skipped and listed at \
        the end (and in --rejects FILE); the exit status is then 1 unless --keep-going.
        """)

    @OptionGroup var location: StoreLocation

    @Argument(help: "Image files, folders, IDX image files or CIFAR-10 batches.")
    var sources: [String]

    @Option(help: "Payload of each item: auto (the label for labelled data sets, the file's path for files), label, path or none.")
    var payload: PayloadChoice = .auto

    @Option(help: "Images per transaction.")
    var batch: Int = 512

    @Option(help: "Ingest at most N images (the first N of the sources, in order).")
    var limit: Int?

    @Option(help: "Refuse to run unless the store is bound to this model file.")
    var model: String?

    @Option(help: "Also write the rejected files as TSV (file, reason).")
    var rejects: String?

    @Flag(help: "Exit 0 even when some files were rejected.")
    var keepGoing = false

    enum PayloadChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, label, path, none
    }

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    }

    /// One image to ingest: its key, where its pixels come from, its payload.
    struct Unit {
        let key: String
        let origin: Origin
        let payload: [UInt8]
    }

    enum Origin {
        case file(String)
        case dataset(set: Int, index: Int)
    }

    func run() throws {
        try Console.reportingErrors {
            let store = try location.open()
            let bound = try store.boundModel()
            if let model { try store.requireModel(try DefaultModel.load(path: model, bits: 0)) }
            var rejected: [(String, String)] = []
            var sets: [ImageSet] = []
            var units = try collect(sets: &sets, rejected: &rejected)
            if let limit { units = Array(units.prefix(limit)) }
            let p = bound.header.preprocessing
            Console.log("ingesting \(units.count) images into \(store.path) (model \(bound.digest.prefix(16))…, input \(p.channels)×\(p.height)×\(p.width))")

            let started = Date()
            var progress = ProgressReporter(label: "ingest", total: units.count)
            var added = 0, skipped = 0, done = 0
            for start in stride(from: 0, to: units.count, by: batch) {
                let slice = Array(units[start..<min(units.count, start + batch)])
                let stored = try store.storedKeys(among: slice.map(\.key))
                let fresh = slice.filter { !stored.contains($0.key) }
                skipped += slice.count - fresh.count
                let decoded = decodeInParallel(fresh, sets: sets)
                var items: [ImageItem] = []
                for (unit, result) in zip(fresh, decoded) {
                    switch result {
                    case .success(let image): items.append(ImageItem(key: unit.key, image: image, payload: unit.payload))
                    case .failure(let error): rejected.append((describe(unit), "\(error)"))
                    }
                }
                if !items.isEmpty { added += try store.write(images: items).insertedIDs.count }
                done += slice.count
                progress.update(done)
            }
            progress.update(done, force: true)
            let seconds = Date().timeIntervalSince(started)
            Console.log(String(format: "ingested %d new images, %d already stored, %d rejected, in %.1fs (%.0f images/s)",
                               added, skipped, rejected.count, seconds, Double(added) / max(seconds, 1e-9)))
            try report(rejected)
            if !rejected.isEmpty && !keepGoing { throw ExitCode.failure }
        }
    }

    /// Every image the sources hold, keys checked and unique.
    private func collect(sets: inout [ImageSet], rejected: inout [(String, String)]) throws -> [Unit] {
        var units: [Unit] = []
        var seen = Set<String>()
        func add(_ key: String, _ origin: Origin, _ payload: [UInt8], describing name: String) {
            let length = key.utf8.count
            guard length >= 1, length <= 511 else {
                rejected.append((name, "its key is \(length) bytes; keys are 1 to 511 bytes of UTF-8"))
                return
            }
            guard seen.insert(key).inserted else {
                rejected.append((name, "another source already gives the key '\(key)'"))
                return
            }
            units.append(Unit(key: key, origin: origin, payload: payload))
        }
        for source in sources {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw ValidationError("\(source) does not exist")
            }
            if let listing = try ImageFiles.expand(source) {
                let root = isDirectory.boolValue ? URL(fileURLWithPath: source).standardizedFileURL.path + "/" : nil
                rejected += listing.passedOver.map { ($0.path, $0.reason) }
                for file in listing.images {
                    let key = root.map { String(URL(fileURLWithPath: file).standardizedFileURL.path.dropFirst($0.count)) }
                        ?? URL(fileURLWithPath: file).lastPathComponent
                    let payloadBytes: [UInt8] = [.auto, .path].contains(payload) ? Array(file.utf8) : []
                    add(key, .file(file), payloadBytes, describing: file)
                }
                continue
            }
            let set = try ImageSet(contentsOf: source)
            let labels = EvalCommand.labels(of: set, at: source)
            if payload == .label && labels == nil {
                throw ValidationError("--payload label: \(source) has no labels (no CIFAR labels, no matching IDX label file)")
            }
            sets.append(set)
            let name = URL(fileURLWithPath: source).lastPathComponent
            for index in 0..<set.count {
                let label: [UInt8] = [.auto, .label].contains(payload) ? (labels.map { Array(String($0[index]).utf8) } ?? []) : []
                add("\(name)#\(index)", .dataset(set: sets.count - 1, index: index), payload == .path ? Array("\(source)#\(index)".utf8) : label,
                    describing: "\(source)#\(index)")
            }
        }
        return units
    }

    /// Decodes the units' pixels on every core.
    private func decodeInParallel(_ units: [Unit], sets: [ImageSet]) -> [Result<PixelBuffer, Error>] {
        let results = UnsafeMutableBufferPointer<Result<PixelBuffer, Error>?>.allocate(capacity: units.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, units.count))
        nonisolated(unsafe) let output = results
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let decoder = ImageDecoder()
            for position in stride(from: worker, to: units.count, by: workers) {
                output[position] = Result {
                    switch units[position].origin {
                    case .file(let path):
                        return try decoder.decode(contentsOf: path)
                    case .dataset(let set, let index):
                        return sets[set].pixelBuffer(index)
                    }
                }
            }
        }
        return results.map { $0! }
    }

    private func describe(_ unit: Unit) -> String {
        switch unit.origin {
        case .file(let path): path
        case .dataset: unit.key
        }
    }

    private func report(_ rejected: [(String, String)]) throws {
        guard !rejected.isEmpty else { return }
        Console.log("rejected (\(rejected.count)):")
        for (file, reason) in rejected.prefix(50) { Console.log("  \(file): \(reason)") }
        if rejected.count > 50 { Console.log("  … and \(rejected.count - 50) more\(rejects == nil ? "; --rejects FILE lists them all" : "")") }
        if let rejects {
            let text = rejected.map { "\($0.0)\t\($0.1.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n") + "\n"
            try text.write(toFile: rejects, atomically: true, encoding: .utf8)
            Console.log("the rejects are listed in \(rejects)")
        }
    }
}
