// Hamming-distance kernels for BGANStore's linear scan and candidate verification.
//
// Codes are arrays of `words` 64-bit words, stored code after code. Distance is the popcount of
// the XOR. Each kernel has an AVX-512 VPOPCNTDQ, a POPCNT and a portable version, compiled with
// per-function target attributes (no global -march flags) and chosen once, when the library
// loads, from the CPU's features. `bgan_hamming_force_kernel` overrides the choice for tests
// and benchmarks.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    BGAN_KERNEL_PORTABLE = 0,
    BGAN_KERNEL_POPCNT = 1,
    BGAN_KERNEL_AVX512 = 2,
} bgan_kernel;

/// The kernel in use.
bgan_kernel bgan_hamming_kernel(void);

/// The best kernel this CPU supports.
bgan_kernel bgan_hamming_best_kernel(void);

/// Uses `kernel` from now on if the CPU supports it; returns the kernel then in use. Process-wide:
/// for benchmarks. Tests call a kernel's functions directly (`bgan_hamming_kernel_functions`).
bgan_kernel bgan_hamming_force_kernel(bgan_kernel kernel);

typedef uint32_t (*bgan_distance_fn)(const uint64_t *a, const uint64_t *b, size_t words);
typedef size_t (*bgan_scan_fn)(const uint64_t *codes, size_t count, size_t words, const uint64_t *query,
                               uint32_t threshold, const uint8_t *live, uint32_t first_index,
                               uint32_t *out_index, uint16_t *out_distance);
typedef size_t (*bgan_verify_fn)(const uint32_t *ids, size_t count, const uint8_t *const *chunks,
                                 size_t chunk_count, uint32_t chunk_shift, size_t words, size_t live_offset,
                                 const uint64_t *query, uint32_t threshold, uint32_t *out_id, uint16_t *out_distance);
typedef size_t (*bgan_filter_fn)(const uint32_t *ids, const uint32_t *fingerprints, size_t count,
                                 uint32_t query_fingerprint, uint32_t max_difference, uint32_t *out);
typedef size_t (*bgan_collect_filtered_fn)(const uint32_t *offsets, const uint32_t *ids, const uint32_t *fingerprints,
                                           const uint32_t *values, size_t value_count, uint32_t query_fingerprint,
                                           uint32_t max_difference, uint32_t *out, size_t capacity,
                                           size_t *values_used, size_t *probed_nonempty, size_t *entries_read);

/// One kernel's functions, with the same contracts as `bgan_hamming_distance`, `bgan_hamming_scan`
/// and `bgan_hamming_verify` below; `kernel` is the one provided (capped to what the CPU supports).
typedef struct {
    bgan_kernel kernel;
    bgan_distance_fn distance;
    bgan_scan_fn scan;
    bgan_verify_fn verify;
    bgan_filter_fn filter;
    bgan_collect_filtered_fn collect_filtered;
} bgan_hamming_functions;

/// The functions of `kernel` (or of the best kernel the CPU supports, if it lacks `kernel`),
/// without changing the kernel in use.
bgan_hamming_functions bgan_hamming_kernel_functions(bgan_kernel kernel);

/// Distance between two codes of `words` words.
uint32_t bgan_hamming_distance(const uint64_t *a, const uint64_t *b, size_t words);

/// Scans `count` contiguous codes. For each code i with distance <= `threshold` and, when `live`
/// is not NULL, bit i of `live` set (bit i%8 of byte i/8), appends `first_index + i` to
/// `out_index` and the distance to `out_distance`. Both outputs must hold `count` entries.
/// Returns how many were appended.
size_t bgan_hamming_scan(const uint64_t *codes, size_t count, size_t words, const uint64_t *query,
                         uint32_t threshold, const uint8_t *live, uint32_t first_index,
                         uint32_t *out_index, uint16_t *out_distance);

/// Verifies candidate ids whose codes live in chunks: the code of id is at
/// `chunks[id >> chunk_shift] + (id & ((1 << chunk_shift) - 1)) * words * 8`, and its live bit
/// at byte `live_offset + slot / 8` of the same chunk. A NULL chunk means no such id.
/// Appends ids that are live and within `threshold` (and their distances); returns how many.
/// Prefetches ahead, so many cache misses overlap.
size_t bgan_hamming_verify(const uint32_t *ids, size_t count, const uint8_t *const *chunks,
                           size_t chunk_count, uint32_t chunk_shift, size_t words, size_t live_offset,
                           const uint64_t *query, uint32_t threshold,
                           uint32_t *out_id, uint16_t *out_distance);

/// Gathers the ids of direct-addressed buckets: bucket v holds `ids[offsets[v] ..< offsets[v + 1]]`.
/// Copies the buckets of `values[0 ..< value_count]` in order into `out` while they fit in
/// `capacity`. Sets `*values_used` to how many buckets were taken (0 when the first bucket alone
/// exceeds `capacity`: verify it in place) and `*probed_nonempty` to how many of them held ids.
/// Prefetches offsets and buckets ahead. Returns the number of ids copied.
size_t bgan_mih_collect(const uint32_t *offsets, const uint32_t *ids, const uint32_t *values,
                        size_t value_count, uint32_t *out, size_t capacity, size_t *values_used,
                        size_t *probed_nonempty);

/// `bgan_mih_collect` for tables whose entries carry a fingerprint beside each id
/// (`fingerprints[k]` belongs to `ids[k]`): reads the same buckets under the same `capacity` rule,
/// but copies only ids whose fingerprint differs from `query_fingerprint` in at most
/// `max_difference` bits. Sets `*entries_read` to the ids read (copied or not).
size_t bgan_mih_collect_filtered(const uint32_t *offsets, const uint32_t *ids, const uint32_t *fingerprints,
                                 const uint32_t *values, size_t value_count, uint32_t query_fingerprint,
                                 uint32_t max_difference, uint32_t *out, size_t capacity,
                                 size_t *values_used, size_t *probed_nonempty, size_t *entries_read);
/// Copies to `out` the ids among `ids[0 ..< count]` whose fingerprint (`fingerprints[k]` beside
/// `ids[k]`) differs from `query_fingerprint` in at most `max_difference` bits; `out` holds
/// `count` entries. Returns how many were copied. What `bgan_mih_collect_filtered` does per bucket.
size_t bgan_fingerprint_filter(const uint32_t *ids, const uint32_t *fingerprints, size_t count,
                               uint32_t query_fingerprint, uint32_t max_difference, uint32_t *out);
#ifdef __cplusplus
}
#endif
