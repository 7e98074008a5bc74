#include "hamming_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BGAN_X86 1
#endif

// MARK: Portable (any CPU): SWAR popcount, no special instructions.

static inline uint32_t popcount_portable(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
}

static uint32_t distance_portable(const uint64_t *a, const uint64_t *b, size_t words) {
    uint32_t d = 0;
    for (size_t w = 0; w < words; w++) d += popcount_portable(a[w] ^ b[w]);
    return d;
}

static inline int is_live(const uint8_t *live, size_t i) {
    return live == NULL || ((live[i >> 3] >> (i & 7)) & 1);
}

static size_t scan_portable(const uint64_t *codes, size_t count, size_t words, const uint64_t *query,
                            uint32_t threshold, const uint8_t *live, uint32_t first_index,
                            uint32_t *out_index, uint16_t *out_distance) {
    size_t found = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t d = distance_portable(codes + i * words, query, words);
        if (d <= threshold && is_live(live, i)) {
            out_index[found] = first_index + (uint32_t)i;
            out_distance[found] = (uint16_t)d;
            found++;
        }
    }
    return found;
}

// MARK: POPCNT (x86-64 since Nehalem): one popcount instruction per word.

#ifdef BGAN_X86
__attribute__((target("popcnt")))
static uint32_t distance_popcnt(const uint64_t *a, const uint64_t *b, size_t words) {
    uint32_t d = 0;
    for (size_t w = 0; w < words; w++) d += (uint32_t)__builtin_popcountll(a[w] ^ b[w]);
    return d;
}

__attribute__((target("popcnt")))
static size_t scan_popcnt(const uint64_t *codes, size_t count, size_t words, const uint64_t *query,
                          uint32_t threshold, const uint8_t *live, uint32_t first_index,
                          uint32_t *out_index, uint16_t *out_distance) {
    size_t found = 0;
    if (words == 1) {
        const uint64_t q = query[0];
        for (size_t i = 0; i < count; i++) {
            uint32_t d = (uint32_t)__builtin_popcountll(codes[i] ^ q);
            if (d <= threshold && is_live(live, i)) {
                out_index[found] = first_index + (uint32_t)i;
                out_distance[found] = (uint16_t)d;
                found++;
            }
        }
        return found;
    }
    for (size_t i = 0; i < count; i++) {
        const uint64_t *c = codes + i * words;
        uint32_t d = 0;
        for (size_t w = 0; w < words; w++) d += (uint32_t)__builtin_popcountll(c[w] ^ query[w]);
        if (d <= threshold && is_live(live, i)) {
            out_index[found] = first_index + (uint32_t)i;
            out_distance[found] = (uint16_t)d;
            found++;
        }
    }
    return found;
}

// MARK: AVX-512 VPOPCNTDQ: eight 64-bit popcounts per instruction.

#define AVX512_TARGET __attribute__((target("avx512f,avx512vpopcntdq,avx512bw,avx512vl,popcnt")))

AVX512_TARGET
static inline void emit_mask(__mmask8 mask, __m512i distances, size_t base, size_t stride,
                             const uint8_t *live, uint32_t first_index,
                             uint32_t *out_index, uint16_t *out_distance, size_t *found) {
    uint64_t lanes[8];
    _mm512_storeu_si512((void *)lanes, distances);
    while (mask) {
        unsigned lane = (unsigned)__builtin_ctz(mask);
        mask &= (__mmask8)(mask - 1);
        size_t i = base + lane / stride;
        if (is_live(live, i)) {
            out_index[*found] = first_index + (uint32_t)i;
            out_distance[*found] = (uint16_t)lanes[lane];
            (*found)++;
        }
    }
}

