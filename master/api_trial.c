/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trial endpoints: the trial side of doc/api.md (metrics, checkpoints, logs,
 * progress, early exit, exit, signals) and the user views (describe, kill,
 * metrics, logs with follow, checkpoints). Bodies are checked field by field
 * here so the engine (exp_*.c) only ever sees well-formed values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "authz.h"
#include "model.h"
#include "workspace.h"
#include "exp.h"
#include "metrics_ds.h"
#include "tboard.h"
#include "trial_reason.h"

#define SIGNALS_MAX_WAIT_S 60
#define LOGS_FOLLOW_WAIT_S 30
#define MAX_LOG_LINES 10000
#define MAX_LINE_BYTES 65536
#define METRICS_MAX_POINTS 100000
#define METRICS_PAGE_ROWS 10000                 /* rows read from the store at a time */
#define METRICS_DS_MAX_POINTS ((size_t)4000000) /* values held for one answer (~100 MB) */

static int64_t arg_int(struct api_call *c, const char *name, int64_t def, int64_t max, int *bad)
{
	const char *s = http_request_arg(c->req, name);
	char *end;
	long long v;
	if (!s)
		return def;
	v = strtoll(s, &end, 10);
	if (*end || end == s || v < 0 || v > max) {
		*bad = 1;
		return def;
	}
	return v;
}

void api_trial_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	struct exp_rt *e = NULL;
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = exp_trial_locked(a, c->id, &e);
	json_t *v = t && workspace_exp_allowed_locked(a, &c->who, e, AUTHZ_EXP_READ)
	                ? exp_trial_view(t)
	                : NULL;
	/* the image it runs in: the experiment's digest, when one for every slot type */
	json_t *digests = json_object_get(
	    json_object_get(json_object_get(e ? e->row : NULL, "config"), "environment"),
	    "image_digest");
	const char *slot, *one = NULL;
	json_t *d;
	int same = 1;
	json_object_foreach (digests, slot, d) {
		same &= !one || !strcmp(one, json_string_value(d) ?: "");
		one = json_string_value(d);
	}
	if (v && one && same)
		json_object_set_new(v, "image_digest", json_pack("s+", "sha256:", one));
	pthread_mutex_unlock(&a->lock);
	if (!v)
		api_error(rep, 404, "trial %lld not found", (long long)c->id);
	else
		api_json(rep, 200, json_pack("{s:o}", "trial", v));
}

void api_trial_kill(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	enum exp_status access = workspace_trial_access(a, &c->who, c->id, AUTHZ_TRIAL_KILL);
	if (access == EXP_NOT_FOUND) {
		api_error(rep, 404, "trial %lld not found", (long long)c->id);
		return;
	}
	if (access != EXP_OK) {
		api_error(rep, 403, "trial %lld belongs to another user's experiment",
		          (long long)c->id);
		return;
	}
	enum exp_status status = exp_trial_kill(a, c->id, err, sizeof(err));
	if (status != EXP_OK)
		api_exp_error(rep, status, err);
	else
		api_trial_get(a, c, rep);
}

/* The id of rows' last row, or since when there is none. */
static int64_t metrics_last_id(const json_t *rows, int64_t since)
{
	size_t n = json_array_size(rows);
	return n ? json_integer_value(json_object_get(json_array_get(rows, n - 1), "id")) : since;
}

/* The rows read so far for one max_points answer. */
struct metrics_read {
	struct metrics_ds *ds;
	size_t nrows;
	int more;
};

/* store_metrics_each callback: the row's values into the series; stops
 * with more at a page boundary once METRICS_DS_MAX_POINTS are held. */
static int metrics_read_row(void *arg, const char *group, int64_t steps, double created_at,
                            const char *body, size_t len, char *err, size_t errlen)
{
	struct metrics_read *r = arg;
	if (metrics_ds_add_text(r->ds, group, steps, created_at, body, len, err, errlen))
		return -1;
	r->nrows++;
	r->more =
	    r->nrows % METRICS_PAGE_ROWS == 0 && metrics_ds_points(r->ds) >= METRICS_DS_MAX_POINTS;
	return r->more;
}

