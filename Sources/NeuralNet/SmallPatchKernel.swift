import CConvolutionKernels

/// The kernels that compute convolutions with small patches (`Conv2D.smallPatchLimit`): AVX-512
/// where the CPU has it, else portable loops. Each layer names the one it uses, so a test can
/// compare them side by side without touching other layers.
public enum SmallPatchKernel: String, Sendable, CaseIterable {
    case portable
    case avx512

    /// The best kernel this CPU supports; a layer asking for one the CPU lacks runs this.
    public static let best: SmallPatchKernel = bgan_conv_best_kernel() == BGAN_CONV_KERNEL_AVX512 ? .avx512 : .portable

    var c: bgan_conv_kernel {
        switch self {
        case .portable: BGAN_CONV_KERNEL_PORTABLE
        case .avx512: BGAN_CONV_KERNEL_AVX512
        }
    }
}