AVX512_TARGET
static size_t scan_avx512(const uint64_t *codes, size_t count, size_t words, const uint64_t *query,
                          uint32_t threshold, const uint8_t *live, uint32_t first_index,
                          uint32_t *out_index, uint16_t *out_distance) {
    size_t found = 0;
    size_t i = 0;
    const __m512i limit = _mm512_set1_epi64((long long)threshold);
    if (words == 1 || words == 2 || words == 4 || words == 8) {
        // A 512-bit register holds 8/words codes; sum each code's lanes into its first lane.
        const size_t per_vector = 8 / words;
        __m512i q;
        if (words == 1) q = _mm512_set1_epi64((long long)query[0]);
        else if (words == 2) q = _mm512_set4_epi64((long long)query[1], (long long)query[0], (long long)query[1], (long long)query[0]);
        else if (words == 4) q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)query));
        else q = _mm512_loadu_si512((const void *)query);
        // Lanes that carry a code's total after the reduction: 0,1,..7 / 0,2,4,6 / 0,4 / 0.
        const __mmask8 lead = words == 1 ? 0xFF : words == 2 ? 0x55 : words == 4 ? 0x11 : 0x01;
        const __m512i swap1 = _mm512_set_epi64(6, 7, 4, 5, 2, 3, 0, 1);
        const __m512i swap2 = _mm512_set_epi64(5, 4, 7, 6, 1, 0, 3, 2);
        const __m512i swap4 = _mm512_set_epi64(3, 2, 1, 0, 7, 6, 5, 4);
        for (; i + per_vector <= count; i += per_vector) {
            __m512i x = _mm512_xor_si512(_mm512_loadu_si512((const void *)(codes + i * words)), q);
            __m512i p = _mm512_popcnt_epi64(x);
            if (words >= 2) p = _mm512_add_epi64(p, _mm512_permutexvar_epi64(swap1, p));
            if (words >= 4) p = _mm512_add_epi64(p, _mm512_permutexvar_epi64(swap2, p));
            if (words >= 8) p = _mm512_add_epi64(p, _mm512_permutexvar_epi64(swap4, p));
            __mmask8 hit = _mm512_mask_cmple_epu64_mask(lead, p, limit);
            if (hit) emit_mask(hit, p, i, words, live, first_index, out_index, out_distance, &found);
        }
    } else {
        // Other lengths: a code spans several vectors; accumulate lane popcounts, then reduce.
        for (; i < count; i++) {
            const uint64_t *c = codes + i * words;
            __m512i acc = _mm512_setzero_si512();
            size_t w = 0;
            for (; w + 8 <= words; w += 8) {
                __m512i x = _mm512_xor_si512(_mm512_loadu_si512((const void *)(c + w)), _mm512_loadu_si512((const void *)(query + w)));
                acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
            }
            if (w < words) {
                __mmask8 tail = (__mmask8)((1u << (words - w)) - 1);
                __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi64(tail, c + w), _mm512_maskz_loadu_epi64(tail, query + w));
                acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
            }
            uint32_t d = (uint32_t)_mm512_reduce_add_epi64(acc);
            if (d <= threshold && is_live(live, i)) {
                out_index[found] = first_index + (uint32_t)i;
                out_distance[found] = (uint16_t)d;
                found++;
            }
        }
        return found;
    }
    // The tail that does not fill a vector.
    for (; i < count; i++) {
        uint32_t d = distance_popcnt(codes + i * words, query, words);
        if (d <= threshold && is_live(live, i)) {
            out_index[found] = first_index + (uint32_t)i;
            out_distance[found] = (uint16_t)d;
            found++;
        }
    }
    return found;
}
#endif

// MARK: Verification of candidates by id (random access, prefetched).

#define PREFETCH_DISTANCE 16

static inline const uint64_t *code_address(const uint32_t id, const uint8_t *const *chunks, size_t chunk_count,
                                           uint32_t chunk_shift, size_t words) {
    size_t chunk = (size_t)(id >> chunk_shift);
    if (chunk >= chunk_count || chunks[chunk] == NULL) return NULL;
    size_t slot = id & ((1u << chunk_shift) - 1);
    return (const uint64_t *)(chunks[chunk] + slot * words * 8);
}