/* max_points: the rows after since, streamed from the store into compact
 * series (no JSON row objects, each body parsed and dropped), then
 * downsampled. Past METRICS_DS_MAX_POINTS values (checked every
 * METRICS_PAGE_ROWS rows) the answer stops with more = true and last_id
 * where it stopped, so memory stays bounded whatever a trial reported; the
 * client asks again from there. */
static void metrics_downsampled(struct app *a, struct api_call *c, const char *group, int64_t since,
                                size_t max_points, struct http_reply *rep)
{
	char err[256];
	struct metrics_read r = {.ds = metrics_ds_new()};
	int64_t cursor = since;
	json_t *series = NULL;

	if (!r.ds) {
		api_error(rep, 500, "out of memory");
		return;
	}
	if (store_metrics_each(a->store, c->id, group, since, metrics_read_row, &r, &cursor, err,
	                       sizeof(err)))
		goto fail;
	series = metrics_ds_finish(r.ds, max_points, err, sizeof(err));
	if (!series)
		goto fail;
	metrics_ds_free(r.ds);
	api_json(rep, 200,
	         json_pack("{s:o, s:I, s:I, s:b}", "series", series, "last_id", (json_int_t)cursor,
	                   "rows", (json_int_t)r.nrows, "more", r.more));
	return;
fail:
	metrics_ds_free(r.ds);
	api_error(rep, 500, "%s", err);
}

void api_trial_metrics_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	int bad = 0;
	const char *group = http_request_arg(c->req, "group");
	int64_t after = arg_int(c, "after", 0, INT64_MAX, &bad);
	int64_t since = arg_int(c, "since", after, INT64_MAX, &bad);
	int64_t limit = arg_int(c, "limit", 1000, 10000, &bad);
	int64_t max_points = arg_int(c, "max_points", 0, METRICS_MAX_POINTS, &bad);
	char err[256];

	if (bad || (group && strcmp(group, "training") && strcmp(group, "validation")) ||
	    (http_request_arg(c->req, "max_points") && max_points < METRICS_DS_MIN_POINTS)) {
		api_error(rep, 400,
		          "group: training|validation; after or since (a metric row id), limit "
		          "(<= 10000), max_points (%d to %d): integers",
		          METRICS_DS_MIN_POINTS, METRICS_MAX_POINTS);
		return;
	}
	if (workspace_trial_access(a, &c->who, c->id, AUTHZ_EXP_READ) != EXP_OK) {
		api_error(rep, 404, "trial %lld not found", (long long)c->id);
		return;
	}
	if (max_points) {
		metrics_downsampled(a, c, group, since, (size_t)max_points, rep);
		return;
	}
	json_t *rows = store_metrics(a->store, c->id, group, since, (int)limit, err, sizeof(err));
	if (!rows) {
		api_error(rep, 500, "%s", err);
		return;
	}
	api_json(rep, 200,
	         json_pack("{s:o, s:I}", "metrics", rows, "last_id",
	                   (json_int_t)metrics_last_id(rows, since)));
}

/* Paging back: the last tail=N lines, or limit lines before=ID, in id
 * order, with more_before (older lines exist) and next_after (to follow). */
static void logs_before(struct app *a, struct api_call *c, struct http_reply *rep)
{
	int bad = 0;
	int64_t before = arg_int(c, "before", INT64_MAX, INT64_MAX, &bad);
	int64_t tail = arg_int(c, "tail", 0, MAX_LOG_LINES, &bad);
	int64_t limit = tail ? tail : arg_int(c, "limit", 1000, MAX_LOG_LINES, &bad);
	char err[256];

	if (bad || (http_request_arg(c->req, "tail") && http_request_arg(c->req, "before")) ||
	    http_request_arg(c->req, "follow") || http_request_arg(c->req, "after") || limit < 1) {
		api_error(rep, 400,
		          "tail=N or before=ID with limit (1 to %d), without after or follow",
		          MAX_LOG_LINES);
		return;
	}
	/* One line more than asked says whether older lines exist. */
	json_t *rows = store_logs_before(a->store, c->id, before, (int)limit + 1, err, sizeof(err));
	if (!rows) {
		api_error(rep, 500, "%s", err);
		return;
	}
	int more = json_array_size(rows) > (size_t)limit;
	if (more)
		json_array_remove(rows, 0);
	size_t n = json_array_size(rows);
	json_t *last = n ? json_array_get(rows, n - 1) : NULL;
	int64_t next = last ? json_integer_value(json_object_get(last, "id")) : 0;
	if (!last && before != INT64_MAX)
		next = before - 1;
	api_json(rep, 200,
	         json_pack("{s:o, s:I, s:b}", "logs", rows, "next_after", (json_int_t)next,
	                   "more_before", more));
}

