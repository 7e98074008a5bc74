import Foundation
import PixelIO

/// The store's API for async code. Every method runs its blocking body (LMDB transactions,
/// encoding through BLAS, file copies) on the options' ``BlockingPool`` and suspends until it is
/// done, so Swift's cooperative threads stay free; the synchronous methods of the same names are
/// unavailable from async code, where they would block one of those threads.
extension Store {
    /// Opens the store at `path` (``init(openingAt:options:)`` off the cooperative pool).
    public static func open(at path: String, options: StoreOptions = StoreOptions()) async throws -> Store {
        try await options.pool.run { try Store(openingAt: path, options: options) }
    }

    /// Creates a store of bare codes (``create(at:bitCount:substrings:options:)``).
    public static func create(at path: String, bitCount: Int, substrings: Int? = nil, options: StoreOptions = StoreOptions()) async throws -> Store {
        try await options.pool.run { try Store.create(at: path, bitCount: bitCount, substrings: substrings, options: options) }
    }

    /// Creates a store bound to an encoder (``create(at:encoder:substrings:thumbnailSide:options:)``).
    public static func create(at path: String, encoder: any ImageCodeEncoder, substrings: Int? = nil,
                              thumbnailSide: Int = Store.defaultThumbnailSide, options: StoreOptions = StoreOptions()) async throws -> Store {
        try await options.pool.run {
            try Store.create(at: path, encoder: encoder, substrings: substrings, thumbnailSide: thumbnailSide, options: options)
        }
    }

    /// Runs a blocking store call on the store's pool.
    func offPool<T: Sendable>(_ body: @escaping @Sendable (Store) throws -> T) async throws -> T {
        try await options.pool.run { [self] in try body(self) }
    }

    public func search(code: BinaryCode, k: Int, method: SearchMethod = .automatic) async throws -> StoreSearchResult {
        try await offPool { try $0.search(code: code, k: k, method: method) }
    }

    public func search(code: BinaryCode, radius: Int, method: SearchMethod = .automatic) async throws -> StoreSearchResult {
        try await offPool { try $0.search(code: code, radius: radius, method: method) }
    }

    /// The image is encoded in one batch with those of every other task searching or writing at
    /// the same time (one forward pass for many), then searched on the pool with the batch's
    /// other searches.
    public func search(image: PixelBuffer, k: Int, method: SearchMethod = .automatic,
                       refinement: Refinement.Options? = Refinement.Options(),
                       matchingMirrorImages: Bool = false) async throws -> StoreSearchResult {
        try await encodedBatched([image], addingMirrorImages: matchingMirrorImages) { store, values in
            try store.search(encoding: values, k: k, method: method, refinement: refinement,
                             tieBreak: try store.nearTieBreak(for: image, refinement: refinement, matchingMirrorImages: matchingMirrorImages))
        }
    }

    public func search(image: PixelBuffer, radius: Int, method: SearchMethod = .automatic,
                       refinement: Refinement.Options? = Refinement.Options(),
                       matchingMirrorImages: Bool = false) async throws -> StoreSearchResult {
        try await encodedBatched([image], addingMirrorImages: matchingMirrorImages) { store, values in
            try store.search(encoding: values, radius: radius, method: method, refinement: refinement)
        }
    }

    @discardableResult
    /// The codes the bound encoder gives `images` (``codes(of:)``), encoded with other tasks' images.
    public func codes(of images: [PixelBuffer]) async throws -> [BinaryCode] {
        codes(fromValues: try await realValuedOutputsBatched(of: images))
    }

    /// The bound encoder's real-valued outputs for `images` (`realValuedOutputs(of:)`), encoded
    /// with other tasks' images.
    public func realValuedOutputs(of images: [PixelBuffer]) async throws -> [Float] {
        try await realValuedOutputsBatched(of: images)
    }

    public func insert(_ item: StoreItem) async throws -> UInt32 {
        try await offPool { try $0.insert(item) }
    }

    @discardableResult
    public func insert(image: PixelBuffer, key: String, payload: [UInt8] = []) async throws -> UInt32 {
        try await offPool { try $0.insert(image: image, key: key, payload: payload) }
    }

