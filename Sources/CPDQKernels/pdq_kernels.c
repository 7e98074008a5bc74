#include "pdq_kernels.h"

#include <stdlib.h>

// Products and sums stay separate roundings, as in the reference (no fused multiply-adds):
// clang honours this pragma under its default -ffp-contract=on; fast-math would not keep it.
#pragma STDC FP_CONTRACT OFF
#if defined(__FAST_MATH__)
#error "PDQ's kernels must round every product and sum as the reference does: build without fast-math"
#endif

#if defined(__x86_64__) || defined(__i386__)
#define BGAN_X86 1
#include <immintrin.h>
#endif

// MARK: Portable versions: plain loops over the lanes, vectorised by the compiler for the baseline target.

/// Where a line's results go: every output position k to output[k·step + l] (`positions` NULL),
/// or only the sorted output positions in `positions` (repeats allowed), the p-th of them to
/// output[p·out_step + l]. The running sum passes every position either way, so the values kept
/// are bit for bit those of the whole line; only the divisions and stores of the others are saved.
typedef struct {
    const size_t *positions;
    size_t count;
    size_t out_step;
} bgan_box_samples;

/// At most sixteen lines, as the vector version takes them, their running sums on the stack.
static void box_some_lines_portable(const float *input, float *output, size_t count, size_t lanes, size_t step, size_t window,
                                    bgan_box_samples samples) {
    float sums[16] = {0};
    const size_t half = (window + 2) / 2;
    size_t size = 0, left = 0, right = 0, out = 0, next = 0;
    // The results at output position `out`, to where they go.
#define EMIT(divisor)                                                                                                   \
    do {                                                                                                                \
        if (!samples.positions) {                                                                                       \
            float *results = output + out * step;                                                                       \
            for (size_t l = 0; l < lanes; l++) results[l] = sums[l] / (divisor);                                        \
        }                                                                                                               \
        for (; samples.positions && next < samples.count && samples.positions[next] == out; next++) {                   \
            float *results = output + next * samples.out_step;                                                          \
            for (size_t l = 0; l < lanes; l++) results[l] = sums[l] / (divisor);                                        \
        }                                                                                                               \
    } while (0)
    for (size_t k = 0; k + 1 < half; k++, right++) {
        const float *values = input + right * step;
        for (size_t l = 0; l < lanes; l++) sums[l] += values[l];
        size++;
    }
    for (size_t k = 0; k < window - half + 1; k++, right++, out++) {
        const float *values = input + right * step;
        size++;
        for (size_t l = 0; l < lanes; l++) sums[l] += values[l];
        EMIT((float)size);
    }
    for (size_t k = window; k < count; k++, left++, right++, out++) {
        const float *entering = input + right * step, *leaving = input + left * step;
        for (size_t l = 0; l < lanes; l++) {
            sums[l] += entering[l];
            sums[l] -= leaving[l];
        }
        EMIT((float)size);
    }
    for (size_t k = 0; k + 1 < half; k++, left++, out++) {
        const float *leaving = input + left * step;
        size--;
        for (size_t l = 0; l < lanes; l++) sums[l] -= leaving[l];
        EMIT((float)size);
    }
#undef EMIT
}

static const bgan_box_samples every_position = {NULL, 0, 0};

static void box_lines_portable(const float *input, float *output, size_t count, size_t lanes, size_t step, size_t window,
                               bgan_box_samples samples) {
    for (size_t first = 0; first < lanes; first += 16) {
        box_some_lines_portable(input + first, output + first, count, lanes - first < 16 ? lanes - first : 16, step, window, samples);
    }
}

static inline float luma_of(const unsigned char *p) { return 0.299f * (float)p[0] + 0.587f * (float)p[1] + 0.114f * (float)p[2]; }

static void luminance_portable(const unsigned char *bytes, size_t width, size_t height, size_t row_stride, size_t channels, float *luma) {
    for (size_t y = 0; y < height; y++) {
        const unsigned char *row = bytes + y * row_stride;
        float *target = luma + y * width;
        if (channels == 1) {
            for (size_t x = 0; x < width; x++) target[x] = (float)row[x];
        } else {
            for (size_t x = 0; x < width; x++) target[x] = luma_of(row + x * channels);
        }
    }
}

