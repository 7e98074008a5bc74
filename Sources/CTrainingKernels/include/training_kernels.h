// Per-value training arithmetic for NeuralNet: Adam's update and batch normalisation's sums and
// per-value formulas, which touch every parameter or activation once a step and would otherwise run as
// Swift's SSE code (Swift's SIMD types compile to the baseline target without global flags, and
// its vector square root goes through libm one lane at a time).
//
// Each function has an AVX-512 and a portable version, compiled with per-function target
// attributes and chosen once from the CPU's features. Both compute exactly the scalar formula
// written in the comment, in its order (a sum runs over its values in order), with no fused
// multiply-add, so their results equal the plain loops' bit for bit whichever runs. (The C file
// turns contraction off with `#pragma STDC FP_CONTRACT OFF`, which clang — SwiftPM's C compiler —
// honours unless built with -ffp-contract=fast; the tests compare both kernels with Swift loops.)
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BGAN_TRAINING_KERNEL_PORTABLE = 0,
    BGAN_TRAINING_KERNEL_AVX512 = 1,
} bgan_training_kernel;

/// The best kernel this CPU supports. A kernel the CPU lacks, when asked for, runs as the best it has.
bgan_training_kernel bgan_training_best_kernel(void);

/// For i < count, with g = gradients[i]:
///   first[i]  = beta1 · first[i]  + one_minus_beta1 · g
///   second[i] = beta2 · second[i] + one_minus_beta2 · g · g
///   values[i] = values[i] − learning_rate · (first[i] / correction1) / (√(second[i] / correction2) + epsilon)
void bgan_adam_update(bgan_training_kernel kernel, size_t count, float *values, const float *gradients, float *first, float *second,
                      float beta1, float beta2, float one_minus_beta1, float one_minus_beta2,
                      float learning_rate, float correction1, float correction2, float epsilon);

/// For i < count: xhat[i] = (x[i] − mean) · inverse (when xhat is not NULL) and
/// y[i] = gamma · ((x[i] − mean) · inverse) + beta.
void bgan_normalize(bgan_training_kernel kernel, size_t count, const float *x, float mean, float inverse, float gamma, float beta,
                    float *y, float *xhat);

/// For i < count: gx[i] = factor · (m · gy[i] − sum_gradient − xhat[i] · sum_times_normalized).
void bgan_normalization_input_gradient(bgan_training_kernel kernel, size_t count, const float *gy, const float *xhat,
                                       float factor, float m, float sum_gradient, float sum_times_normalized, float *gx);

/// The same two formulas along a row of `count` channels with one value each (the input of a
/// linear layer's normalisation), each channel with its own constants:
/// xhat[c] = (x[c] − mean[c]) · inverse[c] (when xhat is not NULL), y[c] = gamma[c] · ((x[c] − mean[c]) · inverse[c]) + beta[c].
void bgan_normalize_row(bgan_training_kernel kernel, size_t count, const float *x, const float *mean, const float *inverse,
                        const float *gamma, const float *beta, float *y, float *xhat);

/// gx[c] = factor[c] · (m · gy[c] − sum_gradient[c] − xhat[c] · sum_times_normalized[c]) for c < count.
void bgan_normalization_input_gradient_row(bgan_training_kernel kernel, size_t count, const float *gy, const float *xhat,
                                           const float *factor, float m, const float *sum_gradient, const float *sum_times_normalized,
                                           float *gx);

/// Batch normalisation's sums over the `count` (1 to 8) channels from `first` of an NCHW batch
/// `x` of `items` × `channels` planes of `area` values: for each channel c (its planes in item
/// order, each plane in order, one Double chain), sum[c − first] = Σ x and, with mean = Σ x / m
/// (m = items · area), squares[c − first] = Σ (x − mean)². Eight channels run in the lanes of one
/// vector in the AVX-512 version.
void bgan_normalization_sums(bgan_training_kernel kernel, const float *x, size_t items, size_t channels, size_t area,
                             size_t first, size_t count, double *sum, double *squares);

/// The backward pass's sums, in the same order and grouping, in Float: gradient[c − first] = Σ ∂y
/// and times_normalized[c − first] = Σ ∂y · x̂.
void bgan_normalization_gradient_sums(bgan_training_kernel kernel, const float *gy, const float *xhat, size_t items, size_t channels,
                                      size_t area, size_t first, size_t count, float *gradient, float *times_normalized);

#ifdef __cplusplus
}
#endif
