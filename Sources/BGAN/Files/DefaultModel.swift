import BundledModels
import Foundation
import NeuralNet
import PixelIO

/// The trained default encoders that ship with the package — Fashion-MNIST's (28×28 gray, 32
/// and 64 bits) and the photo model (32×32 RGB, 64 bits) — and how a model file is found: an
/// explicit path, then the folder in `BGAN_MODEL_DIR`, then the package's resources.
public enum DefaultModel {
    /// Names a folder holding `fashion-mnist-<bits>.bganmodel` and `photos-64.bganmodel` files,
    /// searched before the package's own.
    public static let environmentVariable = "BGAN_MODEL_DIR"
    /// Code lengths with a bundled Fashion-MNIST model.
    public static let bundledBits = [32, 64]
    /// The bundled photo model's file: 64-bit codes of colour photographs brought to 32×32 RGB,
    /// trained without labels on half of the photo benchmark (Fixtures/models/README.md).
    public static let photoFileName = "photos-64.bganmodel"
    /// The code length of the bundled photo model.
    public static let photoBits = 64

    public static func fileName(bits: Int) -> String { "fashion-mnist-\(bits).bganmodel" }

    /// The file of the default model of `bits`, or an error listing every place looked in.
    public static func locate(bits: Int, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        try locate(fileName: fileName(bits: bits), described: "default model for \(bits)-bit codes", environment: environment) {
            "Bundled lengths are \(bundledBits.map(String.init).joined(separator: " and ")); give a model file explicitly, or set \(environmentVariable) to a folder holding \(fileName(bits: bits))"
        }
    }

    /// The bundled photo model's file (``photoFileName``), or an error listing every place looked in.
    public static func locatePhotoModel(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        try locate(fileName: photoFileName, described: "bundled photo model", environment: environment) { photoModelRemedy }
    }

    /// What to do when the bundled photo model is missing.
    public static var photoModelRemedy: String {
        "reinstall the package, or set \(environmentVariable) to a folder holding \(photoFileName)"
    }

    /// The bundled photo model (``locatePhotoModel(environment:)``), read and checked.
    public static func loadPhotoModel() throws -> ModelFile {
        try load(url: try locatePhotoModel())
    }

    private static func locate(fileName name: String, described what: String, environment: [String: String], hint: () -> String) throws -> URL {
        var directories: [URL] = []
        if let folder = environment[environmentVariable], !folder.isEmpty { directories.append(URL(fileURLWithPath: folder)) }
        directories += BundledModels.searchDirectories
        for directory in directories {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isReadableFile(atPath: candidate.path) { return candidate }
        }
        throw BGANError(.modelNotFound, "no \(what): \(name) is in none of \(directories.map(\.path).joined(separator: ", ")). \(hint())")
    }

    /// The bundled model for images like `image`: the photo model when it has colour
    /// (`PixelBuffer.hasColour`), else the 64-bit Fashion-MNIST model — the choice `bgan-db
    /// ingest --create` makes from the first image it is given. A store cannot change its model
    /// once it holds images, so a service that makes stores for its users' images can take the
    /// same rule from one sample.
    public static func suited(to image: PixelBuffer) throws -> ModelFile {
        image.hasColour ? try loadPhotoModel() : try load(bits: 64)
    }

    /// The model at `path` when given, else the default model of `bits`.
    public static func load(path: String? = nil, bits: Int) throws -> ModelFile {
        try load(url: try path.map { URL(fileURLWithPath: $0) } ?? locate(bits: bits))
    }

    private static func load(url: URL) throws -> ModelFile {
        guard let bytes = FileManager.default.contents(atPath: url.path) else {
            throw BGANError(.modelNotFound, "cannot read the model file \(url.path): check that it exists and is readable")
        }
        return try ModelFile(bytes: Array(bytes), source: url.path)
    }
}
