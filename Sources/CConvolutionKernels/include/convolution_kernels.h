// Small-patch convolution kernels for NeuralNet's Conv2D.
//
// A network's first convolution on gray images has patches of C·k·k = 16 values (a 4×4 kernel):
// its products are too short for sgemm to be anything but memory-bound, and the layout moves
// around sgemm cost as much again. These kernels read and write the NCHW tensors where they lie,
// keeping sixteen output values per register while their short sums run. Each has an AVX-512
// and a portable version, compiled with per-function target attributes (no global -march flags);
// the caller names the kernel (`bgan_conv_best_kernel` once, or the portable one to compare).
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BGAN_CONV_KERNEL_PORTABLE = 0,
    BGAN_CONV_KERNEL_AVX512 = 1,
} bgan_conv_kernel;

/// The best kernel this CPU supports. A kernel the CPU lacks, when asked for, runs as the best it has.
bgan_conv_kernel bgan_conv_best_kernel(void);

/// target[r·target_stride + a] = (bias ? bias[r] : 0) + Σ_j weight[r·row_step + j·input_step] · source[j·source_stride + a]
/// for r < rows, a < area. One image's forward product (rows = K output channels, inputs = the
/// patch, source = its unfolded columns) or its unfolded input gradient (rows = the patch,
/// inputs = K, source = the output gradient, the weight read transposed).
void bgan_conv_combine(bgan_conv_kernel kernel, size_t rows, size_t inputs, size_t area,
                       const float *weight, size_t row_step, size_t input_step,
                       const float *source, size_t source_stride,
                       const float *bias,
                       float *target, size_t target_stride);

/// For each output channel r in [row_begin, row_end): adds
///   Σ_n Σ_a output_gradient[(n·channels + r)·area + a] · columns[j·columns_stride + n·area + a]
/// to weight_gradient[r·inputs + j] for every j < inputs, and
///   Σ_n Σ_a output_gradient[(n·channels + r)·area + a]
/// to bias_gradient[r]. The output gradient is NCHW (batch, channels, area).
void bgan_conv_accumulate_gradients(bgan_conv_kernel kernel, size_t row_begin, size_t row_end, size_t channels, size_t inputs, size_t area, size_t batch,
                                    const float *output_gradient, const float *columns, size_t columns_stride,
                                    float *weight_gradient, float *bias_gradient);

#ifdef __cplusplus
}
#endif
