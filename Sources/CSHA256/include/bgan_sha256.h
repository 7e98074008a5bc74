#pragma once
#include <stddef.h>
#include <stdint.h>

/// SHA-256 (FIPS 180-4) of `length` bytes at `data`, written as 32 bytes to `digest`.
void bgan_sha256(const uint8_t *data, size_t length, uint8_t digest[32]);
