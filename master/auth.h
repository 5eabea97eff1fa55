/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Credentials: password hashing (yescrypt) and random tokens. */
#ifndef DET_AUTH_H
#define DET_AUTH_H

#include <stddef.h>
#include <sys/types.h>

#define AUTH_TOKEN_CHARS 64 /* hex characters of a token (32 random bytes) */

/* Hash password with a fresh yescrypt salt into out (crypt(3) string). 0 or -1 with err. */
int auth_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen);

/* 1 when password matches hash, else 0 (constant-time compare of the crypt output). */
int auth_check_password(const char *password, const char *hash);

/* A new random token (AUTH_TOKEN_CHARS hex chars + NUL) into out. 0 or -1 with err. */
int auth_new_token(char *out, size_t outlen, char *err, size_t errlen);

/* The stored form of a token: its SHA-256 as lowercase hex (AUTH_TOKEN_CHARS + NUL
 * bytes into out). The store and the in-memory maps hold only this form. */
void auth_token_hash(const char *token, char out[AUTH_TOKEN_CHARS + 1]);

/* 1 when the secrets x and y are equal, in time that does not depend on where they
 * differ (only on the length, which is no secret); else 0. */
int auth_same_secret(const char *x, const char *y);

/* A random printable password of len characters into out (len+1 bytes). 0 or -1. */
int auth_new_password(char *out, size_t len);

/* Decode a MUNGE credential through munged at socket (NULL: munge's default)
 * into the Unix uid that made it. 0, or -1 with err (invalid, expired,
 * replayed, munged unreachable). */
int auth_munge_decode(const char *cred, const char *socket, uid_t *uid, char *err, size_t errlen);

#endif
