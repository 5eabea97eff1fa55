/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Log lines from the entrypoint to the master. The queue is a ring of
 * JSON objects ({"rank","stream","timestamp","line"}) under one mutex; the
 * reader of the child's pipes pushes, a shipping thread sends. When the
 * ring is full the line goes to the spill file (JSON lines) instead; when a
 * send fails the unsent lines go there too. Every ship sends the spill file
 * first, a batch at a time from a read offset (so memory stays bounded by one
 * batch however long the outage was); the file is removed once all of it
 * has been sent.
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
	size_t spill_lines;  /* lines in the file not yet sent */
	size_t spill_bytes;  /* size of the file */
	size_t spill_offset; /* bytes of the file already sent */
	size_t max_spill_bytes, dropped;
	int woken; /* launch_logq_wake: waits return at once from now on */
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

/* Length of the valid UTF-8 sequence at p[0..n) (no NUL, no overlong form,
 * no surrogate, at most U+10FFFF), or 0 when p[0] does not start one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned min, cp;
	if (p[0] == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A copy of line[0..len) that the master takes whatever the entrypoint
 * printed: valid UTF-8 is kept, every NUL or byte that is not part of valid
 * UTF-8 becomes the text \xNN; cut at LAUNCH_LOGQ_MAX_LINE bytes on a
 * character boundary. NULL when out of memory. */
static char *clean_line(const char *line, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)line;
	char *out = malloc(LAUNCH_LOGQ_MAX_LINE + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq(p + i, len - i);
		if (k == 0) {
			if (o + 4 > LAUNCH_LOGQ_MAX_LINE)
				break;
			o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (o + k > LAUNCH_LOGQ_MAX_LINE)
			break;
		memcpy(out + o, p + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

void launch_logq_push(struct launch_logq *q, const char *stream, const char *line, size_t len)
{
	char ts[40];
	size_t n = 0;
	char *text = clean_line(line, len, &n);
	json_t *e = NULL;
	rfc3339_now(ts);
	if (text)
		e = json_pack("{s:i, s:s, s:s, s:s%}", "rank", q->rank, "stream", stream,
		              "timestamp", ts, "line", text, n);
	free(text);
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

/* Read up to max lines of the spill file from the read offset into out;
 * their byte count in *bytes (the caller holds the mutex). */
static void read_spill_locked(struct launch_logq *q, size_t max, json_t *out, size_t *bytes)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	*bytes = 0;
	FILE *f = fopen(q->spill_path, "re");
	if (!f)
		return;
	if (fseek(f, (long)q->spill_offset, SEEK_SET) == 0) {
		while (json_array_size(out) < max && (n = getline(&line, &cap, f)) > 0) {
			*bytes += (size_t)n;
			json_t *e = json_loadb(line, (size_t)n, 0, NULL);
			if (e)
				json_array_append_new(out, e);
			else
				q->dropped++; /* a damaged line: skip it */
		}
	}
	free(line);
	fclose(f);
}

/* The lines just read from the spill file were sent: move past them, and
 * remove the file once everything in it is sent (the caller holds the mutex). */
static void spill_sent_locked(struct launch_logq *q, size_t lines, size_t bytes)
{
	q->spill_offset += bytes;
	q->spill_lines = q->spill_lines > lines ? q->spill_lines - lines : 0;
	if (q->spill_offset >= q->spill_bytes && (remove(q->spill_path) == 0 || errno == ENOENT)) {
		q->spill_offset = 0;
		q->spill_bytes = 0;
		q->spill_lines = 0;
	}
}

static int send_array(json_t *logs, launch_logq_send_fn send, void *ctx, char *err, size_t errlen)
{
	json_t *body = json_pack("{s:O}", "logs", logs);
	int rc = body ? send(ctx, body, err, errlen) : -1;
	if (!body)
		snprintf(err, errlen, "out of memory");
	json_decref(body);
	return rc;
}

/* Send the spill file, a batch at a time. Lines sent, or -1. */
static long ship_spill(struct launch_logq *q, size_t max_batch, launch_logq_send_fn send, void *ctx,
                       char *err, size_t errlen)
{
	long sent = 0;
	for (;;) {
		size_t bytes, n;
		json_t *batch = json_array();
		if (!batch) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		pthread_mutex_lock(&q->mu);
		read_spill_locked(q, max_batch, batch, &bytes);
		pthread_mutex_unlock(&q->mu);
		n = json_array_size(batch);
		if (bytes == 0) {
			json_decref(batch);
			return sent;
		}
		int rc = n ? send_array(batch, send, ctx, err, errlen) : 0;
		json_decref(batch);
		if (rc < 0)
			return -1; /* the offset stays: these lines go again next time */
		pthread_mutex_lock(&q->mu);
		spill_sent_locked(q, n, bytes);
		pthread_mutex_unlock(&q->mu);
		sent += (long)n;
	}
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
		int rc = logs ? send_array(logs, send, ctx, err, errlen) : -1;
		json_decref(logs);
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
	json_t **queued = NULL;
	size_t nq;
	if (max_batch == 0)
		max_batch = 1;
	long total = ship_spill(q, max_batch, send, ctx, err, errlen);
	pthread_mutex_lock(&q->mu);
	nq = q->count;
	queued = nq ? malloc(nq * sizeof(*queued)) : NULL;
	for (size_t i = 0; queued && i < nq; i++)
		queued[i] = q->ring[(q->head + i) % q->cap];
	if (queued) {
		q->head = (q->head + nq) % q->cap;
		q->count = 0;
	}
	if (total < 0 && queued) {
		/* the master is away: the queued lines join the spill file behind the old ones */
		spill_locked(q, queued, nq);
	}
	pthread_mutex_unlock(&q->mu);
	if (nq && !queued) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (total >= 0 && nq) {
		long r = send_batches(q, queued, nq, max_batch, send, ctx, err, errlen);
		total = r < 0 ? -1 : total + r;
	}
	for (size_t i = 0; i < nq; i++)
		json_decref(queued[i]);
	free(queued);
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
	if (q->count == 0 && !q->woken)
		pthread_cond_timedwait(&q->cv, &q->mu, &ts);
	pthread_mutex_unlock(&q->mu);
}

void launch_logq_wake(struct launch_logq *q)
{
	pthread_mutex_lock(&q->mu);
	q->woken = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}
