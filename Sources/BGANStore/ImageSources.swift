import Foundation
import PixelIO

/// Images to ingest (``BulkIngestion``) or re-encode from, named by path: image files, folders
/// (recursively, symbolic links not followed), IDX image files and CIFAR-10 batches. Each image
/// gets a key: its path relative to the folder (a single file: its name), or `FILE#INDEX` for
/// data sets; and a payload (``PayloadChoice``).
///
/// ```swift
/// var rejected: [SkippedInput] = []
/// let units = try ImageSources(["/photos"], decoder: try store.imageDecoder()).units(payload: .path, rejected: &rejected)
/// let report = try await BulkIngestion(store: store).run(units)
/// ```
public struct ImageSources: Sendable {
    public let sources: [String]
    /// How image files are decoded: give ``Store/imageDecoder(maximumPixels:)`` to decode them
    /// as the store needs them (JPEGs no larger than its side; for PDQ, colour JPEGs as their luma).
    public var decoder = ImageDecoder()

    public init(_ sources: [String], decoder: ImageDecoder = ImageDecoder()) {
        self.sources = sources
        self.decoder = decoder
    }

    /// What each item's payload holds.
    public enum PayloadChoice: String, CaseIterable, Sendable {
        /// The label for data sets that have labels, the file's path for image files.
        case auto
        /// The label (data sets only).
        case label
        /// The file's path, or `FILE#INDEX`.
        case path
        /// Nothing.
        case none
    }

    /// Every image the sources hold, keys checked and unique; files that cannot be images (and
    /// keys that are too long or given twice) go to `rejected`, nothing is loaded yet.
    /// - Throws: `DatasetError` for a source that does not exist or cannot be read as a data
    ///   set; `.unsupported` for `.label` on a data set without labels.
    public func units(payload: PayloadChoice, rejected: inout [SkippedInput]) throws -> [IngestionUnit] {
        var units: [IngestionUnit] = []
        // Keys as bytes, as the store compares them: Swift's String equality would call a key in
        // NFC and the same text in NFD one key.
        var seen = Set<[UInt8]>()
        let decoder = self.decoder
        func add(_ key: String, _ payload: [UInt8], describing name: String, load: @escaping @Sendable () throws -> DecodedImage) {
            let length = key.utf8.count
            guard length >= 1, length <= StoreSchema.maximumKeyBytes else {
                rejected.append(SkippedInput(name, "its key is \(length) bytes; keys are 1 to 511 bytes of UTF-8"))
                return
            }
            guard seen.insert(Array(key.utf8)).inserted else {
                rejected.append(SkippedInput(name, "another source already gives the key '\(key)'"))
                return
            }
            units.append(IngestionUnit(key: key, payload: payload, name: name, loadDecoded: load))
        }
        for source in sources {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                throw DatasetError(.unreadable, "\(source) does not exist; check the path")
            }
            if let listing = try ImageFiles.expand(source) {
                let root = isDirectory.boolValue ? URL(fileURLWithPath: source).standardizedFileURL.path + "/" : nil
                rejected += listing.passedOver
                for file in listing.images {
                    let key = root.map { String(URL(fileURLWithPath: file).standardizedFileURL.path.dropFirst($0.count)) }
                        ?? URL(fileURLWithPath: file).lastPathComponent
                    let payloadBytes: [UInt8] = [.auto, .path].contains(payload) ? Array(file.utf8) : []
                    add(key, payloadBytes, describing: file) { try decoder.decodeForEncoding(contentsOf: file) }
                }
                continue
            }
            let set = try ImageSet(contentsOf: source)
            let labels = LabelSet.labels(of: set, at: source)
            if payload == .label && labels == nil {
                throw DatasetError(.unsupported, "labels were asked for as payloads, but \(source) has none (no CIFAR labels, no IDX label file at \(LabelSet.labelPath(for: source)))")
            }
            let name = URL(fileURLWithPath: source).lastPathComponent
            for index in 0..<set.count {
                let label: [UInt8] = [.auto, .label].contains(payload) ? (labels.map { Array(String($0[index]).utf8) } ?? []) : []
                add("\(name)#\(index)", payload == .path ? Array("\(source)#\(index)".utf8) : label,
                    describing: "\(source)#\(index)") { DecodedImage(image: set.pixelBuffer(index)) }
            }
        }
        return units
    }

}
