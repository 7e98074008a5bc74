import Basics

/// Which OpenBLAS kernels suit this CPU, and how to get them.
///
/// OpenBLAS picks its kernels when the library loads. Version 0.3.21 (Debian 12) does not
/// recognise recent Xeons and falls back to "Prescott", its slowest x86-64 kernels: sgemm runs
/// at about a fifth of the speed. Setting `OPENBLAS_CORETYPE` fixes that, but only before the
/// process starts — hence ``relaunchIfSlow()`` for executables.
public enum BLASCore {
    /// Kernel sets fast on a CPU with the named features, best first.
    static let avx512Cores: Set<String> = ["SkylakeX", "Cooperlake", "SapphireRapids"]
    static let avx2Cores: Set<String> = Set(["Haswell", "Zen"]).union(avx512Cores)

    /// The `OPENBLAS_CORETYPE` worth setting, or `nil` when OpenBLAS already runs kernels that
    /// match the CPU (or the CPU has nothing better to offer).
    public static func recommendedCoreType(coreName: String, features: Set<String>) -> String? {
        let name = coreName.lowercased()
        if features.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) {
            return avx512Cores.contains { $0.lowercased() == name } ? nil : "SkylakeX"
        }
        if features.isSuperset(of: ["avx2", "fma"]) {
            return avx2Cores.contains { $0.lowercased() == name } ? nil : "Haswell"
        }
        return nil
    }

    /// The CPU's feature flags, from `/proc/cpuinfo` (empty where that file does not exist).
    public static func cpuFeatures() -> Set<String> {
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            if text.hasPrefix("flags") || text.hasPrefix("Features") {
                free(line)
                let values = text.split(separator: ":", maxSplits: 1).last ?? ""
                return Set(values.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
            }
        }
        free(line)
        return []
    }

    /// The CPU's model name, from `/proc/cpuinfo`.
    public static func cpuModel() -> String {
        guard let file = fopen("/proc/cpuinfo", "r") else { return "unknown" }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            if text.hasPrefix("model name") {
                return String(text.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: " \n\t")
            }
        }
        return "unknown"
    }

    /// Whether `OPENBLAS_CORETYPE` in `environment` was set before the process started (by the
    /// user or the machine) rather than by ``relaunchIfSlow()``, whose marker names the change.
    public static func coreTypeChosenBeforeStart(_ environment: [String: String]) -> Bool {
        environment["OPENBLAS_CORETYPE"] != nil && (environment[relaunchMarker] ?? "").isEmpty
    }

    /// When `OPENBLAS_CORETYPE` was set before the process started (not by ``relaunchIfSlow()``,
    /// which respects such a choice) and holds OpenBLAS to kernels slower than this CPU runs, a
    /// sentence saying so and what to do; nil otherwise. Some machines set it for every process
    /// (`OPENBLAS_CORETYPE=Haswell` on an AVX-512 host): training there took ~1.3× the CPU time,
    /// and models differ in their last bits from those the bundled kernels write
    /// (docs/benchmarks.md, "The one command on a faster host").
    public static func slowKernelsChosenBeforeStart(coreName: String, features: Set<String>,
                                                   environment: [String: String]) -> String? {
        guard coreTypeChosenBeforeStart(environment), let chosen = environment["OPENBLAS_CORETYPE"],
              let faster = recommendedCoreType(coreName: coreName, features: features) else { return nil }
        return "OPENBLAS_CORETYPE=\(chosen) is set in the environment, so OpenBLAS runs \(coreName) kernels, "
            + "but this CPU runs \(faster) kernels faster: set OPENBLAS_CORETYPE=\(faster) or unset it"
    }

    /// Environment variable set on a relaunch: "Prescott→SkylakeX" when the kernels were
    /// changed, empty when only ``idleThreadTimeout`` was set, so the relaunched process does
    /// not relaunch again and can say what happened.
    public static let relaunchMarker = "BGAN_OPENBLAS_RELAUNCHED"

    /// `OPENBLAS_THREAD_TIMEOUT` set on a relaunch: idle BLAS threads spin 2⁴ cycles instead of
    /// OpenBLAS's default 2²⁸ (about 0.1 s) before they sleep, so between matrix products the
    /// cores go to our own threads (decoding, im2col) instead of to spinning. Measured: bulk
    /// ingestion 6,300–6,700 images/s against 5,200–6,100 with the default (docs/benchmarks.md).
    public static let idleThreadTimeout = "4"

    /// For an executable's `main`: relaunches the process with a better OpenBLAS set-up, which
    /// OpenBLAS reads only when it loads. When it runs slow kernels on a CPU that has better ones
    /// and the user has not chosen (`OPENBLAS_CORETYPE` unset), sets `OPENBLAS_CORETYPE`; when it
    /// runs several threads and `OPENBLAS_THREAD_TIMEOUT` is unset, sets that to
    /// ``idleThreadTimeout``; then replaces the process with itself (`execv` of
    /// `/proc/self/exe`, same arguments). Returns only when no relaunch is needed or it failed.
    public static func relaunchIfSlow() {
        guard getenv(relaunchMarker) == nil else { return }
        var changed: [String] = []
        var marker = ""
        if getenv("OPENBLAS_CORETYPE") == nil, let core = recommendedCoreType(coreName: BLAS.coreName, features: cpuFeatures()) {
            setenv("OPENBLAS_CORETYPE", core, 1)
            marker = "\(BLAS.coreName)→\(core)"
            changed.append("OPENBLAS_CORETYPE")
        }
        if getenv("OPENBLAS_THREAD_TIMEOUT") == nil, BLAS.threads > 1 {
            setenv("OPENBLAS_THREAD_TIMEOUT", idleThreadTimeout, 1)
            changed.append("OPENBLAS_THREAD_TIMEOUT")
        }
        guard !changed.isEmpty else { return }
        setenv(relaunchMarker, marker, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Still here: execv failed. Carry on as loaded rather than not at all.
        for name in changed { unsetenv(name) }
        unsetenv(relaunchMarker)
    }
}

extension String {
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
