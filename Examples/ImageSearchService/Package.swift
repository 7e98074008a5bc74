// swift-tools-version: 6.0
// An image-search HTTP service on BGANStore: its own package, so that the library's users do not
// pull a web framework. It depends on the library by path.
import PackageDescription

let package = Package(
    name: "ImageSearchService",
    dependencies: [
        .package(name: "BGANStore", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
    ],
    targets: [
        .executableTarget(
            name: "ImageSearchService",
            dependencies: [
                .product(name: "BGANStore", package: "BGANStore"),
                .product(name: "BGAN", package: "BGANStore"),
                .product(name: "PixelIO", package: "BGANStore"),
                .product(name: "NeuralNet", package: "BGANStore"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
    ]
)
