import CTrainingKernels

/// The kernels of the per-value training arithmetic (``Adam``'s update, ``BatchNormalization``'s
/// per-value formulas): AVX-512 where the CPU has it, else portable loops. Both give the scalar
/// formulas' results bit for bit; a layer or optimiser names the one it uses, so a test can
/// compare them side by side.
public enum TrainingKernel: String, Sendable, CaseIterable {
    case portable
    case avx512

    /// The best kernel this CPU supports; asking for one the CPU lacks runs this.
    public static let best: TrainingKernel = bgan_training_best_kernel() == BGAN_TRAINING_KERNEL_AVX512 ? .avx512 : .portable

    var c: bgan_training_kernel {
        switch self {
        case .portable: BGAN_TRAINING_KERNEL_PORTABLE
        case .avx512: BGAN_TRAINING_KERNEL_AVX512
        }
    }
}
