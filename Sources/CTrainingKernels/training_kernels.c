#include "training_kernels.h"
#include <math.h>

// Results must equal the scalar formulas bit for bit: never fuse a multiply and an add.
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) || defined(__i386__)
#define BGAN_X86 1
#include <immintrin.h>
#endif

// MARK: Portable versions: the formulas as written.

static void adam_portable(size_t count, float *values, const float *gradients, float *first, float *second,
                          float beta1, float beta2, float one_minus_beta1, float one_minus_beta2,
                          float learning_rate, float correction1, float correction2, float epsilon) {
    for (size_t i = 0; i < count; i++) {
        const float g = gradients[i];
        first[i] = beta1 * first[i] + one_minus_beta1 * g;
        second[i] = beta2 * second[i] + one_minus_beta2 * g * g;
        values[i] -= learning_rate * (first[i] / correction1) / (sqrtf(second[i] / correction2) + epsilon);
    }
}

static void normalize_portable(size_t count, const float *x, float mean, float inverse, float gamma, float beta, float *y, float *xhat) {
    for (size_t i = 0; i < count; i++) {
        const float normalized = (x[i] - mean) * inverse;
        if (xhat) xhat[i] = normalized;
        y[i] = gamma * normalized + beta;
    }
}

static void input_gradient_portable(size_t count, const float *gy, const float *xhat, float factor, float m,
                                    float sum_gradient, float sum_times_normalized, float *gx) {
    for (size_t i = 0; i < count; i++) gx[i] = factor * (m * gy[i] - sum_gradient - xhat[i] * sum_times_normalized);
}

#ifdef BGAN_X86
// MARK: AVX-512 versions: sixteen lanes, the ragged end read and written under a mask.

#define AVX512_TARGET __attribute__((target("avx512f")))

AVX512_TARGET
static inline __mmask16 lanes_left(size_t count, size_t i) {
    return count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1u);
}

AVX512_TARGET
static void adam_avx512(size_t count, float *values, const float *gradients, float *first, float *second,
                        float beta1, float beta2, float one_minus_beta1, float one_minus_beta2,
                        float learning_rate, float correction1, float correction2, float epsilon) {
    const __m512 b1 = _mm512_set1_ps(beta1), b2 = _mm512_set1_ps(beta2);
    const __m512 c1 = _mm512_set1_ps(one_minus_beta1), c2 = _mm512_set1_ps(one_minus_beta2);
    const __m512 rate = _mm512_set1_ps(learning_rate), k1 = _mm512_set1_ps(correction1), k2 = _mm512_set1_ps(correction2);
    const __m512 eps = _mm512_set1_ps(epsilon);
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 m = lanes_left(count, i);
        const __m512 g = _mm512_maskz_loadu_ps(m, gradients + i);
        const __m512 f = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_maskz_loadu_ps(m, first + i)), _mm512_mul_ps(c1, g));
        const __m512 s = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_maskz_loadu_ps(m, second + i)), _mm512_mul_ps(_mm512_mul_ps(c2, g), g));
        const __m512 step = _mm512_div_ps(_mm512_mul_ps(rate, _mm512_div_ps(f, k1)), _mm512_add_ps(_mm512_sqrt_ps(_mm512_div_ps(s, k2)), eps));
        _mm512_mask_storeu_ps(first + i, m, f);
        _mm512_mask_storeu_ps(second + i, m, s);
        _mm512_mask_storeu_ps(values + i, m, _mm512_sub_ps(_mm512_maskz_loadu_ps(m, values + i), step));
    }
}

AVX512_TARGET
static void normalize_avx512(size_t count, const float *x, float mean, float inverse, float gamma, float beta, float *y, float *xhat) {
    const __m512 mu = _mm512_set1_ps(mean), inv = _mm512_set1_ps(inverse), a = _mm512_set1_ps(gamma), b = _mm512_set1_ps(beta);
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 m = lanes_left(count, i);
        const __m512 normalized = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mu), inv);
        if (xhat) _mm512_mask_storeu_ps(xhat + i, m, normalized);
        _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_mul_ps(a, normalized), b));
    }
}

AVX512_TARGET
static void input_gradient_avx512(size_t count, const float *gy, const float *xhat, float factor, float m_value,
                                  float sum_gradient, float sum_times_normalized, float *gx) {
    const __m512 f = _mm512_set1_ps(factor), m = _mm512_set1_ps(m_value);
    const __m512 sg = _mm512_set1_ps(sum_gradient), sn = _mm512_set1_ps(sum_times_normalized);
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 k = lanes_left(count, i);
        const __m512 inner = _mm512_sub_ps(_mm512_sub_ps(_mm512_mul_ps(m, _mm512_maskz_loadu_ps(k, gy + i)), sg),
                                           _mm512_mul_ps(_mm512_maskz_loadu_ps(k, xhat + i), sn));
        _mm512_mask_storeu_ps(gx + i, k, _mm512_mul_ps(f, inner));
    }
}
#endif

// MARK: Dispatch

static bgan_training_kernel detect_best_kernel(void) {
#ifdef BGAN_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return BGAN_TRAINING_KERNEL_AVX512;
#endif
    return BGAN_TRAINING_KERNEL_PORTABLE;
}

static bgan_training_kernel best_kernel = BGAN_TRAINING_KERNEL_PORTABLE;

__attribute__((constructor)) static void choose_best_kernel(void) { best_kernel = detect_best_kernel(); }

bgan_training_kernel bgan_training_best_kernel(void) { return best_kernel; }

#ifdef BGAN_X86
#define USE_AVX512(kernel) ((kernel) >= BGAN_TRAINING_KERNEL_AVX512 && best_kernel >= BGAN_TRAINING_KERNEL_AVX512)
#else
#define USE_AVX512(kernel) 0
#endif

void bgan_adam_update(bgan_training_kernel kernel, size_t count, float *values, const float *gradients, float *first, float *second,
                      float beta1, float beta2, float one_minus_beta1, float one_minus_beta2,
                      float learning_rate, float correction1, float correction2, float epsilon) {
#ifdef BGAN_X86
    if (USE_AVX512(kernel)) {
        adam_avx512(count, values, gradients, first, second, beta1, beta2, one_minus_beta1, one_minus_beta2,
                    learning_rate, correction1, correction2, epsilon);
        return;
    }
#endif
    (void)kernel;
    adam_portable(count, values, gradients, first, second, beta1, beta2, one_minus_beta1, one_minus_beta2,
                  learning_rate, correction1, correction2, epsilon);
}

void bgan_normalize(bgan_training_kernel kernel, size_t count, const float *x, float mean, float inverse, float gamma, float beta,
                    float *y, float *xhat) {
#ifdef BGAN_X86
    if (USE_AVX512(kernel)) {
        normalize_avx512(count, x, mean, inverse, gamma, beta, y, xhat);
        return;
    }
#endif
    (void)kernel;
    normalize_portable(count, x, mean, inverse, gamma, beta, y, xhat);
}

void bgan_normalization_input_gradient(bgan_training_kernel kernel, size_t count, const float *gy, const float *xhat,
                                       float factor, float m, float sum_gradient, float sum_times_normalized, float *gx) {
#ifdef BGAN_X86
    if (USE_AVX512(kernel)) {
        input_gradient_avx512(count, gy, xhat, factor, m, sum_gradient, sum_times_normalized, gx);
        return;
    }
#endif
    (void)kernel;
    input_gradient_portable(count, gy, xhat, factor, m, sum_gradient, sum_times_normalized, gx);
}
