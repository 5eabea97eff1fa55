/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Password hashes with libcrypt's yescrypt ("$y$" salts from crypt_gensalt)
 * and tokens from getrandom(2). The crypt work area is heap-allocated per
 * call (crypt_rn), so concurrent logins never share state. Tokens are
 * kept only as their SHA-256 (auth_token_hash): a copy of the database or of
 * the master's memory holds nothing a client could present.
 */
#include "auth.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sha256.h"

static int fill_random(void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = getrandom((char *)buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

int auth_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	int rv = -1;

	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt))) {
		snprintf(err, errlen, "crypt_gensalt: %s", strerror(errno));
		return -1;
	}
	cd = calloc(1, sizeof(*cd));
	if (!cd) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!crypt_rn(password, salt, cd, sizeof(*cd)) || cd->output[0] == '*') {
		snprintf(err, errlen, "crypt failed");
		goto fail;
	}
	if (strlen(cd->output) >= outlen) {
		snprintf(err, errlen, "hash too long");
		goto fail;
	}
	strcpy(out, cd->output);
	rv = 0;
fail:
	free(cd);
	return rv;
}

int auth_check_password(const char *password, const char *hash)
{
	struct crypt_data *cd;
	int ok = 0;

	if (!hash || !*hash)
		return 0;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return 0;
	if (crypt_rn(password, hash, cd, sizeof(*cd)) && cd->output[0] != '*') {
		size_t a = strlen(cd->output), b = strlen(hash);
		unsigned char diff = (unsigned char)(a != b);
		for (size_t i = 0; i < a && i < b; i++)
			diff |= (unsigned char)(cd->output[i] ^ hash[i]);
		ok = diff == 0;
	}
	free(cd);
	return ok;
}

int auth_new_token(char *out, size_t outlen, char *err, size_t errlen)
{
	unsigned char raw[AUTH_TOKEN_CHARS / 2];
	static const char hex[] = "0123456789abcdef";

	if (outlen < AUTH_TOKEN_CHARS + 1 || fill_random(raw, sizeof(raw))) {
		snprintf(err, errlen, "cannot make a token: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[AUTH_TOKEN_CHARS] = '\0';
	return 0;
}

void auth_token_hash(const char *token, char out[AUTH_TOKEN_CHARS + 1])
{
	sha256_buffer_hex(token, strlen(token), out);
}

int auth_same_secret(const char *x, const char *y)
{
	size_t n = strlen(x);
	unsigned char d = 0;
	if (n != strlen(y))
		return 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return !d;
}

int auth_new_password(char *out, size_t len)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char raw[128];

	if (len > sizeof(raw) || fill_random(raw, len))
		return -1;
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	out[len] = '\0';
	return 0;
}
