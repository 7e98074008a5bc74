import Basics
import Foundation
import PixelIO

/// One image of a bulk load: its key and payload, a name for reports (a file's path) and how
/// to get its pixels (decode a file, take an image out of a data set…).
public struct IngestionUnit: Sendable {
    public let key: String
    public let payload: [UInt8]
    public let name: String
    /// Loads the image as the store's encoder reads it, with a colour image for the thumbnail
    /// when that is only the luma (`ImageDecoder.decodeForEncoding`).
    public let loadDecoded: @Sendable () throws -> DecodedImage

    public init(key: String, payload: [UInt8], name: String, load: @escaping @Sendable () throws -> PixelBuffer) {
        self.init(key: key, payload: payload, name: name, loadDecoded: { DecodedImage(image: try load()) })
    }

    public init(key: String, payload: [UInt8], name: String, loadDecoded: @escaping @Sendable () throws -> DecodedImage) {
        self.key = key
        self.payload = payload
        self.name = name
        self.loadDecoded = loadDecoded
    }

    /// Loads the image the encoder reads (``loadDecoded`` without the colour image).
    public var load: @Sendable () throws -> PixelBuffer {
        let loadDecoded = loadDecoded
        return { try loadDecoded().image }
    }
}

/// What a bulk load did.
public struct IngestionReport: Codable, Sendable {
    /// Images encoded and written.
    public var added = 0
    /// Units skipped because their key was stored already (an earlier, interrupted run).
    public var alreadyStored = 0
    /// Units that could not be loaded or prepared, with the reason, in unit order.
    public var rejected: [SkippedInput] = []
    /// Units handled: added, already stored or rejected.
    public var done = 0
    /// Whether `shouldStop` ended the run before every unit was handled.
    public var stopped = false
    public var seconds = 0.0
    /// Time the writer waited for prepared batches: near zero when encoding and writing, not
    /// decoding, bound the rate.
    public var secondsWaitingForInput = 0.0
}

/// Loads many images into a store through a two-stage pipeline that keeps every core busy:
/// while the writer encodes batch *i* through BLAS and commits it in one transaction, batch
/// *i + 1* is decoded and prepared (``Store/prepare(_:)``) on every core. Keys already stored are
/// skipped, so a run that was interrupted (each committed batch is whole) finishes when run again,
/// and so are keys another run of the same sources stores while this one goes on.
public struct BulkIngestion: Sendable {
    public let store: Store
    /// Images per transaction.
    public var batchSize: Int
    /// Threads that decode and prepare.
    public var workers: Int

    public init(store: Store, batchSize: Int = 512, workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        precondition(batchSize >= 1 && workers >= 1)
        self.store = store
        self.batchSize = batchSize
        self.workers = workers
    }

