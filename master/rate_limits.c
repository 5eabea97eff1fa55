/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rate limits for the API (failed logins per address and per user name,
 * requests per user) as token buckets, and the gate that caps concurrent
 * password hashing so parallel bad logins cannot take every core.
 *
 * Main data structure: per kind, a fixed table of LIMITS_KEYS buckets found
 * by key. Non-obvious decision: the table never grows, so a client that sends
 * endless new keys (user names) cannot take memory; a new key replaces the
 * bucket with the most tokens left (a full one forgets nothing), so a flood of
 * new keys cannot free a key that is being throttled.
 * Request bodies in flight are counted the same way: a fixed table of keys
 * with bytes reserved; an entry at 0 bytes is free, and when every entry is
 * taken a new key is refused as if the total were exhausted.
 */
#include "rate_limits.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMITS_KEYS 1024
#define LIMITS_KEY_CHARS 72

struct bucket {
	char key[LIMITS_KEY_CHARS];
	double tokens;
	uint64_t at_ms;   /* when tokens was last brought up to date */
	uint64_t last_ms; /* last take, for choosing a bucket to reuse */
	int used;
};

/* Body bytes in flight for one key; free while bytes is 0. */
struct body_use {
	char key[LIMITS_KEY_CHARS];
	uint64_t bytes;
};

struct limits {
	pthread_mutex_t lock;
	struct limits_rate rates[LIMITS_NKINDS];
	struct bucket *buckets[LIMITS_NKINDS];
	unsigned max_hashing, hashing;
	struct body_use *body;             /* LIMITS_KEYS entries */
	uint64_t body_per_key, body_total; /* budgets; 0 = unlimited */
	uint64_t body_in_flight;
};

struct limits *limits_new(const struct limits_rate rates[LIMITS_NKINDS], unsigned max_hashing)
{
	struct limits *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	memcpy(l->rates, rates, sizeof(l->rates));
	l->max_hashing = max_hashing;
	for (int k = 0; k < LIMITS_NKINDS; k++) {
		l->buckets[k] = calloc(LIMITS_KEYS, sizeof(struct bucket));
		if (!l->buckets[k])
			goto fail;
	}
	l->body = calloc(LIMITS_KEYS, sizeof(struct body_use));
	if (!l->body)
		goto fail;
	return l;
fail:
	limits_free(l);
	return NULL;
}

void limits_free(struct limits *l)
{
	if (!l)
		return;
	for (int k = 0; k < LIMITS_NKINDS; k++)
		free(l->buckets[k]);
	free(l->body);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void refill(struct bucket *b, const struct limits_rate *r, uint64_t now_ms)
{
	if (now_ms > b->at_ms)
		b->tokens += (double)(now_ms - b->at_ms) / 1000.0 * r->per_second;
	if (b->tokens > r->burst)
		b->tokens = r->burst;
	b->at_ms = now_ms;
}

/* key's bucket, or a reused one set up for it. */
static struct bucket *bucket_of(struct bucket *t, const struct limits_rate *r, const char *key,
                                uint64_t now_ms)
{
	struct bucket *victim = NULL;

	for (int i = 0; i < LIMITS_KEYS; i++) {
		struct bucket *b = &t[i];
		if (b->used && !strncmp(b->key, key, sizeof(b->key) - 1))
			return b;
		if (!b->used) {
			if (!victim || victim->used)
				victim = b;
			continue;
		}
		if (victim && !victim->used)
			continue;
		refill(b, r, now_ms);
		if (!victim || b->tokens > victim->tokens ||
		    (b->tokens == victim->tokens && b->last_ms < victim->last_ms))
			victim = b;
	}
	memset(victim, 0, sizeof(*victim));
	strncpy(victim->key, key, sizeof(victim->key) - 1);
	victim->tokens = r->burst;
	victim->at_ms = now_ms;
	victim->used = 1;
	return victim;
}

/* The seconds until key has a token (0: has one now), taking it with take. */
static unsigned bucket_wait(struct limits *l, enum limits_kind kind, const char *key,
                            uint64_t now_ms, int take)
{
	const struct limits_rate *r;
	unsigned wait_s = 0;

	if (!l || kind < 0 || kind >= LIMITS_NKINDS || l->rates[kind].per_second <= 0)
		return 0;
	r = &l->rates[kind];
	pthread_mutex_lock(&l->lock);
	struct bucket *b = bucket_of(l->buckets[kind], r, key ? key : "", now_ms);
	refill(b, r, now_ms);
	b->last_ms = now_ms;
	if (b->tokens >= 1.0) {
		b->tokens -= take ? 1.0 : 0.0;
	} else {
		double s = (1.0 - b->tokens) / r->per_second;
		wait_s = (unsigned)s;
		if ((double)wait_s < s || !wait_s)
			wait_s++; /* whole seconds, rounded up */
	}
	pthread_mutex_unlock(&l->lock);
	return wait_s;
}

unsigned limits_take(struct limits *l, enum limits_kind kind, const char *key, uint64_t now_ms)
{
	return bucket_wait(l, kind, key, now_ms, 1);
}

unsigned limits_peek(struct limits *l, enum limits_kind kind, const char *key, uint64_t now_ms)
{
	return bucket_wait(l, kind, key, now_ms, 0);
}

int limits_hash_begin(struct limits *l)
{
	int rv = -1;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	if (!l->max_hashing || l->hashing < l->max_hashing) {
		l->hashing++;
		rv = 0;
	}
	pthread_mutex_unlock(&l->lock);
	return rv;
}

void limits_hash_end(struct limits *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->hashing)
		l->hashing--;
	pthread_mutex_unlock(&l->lock);
}

