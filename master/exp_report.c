/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trial-side reports: training/validation metrics (the searcher decides),
 * checkpoints, logs, progress, exit (restart-or-fail), kill and signals.
 */
#include "exp.h"
#include "exp_internal.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>

#include "auth.h"
#include "authz.h"
#include "ckpt_gc.h"
#include "ckpt_owner.h"
#include "ckpt_path.h"
#include "exp_trial.h"
#include "expconf.h"
#include "lifecycle.h"
#include "searcher.h"
#include "trial_reason.h"

/* ---- trial-side reports ---------------------------------------------------- */

/* The trial trial_id, ended or not (EXP_NOT_FOUND when unknown). */
static struct exp_trial *find_trial(struct app *a, int64_t trial_id, struct exp_rt **e,
                                    enum exp_status *status, char *err, size_t errlen)
{
	struct exp_trial *t = exp_trial_locked(a, trial_id, e);
	if (!t) {
		snprintf(err, errlen, "trial %lld not found", (long long)trial_id);
		*status = EXP_NOT_FOUND;
	}
	return t;
}

/* find_trial, and one that has not ended yet (EXP_CONFLICT otherwise): metrics go only there. */
static struct exp_trial *open_trial(struct app *a, int64_t trial_id, struct exp_rt **e,
                                    enum exp_status *status, char *err, size_t errlen)
{
	struct exp_trial *t = find_trial(a, trial_id, e, status, err, errlen);
	if (t && fsm_is_terminal(t->state)) {
		snprintf(err, errlen, "trial %lld is %s", (long long)trial_id,
		         fsm_state_name(t->state));
		*status = EXP_CONFLICT;
		return NULL;
	}
	return t;
}

static void signals_of(struct exp_rt *e, const struct exp_trial *t, int *stop, int *preempt)
{
	enum fsm_state ts = t->state;
	*stop = fsm_is_stopping(ts) || fsm_is_terminal(ts);
	*preempt = ts == FSM_PAUSED || e->state == FSM_PAUSED;
}

