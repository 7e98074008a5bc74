// swift-tools-version:6.0
//
// BGANStore: an embeddable, on-disk Hamming-search database for images.
// Layers (arrows point down only): see docs/architecture.md.
//
//   bgan-db (CLI)          bgan-bench
//          \                /
//           BGANStore (items, codes, index, bound encoder: model, PDQ or the app's; images)  -> CMalloc (heap tuning for bulk ingestion)
//          /     |      \
//   LMDBStorage  HammingSearch  BGAN (trainer, model files, encoder) -> BundledModels, CSHA256
//        |           |           |        \
//      CLMDB   CHammingKernels  NeuralNet  PixelIO (decoders, data sets) -> CPNG, CTurboJPEG, CWebP, CZlib
//                                 |
//   COpenBLAS, CConvolutionKernels, CTrainingKernels   Evaluation (tie-aware metrics, code statistics, near-duplicates, baselines) -> HammingSearch, NeuralNet, PixelIO
//
//   PerceptualHash (PDQ) -> HammingSearch, PixelIO, CPDQKernels; BGANStore binds it as an encoder
//   Basics (the one error shape, byte codec, seeded generator, parallel loop) sits under every module.
//
// No unsafe compiler or linker flags anywhere: services must be able to depend on this package by version.
import PackageDescription

let package = Package(
    name: "BGANStore",
    products: [
        .library(name: "Basics", targets: ["Basics"]),
        .library(name: "LMDBStorage", targets: ["LMDBStorage"]),
        .library(name: "HammingSearch", targets: ["HammingSearch"]),
        .library(name: "BGANStore", targets: ["BGANStore"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "PixelIO", targets: ["PixelIO"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "BGAN", targets: ["BGAN"]),
        .library(name: "PerceptualHash", targets: ["PerceptualHash"]),
        .executable(name: "bgan-db", targets: ["BGANDB"]),
        .executable(name: "bgan-bench", targets: ["BGANBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Logging and metrics APIs only: silent until the embedding application bootstraps a backend.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        // `swift package generate-documentation` (scripts/docs); a command plugin, nothing is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // MARK: C libraries from Debian, each a system-library target with an apt provider.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp", providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's own malloc.h (mallopt), for bulk ingestion's heap tuning; nothing to link.
        .systemLibrary(name: "CMalloc"),

        // MARK: What every module shares: the one error shape, the byte codec, the seeded generator, the parallel loop.
        .target(name: "Basics", dependencies: [.product(name: "Logging", package: "swift-log")]),

        // MARK: Storage: the only module that imports CLMDB.
        .target(name: "LMDBStorage", dependencies: ["Basics", "CLMDB", .product(name: "Logging", package: "swift-log")]),

        // MARK: Hamming search: codes, kernels, multi-index hashing. Knows nothing of LMDB.
        .target(name: "CHammingKernels"),
        .target(name: "HammingSearch", dependencies: ["Basics", "CHammingKernels"]),

        // MARK: Neural network engine on OpenBLAS. Knows nothing of BGAN, images or LMDB.
        .target(name: "CConvolutionKernels"),
        .target(name: "CTrainingKernels"),
        .target(name: "NeuralNet", dependencies: ["Basics", "COpenBLAS", "CConvolutionKernels", "CTrainingKernels"]),

        // MARK: Pixels and data sets in (IDX so far). Knows nothing of LMDB or networks.
        .target(name: "PixelIO", dependencies: ["Basics", "CZlib", "CPNG", "CTurboJPEG", "CWebP"]),

        // MARK: BGAN: the method (neighbourhood structure so far). Knows nothing of LMDB.
        .target(name: "BGAN", dependencies: ["Basics", "NeuralNet", "PixelIO", "BundledModels", "CSHA256",
                                             .product(name: "Logging", package: "swift-log")]),
        // SHA-256 in C: model digests over megabytes stay quick in debug builds.
        .target(name: "CSHA256"),
        // The trained default encoders, as resources (Fixtures/models/README.md says how they were made).
        .target(name: "BundledModels", path: "Fixtures/models", exclude: ["README.md"],
                resources: [.copy("fashion-mnist-32.bganmodel"), .copy("fashion-mnist-64.bganmodel"), .copy("photos-64.bganmodel")]),

        // MARK: Perceptual hashes computed from pixels (PDQ). Knows nothing of networks or LMDB.
        .target(name: "CPDQKernels"),
        .target(name: "PerceptualHash", dependencies: ["Basics", "HammingSearch", "PixelIO", "CPDQKernels"]),

        // MARK: Retrieval evaluation: tie-aware mAP and precision, code statistics, near-duplicate recall, baselines.
        .target(name: "Evaluation", dependencies: ["Basics", "HammingSearch", "NeuralNet", "PixelIO"]),

        // MARK: The database: items, codes, multi-index tables.
        .target(name: "BGANStore", dependencies: ["Basics", "LMDBStorage", "HammingSearch", "BGAN", "PerceptualHash", "PixelIO", "CMalloc",
                                                  .product(name: "Logging", package: "swift-log"),
                                                  .product(name: "Metrics", package: "swift-metrics")]),

        // MARK: Faces
        .executableTarget(
            name: "BGANDB",
            dependencies: [
                "Basics",
                "BGANStore",
                "NeuralNet",
                "Evaluation",
                "PixelIO",
                "BGAN",
                "PerceptualHash",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(
            name: "BGANBench",
            dependencies: [
                "BGANStore",
                "NeuralNet",
                "BGAN",
                "PixelIO",
                "PerceptualHash",
                "Basics",
                "CTurboJPEG",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["Basics", "HammingSearch"], path: "Tests/TestSupport"),
        .testTarget(name: "BasicsTests", dependencies: ["Basics"]),
        .testTarget(name: "LMDBStorageTests", dependencies: ["LMDBStorage", "TestSupport"]),
        .testTarget(name: "HammingSearchTests", dependencies: ["HammingSearch", "TestSupport"]),
        .testTarget(name: "BGANStoreTests", dependencies: ["BGANStore", "TestSupport", "BGAN", "PerceptualHash", "PixelIO",
                                                           .product(name: "Logging", package: "swift-log"),
                                                           .product(name: "Metrics", package: "swift-metrics"),
                                                           .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(name: "BGANDBTests", dependencies: ["BGANDB", "Evaluation", "LMDBStorage", "TestSupport", "BGAN", "PixelIO", "NeuralNet", "BGANStore"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet"]),
        .testTarget(name: "PixelIOTests", dependencies: ["PixelIO", "Basics", "TestSupport", "CZlib", "CTurboJPEG"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "NeuralNet", "HammingSearch", "PixelIO"]),
        .testTarget(name: "PerceptualHashTests", dependencies: ["PerceptualHash", "PixelIO", "HammingSearch", "Basics", "CPDQKernels"]),
        .testTarget(name: "BGANTests", dependencies: ["BGAN", "NeuralNet", "PixelIO", "HammingSearch", "TestSupport"]),
    ]
)