void api_trial_logs_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	int bad = 0;
	int64_t after = arg_int(c, "after", 0, INT64_MAX, &bad);
	int64_t limit = arg_int(c, "limit", 1000, 10000, &bad);
	int64_t follow = arg_int(c, "follow", 0, 1, &bad);
	char err[256];

	if (bad) {
		api_error(rep, 400, "after, limit (<= 10000), follow (0|1): integers");
		return;
	}
	if (workspace_trial_access(a, &c->who, c->id, AUTHZ_EXP_READ) != EXP_OK) {
		api_error(rep, 404, "trial %lld not found", (long long)c->id);
		return;
	}
	if (http_request_arg(c->req, "before") || http_request_arg(c->req, "tail")) {
		logs_before(a, c, rep);
		return;
	}
	json_t *rows = store_logs(a->store, c->id, after, (int)limit, err, sizeof(err));
	if (!rows) {
		api_error(rep, 500, "%s", err);
		return;
	}
	int over = exp_trial_over(a, c->id);
	/* follow: wait (parked) until lines arrive, the trial ends, or the wait is up. */
	if (follow && json_array_size(rows) == 0 && !over && !c->req->shutting_down &&
	    http_now_ms() - c->req->first_call_ms < LOGS_FOLLOW_WAIT_S * 1000) {
		json_decref(rows);
		rep->again = 1;
		return;
	}
	json_t *last = json_array_get(rows, json_array_size(rows) - 1);
	int64_t next = last ? json_integer_value(json_object_get(last, "id")) : after;
	api_json(rep, 200,
	         json_pack("{s:o, s:I, s:b}", "logs", rows, "next_after", (json_int_t)next,
	                   "trial_ended", over && json_array_size(rows) == 0));
}

/* The download's state: rows are read a page at a time from the store (its
 * own reader connections, never the master's lock) as the client drains the
 * formatted text, up to the last line that existed when the request came. */
struct logs_download {
	struct store *st;
	int64_t trial_id;
	int64_t after; /* id of the last row formatted */
	int64_t last;  /* the trial's last row id when the download began */
	char *buf;     /* formatted text not yet sent: buf[off..len) */
	size_t len, off;
};

#define LOGS_DOWNLOAD_PAGE 2000

/* Format the next page into d->buf: 1, 0 at the end, -1 on a store error. */
static int logs_download_page(struct logs_download *d)
{
	char err[256];
	FILE *f = NULL;
	int rv = -1;
	json_t *rows = NULL;

	free(d->buf);
	d->buf = NULL;
	d->len = d->off = 0;
	if (d->after >= d->last)
		return 0;
	rows = store_logs(d->st, d->trial_id, d->after, LOGS_DOWNLOAD_PAGE, err, sizeof(err));
	if (!rows)
		goto fail;
	if (json_array_size(rows) == 0) {
		rv = 0;
		goto fail;
	}
	f = open_memstream(&d->buf, &d->len);
	if (!f)
		goto fail;
	size_t i;
	json_t *r;
	json_array_foreach (rows, i, r) {
		int64_t id = json_integer_value(json_object_get(r, "id"));
		if (id > d->last)
			break;
		const char *line = json_string_value(json_object_get(r, "line"));
		size_t n = line ? strlen(line) : 0;
		fprintf(f, "%s [%lld] %s: %s%s",
		        json_string_value(json_object_get(r, "timestamp")) ?: "",
		        (long long)json_integer_value(json_object_get(r, "rank")),
		        json_string_value(json_object_get(r, "stream")) ?: "", line ? line : "",
		        n && line[n - 1] == '\n' ? "" : "\n");
		d->after = id;
	}
	if (json_array_size(rows) < LOGS_DOWNLOAD_PAGE)
		d->last = d->after; /* the trial has no more rows */
	rv = 1;
fail:
	if (f && fclose(f))
		rv = -1;
	json_decref(rows);
	return rv;
}