    @discardableResult
    public func insert(decoded: DecodedImage, key: String, payload: [UInt8] = []) async throws -> UInt32 {
        try await offPool { try $0.insert(decoded: decoded, key: key, payload: payload) }
    }

    @discardableResult
    public func write(_ items: [StoreItem], mode: WriteMode = .insert, indexing: IndexingMode = .automatic) async throws -> WriteSummary {
        try await offPool { try $0.write(items, mode: mode, indexing: indexing) }
    }

    @discardableResult
    public func write(images items: [ImageItem], mode: WriteMode = .insert) async throws -> WriteSummary {
        try await offPool { try $0.write(images: items, mode: mode) }
    }

    @discardableResult
    public func remove(keys: [String]) async throws -> Int {
        try await offPool { try $0.remove(keys: keys) }
    }

    public func item(forKey key: String) async throws -> StoredItem? {
        try await offPool { try $0.item(forKey: key) }
    }

    public func count() async throws -> Int {
        try await offPool { try $0.count() }
    }

    public func thumbnail(forKey key: String) async throws -> PixelBuffer? {
        try await offPool { try $0.thumbnail(forKey: key) }
    }

    public func statistics() async throws -> StoreStatistics {
        try await offPool { try $0.statistics() }
    }

    public func verify() async throws -> VerificationReport {
        try await offPool { try $0.verify() }
    }

    public func rebuildIndex(substrings choice: SubstringChoice = .unchanged) async throws {
        try await offPool { try $0.rebuildIndex(substrings: choice) }
    }

    /// A hot backup (``backup(to:compact:)``); it may take minutes on a large store, all of them
    /// on a pool thread.
    public func backup(to destination: String, compact: Bool = false) async throws {
        try await offPool { try $0.backup(to: destination, compact: compact) }
    }
}

/// A flag a cancelled task sets and a blocking loop reads between its steps.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    func raise() { lock.withLock { set = true } }
    var isRaised: Bool { lock.withLock { set } }
}

extension BulkIngestion {
    /// Ingests `units` on the store's ``BlockingPool`` (``run(_:shouldStop:progress:)``).
    /// Cancelling the calling task stops the run after the batch being written; the report then
    /// says `stopped`, and every batch committed before stays (a later run skips them).
    /// - Parameters:
    ///   - units: the images to ingest, in order (``ImageSources/units(payload:rejected:)``).
    ///   - progress: called after each batch, on a pool thread.
    public func run(_ units: [IngestionUnit], progress: @escaping @Sendable (IngestionReport) -> Void = { _ in }) async throws -> IngestionReport {
        let stop = StopFlag()
        let ingestion = self
        return try await withTaskCancellationHandler {
            try await store.options.pool.run { try ingestion.run(units, shouldStop: { stop.isRaised }, progress: progress) }
        } onCancel: {
            stop.raise()
        }
    }

    /// The same run as an `AsyncSequence` of reports: one after each batch, the last one the
    /// whole run's. Ending the iteration early (or cancelling its task) stops the run after the
    /// batch being written.
    public func reports(_ units: [IngestionUnit]) -> AsyncThrowingStream<IngestionReport, Error> {
        let (stream, continuation) = AsyncThrowingStream<IngestionReport, Error>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let stop = StopFlag()
        let ingestion = self
        continuation.onTermination = { _ in stop.raise() }
        Task {
            do {
                let report = try await store.options.pool.run {
                    try ingestion.run(units, shouldStop: { stop.isRaised }, progress: { continuation.yield($0) })
                }
                continuation.yield(report)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }
}

extension Reencoding {
    /// Re-encodes on the pool (``run(shouldStop:progress:)``); cancelling the calling task stops
    /// after the batch being written, and a later run goes on where this one stopped.
    public func run(on pool: BlockingPool = .shared, progress: @escaping @Sendable (ReencodingReport) -> Void = { _ in }) async throws -> ReencodingReport {
        let stop = StopFlag()
        let reencoding = self
        return try await withTaskCancellationHandler {
            try await pool.run { try reencoding.run(shouldStop: { stop.isRaised }, progress: progress) }
        } onCancel: {
            stop.raise()
        }
    }
}