void limits_body_budget(struct limits *l, uint64_t per_key, uint64_t total)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->body_per_key = per_key;
	l->body_total = total;
	pthread_mutex_unlock(&l->lock);
}

/* The entry of key, or a free one for it when add is set; NULL if none. Under lock. */
static struct body_use *body_use_of(struct limits *l, const char *key, int add)
{
	struct body_use *fresh = NULL;
	char k[LIMITS_KEY_CHARS];

	snprintf(k, sizeof(k), "%s", key);
	for (int i = 0; i < LIMITS_KEYS; i++) {
		struct body_use *u = &l->body[i];
		if (u->bytes && !strcmp(u->key, k))
			return u;
		if (!u->bytes && !fresh)
			fresh = u;
	}
	if (!add || !fresh)
		return NULL;
	memcpy(fresh->key, k, sizeof(k));
	return fresh;
}

enum limits_body_verdict limits_body_take(struct limits *l, const char *key, uint64_t n)
{
	enum limits_body_verdict v = LIMITS_BODY_OK;
	struct body_use *u = NULL;

	if (!l || !n)
		return LIMITS_BODY_OK;
	pthread_mutex_lock(&l->lock);
	if (key) {
		u = body_use_of(l, key, 1);
		if (!u)
			v = LIMITS_BODY_OVER_TOTAL;
		else if (l->body_per_key && (n > l->body_per_key || u->bytes > l->body_per_key - n))
			v = LIMITS_BODY_OVER_KEY;
	}
	if (v == LIMITS_BODY_OK && l->body_total &&
	    (n > l->body_total || l->body_in_flight > l->body_total - n))
		v = LIMITS_BODY_OVER_TOTAL;
	if (v == LIMITS_BODY_OK) {
		l->body_in_flight += n;
		if (u)
			u->bytes += n;
	}
	pthread_mutex_unlock(&l->lock);
	return v;
}

void limits_body_give(struct limits *l, const char *key, uint64_t n)
{
	if (!l || !n)
		return;
	pthread_mutex_lock(&l->lock);
	l->body_in_flight -= n < l->body_in_flight ? n : l->body_in_flight;
	if (key) {
		struct body_use *u = body_use_of(l, key, 0);
		if (u)
			u->bytes -= n < u->bytes ? n : u->bytes;
	}
	pthread_mutex_unlock(&l->lock);
}

uint64_t limits_body_in_flight(struct limits *l, const char *key)
{
	uint64_t n = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	if (!key) {
		n = l->body_in_flight;
	} else {
		struct body_use *u = body_use_of(l, key, 0);
		n = u ? u->bytes : 0;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}