enum exp_status exp_training_begin(struct app *a, int64_t trial_id, int64_t steps, json_t *metrics,
                                   struct exp_training *w, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	struct exp_rt *e = NULL;

	memset(w, 0, sizeof(*w));
	w->trial_id = trial_id;
	w->steps = steps;
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = open_trial(a, trial_id, &e, &status, err, errlen);
	if (!t)
		goto out;
	int64_t new_steps = steps > t->steps_completed ? steps : t->steps_completed;
	pthread_mutex_unlock(&a->lock);
	/* The body's text is made here, on the request's thread, rather than by
	 * the store's single writer thread, which every report waits for. */
	char *body = json_dumps(metrics, JSON_COMPACT);
	json_t *bodyj = body ? json_string_nocheck(body) : NULL;
	free(body);
	/* The rows json_pack("{s:I, s:s, s:I, s:O, s:f}", ...) and ("{s:I, s:I}", ...)
	 * would make, built directly: parsing the format was a sizeable share of a
	 * report's cost. Same keys in the same order, so the same statements. */
	w->mrow = json_object();
	w->trow = json_object();
	if (!w->mrow || !w->trow ||
	    json_object_set_new(w->mrow, "trial_id", json_integer((json_int_t)trial_id)) ||
	    json_object_set_new(w->mrow, "grp", json_string("training")) ||
	    json_object_set_new(w->mrow, "steps_completed", json_integer((json_int_t)steps)) ||
	    !bodyj || json_object_set(w->mrow, "body", bodyj) ||
	    json_object_set_new(w->mrow, "created_at", json_real(app_now())) ||
	    json_object_set_new(w->trow, "id", json_integer((json_int_t)trial_id)) ||
	    json_object_set_new(w->trow, "steps_completed", json_integer((json_int_t)new_steps))) {
		json_decref(bodyj);
		exp_training_free(w);
		snprintf(err, errlen, "out of memory");
		return EXP_INTERNAL;
	}
	json_decref(bodyj);
	w->ops[0] = (struct store_op){.kind = STORE_INSERT, .table = "metrics", .row = w->mrow};
	w->ops[1] = (struct store_op){.kind = STORE_UPDATE, .table = "trials", .row = w->trow};
	return EXP_OK;
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status exp_training_end(struct app *a, struct exp_training *w, int rv,
                                 const char *commit_err, int *stop, int *preempt, char *err,
                                 size_t errlen)
{
	struct exp_rt *e = NULL;

	if (rv) {
		if (err != commit_err)
			snprintf(err, errlen, "%s", commit_err);
		return EXP_INTERNAL;
	}
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = exp_trial_locked(a, w->trial_id, &e);
	if (t && w->steps > t->steps_completed)
		t->steps_completed = w->steps;
	*stop = 1; /* the trial is gone */
	*preempt = 0;
	if (t)
		signals_of(e, t, stop, preempt);
	pthread_mutex_unlock(&a->lock);
	return EXP_OK;
}

void exp_training_free(struct exp_training *w)
{
	json_decref(w->mrow);
	json_decref(w->trow);
	w->mrow = w->trow = NULL;
}

enum exp_status exp_report_metrics(struct app *a, int64_t trial_id, const char *group,
                                   int64_t steps, json_t *metrics, json_t **out, char *err,
                                   size_t errlen)
{
	enum exp_status status = EXP_OK;
	int stop, preempt;
	struct exp_rt *e = NULL;
	json_t *before = NULL, *erow = NULL, *mrow = NULL, *tj = NULL;

	if (strcmp(group, "validation")) {
		/* Training metrics do not touch the searcher: committed without the lock. */
		struct exp_training w;
		status = exp_training_begin(a, trial_id, steps, metrics, &w, err, errlen);
		if (status == EXP_OK) {
			int rv = store_write(a->store, w.ops, 2, err, errlen);
			status = exp_training_end(a, &w, rv, err, &stop, &preempt, err, errlen);
			if (status == EXP_OK)
				*out = json_pack("{s:b, s:b}", "stop", stop, "preempt", preempt);
		}
		exp_training_free(&w);
		return status;
	}
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = open_trial(a, trial_id, &e, &status, err, errlen);
	if (!t)
		goto out;
	mrow = json_pack("{s:I, s:s, s:I, s:O, s:f}", "trial_id", (json_int_t)trial_id, "grp",
	                 group, "steps_completed", (json_int_t)steps, "body", metrics, "created_at",
	                 app_now());
	if (!mrow) {
		status = EXP_INTERNAL;
		goto out;
	}
	/* Validation: the searcher decides, and its snapshot goes in the same commit. */
	enum searcher_decision d = SEARCHER_CONTINUE;
	struct exp_trial full = *t;
	if (steps > full.steps_completed)
		full.steps_completed = steps;
	if (e->searcher) {
		before = searcher_snapshot(e->searcher);
		if (searcher_on_validation(e->searcher, t->trial_index, metrics, &d, err, errlen)) {
			status = EXP_INVALID;
			goto out;
		}
		json_t *srch = json_object_get(exp_config_of(e), "searcher");
		json_t *mv = json_object_get(metrics, exp_sget(srch, "metric"));
		struct lifecycle_validation_view vv = {
		    .trial = full.state,
		    .stop = d == SEARCHER_STOP,
		    .has_value = json_is_number(mv),
		    .value = json_number_value(mv),
		    .smaller_is_better = !json_is_false(json_object_get(srch, "smaller_is_better")),
		    .has_best = t->has_best,
		    .best = t->best_metric,
		};
		struct lifecycle_validation after = lifecycle_validation_apply(&vv);
		full.has_best = after.has_best;
		full.best_metric = after.best;
		if (after.state != full.state)
			exp_set_trial_state(&full, after.state);
	}
	erow = exp_row_with_searcher(e);
	tj = exp_trial_row(&full);
	if (!erow || !tj) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
		goto out;
	}
	struct store_op ops[] = {{.kind = STORE_INSERT, .table = "metrics", .row = mrow},
	                         exp_put("trials", tj),
	                         exp_put("experiments", erow)};
	if (exp_commit(a, e, ops, 3, before, err, errlen)) {
		status = EXP_INTERNAL;
		goto out;
	}
	exp_swap_trial(e, &full);
	exp_swap_row(e, json_incref(erow));
	signals_of(e, &full, &stop, &preempt);
	*out = json_pack("{s:b, s:b}", "stop", stop, "preempt", preempt);
	if (stop)
		http_server_wake(a->http);
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(before);
	json_decref(erow);
	json_decref(mrow);
	json_decref(tj);
	return status;
}

/* Update a few fields of a live trial and commit (lock held). */

/* May trial_id register uuid: unknown, or already this trial's (a retry)? EXP_OK, EXP_CONFLICT when
 * another trial's or experiment's row has it, EXP_INTERNAL on a store error. */
