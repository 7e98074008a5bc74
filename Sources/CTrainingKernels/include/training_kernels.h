// Per-value training arithmetic for NeuralNet: Adam's update and batch normalisation's per-value
// formulas, which touch every parameter or activation once a step and would otherwise run as
// Swift's SSE code (Swift's SIMD types compile to the baseline target without global flags, and
// its vector square root goes through libm one lane at a time).
//
// Each function has an AVX-512 and a portable version, compiled with per-function target
// attributes and chosen once from the CPU's features. Both compute exactly the scalar formula
// written in the comment, in its order, with no fused multiply-add, so their results equal the
// plain loops' bit for bit whichever runs.
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

#ifdef __cplusplus
}
#endif
