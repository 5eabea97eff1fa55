/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch's side of the REST contract. Each thread has its own HTTP
 * client (a curl handle is not shared between threads). The shipper wakes
 * when lines arrive or every second and sends them in batches; the poller
 * holds one long poll open at a time.
 * Non-obvious: the poller is detached and reference-counted, so stopping it
 * never waits for a long poll to come back; it frees itself when it does.
 */
#include "launch_master.h"

#include "launch_env.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "http_retry.h"

#define POLL_SECONDS 30
#define LOG_BATCH_LINES 500

static struct http_client *client(const char *master, const char *token, long timeout_ms, char *err,
                                  size_t errlen)
{
	char auth[1024];
	if (snprintf(auth, sizeof(auth), "Bearer %s", token ? token : "") >= (int)sizeof(auth)) {
		snprintf(err, errlen, "token too long");
		return NULL;
	}
	struct http_client *c = http_client_new(master, token ? auth : NULL, err, errlen);
	if (c)
		http_client_set_timeout_ms(c, timeout_ms);
	return c;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A JSON call retried while there is no answer, 502/503, or (retry_409) 409. */
static json_t *call_retry(struct http_client *c, const char *method, const char *path,
                          const json_t *body, int wait_seconds, int retry_409, char *err,
                          size_t errlen)
{
	json_t *out = NULL;

	if (http_retry_json(c, method, path, body, wait_seconds, retry_409 ? HTTP_RETRY_409 : 0,
	                    &out, NULL, err, errlen) < 0)
		return NULL;
	return out ? out : json_object();
}

json_t *launch_master_claim(const char *master, const char *alloc_token, int64_t exp, int64_t task,
                            int wait_seconds, char *err, size_t errlen)
{
	char path[128];
	struct http_client *c = client(master, alloc_token, 30000, err, errlen);
	if (!c)
		return NULL;
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/claim", (long long)exp);
	/* the slot type picks the trial's image, whose digest the master records */
	json_t *body = json_pack("{s:I, s:s}", "array_task", (json_int_t)task, "slot_type",
	                         launch_env_slot_type(environ));
	json_t *out = body ? call_retry(c, "POST", path, body, wait_seconds, 1, err, errlen) : NULL;
	json_decref(body);
	http_client_free(c);
	if (out && !json_is_true(json_object_get(out, "done")) &&
	    (!json_is_integer(json_object_get(out, "trial_id")) ||
	     !json_is_string(json_object_get(out, "token")))) {
		snprintf(err, errlen, "claim answer has no trial_id or token");
		json_decref(out);
		return NULL;
	}
	return out;
}

/* GET path (an archive: a model definition, a command's context) into a new buffer. */
static int get_archive(const char *master, const char *token, const char *path, size_t max_bytes,
                       char **data, size_t *len, char *err, size_t errlen)
{
	struct http_response resp = {0, NULL, 0};
	int rv = -1;
	struct http_client *c = client(master, token, 120000, err, errlen);
	if (!c)
		return -1;
	http_client_set_max_response(c, max_bytes);
	if (http_client_request(c, "GET", path, NULL, NULL, 0, &resp, err, errlen) < 0)
		goto fail;
	if (resp.status != 200) {
		snprintf(err, errlen, "GET %s: HTTP %ld", path, resp.status);
		goto fail;
	}
	*data = resp.body;
	*len = resp.len;
	resp.body = NULL;
	rv = 0;
fail:
	http_response_free(&resp);
	http_client_free(c);
	return rv;
}

int launch_master_model_def(const char *master, const char *alloc_token, int64_t exp,
                            size_t max_bytes, char **data, size_t *len, char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/model_def", (long long)exp);
	return get_archive(master, alloc_token, path, max_bytes, data, len, err, errlen);
}

int launch_master_task_context(const char *master, const char *task_token, int64_t task,
                               size_t max_bytes, char **data, size_t *len, char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/tasks/%lld/context", (long long)task);
	return get_archive(master, task_token, path, max_bytes, data, len, err, errlen);
}

json_t *launch_master_exit(const char *master, const char *trial_token, int64_t trial,
                           int exit_code, int signal, const char *error, int wait_seconds,
                           char *err, size_t errlen)
{
	char path[128];
	struct http_client *c = client(master, trial_token, 30000, err, errlen);
	if (!c)
		return NULL;
	snprintf(path, sizeof(path), "/api/v1/trials/%lld/exit", (long long)trial);
	json_t *body = json_pack("{s:i, s:o, s:o}", "exit_code", exit_code, "signal",
	                         signal ? json_integer(signal) : json_null(), "error",
	                         error && *error ? json_string(error) : json_null());
	json_t *out = body ? call_retry(c, "POST", path, body, wait_seconds, 0, err, errlen) : NULL;
	json_decref(body);
	http_client_free(c);
	return out;
}

int launch_master_signals(const char *master, const char *trial_token, int64_t trial, int *stop,
                          int *preempt, char *err, size_t errlen)
{
	char path[160];
	struct http_client *c = client(master, trial_token, 10000, err, errlen);
	if (!c)
		return -1;
	snprintf(path, sizeof(path), "/api/v1/trials/%lld/signals?timeout_seconds=0",
	         (long long)trial);
	json_t *out = call_retry(c, "GET", path, NULL, 30, 0, err, errlen);
	http_client_free(c);
	if (!out)
		return -1;
	*stop = json_is_true(json_object_get(out, "stop"));
	*preempt = json_is_true(json_object_get(out, "preempt"));
	json_decref(out);
	return 0;
}

struct launch_shipper {
	pthread_t thread;
	struct http_client *http;
	struct launch_logq *q;
	char path[128];
	atomic_int stop;
	atomic_long flush_until; /* ms since the epoch to give up flushing */
};

static int shipper_send(void *ctx, const json_t *body, char *err, size_t errlen)
{
	struct launch_shipper *s = ctx;
	long status = 0;
	return http_client_json(s->http, "POST", s->path, body, NULL, &status, err, errlen);
}

static long wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void *shipper_main(void *arg)
{
	struct launch_shipper *s = arg;
	char err[256];
	long backoff = 0;
	for (;;) {
		int stopping = atomic_load(&s->stop);
		if (stopping &&
		    (launch_logq_pending(s->q) == 0 || wall_ms() >= atomic_load(&s->flush_until)))
			break;
		if (backoff)
			sleep_ms(backoff);
		else if (!stopping)
			launch_logq_wait(s->q, 1000);
		if (launch_logq_pending(s->q) == 0) {
			backoff = 0;
			continue;
		}
		if (launch_logq_ship(s->q, LOG_BATCH_LINES, shipper_send, s, err, sizeof(err)) < 0)
			backoff = backoff ? (backoff < 5000 ? backoff * 2 : 5000) : 500;
		else
			backoff = 0;
	}
	return NULL;
}

struct launch_shipper *launch_shipper_start(const char *master, const char *trial_token,
                                            int64_t trial, struct launch_logq *q, char *err,
                                            size_t errlen)
{
	struct launch_shipper *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->http = client(master, trial_token, 10000, err, errlen);
	if (!s->http)
		goto fail;
	s->q = q;
	snprintf(s->path, sizeof(s->path), "/api/v1/trials/%lld/logs", (long long)trial);
	if (pthread_create(&s->thread, NULL, shipper_main, s) != 0) {
		snprintf(err, errlen, "cannot start the log thread");
		goto fail;
	}
	return s;
fail:
	http_client_free(s->http);
	free(s);
	return NULL;
}

void launch_shipper_stop(struct launch_shipper *s, int flush_seconds)
{
	if (!s)
		return;
	atomic_store(&s->flush_until, wall_ms() + flush_seconds * 1000L);
	atomic_store(&s->stop, 1);
	launch_logq_wake(s->q); /* not a second's wait for lines that will not come */
	pthread_join(s->thread, NULL);
	http_client_free(s->http);
	free(s);
}

struct launch_poller {
	atomic_int refs;
	atomic_int stop;
	struct http_client *http;
	char path[160];
	char *preempt_file;
};

static void poller_unref(struct launch_poller *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	http_client_free(p->http);
	free(p->preempt_file);
	free(p);
}

static void *poller_main(void *arg)
{
	struct launch_poller *p = arg;
	char err[256];
	while (!atomic_load(&p->stop)) {
		json_t *out = NULL;
		long status = 0;
		if (http_client_json(p->http, "GET", p->path, NULL, &out, &status, err,
		                     sizeof(err)) < 0) {
			sleep_ms(2000); /* the master may be restarting */
			continue;
		}
		if ((json_is_true(json_object_get(out, "preempt")) ||
		     json_is_true(json_object_get(out, "stop"))) &&
		    !atomic_load(&p->stop)) { /* stopped: the job directory may be going */
			int fd = open(p->preempt_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			if (fd >= 0)
				close(fd);
			json_decref(out);
			break;
		}
		json_decref(out);
	}
	poller_unref(p);
	return NULL;
}

struct launch_poller *launch_poller_start(const char *master, const char *trial_token,
                                          int64_t trial, const char *preempt_file, char *err,
                                          size_t errlen)
{
	pthread_t t;
	pthread_attr_t attr;
	struct launch_poller *p = calloc(1, sizeof(*p));
	if (!p || !(p->preempt_file = strdup(preempt_file))) {
		snprintf(err, errlen, "out of memory");
		free(p);
		return NULL;
	}
	p->http = client(master, trial_token, (POLL_SECONDS + 15) * 1000L, err, errlen);
	if (!p->http) {
		free(p->preempt_file);
		free(p);
		return NULL;
	}
	snprintf(p->path, sizeof(p->path), "/api/v1/trials/%lld/signals?timeout_seconds=%d",
	         (long long)trial, POLL_SECONDS);
	atomic_store(&p->refs, 2);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, poller_main, p);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the signals thread");
		http_client_free(p->http);
		free(p->preempt_file);
		free(p);
		return NULL;
	}
	return p;
}

void launch_poller_stop(struct launch_poller *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	poller_unref(p);
}
