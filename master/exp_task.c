/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's entry points for tasks other than trials' array tasks
 * (commands, notebooks, shells, TensorBoards; kind 'trial' rows too): create
 * one QUEUED, and move one through an event. The decision is the pure
 * lifecycle_task_next table; this shell validates the input, reads the row,
 * stamps times from the clock and commits, all under the app lock so that two
 * events on one task cannot both pass the table on the same old state.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "exp.h"
#include "exp_internal.h"
#include "task_proxy.h"

/* Resource pools are names from the master config: printable, no spaces. */
static int pool_ok(const char *pool)
{
	if (strlen(pool) >= sizeof(((struct store_task *)0)->pool))
		return 0;
	for (const char *p = pool; *p; p++)
		if (*p <= ' ' || *p > '~')
			return 0;
	return 1;
}

enum exp_status exp_task_create(struct app *a, const struct exp_task_spec *s, int64_t *id,
                                char *err, size_t errlen)
{
	enum exp_status status = EXP_INVALID;
	struct store_task t;

	memset(&t, 0, sizeof(t));
	if ((int)s->kind < 0 || s->kind >= LIFECYCLE_TASK_NKINDS) {
		snprintf(err, errlen,
		         "task kind %d: expected one of trial, command, notebook, shell, "
		         "tensorboard",
		         (int)s->kind);
		goto fail;
	}
	if (s->owner_uid < 0) {
		snprintf(err, errlen, "task owner uid %ld: expected a Unix uid", s->owner_uid);
		goto fail;
	}
	if (s->slots < 0 || s->slots > EXP_TASK_MAX_SLOTS) {
		snprintf(err, errlen, "task slots %lld: expected 0..%d", (long long)s->slots,
		         EXP_TASK_MAX_SLOTS);
		goto fail;
	}
	if (!s->pool || !pool_ok(s->pool)) {
		snprintf(err, errlen,
		         "task resource pool: expected a name of printable characters "
		         "without spaces, under 128 bytes");
		goto fail;
	}
	snprintf(t.kind, sizeof(t.kind), "%s", lifecycle_task_kind_name(s->kind));
	snprintf(t.state, sizeof(t.state), "%s", lifecycle_task_state_name(LIFECYCLE_TASK_QUEUED));
	snprintf(t.pool, sizeof(t.pool), "%s", s->pool);
	t.owner_uid = s->owner_uid;
	t.slots = s->slots;
	t.created_at = app_now();
	status = EXP_INTERNAL;
	pthread_mutex_lock(&a->lock);
	int rc = store_task_insert(a->store, &t, id, err, errlen);
	pthread_mutex_unlock(&a->lock);
	if (rc)
		goto fail;
	status = EXP_OK;
fail:
	return status;
}

