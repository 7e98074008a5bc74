import ArgumentParser
import BGAN
import BGANStore
import Foundation
import LMDBStorage
import NeuralNet

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Describe this machine as BGANStore sees it: CPU features, BLAS kernels and threads, scan kernel, LMDB, default models.")

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let features = BLASCore.cpuFeatures()
        let interesting = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vpopcntdq", "popcnt"]
        let present = interesting.filter { features.contains($0) }
        let core = BLAS.coreName
        let recommended = BLASCore.recommendedCoreType(coreName: core, features: features)
        let relaunchedFrom = ProcessInfo.processInfo.environment[BLASCore.relaunchMarker].flatMap { $0.isEmpty ? nil : $0 }
        let threadTimeout = ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"]
        let chosenByUser = BLASCore.coreTypeChosenBeforeStart(ProcessInfo.processInfo.environment)
        var hints: [String] = []
        if let chosenSlow = BLASCore.slowKernelsChosenBeforeStart(coreName: core, features: features, environment: ProcessInfo.processInfo.environment) {
            hints.append(chosenSlow)
        } else if let recommended {
            hints.append("OpenBLAS runs \(core) kernels on a CPU that supports \(recommended): start programs with OPENBLAS_CORETYPE=\(recommended)")
        }
        if let relaunchedFrom {
            let parts = relaunchedFrom.components(separatedBy: "→")
            hints.append("OpenBLAS chose \(parts.first ?? relaunchedFrom) at start; bgan-db relaunched itself with OPENBLAS_CORETYPE=\(parts.last ?? core)" + (parts.last == core ? "" : ", but OpenBLAS still runs \(core)"))
        }
        if SmallPatchKernel.best != .avx512 {
            hints.append("convolutions with patches of ≤ 16 values (a gray image's first layer) go through sgemm; on a CPU with AVX-512 their own kernels run them ~1.7x faster")
        }
        if HammingKernel.active != .avx512 {
            hints.append("the Hamming scan uses the \(HammingKernel.active.rawValue) kernel; a CPU with AVX-512 VPOPCNTDQ scans 2-4x faster")
        }
        let models = DefaultModel.bundledBits.map { bits -> (bits: Int, path: String?) in (bits, try? DefaultModel.locate(bits: bits).path) }
        for model in models where model.path == nil {
            hints.append("the default \(model.bits)-bit model is missing: reinstall the package, or set \(DefaultModel.environmentVariable) to a folder holding \(DefaultModel.fileName(bits: model.bits))")
        }
        let photoModel = try? DefaultModel.locatePhotoModel().path
        if photoModel == nil {
            hints.append("the bundled photo model is missing: \(DefaultModel.photoModelRemedy)")
        }
        if json {
            let fields: [(String, String)] = [
                ("cpu", JSON.string(BLASCore.cpuModel())),
                ("cores", "\(ProcessInfo.processInfo.activeProcessorCount)"),
                ("features", JSON.array(present.map(JSON.string))),
                ("blas_core", JSON.string(core)),
                ("blas_core_recommended", recommended.map(JSON.string) ?? "null"),
                ("blas_core_chosen_by_user", chosenByUser ? "true" : "false"),
                ("blas_threads", "\(BLAS.threads)"),
                ("blas_thread_timeout", threadTimeout.map(JSON.string) ?? "null"),
                ("blas_config", JSON.string(BLAS.configuration)),
                ("hamming_kernel", JSON.string(HammingKernel.active.rawValue)),
                ("convolution_kernel", JSON.string(SmallPatchKernel.best == .avx512 ? "avx512" : "sgemm")),
                ("lmdb", JSON.string(Environment.libraryVersion)),
                ("default_models", JSON.object(models.map { ("\($0.bits)", $0.path.map(JSON.string) ?? "null") })),
                ("photo_model", photoModel.map(JSON.string) ?? "null"),
                ("hints", JSON.array(hints.map(JSON.string))),
            ]
            Console.out(JSON.object(fields))
            return
        }
        Console.out("cpu              \(BLASCore.cpuModel()) (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        Console.out("features         \(present.joined(separator: " "))")
        Console.out("openblas core    \(core)\(recommended == nil ? "" : " (slow here: \(recommended!) is available)")\(chosenByUser ? " (set by OPENBLAS_CORETYPE)" : "")")
        Console.out("openblas threads \(BLAS.threads)\(threadTimeout.map { ", idle threads sleep after 2^\($0) cycles (OPENBLAS_THREAD_TIMEOUT)" } ?? "")")
        Console.out("openblas build   \(BLAS.configuration)")
        Console.out("hamming kernel   \(HammingKernel.active.rawValue)")
        Console.out("conv kernel      \(SmallPatchKernel.best == .avx512 ? "avx512 for patches of ≤ 16 values, sgemm above" : "sgemm (no AVX-512)")")
        Console.out("lmdb             \(Environment.libraryVersion)")
        for model in models { Console.out("default model    \(model.bits) bits: \(model.path ?? "missing")") }
        Console.out("photo model      64 bits: \(photoModel ?? "missing")")
        for hint in hints { Console.out("hint: \(hint)") }
    }
}