#define DEFINE_VERIFY(NAME, ATTRIBUTE, DISTANCE)                                                        \
    ATTRIBUTE static size_t NAME(const uint32_t *ids, size_t count, const uint8_t *const *chunks,     \
                                 size_t chunk_count, uint32_t chunk_shift, size_t words,               \
                                 size_t live_offset, const uint64_t *query, uint32_t threshold,        \
                                 uint32_t *out_id, uint16_t *out_distance) {                           \
        size_t found = 0;                                                                              \
        const size_t mask = ((size_t)1 << chunk_shift) - 1;                                            \
        for (size_t i = 0; i < count; i++) {                                                           \
            if (i + PREFETCH_DISTANCE < count) {                                                       \
                const uint64_t *ahead = code_address(ids[i + PREFETCH_DISTANCE], chunks, chunk_count, chunk_shift, words); \
                if (ahead) __builtin_prefetch(ahead);                                                  \
            }                                                                                          \
            const uint32_t id = ids[i];                                                                \
            const uint64_t *code = code_address(id, chunks, chunk_count, chunk_shift, words);         \
            if (code == NULL) continue;                                                                \
            uint32_t d = DISTANCE(code, query, words);                                                 \
            if (d > threshold) continue;                                                               \
            const uint8_t *chunk = chunks[id >> chunk_shift];                                          \
            size_t slot = id & mask;                                                                   \
            if (!((chunk[live_offset + (slot >> 3)] >> (slot & 7)) & 1)) continue;                     \
            out_id[found] = id;                                                                        \
            out_distance[found] = (uint16_t)d;                                                         \
            found++;                                                                                   \
        }                                                                                              \
        return found;                                                                                  \
    }

DEFINE_VERIFY(verify_portable, , distance_portable)
#ifdef BGAN_X86
DEFINE_VERIFY(verify_popcnt, __attribute__((target("popcnt"))), distance_popcnt)
#endif

// MARK: Bucket gathering for multi-index hashing.

size_t bgan_mih_collect(const uint32_t *offsets, const uint32_t *ids, const uint32_t *values,
                        size_t value_count, uint32_t *out, size_t capacity, size_t *values_used,
                        size_t *probed_nonempty) {
    size_t copied = 0, nonempty = 0, i = 0;
    for (; i < value_count; i++) {
        if (i + 16 < value_count) __builtin_prefetch(offsets + values[i + 16]);
        if (i + 4 < value_count) __builtin_prefetch(ids + offsets[values[i + 4]]);
        const uint32_t start = offsets[values[i]];
        const uint32_t end = offsets[values[i] + 1];
        const size_t size = end - start;
        if (copied + size > capacity) break;
        for (size_t j = 0; j < size; j++) out[copied + j] = ids[start + j];
        copied += size;
        if (size) nonempty++;
    }
    *values_used = i;
    *probed_nonempty = nonempty;
    return copied;
}

// MARK: Bucket gathering with fingerprints.

// Fingerprints are 32 bits of each item's code from outside the table's substring, stored beside
// its id: their distance to the query's, plus the substring's, bounds the item's distance from
// below, so most far candidates are dropped without the random read of their codes.
#define DEFINE_FINGERPRINT_FILTER(SUFFIX, ATTRIBUTE, POPCOUNT)                                          \
    ATTRIBUTE static inline size_t filter_##SUFFIX(const uint32_t *ids, const uint32_t *fingerprints,   \
                                                   size_t count, uint32_t query_fingerprint,            \
                                                   uint32_t max_difference, uint32_t *out) {            \
        size_t copied = 0;                                                                              \
        for (size_t j = 0; j < count; j++) {                                                            \
            out[copied] = ids[j];                                                                       \
            copied += POPCOUNT((uint64_t)(fingerprints[j] ^ query_fingerprint)) <= max_difference;       \
        }                                                                                               \
        return copied;                                                                                  \
    }

