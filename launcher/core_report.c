/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcore reports: metrics, progress, early exit, and the preemption
 * check. On-cluster each report is one POST to the master; off-cluster it is
 * one JSON line appended to a file under the local directory.
 * Non-obvious: a preempt or stop answer is sticky, so should_preempt keeps
 * saying yes after the report that carried it.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core_internal.h"

#define DET_CORE_SIGNAL_POLL_SECONDS 10 /* without det-launch's preempt file */

static const char *group_name(enum det_core_group g)
{
	return g == DET_CORE_VALIDATION ? "validation" : "training";
}

static json_t *metrics_object(const struct det_core_metric *m, size_t n, char *err, size_t errlen)
{
	json_t *obj = json_object();
	if (!obj)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (!m[i].name || !*m[i].name) {
			snprintf(err, errlen, "metric %zu: empty name", i);
			json_decref(obj);
			return NULL;
		}
		if (!isfinite(m[i].value)) {
			snprintf(err, errlen, "metric %s: not a finite number", m[i].name);
			json_decref(obj);
			return NULL;
		}
		if (json_object_set_new(obj, m[i].name, json_real(m[i].value)) < 0)
			goto oom;
	}
	return obj;
oom:
	json_decref(obj);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

int det_core_report_metrics(struct det_core *core, enum det_core_group group,
                            int64_t steps_completed, const struct det_core_metric *metrics,
                            size_t n, struct det_core_answer *answer, char *err, size_t errlen)
{
	int rv = -1;
	json_t *out = NULL;
	json_t *body = NULL;
	json_t *m = metrics_object(metrics, n, err, errlen);
	if (!m)
		goto fail;
	if (steps_completed < 0) {
		snprintf(err, errlen, "steps_completed %lld: negative", (long long)steps_completed);
		goto fail;
	}
	body = json_pack("{s:s, s:I, s:O}", "group", group_name(group), "steps_completed",
	                 (json_int_t)steps_completed, "metrics", m);
	if (!body) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct det_core_answer a = {0, 0};
	if (det_core_off_cluster(core)) {
		if (det_core_local_append(core, "metrics.jsonl", body, err, errlen) < 0)
			goto fail;
	} else {
		json_t *b = body;
		body = NULL;
		if (det_core_remote_post(core, "metrics", b, &out, err, errlen) < 0)
			goto fail;
		a.stop = json_is_true(json_object_get(out, "stop"));
		a.preempt = json_is_true(json_object_get(out, "preempt"));
	}
	if (a.stop || a.preempt)
		core->preempt_seen = 1;
	if (answer)
		*answer = a;
	rv = 0;
fail:
	json_decref(m);
	json_decref(body);
	json_decref(out);
	return rv;
}

int det_core_report_progress(struct det_core *core, double fraction, char *err, size_t errlen)
{
	if (!(fraction >= 0.0 && fraction <= 1.0)) {
		snprintf(err, errlen, "progress %g: not within [0, 1]", fraction);
		return -1;
	}
	json_t *body = json_pack("{s:f}", "progress", fraction);
	if (!body) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (det_core_off_cluster(core)) {
		int rv = det_core_local_append(core, "progress.jsonl", body, err, errlen);
		json_decref(body);
		return rv;
	}
	return det_core_remote_post(core, "progress", body, NULL, err, errlen);
}

static const char *reason_name(enum det_core_exit_reason r)
{
	switch (r) {
	case DET_CORE_EXIT_INVALID_HP:
		return "INVALID_HP";
	case DET_CORE_EXIT_ERRORED:
		return "ERRORED";
	case DET_CORE_EXIT_USER_REQUESTED_STOP:
		return "USER_REQUESTED_STOP";
	}
	return NULL;
}

/* Leave the reason where det-launch looks for it after the entrypoint exits. */
static int write_early_exit_file(const char *path, const char *reason, char *err, size_t errlen)
{
	FILE *f = fopen(path, "we");
	if (!f || fprintf(f, "%s\n", reason) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int det_core_early_exit(struct det_core *core, enum det_core_exit_reason reason, char *err,
                        size_t errlen)
{
	const char *name = reason_name(reason);
	if (!name) {
		snprintf(err, errlen, "unknown early-exit reason %d", (int)reason);
		return -1;
	}
	if (core->early_exit_file &&
	    write_early_exit_file(core->early_exit_file, name, err, errlen) < 0)
		return -1;
	json_t *body = json_pack("{s:s}", "reason", name);
	if (!body) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (det_core_off_cluster(core)) {
		int rv = det_core_local_append(core, "early_exit.jsonl", body, err, errlen);
		json_decref(body);
		return rv;
	}
	return det_core_remote_post(core, "early_exit", body, NULL, err, errlen);
}

/* Without det-launch watching the master for us, ask it now and then. */
static void poll_signals(struct det_core *core)
{
	char path[128], err[256];
	json_t *out = NULL;
	time_t now = time(NULL);
	if (now - core->last_signal_poll < DET_CORE_SIGNAL_POLL_SECONDS)
		return;
	core->last_signal_poll = now;
	snprintf(path, sizeof(path), "/trials/%lld/signals?timeout_seconds=0",
	         (long long)core->trial_id);
	if (det_core_remote_get(core, path, &out, err, sizeof(err)) == 0 &&
	    (json_is_true(json_object_get(out, "preempt")) ||
	     json_is_true(json_object_get(out, "stop"))))
		core->preempt_seen = 1;
	json_decref(out);
}

int det_core_should_preempt(struct det_core *core)
{
	if (core->preempt_seen)
		return 1;
	if (core->sigterm_held) {
		sigset_t pending;
		if (sigpending(&pending) == 0 && sigismember(&pending, SIGTERM))
			core->preempt_seen = 1;
	}
	if (core->preempt_seen) {
		/* asked already */
	} else if (core->preempt_file) {
		if (access(core->preempt_file, F_OK) == 0)
			core->preempt_seen = 1;
	} else if (!det_core_off_cluster(core)) {
		poll_signals(core);
	}
	return core->preempt_seen;
}