/// One row at a time, as the reference does.
static void box_rows_portable(const float *input, float *output, size_t rows, size_t columns, size_t window, bgan_box_samples samples) {
    const size_t kept = samples.positions ? samples.count : columns;
    for (size_t r = 0; r < rows; r++) box_some_lines_portable(input + r * columns, output + r * kept, columns, 1, 1, window, samples);
}

#ifdef BGAN_X86
// MARK: AVX-512 versions.

#define AVX512_TARGET __attribute__((target("avx512f")))

AVX512_TARGET
static inline __mmask16 lane_mask(size_t count) { return count >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << count) - 1u); }

/// Sixteen (or, at the end, fewer: `mask`) neighbouring lines whose values are `step` floats
/// apart along them: the lines side by side in one register. Inlined into its two callers, so
/// that the whole-line one carries no test for samples.
AVX512_TARGET
static inline __attribute__((always_inline)) void box_sixteen_core(const float *input, float *output, size_t count, size_t step,
                                                                    __mmask16 mask, size_t window, bgan_box_samples samples) {
#define LOAD(p) _mm512_maskz_loadu_ps(mask, (p))
#define EMIT(divisor)                                                                                                   \
    do {                                                                                                                \
        if (!samples.positions) _mm512_mask_storeu_ps(output + out * step, mask, _mm512_div_ps(sum, (divisor)));        \
        for (; samples.positions && next < samples.count && samples.positions[next] == out; next++) {                   \
            _mm512_mask_storeu_ps(output + next * samples.out_step, mask, _mm512_div_ps(sum, (divisor)));               \
        }                                                                                                               \
    } while (0)
    const size_t half = (window + 2) / 2;
    __m512 sum = _mm512_setzero_ps();
    size_t size = 0, left = 0, right = 0, out = 0, next = 0;
    for (size_t k = 0; k + 1 < half; k++, right++) {
        sum = _mm512_add_ps(sum, LOAD(input + right * step));
        size++;
    }
    for (size_t k = 0; k < window - half + 1; k++, right++, out++) {
        size++;
        sum = _mm512_add_ps(sum, LOAD(input + right * step));
        EMIT(_mm512_set1_ps((float)size));
    }
    const __m512 divisor = _mm512_set1_ps((float)size);
    for (size_t k = window; k < count; k++, left++, right++, out++) {
        sum = _mm512_add_ps(sum, LOAD(input + right * step));
        sum = _mm512_sub_ps(sum, LOAD(input + left * step));
        EMIT(divisor);
    }
    for (size_t k = 0; k + 1 < half; k++, left++, out++) {
        size--;
        sum = _mm512_sub_ps(sum, LOAD(input + left * step));
        EMIT(_mm512_set1_ps((float)size));
    }
#undef LOAD
#undef EMIT
}

AVX512_TARGET
static void box_sixteen(const float *input, float *output, size_t count, size_t step, __mmask16 mask, size_t window) {
    box_sixteen_core(input, output, count, step, mask, window, every_position);
}

AVX512_TARGET
static void box_sixteen_sampled(const float *input, float *output, size_t count, size_t step, __mmask16 mask, size_t window,
                                bgan_box_samples samples) {
    box_sixteen_core(input, output, count, step, mask, window, samples);
}

AVX512_TARGET
static void box_lines_avx512(const float *input, float *output, size_t count, size_t lanes, size_t step, size_t window,
                             bgan_box_samples samples) {
    for (size_t first = 0; first < lanes; first += 16) {
        if (samples.positions) {
            box_sixteen_sampled(input + first, output + first, count, step, lane_mask(lanes - first), window, samples);
        } else {
            box_sixteen(input + first, output + first, count, step, lane_mask(lanes - first), window);
        }
    }
}

