#pragma once
#include <stddef.h>
#include <stdint.h>

/// SHA-256 (FIPS 180-4) of `length` bytes at `data`, written as 32 bytes to `digest`.
void bgan_sha256(const uint8_t *data, size_t length, uint8_t digest[32]);

/// A SHA-256 computed over data given in pieces: `bgan_sha256_begin`, any number of
/// `bgan_sha256_update`, then `bgan_sha256_end` (which leaves the context spent).
typedef struct {
    uint32_t state[8];
    uint64_t length;
    uint8_t block[64];
    size_t pending;
} bgan_sha256_context;

void bgan_sha256_begin(bgan_sha256_context *context);
void bgan_sha256_update(bgan_sha256_context *context, const uint8_t *data, size_t length);
void bgan_sha256_end(bgan_sha256_context *context, uint8_t digest[32]);
