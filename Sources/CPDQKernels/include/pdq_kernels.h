// PDQ's per-pixel work: the image's luminance, and the box filter (the reference's box1DFloat)
// many lines at a time.
//
// Each value gets the reference's arithmetic in the reference's order — luma as
// (0.299·R + 0.587·G) + 0.114·B; a line's running sum, the window shrinking at both ends, each
// output the sum divided by the window's current size — so the results are bit for bit the
// reference's whatever the vector width: single-float products, sums and quotients, none
// contracted into fused multiply-adds or reordered.
// An AVX-512 version (sixteen lines per register, the ragged end under a mask) and a portable
// one, chosen at run time; no global -march flags.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Which version runs: the fastest this CPU has, or the portable one (tests compare the two).
typedef enum {
    BGAN_PDQ_BEST = 0,
    BGAN_PDQ_PORTABLE = 1,
} bgan_pdq_version;

/// 1 when BGAN_PDQ_BEST runs the AVX-512 versions on this CPU, 0 when it runs the portable ones.
int bgan_pdq_best_is_avx512(void);

/// BT.601 luma of `height` rows of `width` pixels of `channels` bytes (1: gray, 3: RGB, 4: RGBA,
/// alpha left out), row y starting at bytes + y·row_stride, into luma[y·width + x].
void bgan_pdq_luminance(bgan_pdq_version version, const unsigned char *bytes, size_t width, size_t height, size_t row_stride,
                        size_t channels, float *luma);

/// Box-filters `lanes` lines of `count` values at once: line l's k-th value is
/// input[k·step + l], its result goes to output[k·step + l]. 1 ≤ `window` ≤ `count` (larger
/// windows read past the lines' ends).
/// input and output must not overlap.
void bgan_jarosz_box_lines(bgan_pdq_version version, const float *input, float *output, size_t count, size_t lanes, size_t step, size_t window);

/// Box-filters each of `rows` rows of `columns` contiguous values (row r starts at
/// input + r·columns): sixteen rows at a time, transposed through a strip. 1 ≤ `window` ≤ `columns`.
/// input and output must not overlap.
void bgan_jarosz_box_rows(bgan_pdq_version version, const float *input, float *output, size_t rows, size_t columns, size_t window);

/// bgan_jarosz_box_lines, keeping only the results at the `position_count` output positions
/// `positions` (ascending, repeats allowed): the p-th into output[p·lanes + l], `lanes` values
/// apart. Each kept value is bit for bit what the whole filter gives there; the others are
/// neither divided out nor stored.
void bgan_jarosz_box_lines_sampled(bgan_pdq_version version, const float *input, float *output, size_t count, size_t lanes, size_t step,
                                   size_t window, const size_t *positions, size_t position_count);

/// bgan_jarosz_box_rows, keeping only the columns `positions` (ascending, repeats allowed) of
/// each row: row r's p-th into output[r·position_count + p], bit for bit the whole filter's value.
void bgan_jarosz_box_rows_sampled(bgan_pdq_version version, const float *input, float *output, size_t rows, size_t columns, size_t window,
                                  const size_t *positions, size_t position_count);

#ifdef __cplusplus
}
#endif