static enum exp_status uuid_free_for(struct app *a, const char *uuid, int64_t trial_id, char *err,
                                     size_t errlen)
{
	char why[256] = "";
	json_t *row = store_checkpoint(a->store, uuid, why, sizeof(why));
	enum exp_status status = EXP_OK;

	if (!row && why[0]) {
		snprintf(err, errlen, "checkpoint %s: %s", uuid, why);
		status = EXP_INTERNAL;
	} else if (row && exp_iget(row, "trial_id") != trial_id) {
		snprintf(
		    err, errlen,
		    "uuid %s: already registered by trial %lld of experiment %lld; a checkpoint "
		    "needs a uuid of its own",
		    uuid, (long long)exp_iget(row, "trial_id"),
		    (long long)exp_iget(row, "experiment_id"));
		status = EXP_CONFLICT;
	}
	json_decref(row);
	return status;
}

enum exp_status exp_report_checkpoint(struct app *a, int64_t trial_id, const char *uuid,
                                      int64_t steps, json_t *metadata, json_t *files, char *err,
                                      size_t errlen)
{
	enum exp_status status = EXP_OK;
	struct exp_rt *e = NULL;
	char path[4096];
	json_t *crow = NULL, *tj = NULL;

	if (strlen(uuid) >= EXP_TRIAL_CKPT_MAX) {
		snprintf(err, errlen, "uuid: at most %d characters", EXP_TRIAL_CKPT_MAX - 1);
		return EXP_INVALID;
	}
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	if (!t)
		goto out;
	char dir[PATH_MAX];
	if (ckpt_path_dir(exp_config_of(e), a->cfg->checkpoint_storage, dir, sizeof(dir), err,
	                  errlen) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, uuid) >= (int)sizeof(path)) {
		status = EXP_INVALID;
		goto out;
	}
	/* Under the lock, so two registrations of one new uuid cannot both pass. */
	status = uuid_free_for(a, uuid, trial_id, err, errlen);
	if (status != EXP_OK)
		goto out;
	crow = json_pack("{s:s, s:I, s:I, s:s, s:I, s:O, s:O, s:s, s:f}", "uuid", uuid, "trial_id",
	                 (json_int_t)trial_id, "experiment_id", (json_int_t)e->id, "state",
	                 "COMPLETED", "steps_completed", (json_int_t)steps, "metadata", metadata,
	                 "files", files, "path", path, "created_at", app_now());
	struct exp_trial row = *t;
	snprintf(row.latest_checkpoint, sizeof(row.latest_checkpoint), "%s", uuid);
	if (steps > row.steps_completed)
		row.steps_completed = steps;
	tj = exp_trial_row(&row);
	if (!crow || !tj) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
		goto out;
	}
	struct store_op ops[] = {exp_put("checkpoints", crow), exp_put("trials", tj)};
	if (exp_commit(a, e, ops, 2, NULL, err, errlen))
		status = EXP_INTERNAL;
	else
		exp_swap_trial(e, &row);
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(crow);
	json_decref(tj);
	return status;
}

enum exp_status exp_report_logs(struct app *a, int64_t trial_id, json_t *logs, char *err,
                                size_t errlen)
{
	enum exp_status status = EXP_OK;
	struct exp_rt *e = NULL;
	size_t n = json_array_size(logs), i;
	struct store_op *ops = calloc(n ? n : 1, sizeof(*ops));
	json_t *rows = json_array(), *l;

	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	pthread_mutex_unlock(&a->lock);
	if (!t)
		goto out;
	if (!ops || !rows) {
		status = EXP_INTERNAL;
		goto out;
	}
	json_array_foreach (logs, i, l) {
		json_t *r = json_pack(
		    "{s:I, s:I, s:O, s:O, s:O}", "trial_id", (json_int_t)trial_id, "rank",
		    (json_int_t)exp_iget(l, "rank"), "stream", json_object_get(l, "stream"), "ts",
		    json_object_get(l, "timestamp"), "line", json_object_get(l, "line"));
		json_array_append_new(rows, r);
		ops[i] = (struct store_op){.kind = STORE_INSERT, .table = "logs", .row = r};
	}
	if (n && store_write(a->store, ops, n, err, errlen))
		status = EXP_INTERNAL;
	if (n)
		http_server_wake(a->http);
out:
	free(ops);
	json_decref(rows);
	return status;
}

