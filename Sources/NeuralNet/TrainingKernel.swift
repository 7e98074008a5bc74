import CTrainingKernels

/// The kernels of the training arithmetic that touches every value once a step (``Adam``'s
/// update, ``BatchNormalization``'s sums and per-value formulas): AVX-512 where the CPU has it,
/// else portable loops. Both give the plain scalar loops' results bit for bit; a layer or
/// optimiser names the one it uses, so a test can compare them side by side.
public enum TrainingKernel: String, Sendable, CaseIterable {
    case portable
    case avx512

    /// The best kernel this CPU supports; asking for one the CPU lacks runs this.
    public static let best: TrainingKernel = bgan_training_best_kernel() == BGAN_TRAINING_KERNEL_AVX512 ? .avx512 : .portable

    /// The kernels this CPU runs as themselves (what a test comparing them should ask for).
    public static var available: [TrainingKernel] { best == .avx512 ? allCases : [.portable] }

    var c: bgan_training_kernel {
        switch self {
        case .portable: BGAN_TRAINING_KERNEL_PORTABLE
        case .avx512: BGAN_TRAINING_KERNEL_AVX512
        }
    }
}