    /// Ingests `units` in order, batch by batch.
    /// - Parameters:
    ///   - units: the images to ingest (``ImageSources/units(payload:rejected:)``); keys already
    ///     stored are counted in ``IngestionReport/alreadyStored`` and left as they are.
    ///   - shouldStop: checked before each batch is written; true ends the run after the batches
    ///     already committed (the report says `stopped`).
    ///   - progress: called on the calling thread after each batch with the report so far.
    /// - Throws: the store's errors (a full disk, a key stored twice in `units`…); batches
    ///   committed before the error stay.
    @available(*, noasync, message: "blocks its thread: from async code call the async overload, which runs on the store's BlockingPool")
    public func run(_ units: [IngestionUnit], shouldStop: () -> Bool = { false },
                    progress: (IngestionReport) -> Void = { _ in }) throws -> IngestionReport {
        let started = Date()
        var report = IngestionReport()
        let queue = PreparedBatchQueue(capacity: 2)
        let producerEnded = DispatchSemaphore(value: 0)
        let producer = Thread { [store, batchSize, workers] in
            defer { producerEnded.signal() }
            for start in stride(from: 0, to: units.count, by: batchSize) {
                let slice = Array(units[start..<min(units.count, start + batchSize)])
                let batch = Result { try Self.prepareBatch(slice, store: store, workers: workers) }
                guard queue.put(batch) else { return }
                if case .failure = batch { break }
            }
            queue.finish()
        }
        producer.start()
        defer {
            queue.cancel()
            producerEnded.wait()
        }
        while true {
            let waitStarted = Date()
            guard let next = queue.take() else { break }
            report.secondsWaitingForInput += Date().timeIntervalSince(waitStarted)
            let batch = try next.get()
            if shouldStop() {
                report.stopped = true
                break
            }
            let written = try Self.write(batch.images, to: store)
            report.added += written.added
            report.alreadyStored += batch.alreadyStored + written.storedMeanwhile
            report.rejected += batch.rejected
            store.observation.imagesIngested.increment(by: written.added)
            store.observation.imagesRejected.increment(by: batch.rejected.count)
            report.done += batch.count
            report.seconds = Date().timeIntervalSince(started)
            progress(report)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Writes a prepared batch. Keys another process stored since the batch was checked (a
    /// second ingest of the same sources running at once) are left out and counted, as keys
    /// stored before the run are, instead of failing the batch.
    static func write(_ images: [PreparedImage], to store: Store) throws -> (added: Int, storedMeanwhile: Int) {
        var pending = images
        var storedMeanwhile = 0
        while !pending.isEmpty {
            do {
                return (try store.write(prepared: pending).insertedIDs.count, storedMeanwhile)
            } catch let error as StoreError where error.code == .keyExists {
                let held = try store.holds(keys: pending.map(\.key))
                let fresh = zip(pending, held).filter { !$1 }.map(\.0)
                // Nothing stored meanwhile: the batch names a key twice, which stays an error.
                guard fresh.count < pending.count else { throw error }
                storedMeanwhile += pending.count - fresh.count
                pending = fresh
            }
        }
        return (0, storedMeanwhile)
    }

    struct PreparedBatch: Sendable {
        var count: Int
        var images: [PreparedImage] = []
        var alreadyStored = 0
        var rejected: [SkippedInput] = []
    }

    /// Loads and prepares `units` on ``workers`` threads (``Store/prepare(_:)``), in order: what
    /// the pipeline's first stage does to each batch, for callers that measure or stage it alone.
    public func prepare(_ units: [IngestionUnit]) -> [Result<PreparedImage, Error>] {
        Self.prepare(units, store: store, workers: workers)
    }

    static func prepare(_ units: [IngestionUnit], store: Store, workers: Int) -> [Result<PreparedImage, Error>] {
        let threads = max(1, min(workers, units.count))
        // Units are dealt to workers in turn, so a run of large images is shared out.
        let dealt = parallelMap(tasks: threads) { (worker: Int) -> [Result<PreparedImage, Error>] in
            stride(from: worker, to: units.count, by: threads).map { position in
                let unit = units[position]
                return Result { try store.prepare(ImageItem(key: unit.key, decoded: try unit.loadDecoded(), payload: unit.payload)) }
            }
        }
        return units.indices.map { dealt[$0 % threads][$0 / threads] }
    }

    /// Drops stored keys, then loads and prepares the rest on `workers` threads.
    static func prepareBatch(_ units: [IngestionUnit], store: Store, workers: Int) throws -> PreparedBatch {
        // A store that cannot encode at all (bare codes, an application's encoder not given, a
        // damaged binding) fails the run here, instead of rejecting every image for the same reason.
        _ = try store.encoder()
        let stored = try store.holds(keys: units.map(\.key))
        let fresh = zip(units, stored).filter { !$1 }.map(\.0)
        var batch = PreparedBatch(count: units.count, alreadyStored: units.count - fresh.count)
        for (unit, result) in zip(fresh, prepare(fresh, store: store, workers: workers)) {
            switch result {
            case .success(let image): batch.images.append(image)
            case .failure(let error as StoreError) where error.code == .noModel || error.code == .corrupted: throw error
            case .failure(let error): batch.rejected.append(SkippedInput(unit.name, "\(error)"))
            }
        }
        return batch
    }
}

/// A bounded hand-over of prepared batches from the decoding thread to the writer.
private final class PreparedBatchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Result<BulkIngestion.PreparedBatch, Error>] = []
    private var finished = false
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room; false when the consumer has gone.
    func put(_ item: Result<BulkIngestion.PreparedBatch, Error>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Waits for a batch; nil when the producer has finished and everything was taken.
    func take() -> Result<BulkIngestion.PreparedBatch, Error>? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished && !cancelled { condition.wait() }
        guard !items.isEmpty, !cancelled else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
