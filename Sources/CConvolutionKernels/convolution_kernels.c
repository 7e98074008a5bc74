#include "convolution_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define BGAN_X86 1
#include <immintrin.h>
#endif

// MARK: Portable versions: plain loops, vectorised by the compiler for the baseline target.

static void combine_portable(size_t rows, size_t inputs, size_t area, const float *weight, size_t row_step, size_t input_step,
                             const float *source, size_t source_stride, const float *bias, float *target, size_t target_stride) {
    for (size_t r = 0; r < rows; r++) {
        float *restrict row = target + r * target_stride;
        const float start = bias ? bias[r] : 0.0f;
        for (size_t a = 0; a < area; a++) row[a] = start;
        for (size_t j = 0; j < inputs; j++) {
            const float w = weight[r * row_step + j * input_step];
            const float *restrict from = source + j * source_stride;
            for (size_t a = 0; a < area; a++) row[a] += w * from[a];
        }
    }
}

static void gradients_portable(size_t row_begin, size_t row_end, size_t channels, size_t inputs, size_t area, size_t batch,
                               const float *output_gradient, const float *columns, size_t columns_stride,
                               float *weight_gradient, float *bias_gradient) {
    for (size_t r = row_begin; r < row_end; r++) {
        float bias_sum = 0;
        for (size_t n = 0; n < batch; n++) {
            const float *gy = output_gradient + (n * channels + r) * area;
            for (size_t a = 0; a < area; a++) bias_sum += gy[a];
        }
        bias_gradient[r] += bias_sum;
        for (size_t j = 0; j < inputs; j++) {
            float sum = 0;
            for (size_t n = 0; n < batch; n++) {
                const float *gy = output_gradient + (n * channels + r) * area;
                const float *c = columns + j * columns_stride + n * area;
                for (size_t a = 0; a < area; a++) sum += gy[a] * c[a];
            }
            weight_gradient[r * inputs + j] += sum;
        }
    }
}

#ifdef BGAN_X86
// MARK: AVX-512 versions: sixteen lanes, four rows (or four patch positions) per pass so that
// each load of the shared operand feeds four fused multiply-adds; the ragged end of a row is
// read and written under a mask.

#define AVX512_TARGET __attribute__((target("avx512f")))

AVX512_TARGET
static inline __mmask16 tail_mask(size_t count) { return (__mmask16)((1u << count) - 1u); }

AVX512_TARGET
static void combine_avx512(size_t rows, size_t inputs, size_t area, const float *weight, size_t row_step, size_t input_step,
                           const float *source, size_t source_stride, const float *bias, float *target, size_t target_stride) {
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *w0 = weight + r * row_step, *w1 = w0 + row_step, *w2 = w1 + row_step, *w3 = w2 + row_step;
        float *t0 = target + r * target_stride, *t1 = t0 + target_stride, *t2 = t1 + target_stride, *t3 = t2 + target_stride;
        for (size_t a = 0; a < area; a += 16) {
            const __mmask16 m = area - a >= 16 ? (__mmask16)0xFFFF : tail_mask(area - a);
            __m512 s0 = _mm512_set1_ps(bias ? bias[r] : 0.0f), s1 = _mm512_set1_ps(bias ? bias[r + 1] : 0.0f);
            __m512 s2 = _mm512_set1_ps(bias ? bias[r + 2] : 0.0f), s3 = _mm512_set1_ps(bias ? bias[r + 3] : 0.0f);
            for (size_t j = 0; j < inputs; j++) {
                const __m512 x = _mm512_maskz_loadu_ps(m, source + j * source_stride + a);
                const size_t k = j * input_step;
                s0 = _mm512_fmadd_ps(_mm512_set1_ps(w0[k]), x, s0);
                s1 = _mm512_fmadd_ps(_mm512_set1_ps(w1[k]), x, s1);
                s2 = _mm512_fmadd_ps(_mm512_set1_ps(w2[k]), x, s2);
                s3 = _mm512_fmadd_ps(_mm512_set1_ps(w3[k]), x, s3);
            }
            _mm512_mask_storeu_ps(t0 + a, m, s0);
            _mm512_mask_storeu_ps(t1 + a, m, s1);
            _mm512_mask_storeu_ps(t2 + a, m, s2);
            _mm512_mask_storeu_ps(t3 + a, m, s3);
        }
    }
    for (; r < rows; r++) {
        const float *w = weight + r * row_step;
        float *t = target + r * target_stride;
        for (size_t a = 0; a < area; a += 16) {
            const __mmask16 m = area - a >= 16 ? (__mmask16)0xFFFF : tail_mask(area - a);
            __m512 s = _mm512_set1_ps(bias ? bias[r] : 0.0f);
            for (size_t j = 0; j < inputs; j++) {
                s = _mm512_fmadd_ps(_mm512_set1_ps(w[j * input_step]), _mm512_maskz_loadu_ps(m, source + j * source_stride + a), s);
            }
            _mm512_mask_storeu_ps(t + a, m, s);
        }
    }
}