enum exp_status exp_task_event(struct app *a, int64_t id, enum lifecycle_task_event ev,
                               int exit_status, const char *end_reason, char *err, size_t errlen)
{
	pthread_mutex_lock(&a->lock);
	enum exp_status status =
	    exp_task_event_locked(a, id, ev, exit_status, end_reason, err, errlen);
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status exp_task_event_locked(struct app *a, int64_t id, enum lifecycle_task_event ev,
                                      int exit_status, const char *end_reason, char *err,
                                      size_t errlen)
{
	enum exp_status status = EXP_INVALID;
	struct store_task t;

	if ((int)ev < 0 || ev >= LIFECYCLE_TASK_EV_NEVENTS) {
		snprintf(err, errlen, "task event %d: unknown", (int)ev);
		return status;
	}
	if (end_reason && strlen(end_reason) >= sizeof(t.end_reason)) {
		snprintf(err, errlen, "task end reason: over %zu bytes", sizeof(t.end_reason) - 1);
		return status;
	}
	status = EXP_INTERNAL;
	int found = store_task_get(a->store, id, &t, err, errlen);
	if (found < 0)
		goto out;
	if (!found) {
		snprintf(err, errlen, "task %lld not found", (long long)id);
		status = EXP_NOT_FOUND;
		goto out;
	}
	int from = lifecycle_task_state_parse(t.state);
	if (from < 0) {
		snprintf(err, errlen, "task %lld: stored state %s is unknown", (long long)id,
		         t.state);
		goto out;
	}
	struct lifecycle_task_step d = lifecycle_task_next((enum lifecycle_task_state)from, ev);
	if (!d.allowed) {
		snprintf(err, errlen, "task %lld is %s: %s is not allowed", (long long)id, t.state,
		         lifecycle_task_event_name(ev));
		status = EXP_CONFLICT;
		goto out;
	}
	double now = app_now();
	snprintf(t.state, sizeof(t.state), "%s", lifecycle_task_state_name(d.to));
	if (d.stamp_started)
		t.started_at = now;
	if (d.stamp_ended) {
		t.ended_at = now;
		t.has_exit_status = ev == LIFECYCLE_TASK_EV_EXITED;
		t.exit_status = t.has_exit_status ? exit_status : 0;
		snprintf(t.end_reason, sizeof(t.end_reason), "%s",
		         end_reason && *end_reason ? end_reason : lifecycle_task_event_name(ev));
	}
	if (store_task_update(a->store, &t, err, errlen))
		goto out;
	if (d.stamp_ended)
		task_proxy_clear_locked(a, id); /* an ended task serves nothing */
	status = EXP_OK;
out:
	return status;
}

enum exp_status exp_task_run(struct app *a, const struct exp_task_spec *s, const char *const *argv,
                             const char *const *env, int64_t *id, char *err, size_t errlen)
{
	char job[64], why[256];

	if (strcmp(a->rm->ops->name, "local") != 0) {
		snprintf(err, errlen,
		         "commands run only with the local resource manager in this version "
		         "(this master uses %s)",
		         a->rm->ops->name);
		return EXP_INVALID;
	}
	if (!argv || !argv[0] || !*argv[0]) {
		snprintf(err, errlen, "command: expected a non-empty argv");
		return EXP_INVALID;
	}
	enum exp_status status = exp_task_create(a, s, id, err, errlen);
	char **tenv = NULL;
	if (status != EXP_OK)
		return status;
	/* Its token to register the address it serves on (a notebook's). */
	if (task_proxy_token_env(a, *id, env, &tenv, err, errlen)) {
		snprintf(why, sizeof(why), "not started: %s", err);
		exp_task_event(a, *id, LIFECYCLE_TASK_EV_KILLED, 0, why, why, sizeof(why));
		return EXP_INTERNAL;
	}
	struct rm_array spec = {.experiment_id = -*id,
	                        .num_tasks = 1,
	                        .slots_per_trial = s->slots > 0 ? (int)s->slots : 1,
	                        .master_url = a->master_url,
	                        .alloc_token = "",
	                        .owner_uid = s->owner_uid,
	                        .argv = argv,
	                        .env = (const char *const *)tenv};
	int rc = a->rm->ops->submit_array(a->rm, &spec, job, sizeof(job), err, errlen);
	task_proxy_env_free(tenv);
	if (rc == 0)
		return EXP_OK;
	/* Nothing runs: the task ends here, saying why. */
	snprintf(why, sizeof(why), "not started: %s", err);
	exp_task_event(a, *id, LIFECYCLE_TASK_EV_KILLED, 0, why, why, sizeof(why));
	return EXP_INTERNAL;
}

enum exp_status exp_task_kill(struct app *a, int64_t id, char *err, size_t errlen)
{
	char job[64], ignored[256];
	enum exp_status status =
	    exp_task_event(a, id, LIFECYCLE_TASK_EV_KILLED, 0, "killed", err, errlen);
	if (status != EXP_OK)
		return status;
	/* The process tree gets SIGTERM, SIGKILL after the grace period; a task whose
	 * process ended already has nothing left to cancel. */
	snprintf(job, sizeof(job), "task-%lld", (long long)id);
	a->rm->ops->cancel(a->rm, job, ignored, sizeof(ignored));
	return EXP_OK;
}

int exp_task_on_rm_event(struct app *a, const struct rm_task_event *ev)
{
	char err[256], reason[64];
	int64_t id = -ev->experiment_id;
	enum exp_status st;

	/* A task killed already refuses these events (a conflict): nothing to record. */
	if (ev->kind == RM_TASK_STARTED) {
		st = exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_ALLOCATED, 0, NULL, err,
		                           sizeof(err));
		if (st == EXP_OK)
			st = exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_STARTED, 0, NULL, err,
			                           sizeof(err));
	} else {
		/* Ended before it ran (its program not found): allocated, then exited. */
		exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_ALLOCATED, 0, NULL, err,
		                      sizeof(err));
		if (ev->wait_status >= 0 && WIFSIGNALED(ev->wait_status))
			snprintf(reason, sizeof(reason), "signal %d", WTERMSIG(ev->wait_status));
		else
			snprintf(reason, sizeof(reason), "%s",
			         ev->reason[0] ? ev->reason : "exited");
		st = exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_EXITED, ev->wait_status, reason,
		                           err, sizeof(err));
	}
	if (st == EXP_INTERNAL) {
		log_msg(&a->log, LOG_LEVEL_ERROR, "task %lld: %s", (long long)id, err);
		return -1;
	}
	return 0;
}

int exp_task_settle_lost_locked(struct app *a, char *err, size_t errlen)
{
	int rv = -1;
	size_t i;
	json_t *row, *rows = store_task_list(a->store, "command", err, errlen);

	if (!rows)
		return -1;
	json_array_foreach (rows, i, row) {
		const char *tid = json_string_value(json_object_get(row, "task_id"));
		const char *state = json_string_value(json_object_get(row, "state"));
		long long id;
		if (!tid || !state || !strcmp(state, "TERMINATED") ||
		    sscanf(tid, "task-%lld", &id) != 1)
			continue;
		if (exp_task_event_locked(a, id, LIFECYCLE_TASK_EV_KILLED, 0,
		                          "lost: det-master restarted", err,
		                          errlen) == EXP_INTERNAL)
			goto fail;
	}
	rv = 0;
fail:
	json_decref(rows);
	return rv;
}
