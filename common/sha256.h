/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SHA-256 (FIPS 180-4) for checkpoint file checksums.
 */
#ifndef DET_SHA256_H
#define DET_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES 32
#define SHA256_HEX_BYTES 65 /* 64 hex digits and the NUL */

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total_bytes;
	uint8_t block[64];
	size_t fill;
};

/* Start a new digest. */
void sha256_init(struct sha256_ctx *ctx);

/* Add len bytes of data. */
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);

/* Finish: write the 32-byte digest; ctx must be initialized again before reuse. */
void sha256_final(struct sha256_ctx *ctx, uint8_t digest[SHA256_DIGEST_BYTES]);

/* Digest as lowercase hex into out (SHA256_HEX_BYTES). */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_BYTES], char out[SHA256_HEX_BYTES]);

/* Hash a whole buffer into lowercase hex. */
void sha256_buffer_hex(const void *data, size_t len, char out[SHA256_HEX_BYTES]);

/* Hash the file at path into hex; its size in *size_bytes. 0 or -1 with err. */
int sha256_file_hex(const char *path, char out[SHA256_HEX_BYTES], uint64_t *size_bytes, char *err,
                    size_t errlen);

#endif