/// r[i] (row i of a 16×16 block) becomes column i.
AVX512_TARGET
static inline void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4i + j], 128-bit lane k: column 4k + j of rows 4i … 4i + 3.
    for (int i = 0; i < 4; i++) {
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[4 * i]), _mm512_castps_pd(t[4 * i + 2])));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[4 * i]), _mm512_castps_pd(t[4 * i + 2])));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[4 * i + 1]), _mm512_castps_pd(t[4 * i + 3])));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[4 * i + 1]), _mm512_castps_pd(t[4 * i + 3])));
    }
    for (int j = 0; j < 4; j++) {
        const __m512 low_ab = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x44), high_ab = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xEE);
        const __m512 low_cd = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x44), high_cd = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xEE);
        r[j] = _mm512_shuffle_f32x4(low_ab, low_cd, 0x88);
        r[4 + j] = _mm512_shuffle_f32x4(low_ab, low_cd, 0xDD);
        r[8 + j] = _mm512_shuffle_f32x4(high_ab, high_cd, 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(high_ab, high_cd, 0xDD);
    }
}

/// Sixteen rows at a time: transposed block by block into a strip whose lines are the rows
/// (zeros beyond the last row), filtered side by side, transposed back (only the sampled
/// columns, when `samples` names some).
AVX512_TARGET
static int box_rows_avx512(const float *input, float *output, size_t rows, size_t columns, size_t window, bgan_box_samples samples) {
    const size_t kept = samples.positions ? samples.count : columns;
    float *strip = malloc((16 * columns + 16 * kept) * sizeof(float));
    if (!strip) return 0;
    float *filtered = strip + 16 * columns;
    __m512 block[16];
    for (size_t first = 0; first < rows; first += 16) {
        const size_t lines = rows - first < 16 ? rows - first : 16;
        for (size_t c = 0; c < columns; c += 16) {
            const size_t width = columns - c < 16 ? columns - c : 16;
            for (size_t l = 0; l < 16; l++) {
                block[l] = l < lines ? _mm512_maskz_loadu_ps(lane_mask(width), input + (first + l) * columns + c) : _mm512_setzero_ps();
            }
            transpose16(block);
            for (size_t j = 0; j < width; j++) _mm512_storeu_ps(strip + (c + j) * 16, block[j]);
        }
        if (samples.positions) {
            const bgan_box_samples strip_samples = {samples.positions, samples.count, 16};
            box_sixteen_sampled(strip, filtered, columns, 16, 0xffff, window, strip_samples);
        } else {
            box_sixteen(strip, filtered, columns, 16, 0xffff, window);
        }
        for (size_t c = 0; c < kept; c += 16) {
            const size_t width = kept - c < 16 ? kept - c : 16;
            for (size_t j = 0; j < 16; j++) block[j] = j < width ? _mm512_loadu_ps(filtered + (c + j) * 16) : _mm512_setzero_ps();
            transpose16(block);
            for (size_t l = 0; l < lines; l++) _mm512_mask_storeu_ps(output + (first + l) * kept + c, lane_mask(width), block[l]);
        }
    }
    free(strip);
    return 1;
}

AVX512_TARGET
static inline __m512 luma16(__m512 r, __m512 g, __m512 b) {
    const __m512 sum = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(0.299f), r), _mm512_mul_ps(_mm512_set1_ps(0.587f), g));
    return _mm512_add_ps(sum, _mm512_mul_ps(_mm512_set1_ps(0.114f), b));
}

AVX512_TARGET
static inline __m512 floats16(const unsigned char *p) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p))); }

