import BundledModels
import Foundation
import NeuralNet

/// The trained default encoders that ship with the package (Fashion-MNIST, 28×28 gray), and how
/// a model file is found: an explicit path, then the folder in `BGAN_MODEL_DIR`, then the
/// package's resources.
public enum DefaultModel {
    /// Names a folder holding `fashion-mnist-<bits>.bganmodel` files, searched before the
    /// package's own.
    public static let environmentVariable = "BGAN_MODEL_DIR"
    /// Code lengths with a bundled model.
    public static let bundledBits = [32, 64]

    public static func fileName(bits: Int) -> String { "fashion-mnist-\(bits).bganmodel" }

    /// The file of the default model of `bits`, or an error listing every place looked in.
    public static func locate(bits: Int, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let name = fileName(bits: bits)
        var directories: [URL] = []
        if let folder = environment[environmentVariable], !folder.isEmpty { directories.append(URL(fileURLWithPath: folder)) }
        directories += BundledModels.searchDirectories
        for directory in directories {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isReadableFile(atPath: candidate.path) { return candidate }
        }
        let available = bundledBits.map(String.init).joined(separator: " and ")
        throw BGANError(.modelNotFound, "no default model for \(bits)-bit codes: \(name) is in none of \(directories.map(\.path).joined(separator: ", ")). "
                             + "Bundled lengths are \(available); give a model file explicitly, or set \(environmentVariable) to a folder holding \(name)")
    }

    /// The model at `path` when given, else the default model of `bits`.
    public static func load(path: String? = nil, bits: Int) throws -> ModelFile {
        let url = try path.map { URL(fileURLWithPath: $0) } ?? locate(bits: bits)
        guard let bytes = FileManager.default.contents(atPath: url.path) else {
            throw BGANError(.modelNotFound, "cannot read the model file \(url.path): check that it exists and is readable")
        }
        return try ModelFile(bytes: Array(bytes), source: url.path)
    }
}