static long logs_download_read(void *cls, struct http_stream *hs, char *out, size_t max)
{
	struct logs_download *d = cls;
	(void)hs;

	while (d->off >= d->len) {
		int more = logs_download_page(d);
		if (more <= 0)
			return more ? HTTP_STREAM_ERROR : HTTP_STREAM_END;
	}
	size_t n = d->len - d->off < max ? d->len - d->off : max;
	memcpy(out, d->buf + d->off, n);
	d->off += n;
	return (long)n;
}

static void logs_download_free(void *cls)
{
	struct logs_download *d = cls;
	free(d->buf);
	free(d);
}

/* GET /trials/{id}/logs/download: every line as text, streamed in pages. */
void api_trial_logs_download(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256];
	struct logs_download *d = NULL;
	json_t *tail = NULL;

	if (workspace_trial_access(a, &c->who, c->id, AUTHZ_EXP_READ) != EXP_OK) {
		api_error(rep, 404, "trial %lld not found", (long long)c->id);
		goto out;
	}
	tail = store_logs_before(a->store, c->id, INT64_MAX, 1, err, sizeof(err));
	d = calloc(1, sizeof(*d));
	if (!tail || !d) {
		api_error(rep, 500, "%s", tail ? "out of memory" : err);
		goto out;
	}
	d->st = a->store;
	d->trial_id = c->id;
	d->last = json_integer_value(json_object_get(json_array_get(tail, 0), "id"));
	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
	rep->status = 200;
	rep->content_type = "text/plain; charset=utf-8";
	rep->stream_read = logs_download_read;
	rep->stream_free = logs_download_free;
	rep->stream_cls = d;
	rep->stream_len = -1;
	d = NULL;
	http_reply_header(rep, "Content-Disposition", "attachment; filename=\"trial-%lld.log\"",
	                  (long long)c->id);
out:
	free(d);
	json_decref(tail);
}

void api_trial_checkpoints(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256];
	if (workspace_trial_access(a, &c->who, c->id, AUTHZ_EXP_READ) != EXP_OK) {
		api_error(rep, 404, "trial %lld not found", (long long)c->id);
		return;
	}
	json_t *rows = store_checkpoints(a->store, 0, c->id, err, sizeof(err));
	if (!rows)
		api_error(rep, 500, "%s", err);
	else
		api_json(rep, 200, json_pack("{s:o}", "checkpoints", rows));
}

static int steps_of(json_t *body, int64_t *steps, struct http_reply *rep)
{
	json_t *s = json_object_get(body, "steps_completed");
	if (!json_is_integer(s) || json_integer_value(s) < 0) {
		api_error(rep, 400, "steps_completed: expected a non-negative integer");
		return -1;
	}
	*steps = json_integer_value(s);
	return 0;
}

/* A training report whose commit is in flight while its request is held. */
struct metrics_pending {
	struct api_pending base;
	struct http_hold *hold;
	struct exp_training w;
	json_t *metrics; /* for the TensorBoard writer */
	int rv;          /* the commit's result */
	char err[256];
};

static void metrics_pending_free(void *ptr)
{
	struct metrics_pending *mp = ptr;
	exp_training_free(&mp->w);
	json_decref(mp->metrics);
	free(mp);
}

/* On the store's writer thread: note the result, let the request run again. */
static void metrics_committed(void *arg, int rv, const char *err)
{
	struct metrics_pending *mp = arg;
	mp->rv = rv;
	if (rv)
		snprintf(mp->err, sizeof(mp->err), "%s", err);
	else
		mp->err[0] = '\0';
	http_hold_release(mp->hold); /* mp belongs to the request again from here */
}