AVX512_TARGET
static void gradients_avx512(size_t row_begin, size_t row_end, size_t channels, size_t inputs, size_t area, size_t batch,
                             const float *output_gradient, const float *columns, size_t columns_stride,
                             float *weight_gradient, float *bias_gradient) {
    for (size_t r = row_begin; r < row_end; r++) {
        __m512 bias_sum = _mm512_setzero_ps();
        for (size_t n = 0; n < batch; n++) {
            const float *gy = output_gradient + (n * channels + r) * area;
            for (size_t a = 0; a < area; a += 16) {
                const __mmask16 m = area - a >= 16 ? (__mmask16)0xFFFF : tail_mask(area - a);
                bias_sum = _mm512_add_ps(bias_sum, _mm512_maskz_loadu_ps(m, gy + a));
            }
        }
        bias_gradient[r] += _mm512_reduce_add_ps(bias_sum);
        for (size_t j = 0; j < inputs; j += 4) {
            // Positions past the patch's end read row j again and are not written back.
            const size_t j1 = j + 1 < inputs ? j + 1 : j, j2 = j + 2 < inputs ? j + 2 : j, j3 = j + 3 < inputs ? j + 3 : j;
            __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
            for (size_t n = 0; n < batch; n++) {
                const float *gy = output_gradient + (n * channels + r) * area;
                const float *c0 = columns + j * columns_stride + n * area, *c1 = columns + j1 * columns_stride + n * area;
                const float *c2 = columns + j2 * columns_stride + n * area, *c3 = columns + j3 * columns_stride + n * area;
                for (size_t a = 0; a < area; a += 16) {
                    const __mmask16 m = area - a >= 16 ? (__mmask16)0xFFFF : tail_mask(area - a);
                    const __m512 g = _mm512_maskz_loadu_ps(m, gy + a);
                    s0 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, c0 + a), s0);
                    s1 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, c1 + a), s1);
                    s2 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, c2 + a), s2);
                    s3 = _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, c3 + a), s3);
                }
            }
            float *w = weight_gradient + r * inputs + j;
            w[0] += _mm512_reduce_add_ps(s0);
            if (j + 1 < inputs) w[1] += _mm512_reduce_add_ps(s1);
            if (j + 2 < inputs) w[2] += _mm512_reduce_add_ps(s2);
            if (j + 3 < inputs) w[3] += _mm512_reduce_add_ps(s3);
        }
    }
}
#endif

// MARK: Dispatch

static bgan_conv_kernel detect_best_kernel(void) {
#ifdef BGAN_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return BGAN_CONV_KERNEL_AVX512;
#endif
    return BGAN_CONV_KERNEL_PORTABLE;
}

static bgan_conv_kernel best_kernel = BGAN_CONV_KERNEL_PORTABLE;

__attribute__((constructor)) static void choose_best_kernel(void) { best_kernel = detect_best_kernel(); }

bgan_conv_kernel bgan_conv_best_kernel(void) { return best_kernel; }

void bgan_conv_combine(bgan_conv_kernel kernel, size_t rows, size_t inputs, size_t area, const float *weight, size_t row_step, size_t input_step,
                       const float *source, size_t source_stride, const float *bias, float *target, size_t target_stride) {
#ifdef BGAN_X86
    if (kernel >= BGAN_CONV_KERNEL_AVX512 && best_kernel >= BGAN_CONV_KERNEL_AVX512) {
        combine_avx512(rows, inputs, area, weight, row_step, input_step, source, source_stride, bias, target, target_stride);
        return;
    }
#endif
    (void)kernel;
    combine_portable(rows, inputs, area, weight, row_step, input_step, source, source_stride, bias, target, target_stride);
}

void bgan_conv_accumulate_gradients(bgan_conv_kernel kernel, size_t row_begin, size_t row_end, size_t channels, size_t inputs, size_t area,
                                    size_t batch, const float *output_gradient, const float *columns, size_t columns_stride,
                                    float *weight_gradient, float *bias_gradient) {
#ifdef BGAN_X86
    if (kernel >= BGAN_CONV_KERNEL_AVX512 && best_kernel >= BGAN_CONV_KERNEL_AVX512) {
        gradients_avx512(row_begin, row_end, channels, inputs, area, batch, output_gradient, columns, columns_stride, weight_gradient, bias_gradient);
        return;
    }
#endif
    (void)kernel;
    gradients_portable(row_begin, row_end, channels, inputs, area, batch, output_gradient, columns, columns_stride, weight_gradient, bias_gradient);
}
