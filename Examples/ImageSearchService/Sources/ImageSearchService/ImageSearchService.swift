import ArgumentParser
import BGAN
import BGANStore
import Foundation
import Hummingbird
import Logging
import Metrics
import NeuralNet
import PixelIO
import Prometheus

/// Serves one store over HTTP: ingest by image, search by image or code, delete, thumbnails,
/// health and Prometheus metrics. SIGTERM or SIGINT stops it gracefully: the server stops taking
/// connections, answers the requests in flight, then the store is closed. Every acknowledged
/// write is committed (and synced) before its answer is sent.
@main
struct ImageSearchService: AsyncParsableCommand {
    @Option(help: "The store's directory; created, bound to the bundled model of --bits (or with --photos the photo model), if it holds none.")
    var store: String

    @Option(help: "Code length of a new store's bundled model (32 or 64).")
    var bits = 64

    @Flag(help: "Bind a new store to the bundled photo model instead (64 bits from 32×32 RGB: finds copies of photographs, cropped, tilted, re-toned or mirrored ones included).")
    var photos = false

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port; the one chosen is logged).")
    var port = 8080

    @Option(help: "Largest request body in bytes.")
    var maximumBody = 8 << 20

    @Option(help: "OpenBLAS threads per forward pass. The store already encodes concurrent images in one batch on its pool's threads; more BLAS threads beside them contend for the same cores (at 2,000 searches by image/s offered: p99 13 ms with 1, 22 ms with 2).")
    var blasThreads = 1

    func run() async throws {
        BLAS.threads = blasThreads
        var logger = Logger(label: "image-search")
        logger.logLevel = .info
        let registry = PrometheusCollectorRegistry()
        let metrics = PrometheusMetricsFactory(registry: registry)
        MetricsSystem.bootstrap(metrics)

        var options = StoreOptions()
        options.logger = logger
        options.metricsFactory = metrics
        let opened: Store
        if FileManager.default.fileExists(atPath: store + "/data.mdb") {
            opened = try await Store.open(at: store, options: options)
        } else {
            let model = photos ? try DefaultModel.loadPhotoModel() : try DefaultModel.load(bits: bits)
            opened = try await Store.create(at: store, encoder: ModelEncoder(model: model), options: options)
        }
        let count = try await opened.count()
        logger.info("store \(opened.path): \(count) items, \(opened.bitCount)-bit codes")

        let log = logger
        let router = Router()
        router.middlewares.add(MetricsMiddleware())
        let decoder = try opened.imageDecoder()
        Routes(store: opened, registry: registry, maximumBody: maximumBody, decoder: decoder).add(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "bganstore-image-search"),
            onServerRunning: { channel in
                log.info("listening on \(channel.localAddress.map { "\($0)" } ?? "?")")
            },
            logger: logger)
        try await app.runService()
        logger.info("stopped: requests in flight answered; the store closes as the process ends")
    }
}
