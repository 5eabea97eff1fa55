/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Log lines from the entrypoint to the master. The queue is a ring of
 * JSON objects ({"rank","stream","timestamp","line"}) under one mutex; the
 * reader of the child's pipes pushes, a shipping thread sends. When the
 * ring is full the line goes to the spill file (JSON lines) instead; when a
 * send fails its batch goes there too. Every ship sends the spill file
 * first, so nothing waits behind an outage longer than needed.
 * Non-obvious: the producer only ever takes the mutex and appends to a
 * local file, so a hung master never stalls the trial's stdout.
 */
#include "launch_logq.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct launch_logq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int rank;
	json_t **ring;
	size_t cap, head, count;
	char *spill_path;
	size_t spill_lines, spill_bytes, max_spill_bytes, dropped;
};

struct launch_logq *launch_logq_new(int rank, size_t max_lines, const char *spill_path,
                                    size_t max_spill_bytes, char *err, size_t errlen)
{
	struct launch_logq *q = calloc(1, sizeof(*q));
	if (!q || max_lines == 0)
		goto fail;
	q->ring = calloc(max_lines, sizeof(*q->ring));
	q->spill_path = strdup(spill_path);
	if (!q->ring || !q->spill_path)
		goto fail;
	q->cap = max_lines;
	q->rank = rank;
	q->max_spill_bytes = max_spill_bytes;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	/* a spill file left by an earlier run of this rank is sent too */
	FILE *f = fopen(spill_path, "re");
	if (f) {
		int c;
		while ((c = fgetc(f)) != EOF) {
			q->spill_bytes++;
			if (c == '\n')
				q->spill_lines++;
		}
		fclose(f);
	}
	return q;
fail:
	snprintf(err, errlen, max_lines == 0 ? "log queue: zero lines" : "out of memory");
	if (q) {
		free(q->ring);
		free(q->spill_path);
	}
	free(q);
	return NULL;
}

void launch_logq_free(struct launch_logq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->count; i++)
		json_decref(q->ring[(q->head + i) % q->cap]);
	free(q->ring);
	free(q->spill_path);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}

static void rfc3339_now(char out[40])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%06ldZ", ts.tv_nsec / 1000);
}

/* Append entries to the spill file; the caller holds the mutex. */
static void spill_locked(struct launch_logq *q, json_t *const *entries, size_t n)
{
	FILE *f = fopen(q->spill_path, "ae");
	for (size_t i = 0; i < n; i++) {
		char *text = f ? json_dumps(entries[i], JSON_COMPACT) : NULL;
		size_t len = text ? strlen(text) + 1 : 0;
		if (!text || q->spill_bytes + len > q->max_spill_bytes ||
		    fprintf(f, "%s\n", text) < 0) {
			q->dropped++;
		} else {
			q->spill_bytes += len;
			q->spill_lines++;
		}
		free(text);
	}
	if (f)
		fclose(f);
}

