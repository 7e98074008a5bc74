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

static void normalize_row_portable(size_t count, const float *x, const float *mean, const float *inverse, const float *gamma,
                                   const float *beta, float *y, float *xhat) {
    for (size_t c = 0; c < count; c++) {
        const float normalized = (x[c] - mean[c]) * inverse[c];
        if (xhat) xhat[c] = normalized;
        y[c] = gamma[c] * normalized + beta[c];
    }
}

static void input_gradient_row_portable(size_t count, const float *gy, const float *xhat, const float *factor, float m,
                                        const float *sum_gradient, const float *sum_times_normalized, float *gx) {
    for (size_t c = 0; c < count; c++) gx[c] = factor[c] * (m * gy[c] - sum_gradient[c] - xhat[c] * sum_times_normalized[c]);
}

static void sums_portable(const float *x, size_t items, size_t channels, size_t area, size_t first, size_t count,
                          double *sum, double *squares) {
    const double m = (double)(items * area);
    for (size_t lane = 0; lane < count; lane++) {
        double s = 0, q = 0;
        for (size_t n = 0; n < items; n++) {
            const float *plane = x + (n * channels + first + lane) * area;
            for (size_t i = 0; i < area; i++) s += (double)plane[i];
        }
        const double mean = s / m;
        for (size_t n = 0; n < items; n++) {
            const float *plane = x + (n * channels + first + lane) * area;
            for (size_t i = 0; i < area; i++) {
                const double d = (double)plane[i] - mean;
                q += d * d;
            }
        }
        sum[lane] = s;
        squares[lane] = q;
    }
}

static void gradient_sums_portable(const float *gy, const float *xhat, size_t items, size_t channels, size_t area, size_t first,
                                   size_t count, float *gradient, float *times_normalized) {
    for (size_t lane = 0; lane < count; lane++) {
        float g = 0, t = 0;
        for (size_t n = 0; n < items; n++) {
            const size_t base = (n * channels + first + lane) * area;
            for (size_t i = 0; i < area; i++) {
                g += gy[base + i];
                t += gy[base + i] * xhat[base + i];
            }
        }
        gradient[lane] = g;
        times_normalized[lane] = t;
    }
}

#ifdef BGAN_X86
// MARK: AVX-512 versions: the per-value formulas sixteen lanes at a time, the ragged end read and
// written under a mask; the sums eight channels at a time (below).

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

AVX512_TARGET
static void normalize_row_avx512(size_t count, const float *x, const float *mean, const float *inverse, const float *gamma,
                                 const float *beta, float *y, float *xhat) {
    for (size_t c = 0; c < count; c += 16) {
        const __mmask16 m = lanes_left(count, c);
        const __m512 normalized = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + c), _mm512_maskz_loadu_ps(m, mean + c)),
                                                _mm512_maskz_loadu_ps(m, inverse + c));
        if (xhat) _mm512_mask_storeu_ps(xhat + c, m, normalized);
        _mm512_mask_storeu_ps(y + c, m, _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, gamma + c), normalized),
                                                      _mm512_maskz_loadu_ps(m, beta + c)));
    }
}

AVX512_TARGET
static void input_gradient_row_avx512(size_t count, const float *gy, const float *xhat, const float *factor, float m_value,
                                      const float *sum_gradient, const float *sum_times_normalized, float *gx) {
    const __m512 m = _mm512_set1_ps(m_value);
    for (size_t c = 0; c < count; c += 16) {
        const __mmask16 k = lanes_left(count, c);
        const __m512 inner = _mm512_sub_ps(_mm512_sub_ps(_mm512_mul_ps(m, _mm512_maskz_loadu_ps(k, gy + c)), _mm512_maskz_loadu_ps(k, sum_gradient + c)),
                                           _mm512_mul_ps(_mm512_maskz_loadu_ps(k, xhat + c), _mm512_maskz_loadu_ps(k, sum_times_normalized + c)));
        _mm512_mask_storeu_ps(gx + c, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, factor + c), inner));
    }
}

// Sums: eight channels in the lanes of one vector, so each lane adds its channel's values in
// order. Eight values of each of the eight planes are loaded and transposed, giving eight
// vectors that each hold one position of all eight planes; they are added one after the other.
// Lanes past `count` repeat the last channel and are not stored.
typedef struct {
    size_t offsets[8];
} channel_group;

static inline channel_group group_of(size_t area, size_t count) {
    channel_group group;
    for (size_t lane = 0; lane < 8; lane++) group.offsets[lane] = (lane < count ? lane : count - 1) * area;
    return group;
}

// Position i of each plane of the group, starting at `base`.
AVX512_TARGET
static inline __m256 column(const float *base, const channel_group *g, size_t i) {
    const size_t *o = g->offsets;
    return _mm256_setr_ps(base[o[0] + i], base[o[1] + i], base[o[2] + i], base[o[3] + i],
                          base[o[4] + i], base[o[5] + i], base[o[6] + i], base[o[7] + i]);
}

