// swift-tools-version:6.0
//
// Fuzz targets for BGANStore's parsers of untrusted bytes, built apart from the package so that
// its normal builds stay uninstrumented. libFuzzer supplies `main`:
//
//   swift build --sanitize=fuzzer --sanitize=address --product fuzz-image-decoder
//   FUZZ_IMAGE_FORMAT=png .build/debug/fuzz-image-decoder corpus/image-png seeds/image-png -runs=1000000
//
// scripts/fuzz runs every target for a number of executions and keeps the corpus.
import PackageDescription

let package = Package(
    name: "BGANStoreFuzz",
    products: [
        .executable(name: "fuzz-image-decoder", targets: ["FuzzImageDecoder"]),
        .executable(name: "fuzz-model-file", targets: ["FuzzModelFile"]),
        .executable(name: "fuzz-store-meta", targets: ["FuzzStoreMeta"]),
        .executable(name: "fuzz-store-records", targets: ["FuzzStoreRecords"]),
    ],
    dependencies: [.package(name: "BGANStore", path: "..")],
    targets: [
        .executableTarget(name: "FuzzImageDecoder", dependencies: [.product(name: "PixelIO", package: "BGANStore")]),
        .executableTarget(name: "FuzzModelFile", dependencies: [.product(name: "BGAN", package: "BGANStore")]),
        .executableTarget(name: "FuzzStoreMeta", dependencies: [.product(name: "BGANStore", package: "BGANStore"),
                                                                 .product(name: "LMDBStorage", package: "BGANStore"),
                                                                 .product(name: "HammingSearch", package: "BGANStore")]),
        .executableTarget(name: "FuzzStoreRecords", dependencies: [.product(name: "BGANStore", package: "BGANStore"),
                                                                    .product(name: "LMDBStorage", package: "BGANStore"),
                                                                    .product(name: "HammingSearch", package: "BGANStore"),
                                                                    .product(name: "PixelIO", package: "BGANStore")]),
    ]
)