static void metrics_finish(struct app *a, struct api_pending *p, struct http_reply *rep)
{
	struct metrics_pending *mp = (struct metrics_pending *)p;
	char err[512];
	int stop, preempt;
	int status =
	    exp_training_end(a, &mp->w, mp->rv, mp->err, &stop, &preempt, err, sizeof(err));
	if (status != EXP_OK) {
		api_exp_error(rep, status, err);
		return;
	}
	tboard_enqueue(a->tboard, mp->w.trial_id, "training", mp->w.steps, mp->metrics);
	/* The answer of every report: written out directly, as json_dumps would. */
	static const char *const answers[2][2] = {
	    {"{\"stop\":false,\"preempt\":false}", "{\"stop\":false,\"preempt\":true}"},
	    {"{\"stop\":true,\"preempt\":false}", "{\"stop\":true,\"preempt\":true}"}};
	const char *answer = answers[!!stop][!!preempt];
	free(rep->body);
	rep->len = strlen(answer);
	rep->body = malloc(rep->len + 1);
	if (!rep->body) {
		api_error(rep, 500, "out of memory");
		return;
	}
	memcpy(rep->body, answer, rep->len + 1);
	rep->status = 200;
}

/* A training report without a worker thread waiting for the commit: the
 * request is held and answered when the commit is done. 1 when it went this
 * way (held, or rep filled with an error); 0 to report synchronously. */
static int metrics_held(struct app *a, struct api_call *c, int64_t steps, json_t *metrics,
                        struct http_reply *rep)
{
	struct metrics_pending *mp = c->req->slot ? calloc(1, sizeof(*mp)) : NULL;
	char err[512];

	if (!mp)
		return 0;
	mp->base.finish = metrics_finish;
	enum exp_status status =
	    exp_training_begin(a, c->id, steps, metrics, &mp->w, err, sizeof(err));
	if (status != EXP_OK) {
		api_exp_error(rep, status, err);
		metrics_pending_free(mp);
		return 1;
	}
	mp->hold = http_request_hold(c->req);
	if (!mp->hold) {
		metrics_pending_free(mp);
		return 0;
	}
	mp->metrics = json_incref(metrics);
	c->req->slot->ptr = mp;
	c->req->slot->free_fn = metrics_pending_free;
	/* Dispatched again only after this callback returns (same worker thread). */
	if (store_write_async(a->store, mp->w.ops, 2, metrics_committed, mp, mp->err,
	                      sizeof(mp->err))) {
		mp->rv = -1;
		http_hold_release(mp->hold);
	}
	return 1;
}

void api_trial_metrics(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *group = json_string_value(json_object_get(c->body, "group"));
	json_t *metrics = json_object_get(c->body, "metrics");
	json_t *out = NULL;
	int64_t steps;
	char err[512];
	const char *k;
	json_t *v;

	if (!group || (strcmp(group, "training") && strcmp(group, "validation"))) {
		api_error(rep, 400, "group: expected \"training\" or \"validation\"");
		return;
	}
	if (steps_of(c->body, &steps, rep))
		return;
	if (!json_is_object(metrics) || json_object_size(metrics) == 0 ||
	    json_object_size(metrics) > 1000) {
		api_error(rep, 400, "metrics: expected an object of 1 to 1000 name: number pairs");
		return;
	}
	json_object_foreach (metrics, k, v) {
		if (!json_is_number(v) || strlen(k) > 256) {
			api_error(rep, 400, "metrics.%.256s: expected a number", k);
			return;
		}
	}
	if (!strcmp(group, "training") && metrics_held(a, c, steps, metrics, rep))
		return;
	enum exp_status status =
	    exp_report_metrics(a, c->id, group, steps, metrics, &out, err, sizeof(err));
	if (status != EXP_OK) {
		api_exp_error(rep, status, err);
		return;
	}
	tboard_enqueue(a->tboard, c->id, group, steps, metrics); /* best effort, logged */
	api_json(rep, 200, out);
}

static int hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789abcdefABCDEF", *s))
			return 0;
	return 1;
}

static int uuid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789abcdefABCDEF-", *s))
			return 0;
	return 1;
}