// Positions i … i + 7 of each plane of the group: columns[j] holds position i + j.
AVX512_TARGET
static inline void columns8(const float *base, const channel_group *g, size_t i, __m256 columns[8]) {
    const size_t *o = g->offsets;
    const __m256 r0 = _mm256_loadu_ps(base + o[0] + i), r1 = _mm256_loadu_ps(base + o[1] + i);
    const __m256 r2 = _mm256_loadu_ps(base + o[2] + i), r3 = _mm256_loadu_ps(base + o[3] + i);
    const __m256 r4 = _mm256_loadu_ps(base + o[4] + i), r5 = _mm256_loadu_ps(base + o[5] + i);
    const __m256 r6 = _mm256_loadu_ps(base + o[6] + i), r7 = _mm256_loadu_ps(base + o[7] + i);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    columns[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    columns[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    columns[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    columns[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    columns[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    columns[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    columns[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    columns[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

AVX512_TARGET
static void sums_avx512(const float *x, size_t items, size_t channels, size_t area, size_t first, size_t count,
                        double *sum, double *squares) {
    const channel_group g = group_of(area, count);
    __m512d s = _mm512_setzero_pd();
    for (size_t n = 0; n < items; n++) {
        const float *base = x + (n * channels + first) * area;
        size_t i = 0;
        for (; i + 8 <= area; i += 8) {
            __m256 c[8];
            columns8(base, &g, i, c);
            for (size_t j = 0; j < 8; j++) s = _mm512_add_pd(s, _mm512_cvtps_pd(c[j]));
        }
        for (; i < area; i++) s = _mm512_add_pd(s, _mm512_cvtps_pd(column(base, &g, i)));
    }
    const __m512d mean = _mm512_div_pd(s, _mm512_set1_pd((double)(items * area)));
    __m512d q = _mm512_setzero_pd();
    for (size_t n = 0; n < items; n++) {
        const float *base = x + (n * channels + first) * area;
        size_t i = 0;
        for (; i + 8 <= area; i += 8) {
            __m256 c[8];
            columns8(base, &g, i, c);
            for (size_t j = 0; j < 8; j++) {
                const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(c[j]), mean);
                q = _mm512_add_pd(q, _mm512_mul_pd(d, d));
            }
        }
        for (; i < area; i++) {
            const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(column(base, &g, i)), mean);
            q = _mm512_add_pd(q, _mm512_mul_pd(d, d));
        }
    }
    double lanes[2][8];
    _mm512_storeu_pd(lanes[0], s);
    _mm512_storeu_pd(lanes[1], q);
    for (size_t lane = 0; lane < count; lane++) {
        sum[lane] = lanes[0][lane];
        squares[lane] = lanes[1][lane];
    }
}

AVX512_TARGET
static void gradient_sums_avx512(const float *gy, const float *xhat, size_t items, size_t channels, size_t area, size_t first,
                                 size_t count, float *gradient, float *times_normalized) {
    const channel_group g = group_of(area, count);
    __m256 sg = _mm256_setzero_ps(), st = _mm256_setzero_ps();
    for (size_t n = 0; n < items; n++) {
        const size_t base = (n * channels + first) * area;
        size_t i = 0;
        for (; i + 8 <= area; i += 8) {
            __m256 dy[8], xh[8];
            columns8(gy + base, &g, i, dy);
            columns8(xhat + base, &g, i, xh);
            for (size_t j = 0; j < 8; j++) {
                sg = _mm256_add_ps(sg, dy[j]);
                st = _mm256_add_ps(st, _mm256_mul_ps(dy[j], xh[j]));
            }
        }
        for (; i < area; i++) {
            const __m256 dy = column(gy + base, &g, i);
            sg = _mm256_add_ps(sg, dy);
            st = _mm256_add_ps(st, _mm256_mul_ps(dy, column(xhat + base, &g, i)));
        }
    }
    float lanes[2][8];
    _mm256_storeu_ps(lanes[0], sg);
    _mm256_storeu_ps(lanes[1], st);
    for (size_t lane = 0; lane < count; lane++) {
        gradient[lane] = lanes[0][lane];
        times_normalized[lane] = lanes[1][lane];
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

void bgan_normalization_sums(bgan_training_kernel kernel, const float *x, size_t items, size_t channels, size_t area,
                             size_t first, size_t count, double *sum, double *squares) {
#ifdef BGAN_X86
    if (USE_AVX512(kernel) && count >= 1 && count <= 8) {
        sums_avx512(x, items, channels, area, first, count, sum, squares);
        return;
    }
#endif
    (void)kernel;
    sums_portable(x, items, channels, area, first, count, sum, squares);
}

void bgan_normalization_gradient_sums(bgan_training_kernel kernel, const float *gy, const float *xhat, size_t items, size_t channels,
                                      size_t area, size_t first, size_t count, float *gradient, float *times_normalized) {
#ifdef BGAN_X86
    if (USE_AVX512(kernel) && count >= 1 && count <= 8) {
        gradient_sums_avx512(gy, xhat, items, channels, area, first, count, gradient, times_normalized);
        return;
    }
#endif
    (void)kernel;
    gradient_sums_portable(gy, xhat, items, channels, area, first, count, gradient, times_normalized);
}

void bgan_normalize_row(bgan_training_kernel kernel, size_t count, const float *x, const float *mean, const float *inverse,
                        const float *gamma, const float *beta, float *y, float *xhat) {
#ifdef BGAN_X86
    if (USE_AVX512(kernel)) {
        normalize_row_avx512(count, x, mean, inverse, gamma, beta, y, xhat);
        return;
    }
#endif
    (void)kernel;
    normalize_row_portable(count, x, mean, inverse, gamma, beta, y, xhat);
}

void bgan_normalization_input_gradient_row(bgan_training_kernel kernel, size_t count, const float *gy, const float *xhat,
                                           const float *factor, float m, const float *sum_gradient, const float *sum_times_normalized,
                                           float *gx) {
#ifdef BGAN_X86
    if (USE_AVX512(kernel)) {
        input_gradient_row_avx512(count, gy, xhat, factor, m, sum_gradient, sum_times_normalized, gx);
        return;
    }
#endif
    (void)kernel;
    input_gradient_row_portable(count, gy, xhat, factor, m, sum_gradient, sum_times_normalized, gx);
}
