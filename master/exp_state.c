/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine shell's shared helpers: finding experiments and trials,
 * row fields, committing (memory swapped only after the commit), settling an
 * experiment and finishing a trial (lifecycle.c decides, this applies).
 *
 * Main structure: struct exp_rt per experiment (its row, searcher, trials by
 * index, allocations by array task: the C records of exp_trial.h) under the
 * one app lock. Every change is prepared on copies of the rows, written in
 * one store transaction (with the searcher snapshot when the searcher moved),
 * and only then swapped into memory; if the commit fails the searcher is
 * restored from the snapshot taken before. So memory never runs ahead of the
 * database, and a master killed at any point restarts into a state it had
 * acknowledged.
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

double app_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *exp_sget(json_t *row, const char *k)
{
	const char *s = json_string_value(json_object_get(row, k));
	return s ? s : "";
}

int64_t exp_iget(json_t *row, const char *k)
{
	json_t *v = json_object_get(row, k);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

enum fsm_state exp_state_of(json_t *row)
{
	int s = fsm_state_parse(exp_sget(row, "state"));
	return s < 0 ? FSM_ERROR : (enum fsm_state)s;
}

void exp_type_row(struct exp_rt *e)
{
	e->state = exp_state_of(e->row);
	e->owner_id = exp_iget(e->row, "owner_id");
	e->project_id = exp_iget(e->row, "project_id");
	e->num_tasks = exp_iget(e->row, "num_tasks");
	e->max_restarts = exp_iget(exp_config_of(e), "max_restarts");
	e->name = json_string_value(json_object_get(e->row, "name"));
	e->created_at = json_number_value(json_object_get(e->row, "created_at"));
	e->ended_at = json_number_value(json_object_get(e->row, "ended_at"));
	e->progress = json_number_value(json_object_get(e->row, "progress"));
	/* The row's description is the editable one (det experiment set); it
	 * starts as the config's, which is all a row from before 006 has. */
	e->description = json_string_value(json_object_get(e->row, "description"));
	if (!e->description)
		e->description =
		    json_string_value(json_object_get(exp_config_of(e), "description"));
	e->labels = json_object_get(e->row, "labels");
	json_t *arch = json_object_get(e->row, "archived");
	e->archived = json_is_true(arch) || json_integer_value(arch);
}

void exp_set_state(json_t *row, int s)
{
	json_object_set_new(row, "state", json_string(fsm_state_name((enum fsm_state)s)));
	if (fsm_is_terminal((enum fsm_state)s))
		json_object_set_new(row, "ended_at", json_real(app_now()));
}

const char *exp_status_name(enum exp_status s)
{
	static const char *const names[] = {"ok",      "not_found",   "conflict", "forbidden",
	                                    "invalid", "unavailable", "internal"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "internal";
}

struct exp_rt *exp_find_locked(struct app *a, int64_t id)
{
	for (struct exp_rt *e = a->exps; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

struct exp_trial *exp_trial_locked(struct app *a, int64_t trial_id, struct exp_rt **out)
{
	struct exp_trial *t = exp_index_by_id(&a->trial_ix, trial_id);
	if (t && out)
		*out = t->exp;
	return t;
}

/* The experiment id (lock held); NULL with EXP_NOT_FOUND and err when unknown. */
struct exp_rt *exp_find(struct app *a, int64_t id, enum exp_status *status, char *err,
                        size_t errlen)
{
	struct exp_rt *e = exp_find_locked(a, id);
	if (!e) {
		snprintf(err, errlen, "experiment %lld not found", (long long)id);
		*status = EXP_NOT_FOUND;
	}
	return e;
}

struct exp_trial *exp_trial_by_index(struct exp_rt *e, int64_t index)
{
	return index >= 0 && index < e->trials_cap ? e->trials[index] : NULL;
}

struct exp_alloc *exp_alloc_of(struct exp_rt *e, int task)
{
	return task >= 0 && task < e->nallocs && e->allocs[task].present ? &e->allocs[task] : NULL;
}

/* The allocation of task as a working copy (a fresh one when there is none yet). */
struct exp_alloc exp_alloc_copy(struct exp_rt *e, int task)
{
	struct exp_alloc *al = exp_alloc_of(e, task);
	struct exp_alloc c = {.present = 1, .trial_index = -1, .next_index = -1};
	return al ? *al : c;
}

/* Trial t's new state; a final one stamps ended_at. */
void exp_set_trial_state(struct exp_trial *t, int s)
{
	t->state = (enum fsm_state)s;
	if (fsm_is_terminal(t->state))
		t->ended_at = app_now();
}

json_t *exp_config_of(struct exp_rt *e)
{
	return json_object_get(e->row, "config");
}

/* A store op that upserts a whole row. */
struct store_op exp_put(const char *table, json_t *row)
{
	return (struct store_op){.kind = STORE_PUT, .table = table, .row = row};
}

/* Put e's searcher back to a snapshot taken before a change that was not committed
 * (snapshot NULL: nothing to undo). */
void exp_searcher_rollback(struct exp_rt *e, json_t *snapshot_before)
{
	if (!snapshot_before || !e->searcher)
		return;
	char e2[256];
	struct searcher *s = searcher_restore(exp_config_of(e), snapshot_before, e2, sizeof(e2));
	if (s) {
		searcher_free(e->searcher);
		e->searcher = s;
	}
}

/* Write ops; on failure restore the searcher from before (may be NULL). */
int exp_commit(struct app *a, struct exp_rt *e, struct store_op *ops, size_t n,
               json_t *snapshot_before, char *err, size_t errlen)
{
	if (store_write(a->store, ops, n, err, errlen) == 0)
		return 0;
	log_msg(&a->log, LOG_LEVEL_ERROR, "experiment %lld: write failed: %s", (long long)e->id,
	        err);
	exp_searcher_rollback(e, snapshot_before);
	return -1;
}

/* Whether an experiment in state st was cut short (canceled, killed, failed). */
static int exp_cut_short(enum fsm_state st)
{
	return st == FSM_STOPPING_CANCELED || st == FSM_STOPPING_KILLED ||
	       st == FSM_STOPPING_ERROR || st == FSM_CANCELED || st == FSM_ERROR;
}

/* The work an experiment did: completed trials count whole, others by the
 * progress they reported, over its planned trials. The searcher counts a
 * killed or failed trial as finished, so its progress would read 100%. */
static double exp_work_done(const struct exp_rt *e)
{
	int64_t planned = e->num_tasks, n = 0;
	double sum = 0;
	for (int i = 0; i < e->trials_cap; i++) {
		const struct exp_trial *t = e->trials[i];
		if (!t)
			continue;
		n++;
		sum += t->state == FSM_COMPLETED ? 1.0 : fmin(fmax(t->progress, 0.0), 1.0);
	}
	if (planned < n)
		planned = n;
	return planned > 0 ? fmin(sum / (double)planned, 1.0) : 0.0;
}

/* Experiment row copy with the searcher's current snapshot and progress
 * (once a cancel, kill or failure has begun: the work done). */
json_t *exp_row_with_searcher(struct exp_rt *e)
{
	json_t *row = json_deep_copy(e->row);
	if (row && e->searcher) {
		json_object_set_new(row, "searcher_snapshot", searcher_snapshot(e->searcher));
		json_object_set_new(row, "progress",
		                    json_real(exp_cut_short(exp_state_of(e->row))
		                                  ? exp_work_done(e)
		                                  : searcher_progress(e->searcher)));
	}
	return row;
}

/* Install an experiment row (reference stolen). The searcher snapshot is
 * only for the database: in memory the live searcher is the truth, and a
 * parsed snapshot of a large experiment would cost megabytes. */
void exp_swap_row(struct exp_rt *e, json_t *row)
{
	json_decref(e->row);
	e->row = row;
	exp_type_row(e);
	json_object_del(row, "searcher_snapshot");
}

/* Replace trial (by its index) in memory with row (reference stolen). */
/* Copy a committed working copy of a trial over its record in memory. */
void exp_swap_trial(struct exp_rt *e, const struct exp_trial *row)
{
	struct exp_trial *live = exp_trial_by_index(e, row->trial_index);
	if (!live)
		return;
	struct exp_trial *chain = live->token_next;
	*live = *row;
	live->token_next = chain;
}

/* Write one trial row (a working copy) and swap it in: EXP_OK, or EXP_INTERNAL with err. */
enum exp_status exp_trial_commit(struct app *a, struct exp_rt *e, const struct exp_trial *row,
                                 char *err, size_t errlen)
{
	json_t *j = exp_trial_row(row);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return EXP_INTERNAL;
	}
	struct store_op op = exp_put("trials", j);
	int rc = exp_commit(a, e, &op, 1, NULL, err, errlen);
	json_decref(j);
	if (rc)
		return EXP_INTERNAL;
	exp_swap_trial(e, row);
	return EXP_OK;
}

/* Settle the experiment (lifecycle_settle): searcher done → STOPPING_COMPLETED; stopping
 * and nothing live → final state. Returns a new row when the state changed. */
static json_t *settle(struct exp_rt *e)
{
	struct lifecycle_exp_view v = {
	    .state = e->state, .searcher_done = e->searcher && searcher_is_done(e->searcher)};
	for (int i = 0; i < e->trials_cap; i++) {
		struct exp_trial *t = e->trials[i];
		v.trials_completed += t && t->state == FSM_COMPLETED;
		v.trials_errored += t && t->state == FSM_ERROR;
		v.trials_live += t && !fsm_is_terminal(t->state);
	}
	struct lifecycle_settlement d = lifecycle_settle(&v);
	if (!d.changed)
		return NULL;
	json_t *row = exp_row_with_searcher(e);
	exp_set_state(row, d.state);
	if (d.progress_done)
		json_object_set_new(row, "progress", json_real(1.0));
	else if (exp_cut_short(d.state))
		json_object_set_new(row, "progress", json_real(exp_work_done(e)));
	return row;
}

/* Send a lifecycle decision's command for job to the resource manager (it queues it:
 * never blocks). */
void exp_rm_command(struct app *a, int64_t id, const char *job, enum lifecycle_rm_command c)
{
	char err[256];
	int rc = 0;
	if (!job || !*job)
		return;
	if (c == LIFECYCLE_RM_HOLD)
		rc = a->rm->ops->hold(a->rm, job, err, sizeof(err));
	else if (c == LIFECYCLE_RM_RELEASE)
		rc = a->rm->ops->release(a->rm, job, err, sizeof(err));
	else if (c == LIFECYCLE_RM_CANCEL)
		rc = a->rm->ops->cancel(a->rm, job, err, sizeof(err));
	if (rc)
		log_msg(&a->log, LOG_LEVEL_WARN, "experiment %lld: %s: %s", (long long)id,
		        lifecycle_rm_command_name(c), err);
}

/* After a committed change: apply the settled row and tell the RM. 0, or -1
 * when the write failed (memory keeps the state before; the ticker retries). */
int exp_settle_and_commit(struct app *a, struct exp_rt *e)
{
	char err[256];
	json_t *row = settle(e);
	if (!row)
		return 0;
	struct store_op op = exp_put("experiments", row);
	if (exp_commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0) {
		enum fsm_state s = exp_state_of(row);
		exp_swap_row(e, row);
		if (fsm_is_terminal(s) && e->rm_job[0])
			a->rm->ops->cancel(a->rm, e->rm_job, err, sizeof(err));
		if (fsm_is_terminal(s)) {
			searcher_free(e->searcher);
			e->searcher = NULL;
			int n = ckpt_gc_experiment(a, e->id, exp_config_of(e),
			                           exp_owner_uid_locked(a, e), err, sizeof(err));
			if (n < 0)
				log_msg(&a->log, LOG_LEVEL_WARN,
				        "experiment %lld: checkpoint gc: %s", (long long)e->id,
				        err);
			else if (n > 0)
				log_msg(
				    &a->log, LOG_LEVEL_INFO,
				    "experiment %lld: %d checkpoints deleted by the save_* policy",
				    (long long)e->id, n);
		}
		log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld is %s", (long long)e->id,
		        fsm_state_name(s));
		return 0;
	}
	json_decref(row);
	return -1;
}

static enum searcher_exit searcher_how(enum fsm_state final, const char *reason)
{
	if (!strcmp(reason, "INVALID_HP"))
		return SEARCHER_EXIT_INVALID_HP;
	if (final == FSM_ERROR)
		return SEARCHER_EXIT_ERRORED;
	if (final == FSM_CANCELED)
		return SEARCHER_EXIT_CANCELED;
	return SEARCHER_EXIT_COMPLETED;
}

/* Finish trial t (copy in trow) in final state: tell the searcher, owe
 * replacements, write trial + allocation + snapshot, swap in. Lock held. */
int exp_finish_trial(struct app *a, struct exp_rt *e, struct exp_trial *trow, enum fsm_state final,
                     char *err, size_t errlen)
{
	json_t *before = e->searcher ? searcher_snapshot(e->searcher) : NULL;
	json_t *erow = NULL, *arow = NULL, *tj = NULL;
	struct store_op ops[3];
	struct exp_alloc *alloc = exp_alloc_of(e, trow->array_task), acopy = {0};
	size_t n = 0;
	int replacement = -1, rv = -1;

	exp_set_trial_state(trow, final);
	if (e->searcher &&
	    searcher_on_exit(e->searcher, trow->trial_index, searcher_how(final, trow->end_reason),
	                     &replacement, err, errlen) != 0)
		log_msg(&a->log, LOG_LEVEL_WARN, "trial %lld: searcher: %s", (long long)trow->id,
		        err);
	tj = exp_trial_row(trow);
	ops[n++] = exp_put("trials", tj);
	struct lifecycle_replacement owed = lifecycle_replacement_owed(
	    replacement, e->state, e->rm_job[0] != 0, !alloc || alloc->pid == 0);
	if (alloc) {
		acopy = *alloc;
		acopy.next_index = (int)owed.next_index;
		arow = exp_alloc_row(e->id, trow->array_task, &acopy);
		ops[n++] = exp_put("allocations", arow);
	}
	erow = exp_row_with_searcher(e);
	ops[n++] = exp_put("experiments", erow);
	if (!tj || (alloc && !arow) || !erow) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (exp_commit(a, e, ops, n, before, err, errlen) == 0) {
		exp_swap_trial(e, trow);
		if (alloc)
			*alloc = acopy;
		exp_swap_row(e, json_incref(erow));
		rv = 0;
		if (owed.requeue) {
			/* The task is gone already: run it again for the replacement. */
			a->rm->ops->requeue(a->rm, e->rm_job, trow->array_task, err, errlen);
		}
	}
out:
	json_decref(before);
	json_decref(erow);
	json_decref(arow);
	json_decref(tj);
	if (rv == 0)
		exp_settle_and_commit(a, e);
	return rv;
}

/* Move every live trial through event ev (experiment-level change). */
void exp_trials_event(struct app *a, struct exp_rt *e, enum fsm_event ev)
{
	struct exp_trial *rows = calloc(e->trials_cap ? (size_t)e->trials_cap : 1, sizeof(*rows));
	struct store_op *ops = calloc(e->trials_cap ? (size_t)e->trials_cap : 1, sizeof(*ops));
	size_t n = 0;
	char err[256];

	if (!rows || !ops)
		goto out;
	for (int i = 0; i < e->trials_cap; i++) {
		struct exp_trial *t = e->trials[i];
		int next = t ? fsm_trial_next(t->state, ev) : -1;
		if (next < 0 || next == (int)t->state)
			continue;
		rows[n] = *t;
		exp_set_trial_state(&rows[n], next);
		ops[n].kind = STORE_PUT;
		ops[n].table = "trials";
		ops[n].row = exp_trial_row(&rows[n]);
		if (!ops[n++].row)
			goto out;
	}
	if (n && exp_commit(a, e, ops, n, NULL, err, sizeof(err)) == 0)
		for (size_t i = 0; i < n; i++)
			exp_swap_trial(e, &rows[i]);
out:
	for (size_t i = 0; ops && i < n; i++)
		json_decref(ops[i].row);
	free(ops);
	free(rows);
}
