import Testing
@testable import NeuralNet

@Suite struct BLASCoreTests {
    let avx512: Set<String> = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"]

    @Test func slowFallbackKernelsAreReplaced() {
        #expect(BLASCore.recommendedCoreType(coreName: "Prescott", features: avx512) == "SkylakeX")
        #expect(BLASCore.recommendedCoreType(coreName: "Haswell", features: avx512) == "SkylakeX")
        #expect(BLASCore.recommendedCoreType(coreName: "Prescott", features: ["avx2", "fma", "sse4_2"]) == "Haswell")
        #expect(BLASCore.recommendedCoreType(coreName: "Nehalem", features: ["avx2", "fma"]) == "Haswell")
    }

    @Test func fittingKernelsAreLeftAlone() {
        #expect(BLASCore.recommendedCoreType(coreName: "SkylakeX", features: avx512) == nil)
        #expect(BLASCore.recommendedCoreType(coreName: "Cooperlake", features: avx512) == nil)
        #expect(BLASCore.recommendedCoreType(coreName: "Haswell", features: ["avx2", "fma"]) == nil)
        #expect(BLASCore.recommendedCoreType(coreName: "Prescott", features: ["sse2", "sse3"]) == nil)
    }

    @Test func slowKernelsSetBeforeStartAreNamed() throws {
        let held = try #require(BLASCore.slowKernelsChosenBeforeStart(coreName: "Haswell", features: avx512,
                                                                     environment: ["OPENBLAS_CORETYPE": "Haswell"]))
        #expect(held.contains("OPENBLAS_CORETYPE=Haswell") && held.contains("OPENBLAS_CORETYPE=SkylakeX"))
        // Relaunched only to set the thread timeout (empty marker): the kernels are still the user's choice.
        #expect(BLASCore.slowKernelsChosenBeforeStart(coreName: "Haswell", features: avx512,
                                                      environment: ["OPENBLAS_CORETYPE": "Haswell", BLASCore.relaunchMarker: ""]) != nil)
    }

    @Test func fastOrOwnKernelsAreNotNamed() {
        // Unset: relaunchIfSlow chooses; set by the relaunch itself; set to the fast kernels; no faster ones exist.
        #expect(BLASCore.slowKernelsChosenBeforeStart(coreName: "Haswell", features: avx512, environment: [:]) == nil)
        #expect(BLASCore.slowKernelsChosenBeforeStart(coreName: "Haswell", features: avx512,
                                                      environment: ["OPENBLAS_CORETYPE": "SkylakeX", BLASCore.relaunchMarker: "Haswell→SkylakeX"]) == nil)
        #expect(BLASCore.slowKernelsChosenBeforeStart(coreName: "SkylakeX", features: avx512, environment: ["OPENBLAS_CORETYPE": "SkylakeX"]) == nil)
        #expect(BLASCore.slowKernelsChosenBeforeStart(coreName: "Haswell", features: ["avx2", "fma"], environment: ["OPENBLAS_CORETYPE": "Haswell"]) == nil)
    }

    @Test func thisMachineIsDescribed() {
        let features = BLASCore.cpuFeatures()
        #expect(features.contains("sse2"), "x86-64 CPUs all have SSE2; /proc/cpuinfo was not read")
        #expect(!BLASCore.cpuModel().isEmpty)
        #expect(BLAS.threads >= 1)
        #expect(!BLAS.coreName.isEmpty)
    }

    // Setting the thread count is process-wide: it is tested in a process of its own
    // (BGANDBTests' ProcessSettingsTests), not under the suites that run here in parallel.
}