// Walks the buckets of `values`, a bucket's entries through filter_SUFFIX.
#define DEFINE_COLLECT_FILTERED(SUFFIX, ATTRIBUTE)                                                      \
    ATTRIBUTE static size_t collect_filtered_##SUFFIX(const uint32_t *offsets, const uint32_t *ids,     \
                                 const uint32_t *fingerprints, const uint32_t *values, size_t value_count, \
                                 uint32_t query_fingerprint, uint32_t max_difference, uint32_t *out,    \
                                 size_t capacity, size_t *values_used, size_t *probed_nonempty,         \
                                 size_t *entries_read) {                                                \
        size_t copied = 0, nonempty = 0, read = 0, i = 0;                                               \
        for (; i < value_count; i++) {                                                                  \
            if (i + 16 < value_count) __builtin_prefetch(offsets + values[i + 16]);                      \
            if (i + 4 < value_count) {                                                                  \
                __builtin_prefetch(ids + offsets[values[i + 4]]);                                       \
                __builtin_prefetch(fingerprints + offsets[values[i + 4]]);                              \
            }                                                                                           \
            const uint32_t start = offsets[values[i]];                                                  \
            const size_t size = offsets[values[i] + 1] - start;                                         \
            if (copied + size > capacity) break;                                                        \
            copied += filter_##SUFFIX(ids + start, fingerprints + start, size, query_fingerprint,       \
                                      max_difference, out + copied);                                    \
            read += size;                                                                               \
            if (size) nonempty++;                                                                       \
        }                                                                                               \
        *values_used = i;                                                                               \
        *probed_nonempty = nonempty;                                                                    \
        *entries_read = read;                                                                           \
        return copied;                                                                                  \
    }

DEFINE_FINGERPRINT_FILTER(portable, , popcount_portable)
DEFINE_COLLECT_FILTERED(portable, )
#ifdef BGAN_X86
DEFINE_FINGERPRINT_FILTER(popcnt, __attribute__((target("popcnt"))), __builtin_popcountll)
DEFINE_COLLECT_FILTERED(popcnt, __attribute__((target("popcnt"))))

// Sixteen entries a step: the fingerprints' distances by VPOPCNTD, the passing ids packed in a
// register (VPCOMPRESSD to memory is microcoded and slow on some CPUs) and stored under a mask,
// so nothing is written past the ids that pass.
AVX512_TARGET
static inline size_t filter_avx512(const uint32_t *ids, const uint32_t *fingerprints, size_t count,
                                   uint32_t query_fingerprint, uint32_t max_difference, uint32_t *out) {
    const __m512i query = _mm512_set1_epi32((int)query_fingerprint);
    const __m512i limit = _mm512_set1_epi32((int)max_difference);
    size_t copied = 0;
    for (size_t j = 0; j < count; j += 16) {
        const __mmask16 lanes = count - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - j)) - 1);
        const __m512i difference = _mm512_popcnt_epi32(_mm512_xor_si512(_mm512_maskz_loadu_epi32(lanes, fingerprints + j), query));
        const __mmask16 pass = _mm512_mask_cmple_epu32_mask(lanes, difference, limit);
        const unsigned passed = (unsigned)__builtin_popcount(pass);
        const __m512i packed = _mm512_maskz_compress_epi32(pass, _mm512_maskz_loadu_epi32(lanes, ids + j));
        _mm512_mask_storeu_epi32(out + copied, (__mmask16)((1u << passed) - 1), packed);
        copied += passed;
    }
    return copied;
}
DEFINE_COLLECT_FILTERED(avx512, AVX512_TARGET)
#endif

// MARK: Dispatch

static bgan_kernel active_kernel = BGAN_KERNEL_PORTABLE;
static bgan_distance_fn active_distance = distance_portable;
static bgan_scan_fn active_scan = scan_portable;
static bgan_verify_fn active_verify = verify_portable;
static bgan_filter_fn active_filter = filter_portable;
static bgan_collect_filtered_fn active_collect_filtered = collect_filtered_portable;