AVX512_TARGET
static void luminance_avx512(const unsigned char *bytes, size_t width, size_t height, size_t row_stride, size_t channels, float *luma) {
    // RGB: the 48 bytes of sixteen pixels as three vectors of floats; channel c of pixel i is
    // value 3i + c, taken from the first two vectors (index mod 32) or, from 32 on, the third (mod 16).
    const __m512i red = _mm512_set_epi32(45, 42, 39, 36, 33, 30, 27, 24, 21, 18, 15, 12, 9, 6, 3, 0);
    const __m512i green = _mm512_add_epi32(red, _mm512_set1_epi32(1)), blue = _mm512_add_epi32(red, _mm512_set1_epi32(2));
    const __mmask16 red_late = 0xf800, green_late = 0xf800, blue_late = 0xfc00;
    const __m512i byte = _mm512_set1_epi32(0xff);
    for (size_t y = 0; y < height; y++) {
        const unsigned char *row = bytes + y * row_stride;
        float *target = luma + y * width;
        size_t x = 0;
        if (channels == 1) {
            for (; x + 16 <= width; x += 16) _mm512_storeu_ps(target + x, floats16(row + x));
            for (; x < width; x++) target[x] = (float)row[x];
        } else if (channels == 3) {
            for (; x + 16 <= width; x += 16) {
                const unsigned char *p = row + 3 * x;
                const __m512 a = floats16(p), b = floats16(p + 16), c = floats16(p + 32);
                const __m512 r = _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(a, red, b), red_late, red, c);
                const __m512 g = _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(a, green, b), green_late, green, c);
                const __m512 bl = _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(a, blue, b), blue_late, blue, c);
                _mm512_storeu_ps(target + x, luma16(r, g, bl));
            }
            for (; x < width; x++) target[x] = luma_of(row + 3 * x);
        } else {
            for (; x + 16 <= width; x += 16) {
                const __m512i pixels = _mm512_loadu_si512((const void *)(row + channels * x));
                const __m512 r = _mm512_cvtepi32_ps(_mm512_and_si512(pixels, byte));
                const __m512 g = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(pixels, 8), byte));
                const __m512 b = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(pixels, 16), byte));
                _mm512_storeu_ps(target + x, luma16(r, g, b));
            }
            for (; x < width; x++) target[x] = luma_of(row + channels * x);
        }
    }
}

#endif

// MARK: Dispatch

static int avx512 = 0;

__attribute__((constructor)) static void detect_vectors(void) {
#ifdef BGAN_X86
    __builtin_cpu_init();
    avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
#endif
}

static inline int has_avx512(void) { return avx512; }

int bgan_pdq_best_is_avx512(void) { return avx512; }

void bgan_pdq_luminance(bgan_pdq_version version, const unsigned char *bytes, size_t width, size_t height, size_t row_stride,
                        size_t channels, float *luma) {
#ifdef BGAN_X86
    if (version == BGAN_PDQ_BEST && has_avx512() && (channels == 1 || channels == 3 || channels == 4)) {
        luminance_avx512(bytes, width, height, row_stride, channels, luma);
        return;
    }
#endif
    luminance_portable(bytes, width, height, row_stride, channels, luma);
}

void bgan_jarosz_box_lines(bgan_pdq_version version, const float *input, float *output, size_t count, size_t lanes, size_t step, size_t window) {
#ifdef BGAN_X86
    if (version == BGAN_PDQ_BEST && has_avx512()) { box_lines_avx512(input, output, count, lanes, step, window, every_position); return; }
#endif
    box_lines_portable(input, output, count, lanes, step, window, every_position);
}

void bgan_jarosz_box_lines_sampled(bgan_pdq_version version, const float *input, float *output, size_t count, size_t lanes, size_t step,
                                   size_t window, const size_t *positions, size_t position_count) {
    const bgan_box_samples samples = {positions, position_count, lanes};
#ifdef BGAN_X86
    if (version == BGAN_PDQ_BEST && has_avx512()) { box_lines_avx512(input, output, count, lanes, step, window, samples); return; }
#endif
    box_lines_portable(input, output, count, lanes, step, window, samples);
}

static void box_rows(bgan_pdq_version version, const float *input, float *output, size_t rows, size_t columns, size_t window,
                     bgan_box_samples samples) {
#ifdef BGAN_X86
    // The vector version needs a strip of 16 × (columns + kept columns) floats; without the memory, the portable one runs.
    if (version == BGAN_PDQ_BEST && has_avx512() && box_rows_avx512(input, output, rows, columns, window, samples)) return;
#endif
    box_rows_portable(input, output, rows, columns, window, samples);
}

void bgan_jarosz_box_rows(bgan_pdq_version version, const float *input, float *output, size_t rows, size_t columns, size_t window) {
    box_rows(version, input, output, rows, columns, window, every_position);
}

void bgan_jarosz_box_rows_sampled(bgan_pdq_version version, const float *input, float *output, size_t rows, size_t columns, size_t window,
                                  const size_t *positions, size_t position_count) {
    const bgan_box_samples samples = {positions, position_count, 1};
    box_rows(version, input, output, rows, columns, window, samples);
}
