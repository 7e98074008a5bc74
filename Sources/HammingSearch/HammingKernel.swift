import CHammingKernels

/// The distance kernels in use: AVX-512 VPOPCNTDQ, POPCNT or portable, chosen from the CPU's
/// features when the program starts.
public enum HammingKernel: String, Sendable, CaseIterable {
    case portable
    case popcnt
    case avx512 = "avx512-vpopcntdq"

    /// The kernel in use.
    public static var active: HammingKernel { HammingKernel(bgan_hamming_kernel()) }

    /// The best kernel this CPU supports.
    public static var best: HammingKernel { HammingKernel(bgan_hamming_best_kernel()) }

    /// Switches kernels (for tests and benchmarks); falls back to the best supported one.
    /// Affects the whole process. Returns the kernel now in use.
    @discardableResult
    public static func use(_ kernel: HammingKernel) -> HammingKernel {
        HammingKernel(bgan_hamming_force_kernel(kernel.cValue))
    }

    /// Distance between two codes given as words.
    public static func distance(_ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, words: Int) -> Int {
        Int(bgan_hamming_distance(a, b, words))
    }

    init(_ value: bgan_kernel) {
        switch value {
        case BGAN_KERNEL_AVX512: self = .avx512
        case BGAN_KERNEL_POPCNT: self = .popcnt
        default: self = .portable
        }
    }

    var cValue: bgan_kernel {
        switch self {
        case .portable: BGAN_KERNEL_PORTABLE
        case .popcnt: BGAN_KERNEL_POPCNT
        case .avx512: BGAN_KERNEL_AVX512
        }
    }
}