/* Set progress or the end reason of a known trial (ended or not) and commit. */
static enum exp_status update_known_trial(struct app *a, int64_t trial_id, const double *progress,
                                          const char *reason, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	struct exp_rt *e = NULL;
	if (reason && strlen(reason) >= EXP_TRIAL_REASON_MAX) {
		snprintf(err, errlen, "reason: at most %d characters", EXP_TRIAL_REASON_MAX - 1);
		return EXP_INVALID;
	}
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	if (t) {
		struct exp_trial row = *t;
		if (progress)
			row.progress = *progress;
		if (reason)
			snprintf(row.end_reason, sizeof(row.end_reason), "%s", reason);
		status = exp_trial_commit(a, e, &row, err, errlen);
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status exp_report_progress(struct app *a, int64_t trial_id, double progress, char *err,
                                    size_t errlen)
{
	return update_known_trial(a, trial_id, &progress, NULL, err, errlen);
}

enum exp_status exp_report_early_exit(struct app *a, int64_t trial_id, const char *reason,
                                      char *err, size_t errlen)
{
	return update_known_trial(a, trial_id, NULL, reason, err, errlen);
}

enum exp_status exp_report_exit(struct app *a, int64_t trial_id, int exit_code, int sig,
                                const char *error, json_t **out, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	int restart = 0;
	struct exp_rt *e = NULL;

	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	if (!t)
		goto out;
	struct exp_trial row = *t;
	enum fsm_state ts = row.state;
	enum lifecycle_exit_reason reason = lifecycle_exit_reason_parse(t->end_reason);
	row.has_exit_code = 1;
	row.exit_code = sig ? 128 + sig : exit_code;
	struct lifecycle_trial_view v = {ts, e->state, row.restarts, e->max_restarts,
	                                 row.preempted};
	struct lifecycle_decision d = lifecycle_trial_exit(&v, exit_code != 0 || sig != 0, reason);
	if (d.action == LIFECYCLE_PREEMPTED || d.action == LIFECYCLE_RESTART) {
		row.preempted = d.preempted;
		row.restarts = d.restarts;
		status = exp_trial_commit(a, e, &row, err, errlen);
		restart = d.action == LIFECYCLE_RESTART && status == EXP_OK;
	} else if (d.action == LIFECYCLE_FAIL || d.action == LIFECYCLE_END) {
		/* A crash that may not restart is recorded with why it failed. */
		if (d.action == LIFECYCLE_FAIL && reason != LIFECYCLE_EXIT_INVALID_HP) {
			if ((!error || !*error) && !exit_code && !sig)
				error = "the trial reported ERRORED";
			trial_reason_of_exit(row.end_reason, sizeof(row.end_reason), exit_code, sig,
			                     error, row.restarts, v.max_restarts);
		}
		exp_finish_trial(a, e, &row, d.end_state, err, errlen);
	}
	t = exp_trial_locked(a, trial_id, &e);
	if (status == EXP_OK && t) {
		*out = json_pack("{s:b, s:I, s:o, s:I}", "restart", restart, "restarts",
		                 (json_int_t)t->restarts, "latest_checkpoint",
		                 t->latest_checkpoint[0] ? json_string(t->latest_checkpoint)
		                                         : json_null(),
		                 "steps_completed", (json_int_t)t->steps_completed);
	}
	http_server_wake(a->http);
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status exp_trial_kill(struct app *a, int64_t trial_id, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	struct exp_rt *e = NULL;
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	if (t) {
		int next = fsm_trial_next(t->state, FSM_EV_KILL);
		if (next < 0) {
			snprintf(err, errlen, "trial %lld is %s", (long long)trial_id,
			         fsm_state_name(t->state));
			status = EXP_CONFLICT;
		} else {
			struct exp_trial row = *t;
			row.state = (enum fsm_state)next;
			status = exp_trial_commit(a, e, &row, err, errlen);
			/* A trial that never ran again (paused) ends now. */
			struct exp_alloc *al = exp_alloc_of(e, t->array_task);
			if (status == EXP_OK && al && al->pid == 0 &&
			    al->state == EXP_ALLOC_ENDED) {
				row = *t;
				exp_finish_trial(a, e, &row, FSM_CANCELED, err, errlen);
			}
		}
	}
	http_server_wake(a->http);
	pthread_mutex_unlock(&a->lock);
	return status;
}

int exp_trial_signals(struct app *a, int64_t trial_id, int *stop, int *preempt)
{
	struct exp_rt *e = NULL;
	int rv = -1;
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = exp_trial_locked(a, trial_id, &e);
	if (t) {
		signals_of(e, t, stop, preempt);
		rv = 0;
	}
	pthread_mutex_unlock(&a->lock);
	return rv;
}

int exp_trial_over(struct app *a, int64_t trial_id)
{
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = exp_trial_locked(a, trial_id, NULL);
	int over = !t || fsm_is_terminal(t->state);
	pthread_mutex_unlock(&a->lock);
	return over;
}