bgan_kernel bgan_hamming_best_kernel(void) {
#ifdef BGAN_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        return BGAN_KERNEL_AVX512;
    }
    if (__builtin_cpu_supports("popcnt")) return BGAN_KERNEL_POPCNT;
#endif
    return BGAN_KERNEL_PORTABLE;
}

bgan_hamming_functions bgan_hamming_kernel_functions(bgan_kernel kernel) {
    bgan_kernel best = bgan_hamming_best_kernel();
    if (kernel > best) kernel = best;
    bgan_hamming_functions functions;
    switch (kernel) {
#ifdef BGAN_X86
    case BGAN_KERNEL_AVX512:
        functions = (bgan_hamming_functions){BGAN_KERNEL_AVX512, distance_popcnt, scan_avx512, verify_popcnt, filter_avx512,
                                             collect_filtered_avx512};
        break;
    case BGAN_KERNEL_POPCNT:
        functions = (bgan_hamming_functions){BGAN_KERNEL_POPCNT, distance_popcnt, scan_popcnt, verify_popcnt, filter_popcnt,
                                             collect_filtered_popcnt};
        break;
#endif
    default:
        functions = (bgan_hamming_functions){BGAN_KERNEL_PORTABLE, distance_portable, scan_portable, verify_portable, filter_portable,
                                             collect_filtered_portable};
    }
    return functions;
}

bgan_kernel bgan_hamming_force_kernel(bgan_kernel kernel) {
    bgan_hamming_functions functions = bgan_hamming_kernel_functions(kernel);
    active_distance = functions.distance;
    active_scan = functions.scan;
    active_verify = functions.verify;
    active_filter = functions.filter;
    active_collect_filtered = functions.collect_filtered;
    active_kernel = functions.kernel;
    return functions.kernel;
}

__attribute__((constructor)) static void select_best_kernel(void) {
    bgan_hamming_force_kernel(bgan_hamming_best_kernel());
}

bgan_kernel bgan_hamming_kernel(void) { return active_kernel; }

size_t bgan_mih_collect_filtered(const uint32_t *offsets, const uint32_t *ids, const uint32_t *fingerprints,
                                 const uint32_t *values, size_t value_count, uint32_t query_fingerprint,
                                 uint32_t max_difference, uint32_t *out, size_t capacity,
                                 size_t *values_used, size_t *probed_nonempty, size_t *entries_read) {
    return active_collect_filtered(offsets, ids, fingerprints, values, value_count, query_fingerprint, max_difference,
                                   out, capacity, values_used, probed_nonempty, entries_read);
}

size_t bgan_fingerprint_filter(const uint32_t *ids, const uint32_t *fingerprints, size_t count,
                               uint32_t query_fingerprint, uint32_t max_difference, uint32_t *out) {
    return active_filter(ids, fingerprints, count, query_fingerprint, max_difference, out);
}

uint32_t bgan_hamming_distance(const uint64_t *a, const uint64_t *b, size_t words) {
    return active_distance(a, b, words);
}

size_t bgan_hamming_scan(const uint64_t *codes, size_t count, size_t words, const uint64_t *query,
                         uint32_t threshold, const uint8_t *live, uint32_t first_index,
                         uint32_t *out_index, uint16_t *out_distance) {
    return active_scan(codes, count, words, query, threshold, live, first_index, out_index, out_distance);
}

size_t bgan_hamming_verify(const uint32_t *ids, size_t count, const uint8_t *const *chunks,
                           size_t chunk_count, uint32_t chunk_shift, size_t words, size_t live_offset,
                           const uint64_t *query, uint32_t threshold,
                           uint32_t *out_id, uint16_t *out_distance) {
    return active_verify(ids, count, chunks, chunk_count, chunk_shift, words, live_offset, query,
                         threshold, out_id, out_distance);
}