void launch_logq_push(struct launch_logq *q, const char *stream, const char *line, size_t len)
{
	char ts[40];
	if (len > LAUNCH_LOGQ_MAX_LINE)
		len = LAUNCH_LOGQ_MAX_LINE;
	rfc3339_now(ts);
	json_t *e = json_pack("{s:i, s:s, s:s, s:s%}", "rank", q->rank, "stream", stream,
	                      "timestamp", ts, "line", line, len);
	if (!e) {
		/* not UTF-8: keep the line readable rather than lose it */
		char *copy = malloc(len + 1);
		if (copy) {
			for (size_t i = 0; i < len; i++)
				copy[i] = (line[i] & 0x80) ? '?' : line[i];
			copy[len] = '\0';
			e = json_pack("{s:i, s:s, s:s, s:s}", "rank", q->rank, "stream", stream,
			              "timestamp", ts, "line", copy);
			free(copy);
		}
	}
	pthread_mutex_lock(&q->mu);
	if (!e) {
		q->dropped++;
	} else if (q->count == q->cap) {
		spill_locked(q, &e, 1);
		json_decref(e);
	} else {
		q->ring[(q->head + q->count) % q->cap] = e;
		q->count++;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
}

/* Take the whole spill file (the caller holds the mutex). */
static json_t *take_spill_locked(struct launch_logq *q)
{
	json_t *all = json_array();
	FILE *f = fopen(q->spill_path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	if (!all || !f) {
		if (f)
			fclose(f);
		return all;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *e = json_loadb(line, (size_t)n, 0, NULL);
		if (e)
			json_array_append_new(all, e);
	}
	free(line);
	fclose(f);
	if (remove(q->spill_path) == 0 || errno == ENOENT) {
		q->spill_bytes = 0;
		q->spill_lines = 0;
	}
	return all;
}

/* Send entries[0..n) in batches; the unsent rest is spilled. */
static long send_batches(struct launch_logq *q, json_t *const *entries, size_t n, size_t max_batch,
                         launch_logq_send_fn send, void *ctx, char *err, size_t errlen)
{
	long sent = 0;
	for (size_t off = 0; off < n; off += max_batch) {
		size_t k = n - off < max_batch ? n - off : max_batch;
		json_t *logs = json_array();
		for (size_t i = 0; logs && i < k; i++)
			json_array_append(logs, entries[off + i]);
		json_t *body = logs ? json_pack("{s:o}", "logs", logs) : NULL;
		int rc = body ? send(ctx, body, err, errlen) : -1;
		json_decref(body);
		if (rc < 0) {
			pthread_mutex_lock(&q->mu);
			spill_locked(q, entries + off, n - off);
			pthread_mutex_unlock(&q->mu);
			return -1;
		}
		sent += (long)k;
	}
	return sent;
}

long launch_logq_ship(struct launch_logq *q, size_t max_batch, launch_logq_send_fn send, void *ctx,
                      char *err, size_t errlen)
{
	long total = 0, r;
	json_t **queued = NULL;
	size_t nq;
	if (max_batch == 0)
		max_batch = 1;
	pthread_mutex_lock(&q->mu);
	json_t *spilled = take_spill_locked(q);
	nq = q->count;
	queued = nq ? malloc(nq * sizeof(*queued)) : NULL;
	for (size_t i = 0; queued && i < nq; i++)
		queued[i] = q->ring[(q->head + i) % q->cap];
	if (queued || nq == 0) {
		q->head = (q->head + nq) % q->cap;
		q->count = 0;
	}
	pthread_mutex_unlock(&q->mu);
	if (nq && !queued) {
		snprintf(err, errlen, "out of memory");
		json_decref(spilled);
		return -1;
	}
	size_t ns = json_array_size(spilled);
	json_t **sp = ns ? malloc(ns * sizeof(*sp)) : NULL;
	for (size_t i = 0; sp && i < ns; i++)
		sp[i] = json_array_get(spilled, i);
	r = ns ? (sp ? send_batches(q, sp, ns, max_batch, send, ctx, err, errlen) : -1) : 0;
	if (r < 0) {
		/* the master is away: the queued lines join the spill file behind the old ones */
		pthread_mutex_lock(&q->mu);
		spill_locked(q, queued, nq);
		pthread_mutex_unlock(&q->mu);
		total = -1;
	} else {
		total += r;
		r = send_batches(q, queued, nq, max_batch, send, ctx, err, errlen);
		total = r < 0 ? -1 : total + r;
	}
	for (size_t i = 0; i < nq; i++)
		json_decref(queued[i]);
	free(queued);
	free(sp);
	json_decref(spilled);
	return total;
}

size_t launch_logq_pending(struct launch_logq *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->count + q->spill_lines;
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t launch_logq_dropped(struct launch_logq *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->dropped;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void launch_logq_wait(struct launch_logq *q, long timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->mu);
	if (q->count == 0)
		pthread_cond_timedwait(&q->cv, &q->mu, &ts);
	pthread_mutex_unlock(&q->mu);
}