void api_trial_checkpoint(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *uuid = json_string_value(json_object_get(c->body, "uuid"));
	json_t *meta = json_object_get(c->body, "metadata");
	json_t *files = json_object_get(c->body, "files");
	int64_t steps;
	char err[512];
	size_t i;
	json_t *f;

	if (!uuid || !uuid_ok(uuid)) {
		api_error(rep, 400, "uuid: expected a UUID (hex digits and '-')");
		return;
	}
	if (steps_of(c->body, &steps, rep))
		return;
	if (meta && !json_is_object(meta)) {
		api_error(rep, 400, "metadata: expected an object");
		return;
	}
	if (!json_is_array(files)) {
		api_error(rep, 400, "files: expected an array of {path, size, sha256}");
		return;
	}
	json_array_foreach (files, i, f) {
		const char *p = json_string_value(json_object_get(f, "path"));
		json_t *size = json_object_get(f, "size");
		const char *sha = json_string_value(json_object_get(f, "sha256"));
		if (!p || !*p || p[0] == '/' || strstr(p, "..") || !json_is_integer(size) ||
		    json_integer_value(size) < 0 || !sha || !hex64(sha)) {
			api_error(rep, 400,
			          "files[%zu]: expected {path: relative path, size: bytes, sha256: "
			          "64 hex}",
			          i);
			return;
		}
	}
	json_t *m = meta ? json_incref(meta) : json_object();
	enum exp_status status =
	    exp_report_checkpoint(a, c->id, uuid, steps, m, files, err, sizeof(err));
	json_decref(m);
	api_exp_answer(rep, status, NULL, err);
}

void api_trial_logs(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *logs = json_object_get(c->body, "logs");
	char err[512];
	size_t i;
	json_t *l;

	if (!json_is_array(logs) || json_array_size(logs) > MAX_LOG_LINES) {
		api_error(rep, 400, "logs: expected an array of at most %d lines", MAX_LOG_LINES);
		return;
	}
	json_array_foreach (logs, i, l) {
		const char *stream = json_string_value(json_object_get(l, "stream"));
		json_t *rank = json_object_get(l, "rank");
		json_t *line = json_object_get(l, "line");
		json_t *ts = json_object_get(l, "timestamp");
		if (!json_is_integer(rank) || json_integer_value(rank) < 0 || !stream ||
		    (strcmp(stream, "stdout") && strcmp(stream, "stderr")) ||
		    !json_is_string(line) || json_string_length(line) > MAX_LINE_BYTES ||
		    !json_is_string(ts) || json_string_length(ts) > 64) {
			api_error(
			    rep, 400,
			    "logs[%zu]: expected {rank: int, stream: stdout|stderr, timestamp: "
			    "RFC3339, line: text}",
			    i);
			return;
		}
	}
	enum exp_status status = exp_report_logs(a, c->id, logs, err, sizeof(err));
	api_exp_answer(rep, status, NULL, err);
}

void api_trial_progress(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *p = json_object_get(c->body, "progress");
	char err[512];
	if (!json_is_number(p) || json_number_value(p) < 0 || json_number_value(p) > 1) {
		api_error(rep, 400, "progress: expected a number from 0 to 1");
		return;
	}
	enum exp_status status =
	    exp_report_progress(a, c->id, json_number_value(p), err, sizeof(err));
	api_exp_answer(rep, status, NULL, err);
}

void api_trial_early_exit(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *r = json_string_value(json_object_get(c->body, "reason"));
	char err[512];
	if (!r ||
	    (strcmp(r, "INVALID_HP") && strcmp(r, "ERRORED") && strcmp(r, "USER_REQUESTED_STOP"))) {
		api_error(rep, 400, "reason: expected INVALID_HP, ERRORED or USER_REQUESTED_STOP");
		return;
	}
	enum exp_status status = exp_report_early_exit(a, c->id, r, err, sizeof(err));
	api_exp_answer(rep, status, NULL, err);
}

