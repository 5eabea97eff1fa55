/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The API's rate limits: token buckets keyed by a client address or a user
 * name, and a gate on concurrent password hashing. Thread-safe.
 */
#ifndef DET_MASTER_RATE_LIMITS_H
#define DET_MASTER_RATE_LIMITS_H

#include <stdint.h>

struct limits;

/* What a bucket limits; each kind has its own rate and its own keys. */
enum limits_kind {
	LIMITS_LOGIN_ADDRESS, /* failed logins per client address */
	LIMITS_LOGIN_USER,    /* failed logins per user name given */
	LIMITS_USER_REQUESTS, /* API requests per user */
	LIMITS_NKINDS
};

/* A rate: per_second tokens refill a bucket of burst; per_second 0 = unlimited. */
struct limits_rate {
	double per_second;
	double burst;
};

/* New limits with one rate per kind and at most max_hashing concurrent
 * password hashes (0 = unlimited). NULL when out of memory. */
struct limits *limits_new(const struct limits_rate rates[LIMITS_NKINDS], unsigned max_hashing);

/* Free l (NULL is fine). */
void limits_free(struct limits *l);

/* Take one token for key at now_ms (monotonic): 0 when allowed, else the
 * whole seconds (>= 1) until a token is available. */
unsigned limits_take(struct limits *l, enum limits_kind kind, const char *key, uint64_t now_ms);

/* As limits_take, without taking the token: 0 when key has one now. */
unsigned limits_peek(struct limits *l, enum limits_kind kind, const char *key, uint64_t now_ms);

/* Claim a password-hashing slot: 0 (release with limits_hash_end), or -1 when all are busy. */
int limits_hash_begin(struct limits *l);

/* Release a slot claimed by limits_hash_begin. */
void limits_hash_end(struct limits *l);

#endif
