import ArgumentParser
import BGANStore
import Foundation
import PixelIO

/// Images named on the command line for `ingest` and `reencode --from`: image files, folders
/// (recursively, symbolic links not followed), IDX image files and CIFAR-10 batches, each
/// image under a key: its path relative to the folder (a single file: its name), or
/// FILE#INDEX for data sets.
struct ImageSources {
    let sources: [String]

    init(_ sources: [String]) { self.sources = sources }

    /// What each item's payload holds.
    enum PayloadChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, label, path, none
    }

    /// Every image the sources hold, keys checked and unique; files that cannot be images (and
    /// keys that are too long or given twice) go to `rejected`.
    func units(payload: PayloadChoice, rejected: inout [(name: String, reason: String)]) throws -> [IngestionUnit] {
        var units: [IngestionUnit] = []
        // Keys as bytes, as the store compares them: Swift's String equality would call a key in
        // NFC and the same text in NFD one key.
        var seen = Set<[UInt8]>()
        let decoder = ImageDecoder()
        func add(_ key: String, _ payload: [UInt8], describing name: String, load: @escaping @Sendable () throws -> PixelBuffer) {
            let length = key.utf8.count
            guard length >= 1, length <= 511 else {
                rejected.append((name, "its key is \(length) bytes; keys are 1 to 511 bytes of UTF-8"))
                return
            }
            guard seen.insert(Array(key.utf8)).inserted else {
                rejected.append((name, "another source already gives the key '\(key)'"))
                return
            }
            units.append(IngestionUnit(key: key, payload: payload, name: name, load: load))
        }
        for source in sources {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw CommandFailure("\(source) does not exist")
            }
            if let listing = try ImageFiles.expand(source) {
                let root = isDirectory.boolValue ? URL(fileURLWithPath: source).standardizedFileURL.path + "/" : nil
                rejected += listing.passedOver.map { ($0.path, $0.reason) }
                for file in listing.images {
                    let key = root.map { String(URL(fileURLWithPath: file).standardizedFileURL.path.dropFirst($0.count)) }
                        ?? URL(fileURLWithPath: file).lastPathComponent
                    let payloadBytes: [UInt8] = [.auto, .path].contains(payload) ? Array(file.utf8) : []
                    add(key, payloadBytes, describing: file) { try decoder.decode(contentsOf: file) }
                }
                continue
            }
            let set = try ImageSet(contentsOf: source)
            let labels = EvalCommand.labels(of: set, at: source)
            if payload == .label && labels == nil {
                throw CommandFailure("--payload label: \(source) has no labels (no CIFAR labels, no matching IDX label file)")
            }
            let name = URL(fileURLWithPath: source).lastPathComponent
            for index in 0..<set.count {
                let label: [UInt8] = [.auto, .label].contains(payload) ? (labels.map { Array(String($0[index]).utf8) } ?? []) : []
                add("\(name)#\(index)", payload == .path ? Array("\(source)#\(index)".utf8) : label,
                    describing: "\(source)#\(index)") { set.pixelBuffer(index) }
            }
        }
        return units
    }

}