void api_trial_exit(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *code = json_object_get(c->body, "exit_code");
	json_t *sig = json_object_get(c->body, "signal");
	json_t *error = json_object_get(c->body, "error");
	json_t *out = NULL;
	char err[512];

	if (!json_is_integer(code) || json_integer_value(code) < 0 ||
	    json_integer_value(code) > 255) {
		api_error(rep, 400, "exit_code: expected an integer 0..255");
		return;
	}
	if (sig && !json_is_null(sig) &&
	    (!json_is_integer(sig) || json_integer_value(sig) < 1 ||
	     json_integer_value(sig) > 64)) {
		api_error(rep, 400, "signal: expected null or a signal number 1..64");
		return;
	}
	if (error && !json_is_null(error) && !json_is_string(error)) {
		api_error(rep, 400, "error: expected null or a string (one line)");
		return;
	}
	if (json_is_string(error) &&
	    (json_string_length(error) != strlen(json_string_value(error)) ||
	     trial_reason_check_error(json_string_value(error), err, sizeof(err)) < 0)) {
		if (json_string_length(error) != strlen(json_string_value(error)))
			snprintf(err, sizeof(err), "error: NUL character (one line expected)");
		api_error(rep, 400, "%s", err);
		return;
	}
	enum exp_status status =
	    exp_report_exit(a, c->id, (int)json_integer_value(code),
	                    json_is_integer(sig) ? (int)json_integer_value(sig) : 0,
	                    json_string_value(error), &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}

void api_trial_signals(struct app *a, struct api_call *c, struct http_reply *rep)
{
	int bad = 0, stop = 0, preempt = 0;
	int64_t wait = arg_int(c, "timeout_seconds", 0, SIGNALS_MAX_WAIT_S, &bad);

	if (bad) {
		api_error(rep, 400, "timeout_seconds: expected an integer 0..%d",
		          SIGNALS_MAX_WAIT_S);
		return;
	}
	if (exp_trial_signals(a, c->id, &stop, &preempt)) {
		api_error(rep, 404, "trial %lld not found", (long long)c->id);
		return;
	}
	if (!stop && !preempt && !c->req->shutting_down &&
	    http_now_ms() - c->req->first_call_ms < (uint64_t)wait * 1000) {
		rep->again = 1;
		return;
	}
	api_json(rep, 200, json_pack("{s:b, s:b}", "stop", stop, "preempt", preempt));
}

void api_checkpoint_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256];
	json_t *row = store_checkpoint(a->store, c->uuid, err, sizeof(err));
	if (!row) {
		api_error(rep, err[0] ? 500 : 404, "%s", err[0] ? err : "checkpoint not found");
		return;
	}
	if (c->who.kind != PRINCIPAL_USER &&
	    c->who.experiment_id != json_integer_value(json_object_get(row, "experiment_id")) &&
	    !exp_source_checkpoint_is(a, c->who.experiment_id, c->uuid)) {
		json_decref(row);
		api_error(rep, 403, "this token belongs to another experiment");
		return;
	}
	if (c->who.kind == PRINCIPAL_USER &&
	    workspace_exp_access(a, &c->who,
	                         json_integer_value(json_object_get(row, "experiment_id")),
	                         AUTHZ_EXP_READ) != EXP_OK) {
		json_decref(row);
		api_error(rep, 404, "checkpoint not found");
		return;
	}
	api_json(rep, 200, row);
}

void api_checkpoint_delete(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256];
	json_t *row = store_checkpoint(a->store, c->uuid, err, sizeof(err));
	if (!row) {
		api_error(rep, err[0] ? 500 : 404, "%s", err[0] ? err : "checkpoint not found");
		return;
	}
	enum exp_status access =
	    workspace_trial_access(a, &c->who, json_integer_value(json_object_get(row, "trial_id")),
	                           AUTHZ_CHECKPOINT_DELETE);
	json_decref(row);
	if (access == EXP_NOT_FOUND) {
		api_error(rep, 404, "checkpoint not found");
		return;
	}
	if (access != EXP_OK) {
		api_error(rep, 403, "checkpoint belongs to another user's experiment");
		return;
	}
	pthread_mutex_lock(&a->lock);
	int registered = model_checkpoint_registered_locked(a, c->uuid);
	pthread_mutex_unlock(&a->lock);
	if (registered) {
		api_error(rep, 409, "checkpoint %s is a model version: it is kept", c->uuid);
		return;
	}
	/* The registry entry is marked deleted; files are removed by their owner's tools. */
	json_t *upd = json_pack("{s:s, s:s}", "uuid", c->uuid, "state", "DELETED");
	struct store_op op = {.kind = STORE_UPDATE, .table = "checkpoints", .row = upd};
	int rc = store_write(a->store, &op, 1, err, sizeof(err));
	json_decref(upd);
	if (rc)
		api_error(rep, 500, "%s", err);
	else
		api_json(rep, 200, NULL);
}
