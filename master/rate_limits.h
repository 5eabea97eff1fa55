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

/* What limits_body_take refused: over the key's budget or over the total. */
enum limits_body_verdict { LIMITS_BODY_OK, LIMITS_BODY_OVER_KEY, LIMITS_BODY_OVER_TOTAL };

/* Budgets of request-body bytes in flight: per key and in all (0 = unlimited). */
void limits_body_budget(struct limits *l, uint64_t per_key, uint64_t total);

/* Reserve n body bytes for key (NULL: the total only); release with limits_body_give. */
enum limits_body_verdict limits_body_take(struct limits *l, const char *key, uint64_t n);

/* Release n bytes that limits_body_take reserved for key. */
void limits_body_give(struct limits *l, const char *key, uint64_t n);

/* Body bytes in flight for key (NULL: in all). */
uint64_t limits_body_in_flight(struct limits *l, const char *key);

#endif
