/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment and trial lifecycle, driven by the searcher and the resource
 * manager, persisted through the store.
 *
 * Main structure: struct exp_rt per experiment (its row, searcher, trials by
 * index, allocations by array task: the C records of exp_trial.h) under the
 * one app lock. Every change is
 * prepared on copies of the rows, written in one store transaction (with the
 * searcher snapshot when the searcher moved), and only then swapped into
 * memory; if the commit fails the searcher is restored from the snapshot
 * taken before. So memory never runs ahead of the database, and a master
 * killed at any point restarts into a state it had acknowledged.
 */
#include "exp.h"

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

#define TICK_MS 100
#define TRIM_TICKS 50 /* 5 s */

/* Failed writes (disk full) are retried every RETRY_TICKS (1 s). */
#define RETRY_TICKS 10

double app_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *sget(json_t *row, const char *k)
{
	const char *s = json_string_value(json_object_get(row, k));
	return s ? s : "";
}

static int64_t iget(json_t *row, const char *k)
{
	json_t *v = json_object_get(row, k);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static enum fsm_state state_of(json_t *row)
{
	int s = fsm_state_parse(sget(row, "state"));
	return s < 0 ? FSM_ERROR : (enum fsm_state)s;
}

static void set_state(json_t *row, int s)
{
	json_object_set_new(row, "state", json_string(fsm_state_name((enum fsm_state)s)));
	if (fsm_is_terminal((enum fsm_state)s))
		json_object_set_new(row, "ended_at", json_real(app_now()));
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

/* The experiment id (lock held); NULL with 404 and err when unknown. */
static struct exp_rt *find_exp(struct app *a, int64_t id, int *status, char *err, size_t errlen)
{
	struct exp_rt *e = exp_find_locked(a, id);
	if (!e) {
		snprintf(err, errlen, "experiment %lld not found", (long long)id);
		*status = 404;
	}
	return e;
}

static struct exp_trial *trial_by_index(struct exp_rt *e, int64_t index)
{
	return index >= 0 && index < e->trials_cap ? e->trials[index] : NULL;
}

static struct exp_alloc *alloc_of(struct exp_rt *e, int task)
{
	return task >= 0 && task < e->nallocs && e->allocs[task].present ? &e->allocs[task] : NULL;
}

/* The allocation of task as a working copy (a fresh one when there is none yet). */
static struct exp_alloc alloc_copy(struct exp_rt *e, int task)
{
	struct exp_alloc *al = alloc_of(e, task);
	struct exp_alloc c = {.present = 1, .trial_index = -1, .next_index = -1};
	return al ? *al : c;
}

/* Trial t's new state; a final one stamps ended_at. */
static void set_trial_state(struct exp_trial *t, int s)
{
	t->state = (enum fsm_state)s;
	if (fsm_is_terminal(t->state))
		t->ended_at = app_now();
}

static json_t *config_of(struct exp_rt *e)
{
	return json_object_get(e->row, "config");
}

/* A store op that upserts a whole row. */
static struct store_op put(const char *table, json_t *row)
{
	return (struct store_op){.kind = STORE_PUT, .table = table, .row = row};
}

/* Put e's searcher back to a snapshot taken before a change that was not committed
 * (snapshot NULL: nothing to undo). */
static void searcher_rollback(struct exp_rt *e, json_t *snapshot_before)
{
	if (!snapshot_before || !e->searcher)
		return;
	char e2[256];
	struct searcher *s = searcher_restore(config_of(e), snapshot_before, e2, sizeof(e2));
	if (s) {
		searcher_free(e->searcher);
		e->searcher = s;
	}
}

/* Write ops; on failure restore the searcher from before (may be NULL). */
static int commit(struct app *a, struct exp_rt *e, struct store_op *ops, size_t n,
                  json_t *snapshot_before, char *err, size_t errlen)
{
	if (store_write(a->store, ops, n, err, errlen) == 0)
		return 0;
	log_msg(&a->log, LOG_LEVEL_ERROR, "experiment %lld: write failed: %s", (long long)e->id,
	        err);
	searcher_rollback(e, snapshot_before);
	return -1;
}

/* Experiment row copy with the searcher's current snapshot and progress. */
static json_t *exp_row_with_searcher(struct exp_rt *e)
{
	json_t *row = json_deep_copy(e->row);
	if (row && e->searcher) {
		json_object_set_new(row, "searcher_snapshot", searcher_snapshot(e->searcher));
		json_object_set_new(row, "progress", json_real(searcher_progress(e->searcher)));
	}
	return row;
}

/* Install an experiment row (reference stolen). The searcher snapshot is
 * only for the database: in memory the live searcher is the truth, and a
 * parsed snapshot of a large experiment would cost megabytes. */
static void swap_row(json_t **slot, json_t *row)
{
	json_decref(*slot);
	*slot = row;
	json_object_del(row, "searcher_snapshot");
}

/* Replace trial (by its index) in memory with row (reference stolen). */
/* Copy a committed working copy of a trial over its record in memory. */
static void swap_trial(struct exp_rt *e, const struct exp_trial *row)
{
	struct exp_trial *live = trial_by_index(e, row->trial_index);
	if (!live)
		return;
	struct exp_trial *chain = live->token_next;
	*live = *row;
	live->token_next = chain;
}

/* Write one trial row (a working copy) and swap it in: 200, or 500 with err. */
static int trial_commit(struct app *a, struct exp_rt *e, const struct exp_trial *row, char *err,
                        size_t errlen)
{
	json_t *j = exp_trial_row(row);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	struct store_op op = put("trials", j);
	int rc = commit(a, e, &op, 1, NULL, err, errlen);
	json_decref(j);
	if (rc)
		return 500;
	swap_trial(e, row);
	return 200;
}

/* Settle the experiment (lifecycle_settle): searcher done → STOPPING_COMPLETED; stopping
 * and nothing live → final state. Returns a new row when the state changed. */
static json_t *settle(struct exp_rt *e)
{
	struct lifecycle_exp_view v = {.state = state_of(e->row),
	                               .searcher_done =
	                                   e->searcher && searcher_is_done(e->searcher)};
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
	set_state(row, d.state);
	if (d.progress_done)
		json_object_set_new(row, "progress", json_real(1.0));
	return row;
}

/* Send a lifecycle decision's command for job to the resource manager (it queues it:
 * never blocks). */
static void rm_command(struct app *a, int64_t id, const char *job, enum lifecycle_rm_command c)
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
static int settle_and_commit(struct app *a, struct exp_rt *e)
{
	char err[256];
	json_t *row = settle(e);
	if (!row)
		return 0;
	struct store_op op = put("experiments", row);
	if (commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0) {
		enum fsm_state s = state_of(row);
		swap_row(&e->row, row);
		if (fsm_is_terminal(s) && e->rm_job[0])
			a->rm->ops->cancel(a->rm, e->rm_job, err, sizeof(err));
		if (fsm_is_terminal(s)) {
			searcher_free(e->searcher);
			e->searcher = NULL;
			int n = ckpt_gc_experiment(a, e->id, config_of(e),
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
static int finish_trial(struct app *a, struct exp_rt *e, struct exp_trial *trow,
                        enum fsm_state final, char *err, size_t errlen)
{
	json_t *before = e->searcher ? searcher_snapshot(e->searcher) : NULL;
	json_t *erow = NULL, *arow = NULL, *tj = NULL;
	struct store_op ops[3];
	struct exp_alloc *alloc = alloc_of(e, trow->array_task), acopy = {0};
	size_t n = 0;
	int replacement = -1, rv = -1;

	set_trial_state(trow, final);
	if (e->searcher &&
	    searcher_on_exit(e->searcher, trow->trial_index, searcher_how(final, trow->end_reason),
	                     &replacement, err, errlen) != 0)
		log_msg(&a->log, LOG_LEVEL_WARN, "trial %lld: searcher: %s", (long long)trow->id,
		        err);
	tj = exp_trial_row(trow);
	ops[n++] = put("trials", tj);
	if (alloc) {
		acopy = *alloc;
		acopy.next_index = replacement >= 0 ? replacement : -1;
		arow = exp_alloc_row(e->id, trow->array_task, &acopy);
		ops[n++] = put("allocations", arow);
	}
	erow = exp_row_with_searcher(e);
	ops[n++] = put("experiments", erow);
	if (!tj || (alloc && !arow) || !erow) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (commit(a, e, ops, n, before, err, errlen) == 0) {
		swap_trial(e, trow);
		if (alloc)
			*alloc = acopy;
		swap_row(&e->row, json_incref(erow));
		rv = 0;
		if (replacement >= 0 && state_of(e->row) == FSM_ACTIVE && e->rm_job[0] &&
		    (!alloc || acopy.pid == 0)) {
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
		settle_and_commit(a, e);
	return rv;
}

/* Move every live trial through event ev (experiment-level change). */
static void trials_event(struct app *a, struct exp_rt *e, enum fsm_event ev)
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
		set_trial_state(&rows[n], next);
		ops[n].kind = STORE_PUT;
		ops[n].table = "trials";
		ops[n].row = exp_trial_row(&rows[n]);
		if (!ops[n++].row)
			goto out;
	}
	if (n && commit(a, e, ops, n, NULL, err, sizeof(err)) == 0)
		for (size_t i = 0; i < n; i++)
			swap_trial(e, &rows[i]);
out:
	for (size_t i = 0; ops && i < n; i++)
		json_decref(ops[i].row);
	free(ops);
	free(rows);
}

int exp_user_event(struct app *a, int64_t id, enum fsm_event ev, char *err, size_t errlen)
{
	int status = 200;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = find_exp(a, id, &status, err, errlen);
	if (!e)
		goto out;
	enum fsm_state from = state_of(e->row);
	struct lifecycle_user_decision d = lifecycle_user_event(from, ev);
	if (!d.allowed) {
		snprintf(err, errlen, "cannot %s an experiment that is %s", fsm_event_name(ev),
		         fsm_state_name(from));
		status = 409;
		goto out;
	}
	json_t *row = json_deep_copy(e->row);
	set_state(row, d.to);
	struct store_op op = put("experiments", row);
	if (commit(a, e, &op, 1, NULL, err, errlen)) {
		json_decref(row);
		status = 500;
		goto out;
	}
	swap_row(&e->row, row);
	log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld: %s → %s", (long long)id,
	        fsm_event_name(ev), fsm_state_name(d.to));
	trials_event(a, e, ev);
	rm_command(a, id, e->rm_job, d.rm);
	settle_and_commit(a, e);
	http_server_wake(a->http);
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}

int exp_set_archived(struct app *a, int64_t id, int archived, char *err, size_t errlen)
{
	int status = 200;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = find_exp(a, id, &status, err, errlen);
	if (!e) {
		/* not found */
	} else if (!fsm_is_terminal(state_of(e->row))) {
		snprintf(err, errlen, "experiment %lld is %s: only finished experiments can be %s",
		         (long long)id, sget(e->row, "state"),
		         archived ? "archived" : "unarchived");
		status = 409;
	} else {
		json_t *row = json_pack("{s:I, s:b}", "id", (json_int_t)id, "archived", archived);
		struct store_op op = {.kind = STORE_UPDATE, .table = "experiments", .row = row};
		if (commit(a, e, &op, 1, NULL, err, errlen) == 0)
			json_object_set_new(e->row, "archived", json_boolean(archived));
		else
			status = 500;
		json_decref(row);
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

static void exp_rt_free(struct exp_rt *e)
{
	if (!e)
		return;
	json_decref(e->row);
	for (int i = 0; i < e->trials_cap; i++)
		exp_trial_free(e->trials[i]);
	free(e->trials);
	free(e->allocs);
	searcher_free(e->searcher);
	free(e);
}

int exp_delete(struct app *a, int64_t id, char *err, size_t errlen)
{
	int status = 200;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = find_exp(a, id, &status, err, errlen);
	if (!e)
		goto out;
	if (!fsm_is_terminal(state_of(e->row))) {
		snprintf(err, errlen, "experiment %lld is %s: cancel or kill it first",
		         (long long)id, sget(e->row, "state"));
		status = 409;
		goto out;
	}
	json_t *key = json_pack("{s:I}", "id", (json_int_t)id);
	json_t *tkey = json_pack("{s:I}", "experiment_id", (json_int_t)id);
	struct store_op ops[] = {
	    {.kind = STORE_DELETE, .table = "tokens", .row = tkey},
	    {.kind = STORE_DELETE, .table = "experiments", .row = key},
	};
	if (commit(a, e, ops, 2, NULL, err, errlen) == 0) {
		const char *k;
		json_t *t;
		void *tmp;
		for (int i = 0; i < e->trials_cap; i++)
			if (e->trials[i])
				exp_index_remove(&a->trial_ix, e->trials[i]);
		json_object_foreach_safe (a->tokens, tmp, k, t) {
			if (iget(t, "experiment_id") == id)
				json_object_del(a->tokens, k);
		}
		for (struct exp_rt **pp = &a->exps; *pp; pp = &(*pp)->next) {
			if (*pp == e) {
				*pp = e->next;
				break;
			}
		}
		exp_rt_free(e);
	} else {
		status = 500;
	}
	json_decref(key);
	json_decref(tkey);
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}

/* ---- creation ---------------------------------------------------------- */

static json_t *diags_json(const struct expconf_diags *d)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < d->count; i++) {
		const struct expconf_diag *g = &d->items[i];
		json_array_append_new(
		    arr, json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "file",
		                   d->file ? d->file : "config", "line", g->line, "column",
		                   g->column, "path", g->path ? g->path : "", "severity",
		                   g->severity == EXPCONF_ERROR ? "error" : "warning", "message",
		                   g->message ? g->message : ""));
	}
	return arr;
}

/* Parse and normalize; pick a seed when absent. *diag_out gets diagnostics on 400. */
static json_t *parse_config(const char *yaml, size_t ylen, char *err, size_t errlen,
                            json_t **diag_out)
{
	struct expconf_diags d = {0};
	struct expconf *c = expconf_parse(yaml, ylen, "config.yaml", &d);
	json_t *conf = NULL;

	if (!c) {
		size_t off = 0;
		off += (size_t)snprintf(err, errlen, "invalid experiment config");
		for (size_t i = 0; i < d.count && off < errlen; i++) {
			if (d.items[i].severity != EXPCONF_ERROR)
				continue;
			off += (size_t)snprintf(err + off, errlen - off, "\n%s:%d:%d: %s: %s",
			                        d.file ? d.file : "config.yaml", d.items[i].line,
			                        d.items[i].column, d.items[i].path,
			                        d.items[i].message);
		}
		if (diag_out)
			*diag_out = diags_json(&d);
		expconf_diags_free(&d);
		return NULL;
	}
	conf = json_deep_copy(expconf_json(c));
	expconf_free(c);
	expconf_diags_free(&d);
	if (!conf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_t *repro = json_object_get(conf, "reproducibility");
	if (!json_is_object(repro)) {
		repro = json_object();
		json_object_set_new(conf, "reproducibility", repro);
	}
	if (!json_is_integer(json_object_get(repro, "experiment_seed"))) {
		uint32_t seed = 0;
		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			seed = (uint32_t)time(NULL);
		json_object_set_new(repro, "experiment_seed", json_integer(seed & 0x7fffffff));
	}
	return conf;
}

int exp_preview(const char *yaml, size_t ylen, json_t **out, char *err, size_t errlen)
{
	json_t *conf = parse_config(yaml, ylen, err, errlen, NULL);
	if (!conf)
		return 400;
	struct searcher *s = searcher_new(conf, err, errlen);
	if (!s) {
		json_decref(conf);
		return 400;
	}
	*out = searcher_preview(s, err, errlen);
	searcher_free(s);
	json_decref(conf);
	return *out ? 200 : 400;
}

/* The Unix uid of the experiment's owner, -1 when unknown (lock held). */
static long owner_uid(struct app *a, struct exp_rt *e)
{
	const char *k;
	json_t *u;
	json_object_foreach (a->users, k, u) {
		if (iget(u, "id") == iget(e->row, "owner_id"))
			return json_is_integer(json_object_get(u, "uid")) ? (long)iget(u, "uid")
			                                                  : -1;
	}
	return -1;
}

/* The Unix uid of det user user_id, -1 when it has none (lock held). */
static long user_uid_locked(struct app *a, int64_t user_id)
{
	const char *k;
	json_t *u;
	json_object_foreach (a->users, k, u) {
		if (iget(u, "id") == user_id)
			return json_is_integer(json_object_get(u, "uid")) ? (long)iget(u, "uid")
			                                                  : -1;
	}
	return -1;
}

long exp_owner_uid_locked(struct app *a, struct exp_rt *e)
{
	return user_uid_locked(a, iget(e->row, "owner_id"));
}

/* May an experiment of this config, owned by Unix uid (-1: none), keep checkpoints where
 * it says? The path rules of ckpt_path.h, judged as the owner (with only the admin's
 * roots for an owner without a Unix account: no file work is done for those). 0, or -1
 * with err naming the key. Forks: call it without the lock. */
static int storage_allowed(struct app *a, const json_t *conf, long uid, char *err, size_t errlen)
{
	const json_t *cs = json_object_get(conf, "checkpoint_storage");
	const char *key = json_object_get(cs, "storage_path") ? "checkpoint_storage.storage_path"
	                  : json_object_get(cs, "host_path")  ? "checkpoint_storage.host_path"
	                                                      : "checkpoint_storage (the master's)";
	char dir[PATH_MAX], why[1024];
	struct ckpt_owner o;

	if (ckpt_path_dir(conf, a->cfg->checkpoint_storage, dir, sizeof(dir), err, errlen))
		return -1;
	if (ckpt_owner_lookup(uid, &o, why, sizeof(why))) {
		o.drop = 0;
		o.home[0] = '\0';
	}
	if (ckpt_owner_check(
	        &o, a->cfg->storage_roots,
	        json_string_value(json_object_get(a->cfg->checkpoint_storage, "host_path")), dir,
	        why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", key, why);
		return -1;
	}
	return 0;
}

/* The array spec of e (skip and pids may be NULL). */
static struct rm_array array_of(struct app *a, struct exp_rt *e, unsigned char *skip, int *pids)
{
	json_t *res = json_object_get(config_of(e), "resources");
	return (struct rm_array){
	    .experiment_id = e->id,
	    .num_tasks = (int)iget(e->row, "num_tasks"),
	    .max_concurrent = (int)iget(e->row, "max_concurrent"),
	    .slots_per_trial = (int)iget(res, "slots_per_trial"),
	    .master_url = a->master_url,
	    .alloc_token = e->alloc_token,
	    .skip = skip,
	    .adopt_ids = pids,
	    .owner_uid = owner_uid(a, e),
	    .config = config_of(e),
	};
}

/* An array submission, prepared under the lock and run without it: it holds copies of
 * all the resource manager reads, so the experiment may change (or go) meanwhile. */
struct exp_submission {
	int64_t experiment_id;
	int num_tasks, max_concurrent, slots_per_trial;
	long owner_uid;
	unsigned char *skip; /* tasks already finished */
	int *running_ids;    /* tasks running from before: pids (local) or job ids (Slurm) */
	int64_t *starts;     /* their start times */
	json_t *config;      /* a copy of the experiment's config */
	char alloc_token[80];
	char existing[160]; /* the job from before, when has_existing */
	int has_existing, check_owner;
	char job[160]; /* the manager's id for the array, once run */
};

static void submission_free(struct exp_submission *s)
{
	free(s->skip);
	free(s->running_ids);
	free(s->starts);
	json_decref(s->config);
	memset(s, 0, sizeof(*s));
}

/* Copy what submitting e's array needs (lock held): a new submission, or (existing)
 * the job that runs it already (after a restart, or submitted by the user). */
static int submission_prepare(struct app *a, struct exp_rt *e, int first_time, const char *existing,
                              struct exp_submission *s, char *err, size_t errlen)
{
	int n = (int)iget(e->row, "num_tasks");
	memset(s, 0, sizeof(*s));
	s->skip = calloc((size_t)n + 1, 1);
	s->running_ids = calloc((size_t)n + 1, sizeof(int));
	s->starts = calloc((size_t)n + 1, sizeof(*s->starts));
	s->config = json_deep_copy(config_of(e));
	if (!s->skip || !s->running_ids || !s->starts || (config_of(e) && !s->config)) {
		snprintf(err, errlen, "out of memory");
		submission_free(s);
		return -1;
	}
	for (int i = 0; !first_time && i < n; i++) {
		struct exp_alloc *al = alloc_of(e, i);
		if (!al)
			continue;
		s->running_ids[i] = (int)al->pid;
		s->starts[i] = al->pid_start;
		struct exp_trial *t = trial_by_index(e, al->trial_index);
		if (t && fsm_is_terminal(t->state) && al->next_index < 0)
			s->skip[i] = 1;
	}
	struct rm_array spec = array_of(a, e, NULL, NULL);
	s->experiment_id = e->id;
	s->num_tasks = spec.num_tasks;
	s->max_concurrent = spec.max_concurrent;
	s->slots_per_trial = spec.slots_per_trial;
	s->owner_uid = spec.owner_uid;
	snprintf(s->alloc_token, sizeof(s->alloc_token), "%s", e->alloc_token);
	snprintf(s->existing, sizeof(s->existing), "%s", existing ? existing : "");
	s->has_existing = existing != NULL;
	s->check_owner = first_time && existing;
	return 0;
}

/* Hand the array to the resource manager (may wait on slurmctld: call it without the
 * lock, except at start before anything is served); s->job gets its id. */
static int submission_run(struct app *a, struct exp_submission *s, char *err, size_t errlen)
{
	struct rm_array spec = {
	    .experiment_id = s->experiment_id,
	    .num_tasks = s->num_tasks,
	    .max_concurrent = s->max_concurrent,
	    .slots_per_trial = s->slots_per_trial,
	    .master_url = a->master_url,
	    .alloc_token = s->alloc_token,
	    .skip = s->skip,
	    .adopt_ids = s->running_ids,
	    .adopt_starts = s->starts,
	    .existing_job = s->has_existing ? s->existing : NULL,
	    .check_owner = s->check_owner,
	    .owner_uid = s->owner_uid,
	    .config = s->config,
	};
	if (a->rm->ops->submit_array(a->rm, &spec, s->job, sizeof(s->job), err, errlen)) {
		log_msg(&a->log, LOG_LEVEL_ERROR, "experiment %lld: submit: %s",
		        (long long)s->experiment_id, err);
		return -1;
	}
	return 0;
}

/* Record a submitted array in e (lock held; e NULL when it was deleted meanwhile). An
 * experiment that ended or was killed while its array was submitted has it canceled
 * (the manager queues that: it never blocks), one paused meanwhile has it held. */
static void submission_record(struct app *a, struct exp_rt *e, const struct exp_submission *s)
{
	char err[256];
	struct lifecycle_submitted d = lifecycle_array_submitted(e != NULL, e && e->rm_job[0],
	                                                         e ? state_of(e->row) : FSM_ERROR);
	if (!d.record) {
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "experiment %lld: %s meanwhile: its job %s is canceled",
		        (long long)s->experiment_id, e ? "another job was registered" : "deleted",
		        s->job);
		rm_command(a, s->experiment_id, s->job, d.rm);
		return;
	}
	snprintf(e->rm_job, sizeof(e->rm_job), "%s", s->job);
	if (strcmp(sget(e->row, "rm_job_id"), e->rm_job)) {
		/* Recorded at once: a restarted master must find the same job. */
		json_t *row =
		    json_pack("{s:I, s:s}", "id", (json_int_t)e->id, "rm_job_id", e->rm_job);
		struct store_op op = {.kind = STORE_UPDATE, .table = "experiments", .row = row};
		if (commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0)
			json_object_set_new(e->row, "rm_job_id", json_string(e->rm_job));
		json_decref(row);
	}
	rm_command(a, e->id, e->rm_job, d.rm);
}

/* At start only (lock held, nothing served yet): hand e's array to the manager again. */
static int resubmit_at_start(struct app *a, struct exp_rt *e, const char *existing, char *err,
                             size_t errlen)
{
	struct exp_submission s;
	int rv = -1;
	if (submission_prepare(a, e, 0, existing, &s, err, errlen))
		return -1;
	if (submission_run(a, &s, err, errlen) == 0) {
		submission_record(a, e, &s);
		rv = 0;
	}
	submission_free(&s);
	return rv;
}

int exp_register_job(struct app *a, const struct principal *p, int64_t id, const char *job,
                     char *err, size_t errlen)
{
	struct exp_submission s = {0};
	int status = 200;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = find_exp(a, id, &status, err, errlen);
	if (!e) {
		/* not found */
	} else if (!authz_allowed(p, AUTHZ_EXP_REGISTER_JOB, iget(e->row, "owner_id"))) {
		snprintf(err, errlen, "experiment %lld belongs to another user", (long long)id);
		status = 403;
	} else if (e->rm_job[0] || e->submitting || fsm_is_terminal(state_of(e->row))) {
		snprintf(err, errlen, "experiment %lld is %s", (long long)id,
		         e->rm_job[0] || e->submitting ? "submitted already" : "over");
		status = 409;
	} else if (submission_prepare(a, e, 1, job, &s, err, errlen)) {
		status = 500;
	} else {
		e->submitting = 1;
	}
	pthread_mutex_unlock(&a->lock);
	if (status != 200)
		return status;
	/* Checking the job asks slurmctld: without the lock. */
	int rc = submission_run(a, &s, err, errlen);
	pthread_mutex_lock(&a->lock);
	e = exp_find_locked(a, id);
	if (e)
		e->submitting = 0;
	if (rc) {
		status = 400;
	} else {
		submission_record(a, e, &s);
		log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld: %s submitted job %s",
		        (long long)id, p->name, s.job);
	}
	pthread_mutex_unlock(&a->lock);
	submission_free(&s);
	return status;
}

/* The master's submission of a new experiment's array failed (lock held): nothing would
 * ever run it, so it ends in ERROR unless a user ended it meanwhile. */
static void submission_failed(struct app *a, struct exp_rt *e)
{
	char err[256];
	if (!e || fsm_is_terminal(state_of(e->row)))
		return;
	json_t *row = json_deep_copy(e->row);
	set_state(row, FSM_ERROR);
	struct store_op op = put("experiments", row);
	if (commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0)
		swap_row(&e->row, row);
	else
		json_decref(row);
	searcher_free(e->searcher);
	e->searcher = NULL;
}

int exp_create(struct app *a, const struct principal *p, const char *yaml, size_t ylen,
               const void *model, size_t mlen, int activate, int client_submits, json_t **out,
               char *err, size_t errlen)
{
	json_t *diags = NULL, *conf = parse_config(yaml, ylen, err, errlen, &diags);
	struct exp_rt *e = NULL;
	char token[AUTH_TOKEN_CHARS + 1], hash[AUTH_TOKEN_CHARS + 1];
	json_t *trow = NULL;
	int status = 400;

	json_decref(diags);
	if (!conf)
		return 400;
	pthread_mutex_lock(&a->lock);
	long uid = user_uid_locked(a, p->user_id);
	pthread_mutex_unlock(&a->lock);
	if (storage_allowed(a, conf, uid, err, errlen))
		goto fail;
	if (client_submits && !a->rm->ops->plan) {
		snprintf(err, errlen, "submit: the %s resource manager submits by itself",
		         a->rm->ops->name);
		goto fail;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		status = 500;
		goto fail;
	}
	e->searcher = searcher_new(conf, err, errlen);
	if (!e->searcher)
		goto fail;
	if (auth_new_token(token, sizeof(token), err, errlen)) {
		status = 500;
		goto fail;
	}
	auth_token_hash(token, hash);
	snprintf(e->alloc_token, sizeof(e->alloc_token), "%s", token);
	const char *name = json_string_value(json_object_get(conf, "name"));
	json_t *labels = json_object_get(conf, "labels");
	pthread_mutex_lock(&a->lock);
	e->id = a->next_exp_id++;
	e->nallocs = searcher_trial_count(e->searcher);
	e->allocs = calloc(e->nallocs > 0 ? (size_t)e->nallocs : 1, sizeof(*e->allocs));
	e->row =
	    json_pack("{s:I, s:I, s:s, s:s, s:b, s:O, s:s%, s:o, s:O, s:i, s:i, s:f, s:f, s:n}",
	              "id", (json_int_t)e->id, "owner_id", (json_int_t)p->user_id, "name",
	              name ? name : "experiment", "state", activate ? "ACTIVE" : "PAUSED",
	              "archived", 0, "config", conf, "config_yaml", yaml, ylen, "searcher_snapshot",
	              searcher_snapshot(e->searcher), "labels", labels ? labels : json_array(),
	              "num_tasks", searcher_trial_count(e->searcher), "max_concurrent",
	              searcher_max_concurrent(e->searcher), "progress", 0.0, "created_at",
	              app_now(), "alloc_token");
	trow = json_pack("{s:s, s:s, s:I, s:I, s:f}", "token", hash, "kind", "allocation",
	                 "user_id", (json_int_t)p->user_id, "experiment_id", (json_int_t)e->id,
	                 "created_at", app_now());
	if (!e->row || !trow || !e->allocs) {
		pthread_mutex_unlock(&a->lock);
		snprintf(err, errlen, "out of memory");
		status = 500;
		goto fail;
	}
	struct store_op ops[] = {
	    {.kind = STORE_PUT,
	     .table = "experiments",
	     .row = e->row,
	     .blob = model,
	     .blob_len = mlen,
	     .blob_col = "model_def"},
	    put("tokens", trow),
	};
	if (store_write(a->store, ops, 2, err, errlen)) {
		pthread_mutex_unlock(&a->lock);
		status = 500;
		goto fail;
	}
	json_object_set(a->tokens, hash, trow);
	e->next = a->exps;
	a->exps = e;
	struct rm_array spec = array_of(a, e, NULL, NULL);
	json_t *plan = client_submits ? a->rm->ops->plan(a->rm, &spec, err, errlen) : NULL;
	struct exp_submission sub = {0};
	int64_t id = e->id;
	int ntasks = (int)iget(e->row, "num_tasks"), nconc = (int)iget(e->row, "max_concurrent");
	int rc = 0;
	if (!client_submits) {
		rc = submission_prepare(a, e, 1, NULL, &sub, err, errlen);
		e->submitting = !rc;
	}
	*out = exp_view_locked(e, 0);
	if (plan)
		json_object_set_new(*out, "submit_plan", plan);
	else if (client_submits)
		json_object_set_new(*out, "submit_error", json_string(err));
	pthread_mutex_unlock(&a->lock);
	e = NULL; /* from here on found again by id: it may change or go meanwhile */
	if (!client_submits) {
		/* Submitting may wait on slurmctld: without the lock. */
		if (rc == 0)
			rc = submission_run(a, &sub, err, errlen);
		pthread_mutex_lock(&a->lock);
		e = exp_find_locked(a, id);
		if (e)
			e->submitting = 0;
		if (rc) {
			submission_failed(a, e);
		} else {
			submission_record(a, e, &sub);
			if (e) {
				json_decref(*out);
				*out = exp_view_locked(e, 0);
			}
		}
		pthread_mutex_unlock(&a->lock);
		submission_free(&sub);
	}
	json_decref(trow);
	json_decref(conf);
	if (rc) {
		/* The caller hears why. */
		char why[512];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "experiment %lld could not be submitted: %s", (long long)id,
		         why);
		json_decref(*out);
		*out = NULL;
		return 400;
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld created by %s: %d trials, %d at once",
	        (long long)id, p->name, ntasks, nconc);
	return 200;
fail:
	json_decref(trow);
	json_decref(conf);
	exp_rt_free(e);
	return status;
}

/* ---- claim --------------------------------------------------------------- */

/* The claim answer; token is the trial's token as the task will present it. */
static json_t *claim_reply(struct app *a, struct exp_rt *e, const struct exp_trial *t,
                           const char *token, int task)
{
	if (a->rm->ops->label)
		a->rm->ops->label(a->rm, e->id, task, t->id);
	json_t *conf = config_of(e);
	json_t *srch = json_object_get(conf, "searcher");
	json_t *res = json_object_get(conf, "resources");
	json_t *env =
	    json_object_get(json_object_get(conf, "environment"), "environment_variables");
	char dir[PATH_MAX], err[512];

	if (ckpt_path_dir(conf, a->cfg->checkpoint_storage, dir, sizeof(dir), err, sizeof(err))) {
		log_msg(&a->log, LOG_LEVEL_WARN, "experiment %lld: %s", (long long)e->id, err);
		return NULL;
	}
	int idx = t->trial_index;
	json_t *hp = json_loads(t->hparams ? t->hparams : "{}", 0, NULL);
	if (!hp)
		return NULL;
	return json_pack(
	    "{s:I, s:i, s:I, s:i, s:o, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:s, s:O, s:I, s:s,"
	    " s:O, s:O, s:O}",
	    "trial_id", (json_int_t)t->id, "trial_index", idx, "experiment_id", (json_int_t)e->id,
	    "array_task", task, "hparams", hp, "trial_seed", (json_int_t)t->seed, "token",
	    token ? json_string(token) : json_null(), "latest_checkpoint",
	    t->latest_checkpoint[0] ? json_string(t->latest_checkpoint) : json_null(),
	    "steps_completed", (json_int_t)t->steps_completed, "restarts", (json_int_t)t->restarts,
	    "max_restarts", (json_int_t)iget(conf, "max_restarts"), "length",
	    (json_int_t)(e->searcher ? searcher_trial_length(e->searcher, idx) : 0), "time_unit",
	    e->searcher ? searcher_time_unit(e->searcher) : "batches", "entrypoint",
	    json_object_get(conf, "entrypoint"), "slots_per_trial",
	    (json_int_t)(iget(res, "slots_per_trial") > 0 ? iget(res, "slots_per_trial") : 1),
	    "checkpoint_dir", dir, "environment_variables", env ? env : json_array(),
	    "searcher_metric", json_object_get(srch, "metric"), "smaller_is_better",
	    json_object_get(srch, "smaller_is_better") ? json_object_get(srch, "smaller_is_better")
	                                               : json_true());
}

/* Make room for trial index idx in e->trials. 0 or -1. */
static int trials_reserve(struct exp_rt *e, int idx)
{
	if (idx < e->trials_cap)
		return 0;
	int n = e->trials_cap ? e->trials_cap : 16;
	while (n <= idx)
		n *= 2;
	struct exp_trial **p = realloc(e->trials, (size_t)n * sizeof(*p));
	if (!p)
		return -1;
	memset(p + e->trials_cap, 0, (size_t)(n - e->trials_cap) * sizeof(*p));
	e->trials = p;
	e->trials_cap = n;
	return 0;
}

/* A brand-new trial of index idx for task. */
static int new_trial(struct app *a, struct exp_rt *e, int task, int idx, json_t **out, char *err,
                     size_t errlen)
{
	json_t *before = searcher_snapshot(e->searcher);
	json_t *hp = NULL, *trow = NULL, *tok = NULL, *arow = NULL;
	struct exp_trial *t = NULL;
	char token[AUTH_TOKEN_CHARS + 1];
	int status = 500, indexed = 0;

	if (searcher_on_claim(e->searcher, idx, err, errlen))
		goto fail;
	hp = searcher_trial_hparams(e->searcher, idx, err, errlen);
	if (!hp)
		goto fail;
	t = calloc(1, sizeof(*t));
	if (!t || idx < 0 || trials_reserve(e, idx)) {
		snprintf(err, errlen, "trial index %d: out of memory", idx);
		goto fail;
	}
	if (auth_new_token(token, sizeof(token), err, errlen))
		goto fail;
	auth_token_hash(token, t->token); /* the store and the index hold only the hash */
	snprintf(t->secret, sizeof(t->secret), "%s", token);
	t->id = a->next_trial_id;
	t->exp = e;
	t->trial_index = idx;
	t->array_task = task;
	t->state = FSM_ACTIVE;
	t->hparams = json_dumps(hp, JSON_COMPACT);
	t->seed = searcher_trial_seed(e->searcher, idx);
	t->created_at = app_now();
	trow = t->hparams ? exp_trial_row(t) : NULL;
	tok = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f}", "token", t->token, "kind", "trial",
	                "user_id", (json_int_t)iget(e->row, "owner_id"), "experiment_id",
	                (json_int_t)e->id, "trial_id", (json_int_t)t->id, "created_at", app_now());
	struct exp_alloc acopy = alloc_copy(e, task);
	acopy.trial_index = idx;
	acopy.next_index = -1;
	acopy.state = EXP_ALLOC_RUNNING;
	arow = exp_alloc_row(e->id, task, &acopy);
	if (!trow || !tok || !arow || exp_index_add(&a->trial_ix, t)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	indexed = 1;
	/* The claim's effect on the searcher is recorded by the trial row itself
	 * (exp_load_all replays searcher_on_claim for every trial row), so the
	 * snapshot, which grows with the trial count, is not rewritten here. */
	struct store_op ops[] = {put("trials", trow), put("tokens", tok), put("allocations", arow)};
	if (commit(a, e, ops, 3, NULL, err, errlen))
		goto fail;
	a->next_trial_id++;
	if (e->trials[idx]) {
		exp_index_remove(&a->trial_ix, e->trials[idx]);
		exp_trial_free(e->trials[idx]);
	}
	e->trials[idx] = t;
	if (task >= 0 && task < e->nallocs)
		e->allocs[task] = acopy;
	*out = claim_reply(a, e, t, token, task);
	t = NULL;
	status = 200;
fail:
	if (t && indexed)
		exp_index_remove(&a->trial_ix, t);
	exp_trial_free(t);
	if (status != 200)
		searcher_rollback(e, before); /* any failure, the commit's included */
	json_decref(before);
	json_decref(hp);
	json_decref(trow);
	json_decref(tok);
	json_decref(arow);
	return status;
}

/* A trial restarted after a master restart gets a new token: the store keeps
 * only hashes, so the old one cannot be handed out again; it stops working.
 * 0 or -1 with err. */
static int rotate_trial_token(struct app *a, struct exp_rt *e, struct exp_trial *t, char *err,
                              size_t errlen)
{
	char out[AUTH_TOKEN_CHARS + 1], hash[AUTH_TOKEN_CHARS + 1];
	json_t *key = NULL, *row = NULL;
	int rv = -1;

	if (auth_new_token(out, AUTH_TOKEN_CHARS + 1, err, errlen))
		goto fail;
	auth_token_hash(out, hash);
	key = json_pack("{s:I}", "trial_id", (json_int_t)t->id);
	row = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f}", "token", hash, "kind", "trial", "user_id",
	                (json_int_t)iget(e->row, "owner_id"), "experiment_id", (json_int_t)e->id,
	                "trial_id", (json_int_t)t->id, "created_at", app_now());
	if (!key || !row) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct store_op ops[] = {{.kind = STORE_DELETE, .table = "tokens", .row = key},
	                         put("tokens", row)};
	if (commit(a, e, ops, 2, NULL, err, errlen))
		goto fail;
	exp_index_remove(&a->trial_ix, t);
	snprintf(t->token, sizeof(t->token), "%s", hash);
	snprintf(t->secret, sizeof(t->secret), "%s", out);
	if (exp_index_add(&a->trial_ix, t)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rv = 0;
fail:
	json_decref(key);
	json_decref(row);
	return rv;
}

/* An unfinished experiment loaded from the store gets a fresh allocation
 * token for the tasks it submits from now on (the store keeps only hashes;
 * tasks still running hold the old one, which stays valid). 0 or -1. */
static int renew_alloc_token(struct app *a, struct exp_rt *e, char *err, size_t errlen)
{
	char token[AUTH_TOKEN_CHARS + 1], hash[AUTH_TOKEN_CHARS + 1];
	json_t *row = NULL;
	int rv = -1;

	if (auth_new_token(token, sizeof(token), err, errlen))
		goto fail;
	auth_token_hash(token, hash);
	row = json_pack("{s:s, s:s, s:I, s:I, s:f}", "token", hash, "kind", "allocation", "user_id",
	                (json_int_t)iget(e->row, "owner_id"), "experiment_id", (json_int_t)e->id,
	                "created_at", app_now());
	if (!row) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct store_op op = put("tokens", row);
	if (commit(a, e, &op, 1, NULL, err, errlen))
		goto fail;
	if (json_object_set(a->tokens, hash, row)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	snprintf(e->alloc_token, sizeof(e->alloc_token), "%s", token);
	rv = 0;
fail:
	json_decref(row);
	return rv;
}

int exp_claim(struct app *a, int64_t id, int task, json_t **out, char *err, size_t errlen)
{
	int status = 200;

	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = find_exp(a, id, &status, err, errlen);
	if (!e)
		goto out;
	if (task < 0 || task >= iget(e->row, "num_tasks")) {
		snprintf(err, errlen, "array_task %d out of range 0..%lld", task,
		         (long long)iget(e->row, "num_tasks") - 1);
		status = 400;
		goto out;
	}
	enum fsm_state es = state_of(e->row);
	if (es == FSM_PAUSED) {
		snprintf(err, errlen, "experiment %lld is paused", (long long)id);
		status = 409;
		goto out;
	}
	if (es != FSM_ACTIVE || !e->searcher) {
		*out = json_pack("{s:b}", "done", 1);
		goto out;
	}
	struct exp_alloc *al = alloc_of(e, task);
	struct exp_trial *cur = al ? trial_by_index(e, al->trial_index) : NULL;
	if (!cur) {
		status = new_trial(a, e, task, task, out, err, errlen);
		goto out;
	}
	enum fsm_state ts = cur->state;
	if (fsm_is_terminal(ts)) {
		if (al->next_index >= 0)
			status = new_trial(a, e, task, al->next_index, out, err, errlen);
		else
			*out = json_pack("{s:b}", "done", 1);
		goto out;
	}
	if (fsm_is_stopping(ts)) {
		/* It was told to stop: the restarted task has nothing to run. */
		struct exp_trial row = *cur;
		finish_trial(a, e, &row, (enum fsm_state)fsm_trial_next(ts, FSM_EV_ENDED), err,
		             errlen);
		*out = json_pack("{s:b}", "done", 1);
		goto out;
	}
	/* A restart of the current trial (after a preemption it is not counted). */
	struct exp_trial row = *cur;
	if (!row.preempted)
		row.restarts++;
	row.preempted = 0;
	set_trial_state(&row, FSM_ACTIVE);
	status = trial_commit(a, e, &row, err, errlen);
	if (status == 200 && !cur->secret[0] && rotate_trial_token(a, e, cur, err, errlen))
		status = 500;
	if (status == 200)
		*out = claim_reply(a, e, cur, cur->secret, task);
	if (status == 200 && !*out) {
		snprintf(err, errlen, "out of memory");
		status = 500;
	}
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}

/* ---- trial-side reports ---------------------------------------------------- */

/* The trial trial_id, ended or not (404 when unknown). */
static struct exp_trial *find_trial(struct app *a, int64_t trial_id, struct exp_rt **e, int *status,
                                    char *err, size_t errlen)
{
	struct exp_trial *t = exp_trial_locked(a, trial_id, e);
	if (!t) {
		snprintf(err, errlen, "trial %lld not found", (long long)trial_id);
		*status = 404;
	}
	return t;
}

/* find_trial, and one that has not ended yet (409 otherwise): metrics go only there. */
static struct exp_trial *open_trial(struct app *a, int64_t trial_id, struct exp_rt **e, int *status,
                                    char *err, size_t errlen)
{
	struct exp_trial *t = find_trial(a, trial_id, e, status, err, errlen);
	if (t && fsm_is_terminal(t->state)) {
		snprintf(err, errlen, "trial %lld is %s", (long long)trial_id,
		         fsm_state_name(t->state));
		*status = 409;
		return NULL;
	}
	return t;
}

static void signals_of(struct exp_rt *e, const struct exp_trial *t, int *stop, int *preempt)
{
	enum fsm_state ts = t->state;
	*stop = fsm_is_stopping(ts) || fsm_is_terminal(ts);
	*preempt = ts == FSM_PAUSED || state_of(e->row) == FSM_PAUSED;
}

int exp_training_begin(struct app *a, int64_t trial_id, int64_t steps, json_t *metrics,
                       struct exp_training *w, char *err, size_t errlen)
{
	int status = 200;
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
	w->mrow = json_pack("{s:I, s:s, s:I, s:O, s:f}", "trial_id", (json_int_t)trial_id, "grp",
	                    "training", "steps_completed", (json_int_t)steps, "body", metrics,
	                    "created_at", app_now());
	w->trow = json_pack("{s:I, s:I}", "id", (json_int_t)trial_id, "steps_completed",
	                    (json_int_t)new_steps);
	if (!w->mrow || !w->trow) {
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	w->ops[0] = (struct store_op){.kind = STORE_INSERT, .table = "metrics", .row = w->mrow};
	w->ops[1] = (struct store_op){.kind = STORE_UPDATE, .table = "trials", .row = w->trow};
	return 200;
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}

int exp_training_end(struct app *a, struct exp_training *w, int rv, const char *commit_err,
                     int *stop, int *preempt, char *err, size_t errlen)
{
	struct exp_rt *e = NULL;

	if (rv) {
		if (err != commit_err)
			snprintf(err, errlen, "%s", commit_err);
		return 500;
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
	return 200;
}

void exp_training_free(struct exp_training *w)
{
	json_decref(w->mrow);
	json_decref(w->trow);
	w->mrow = w->trow = NULL;
}

int exp_report_metrics(struct app *a, int64_t trial_id, const char *group, int64_t steps,
                       json_t *metrics, json_t **out, char *err, size_t errlen)
{
	int status = 200, stop, preempt;
	struct exp_rt *e = NULL;
	json_t *before = NULL, *erow = NULL, *mrow = NULL, *tj = NULL;

	if (strcmp(group, "validation")) {
		/* Training metrics do not touch the searcher: committed without the lock. */
		struct exp_training w;
		status = exp_training_begin(a, trial_id, steps, metrics, &w, err, errlen);
		if (status == 200) {
			int rv = store_write(a->store, w.ops, 2, err, errlen);
			status = exp_training_end(a, &w, rv, err, &stop, &preempt, err, errlen);
			if (status == 200)
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
		status = 500;
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
			status = 400;
			goto out;
		}
		json_t *srch = json_object_get(config_of(e), "searcher");
		json_t *mv = json_object_get(metrics, sget(srch, "metric"));
		if (json_is_number(mv)) {
			double v = json_number_value(mv);
			int smaller = !json_is_false(json_object_get(srch, "smaller_is_better"));
			if (!t->has_best || (smaller ? v < t->best_metric : v > t->best_metric)) {
				full.has_best = 1;
				full.best_metric = v;
			}
		}
	}
	if (d == SEARCHER_STOP) {
		int next = fsm_trial_next(full.state, FSM_EV_DONE);
		if (next >= 0)
			set_trial_state(&full, next);
	}
	erow = exp_row_with_searcher(e);
	tj = exp_trial_row(&full);
	if (!erow || !tj) {
		snprintf(err, errlen, "out of memory");
		status = 500;
		goto out;
	}
	struct store_op ops[] = {{.kind = STORE_INSERT, .table = "metrics", .row = mrow},
	                         put("trials", tj),
	                         put("experiments", erow)};
	if (commit(a, e, ops, 3, before, err, errlen)) {
		status = 500;
		goto out;
	}
	swap_trial(e, &full);
	swap_row(&e->row, json_incref(erow));
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

/* May trial_id register uuid: unknown, or already this trial's (a retry)? 200, 409 when
 * another trial's or experiment's row has it, 500 on a store error. */
static int uuid_free_for(struct app *a, const char *uuid, int64_t trial_id, char *err,
                         size_t errlen)
{
	char why[256] = "";
	json_t *row = store_checkpoint(a->store, uuid, why, sizeof(why));
	int status = 200;

	if (!row && why[0]) {
		snprintf(err, errlen, "checkpoint %s: %s", uuid, why);
		status = 500;
	} else if (row && iget(row, "trial_id") != trial_id) {
		snprintf(
		    err, errlen,
		    "uuid %s: already registered by trial %lld of experiment %lld; a checkpoint "
		    "needs a uuid of its own",
		    uuid, (long long)iget(row, "trial_id"), (long long)iget(row, "experiment_id"));
		status = 409;
	}
	json_decref(row);
	return status;
}

int exp_report_checkpoint(struct app *a, int64_t trial_id, const char *uuid, int64_t steps,
                          json_t *metadata, json_t *files, char *err, size_t errlen)
{
	int status = 200;
	struct exp_rt *e = NULL;
	char path[4096];
	json_t *crow = NULL, *tj = NULL;

	if (strlen(uuid) >= EXP_TRIAL_CKPT_MAX) {
		snprintf(err, errlen, "uuid: at most %d characters", EXP_TRIAL_CKPT_MAX - 1);
		return 400;
	}
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	if (!t)
		goto out;
	char dir[PATH_MAX];
	if (ckpt_path_dir(config_of(e), a->cfg->checkpoint_storage, dir, sizeof(dir), err,
	                  errlen) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, uuid) >= (int)sizeof(path)) {
		status = 400;
		goto out;
	}
	/* Under the lock, so two registrations of one new uuid cannot both pass. */
	status = uuid_free_for(a, uuid, trial_id, err, errlen);
	if (status != 200)
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
		status = 500;
		goto out;
	}
	struct store_op ops[] = {put("checkpoints", crow), put("trials", tj)};
	if (commit(a, e, ops, 2, NULL, err, errlen))
		status = 500;
	else
		swap_trial(e, &row);
out:
	pthread_mutex_unlock(&a->lock);
	json_decref(crow);
	json_decref(tj);
	return status;
}

int exp_report_logs(struct app *a, int64_t trial_id, json_t *logs, char *err, size_t errlen)
{
	int status = 200;
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
		status = 500;
		goto out;
	}
	json_array_foreach (logs, i, l) {
		json_t *r = json_pack(
		    "{s:I, s:I, s:O, s:O, s:O}", "trial_id", (json_int_t)trial_id, "rank",
		    (json_int_t)iget(l, "rank"), "stream", json_object_get(l, "stream"), "ts",
		    json_object_get(l, "timestamp"), "line", json_object_get(l, "line"));
		json_array_append_new(rows, r);
		ops[i] = (struct store_op){.kind = STORE_INSERT, .table = "logs", .row = r};
	}
	if (n && store_write(a->store, ops, n, err, errlen))
		status = 500;
	if (n)
		http_server_wake(a->http);
out:
	free(ops);
	json_decref(rows);
	return status;
}

/* Set progress or the end reason of a known trial (ended or not) and commit. */
static int update_known_trial(struct app *a, int64_t trial_id, const double *progress,
                              const char *reason, char *err, size_t errlen)
{
	int status = 200;
	struct exp_rt *e = NULL;
	if (reason && strlen(reason) >= EXP_TRIAL_REASON_MAX) {
		snprintf(err, errlen, "reason: at most %d characters", EXP_TRIAL_REASON_MAX - 1);
		return 400;
	}
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	if (t) {
		struct exp_trial row = *t;
		if (progress)
			row.progress = *progress;
		if (reason)
			snprintf(row.end_reason, sizeof(row.end_reason), "%s", reason);
		status = trial_commit(a, e, &row, err, errlen);
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

int exp_report_progress(struct app *a, int64_t trial_id, double progress, char *err, size_t errlen)
{
	return update_known_trial(a, trial_id, &progress, NULL, err, errlen);
}

int exp_report_early_exit(struct app *a, int64_t trial_id, const char *reason, char *err,
                          size_t errlen)
{
	return update_known_trial(a, trial_id, NULL, reason, err, errlen);
}

int exp_report_exit(struct app *a, int64_t trial_id, int exit_code, int sig, json_t **out,
                    char *err, size_t errlen)
{
	int status = 200, restart = 0;
	struct exp_rt *e = NULL;

	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	if (!t)
		goto out;
	struct exp_trial row = *t;
	enum fsm_state ts = row.state;
	const char *reason = t->end_reason;
	int failed = exit_code != 0 || sig != 0;
	row.has_exit_code = 1;
	row.exit_code = sig ? 128 + sig : exit_code;
	if (fsm_is_terminal(ts)) {
		/* Already settled (a second exit report): nothing changes. */
	} else if (ts == FSM_PAUSED) {
		/* Preempted by a pause: it resumes on the next claim. */
		row.preempted = 1;
		status = trial_commit(a, e, &row, err, errlen);
	} else if (!strcmp(reason, "INVALID_HP") || !strcmp(reason, "ERRORED")) {
		finish_trial(a, e, &row, FSM_ERROR, err, errlen);
	} else if (!failed || !strcmp(reason, "USER_REQUESTED_STOP")) {
		int next = fsm_trial_next(ts, FSM_EV_ENDED);
		finish_trial(a, e, &row, next >= 0 ? (enum fsm_state)next : FSM_COMPLETED, err,
		             errlen);
	} else {
		struct lifecycle_trial_view v = {ts, state_of(e->row), row.restarts,
		                                 iget(config_of(e), "max_restarts"), row.preempted};
		struct lifecycle_decision d = lifecycle_restart_or_fail(&v, LIFECYCLE_EV_CRASHED);
		if (d.action == LIFECYCLE_RESTART) {
			row.restarts = d.restarts;
			status = trial_commit(a, e, &row, err, errlen);
			restart = status == 200;
		} else {
			snprintf(row.end_reason, sizeof(row.end_reason), "%s", "ERRORED");
			finish_trial(a, e, &row, d.end_state, err, errlen);
		}
	}
	t = exp_trial_locked(a, trial_id, &e);
	if (status == 200 && t) {
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

int exp_trial_kill(struct app *a, int64_t trial_id, char *err, size_t errlen)
{
	int status = 200;
	struct exp_rt *e = NULL;
	pthread_mutex_lock(&a->lock);
	struct exp_trial *t = find_trial(a, trial_id, &e, &status, err, errlen);
	if (t) {
		int next = fsm_trial_next(t->state, FSM_EV_KILL);
		if (next < 0) {
			snprintf(err, errlen, "trial %lld is %s", (long long)trial_id,
			         fsm_state_name(t->state));
			status = 409;
		} else {
			struct exp_trial row = *t;
			row.state = (enum fsm_state)next;
			status = trial_commit(a, e, &row, err, errlen);
			/* A trial that never ran again (paused) ends now. */
			struct exp_alloc *al = alloc_of(e, t->array_task);
			if (status == 200 && al && al->pid == 0 && al->state == EXP_ALLOC_ENDED) {
				row = *t;
				finish_trial(a, e, &row, FSM_CANCELED, err, errlen);
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

/* ---- views ------------------------------------------------------------------ */

json_t *exp_view_locked(struct exp_rt *e, int with_config)
{
	json_t *v = json_deep_copy(e->row);
	int done = 0, running = 0, n = 0, best_idx = -1;
	double best = 0;

	json_object_del(v, "alloc_token");
	json_object_del(v, "searcher_snapshot");
	json_object_set_new(v, "archived",
	                    json_boolean(json_is_true(json_object_get(e->row, "archived")) ||
	                                 iget(e->row, "archived")));
	if (!with_config) {
		json_object_del(v, "config");
		json_object_del(v, "config_yaml");
	}
	for (int i = 0; i < e->trials_cap; i++) {
		struct exp_trial *t = e->trials[i];
		if (!t)
			continue;
		n++;
		done += fsm_is_terminal(t->state);
		running += !fsm_is_terminal(t->state) && t->state != FSM_PAUSED;
	}
	json_t *srch = json_object_get(json_object_get(e->row, "config"), "searcher");
	json_object_set_new(v, "searcher_metric", json_string(sget(srch, "metric")));
	if (e->searcher && searcher_best(e->searcher, &best, &best_idx) == 0 && best_idx >= 0) {
		json_object_set_new(v, "best_metric", json_real(best));
		json_object_set_new(v, "best_trial_index", json_integer(best_idx));
	} else {
		/* After the searcher is gone: from the trials' rows. */
		int smaller = !json_is_false(json_object_get(srch, "smaller_is_better"));
		const struct exp_trial *bt = NULL;
		for (int i = 0; i < e->trials_cap; i++) {
			const struct exp_trial *t = e->trials[i];
			if (t && t->has_best &&
			    (!bt || (smaller ? t->best_metric < bt->best_metric
			                     : t->best_metric > bt->best_metric)))
				bt = t;
		}
		json_object_set_new(v, "best_metric",
		                    bt ? json_real(bt->best_metric) : json_null());
	}
	int64_t total = iget(e->row, "num_tasks");
	json_object_set_new(v, "trials_total", json_integer(total > n ? total : n));
	json_object_set_new(v, "trials_completed", json_integer(done));
	json_object_set_new(v, "trials_running", json_integer(running));
	json_object_set_new(
	    v, "trials_queued",
	    json_integer(total - n > 0 && !fsm_is_terminal(state_of(e->row)) ? total - n : 0));
	return v;
}

/* ---- resource manager events and start-up -------------------------------------- */

static void task_failed_early(struct app *a, struct exp_rt *e, struct exp_alloc *al,
                              const struct rm_task_event *ev);

/* Apply one task event. 0, or -1 when a write failed: nothing of the event
 * that failed is in memory, and applying it again later is safe (the ticker
 * retries, in order). */
static int on_task_event(struct app *a, const struct rm_task_event *ev)
{
	char err[256];
	int rv = 0;
	struct exp_rt *e = exp_find_locked(a, ev->experiment_id);
	if (!e)
		return 0;
	if (ev->array_task < 0 || ev->array_task >= e->nallocs) {
		log_msg(&a->log, LOG_LEVEL_WARN, "experiment %lld: event of unknown task %d",
		        (long long)e->id, ev->array_task);
		return 0;
	}
	struct exp_alloc arow = alloc_copy(e, ev->array_task);
	if (ev->kind == RM_TASK_STARTED) {
		arow.pid = ev->pid;
		arow.pid_start = ev->pid_start;
		arow.state = EXP_ALLOC_RUNNING;
	} else {
		arow.pid = 0;
		arow.pid_start = 0;
		arow.state = ev->requeued ? EXP_ALLOC_PENDING : EXP_ALLOC_ENDED;
		arow.has_exit_status = 1;
		arow.exit_status = ev->wait_status;
	}
	json_t *aj = exp_alloc_row(e->id, ev->array_task, &arow);
	struct store_op op = put("allocations", aj);
	int rc = aj ? commit(a, e, &op, 1, NULL, err, sizeof(err)) : -1;
	json_decref(aj);
	if (rc)
		return -1;
	struct exp_alloc *al = &e->allocs[ev->array_task];
	*al = arow;
	if (ev->kind != RM_TASK_ENDED)
		return 0;
	if (ev->canceled && !fsm_is_terminal(state_of(e->row)) &&
	    !fsm_is_stopping(state_of(e->row))) {
		/* Canceled in Slurm (scancel): the experiment stops. */
		log_msg(&a->log, LOG_LEVEL_WARN, "experiment %lld: task %d canceled outside det",
		        (long long)e->id, ev->array_task);
		pthread_mutex_unlock(&a->lock);
		int status = exp_user_event(a, e->id, FSM_EV_KILL, err, sizeof(err));
		pthread_mutex_lock(&a->lock);
		e = exp_find_locked(a, ev->experiment_id);
		if (!e || ev->array_task >= e->nallocs)
			return 0;
		if (status >= 500)
			return -1;
		al = &e->allocs[ev->array_task];
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld task %d ended (status %d)",
	        (long long)e->id, ev->array_task, ev->wait_status);
	/* The task ended with its trial still live: the launcher died without an exit report. */
	struct exp_trial *t = trial_by_index(e, al->trial_index);
	struct lifecycle_decision d = {LIFECYCLE_NONE, 0, 0, FSM_ERROR};
	if (t) {
		struct lifecycle_trial_view v = {t->state, state_of(e->row), t->restarts,
		                                 iget(config_of(e), "max_restarts"), t->preempted};
		d = lifecycle_restart_or_fail(&v, ev->requeued ? LIFECYCLE_EV_REQUEUED
		                                               : LIFECYCLE_EV_TASK_LOST);
	}
	if (d.action == LIFECYCLE_PREEMPTED) {
		/* Requeued by the manager (scontrol requeue, node failure, preemption):
		 * the next claim resumes the trial without counting a restart. */
		struct exp_trial row = *t;
		row.preempted = d.preempted;
		if (trial_commit(a, e, &row, err, sizeof(err)) != 200)
			rv = -1;
	} else if (d.action == LIFECYCLE_REQUEUE) {
		a->rm->ops->requeue(a->rm, e->rm_job, ev->array_task, err, sizeof(err));
	} else if (d.action == LIFECYCLE_WAIT) {
		/* resumes on activate */
	} else if (d.action == LIFECYCLE_FAIL) {
		struct exp_trial row = *t;
		if (!row.end_reason[0])
			snprintf(row.end_reason, sizeof(row.end_reason), "%s", "TASK_EXITED");
		if (finish_trial(a, e, &row, d.end_state, err, sizeof(err)))
			rv = -1;
	} else if (t && al->next_index >= 0 && state_of(e->row) == FSM_ACTIVE) {
		a->rm->ops->requeue(a->rm, e->rm_job, ev->array_task, err, sizeof(err));
	} else if (!t && ev->wait_status != 0 && !ev->requeued && state_of(e->row) == FSM_ACTIVE) {
		task_failed_early(a, e, al, ev);
	}
	settle_and_commit(a, e); /* a failure here is retried by the ticker's reconcile */
	http_server_wake(a->http);
	return rv;
}

/* A task that exited without claiming anything: the launcher cannot run.
 * Retry up to max_restarts times, then the experiment errors out. */
static void task_failed_early(struct app *a, struct exp_rt *e, struct exp_alloc *al,
                              const struct rm_task_event *ev)
{
	char err[256];
	int64_t failures = al->failures + 1;
	json_t *upd = json_pack("{s:I, s:i, s:I}", "experiment_id", (json_int_t)e->id, "array_task",
	                        ev->array_task, "failures", (json_int_t)failures);
	struct store_op op = {.kind = STORE_UPDATE, .table = "allocations", .row = upd};
	if (upd && commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0)
		al->failures = failures;
	json_decref(upd);
	if (failures <= iget(config_of(e), "max_restarts")) {
		a->rm->ops->requeue(a->rm, e->rm_job, ev->array_task, err, sizeof(err));
		return;
	}
	log_msg(&a->log, LOG_LEVEL_ERROR,
	        "experiment %lld: task %d failed %lld times before claiming a trial (status %d)",
	        (long long)e->id, ev->array_task, (long long)failures, ev->wait_status);
	json_t *row = json_deep_copy(e->row);
	set_state(row, fsm_experiment_next(FSM_ACTIVE, FSM_EV_FAIL));
	op = put("experiments", row);
	if (commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0) {
		swap_row(&e->row, row);
		trials_event(a, e, FSM_EV_KILL);
		a->rm->ops->cancel(a->rm, e->rm_job, err, sizeof(err));
	} else {
		json_decref(row);
	}
}

/* Task events whose writes failed (disk full): the ticker's own, applied
 * again in arrival order until the store takes them. */
struct event_queue {
	struct rm_task_event *ev;
	size_t n, cap;
};

/* Apply events; once one fails, it and every later one wait in q. Lock held. */
static void apply_events(struct app *a, struct event_queue *q, const struct rm_task_event *ev,
                         int n)
{
	for (int i = 0; i < n; i++) {
		if (q->n == 0 && on_task_event(a, &ev[i]) == 0)
			continue;
		if (q->n == q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 64;
			struct rm_task_event *grown = realloc(q->ev, cap * sizeof(*grown));
			if (!grown) {
				log_msg(&a->log, LOG_LEVEL_ERROR,
				        "experiment %lld task %d: event lost (out of memory)",
				        (long long)ev[i].experiment_id, ev[i].array_task);
				continue;
			}
			q->ev = grown;
			q->cap = cap;
		}
		q->ev[q->n++] = ev[i];
	}
}

/* Apply the waiting events in order, up to the first that fails again. Lock held. */
static void retry_events(struct app *a, struct event_queue *q)
{
	size_t done = 0;
	while (done < q->n && on_task_event(a, &q->ev[done]) == 0)
		done++;
	memmove(q->ev, q->ev + done, (q->n - done) * sizeof(*q->ev));
	q->n -= done;
	if (done)
		log_msg(&a->log, LOG_LEVEL_INFO, "%zu delayed task events applied, %zu waiting",
		        done, q->n);
}

/* Settle every live experiment again: an experiment whose settling write
 * failed must not stay ACTIVE or STOPPING_* with nothing left to run.
 * 0 when every write went through. Lock held. */
static int reconcile(struct app *a)
{
	int rv = 0;
	for (struct exp_rt *e = a->exps; e; e = e->next)
		if (!fsm_is_terminal(state_of(e->row)) && settle_and_commit(a, e))
			rv = -1;
	return rv;
}

static void *ticker_main(void *arg)
{
	struct app *a = arg;
	struct rm_task_event ev[64];
	unsigned long ticks = 0;
	uint64_t last_batches = 0, batches, ops;
	uint64_t last_failures = 0, failures;
	double commit_s;
	int trim_due = 0, reconcile_due = 1; /* once at start: settles start-up could not write */
	struct event_queue waiting = {0};

	for (;;) {
		pthread_mutex_lock(&a->lock);
		int stop = a->stopping;
		pthread_mutex_unlock(&a->lock);
		if (stop)
			break;
		if ((waiting.n || reconcile_due) && ticks % RETRY_TICKS == 0) {
			pthread_mutex_lock(&a->lock);
			retry_events(a, &waiting);
			if (!waiting.n && reconcile_due)
				reconcile_due = reconcile(a) != 0;
			pthread_mutex_unlock(&a->lock);
		}
		int n = a->rm->ops->poll(a->rm, ev, 64);
		if (n > 0) {
			pthread_mutex_lock(&a->lock);
			apply_events(a, &waiting, ev, n);
			pthread_mutex_unlock(&a->lock);
		}
		failures = store_write_failures(a->store);
		if (failures != last_failures)
			reconcile_due = 1;
		last_failures = failures;
		if (n < 64) {
			struct timespec ts = {0, TICK_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
		/* Bursts of requests leave freed heap behind in every thread's
		 * arena; hand it back to the system now and then, at a moment
		 * without commits (a trim holds each arena's lock while it
		 * returns pages, which would stall requests in flight). */
		if (++ticks % TRIM_TICKS == 0)
			trim_due = 1;
		store_stats(a->store, &batches, &ops, &commit_s);
		if (trim_due && batches == last_batches) {
			malloc_trim(0);
			trim_due = 0;
		}
		last_batches = batches;
	}
	if (waiting.n)
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "%zu task events were never written (database unavailable)", waiting.n);
	free(waiting.ev);
	return NULL;
}

int exp_ticker_start(struct app *a, char *err, size_t errlen)
{
	if (pthread_create(&a->ticker, NULL, ticker_main, a) != 0) {
		snprintf(err, errlen, "cannot start the scheduler thread");
		return -1;
	}
	a->ticker_started = 1;
	return 0;
}

void exp_ticker_stop(struct app *a)
{
	pthread_mutex_lock(&a->lock);
	a->stopping = 1;
	pthread_mutex_unlock(&a->lock);
	if (a->ticker_started)
		pthread_join(a->ticker, NULL);
	a->ticker_started = 0;
}

void exp_free_all(struct app *a)
{
	while (a->exps) {
		struct exp_rt *e = a->exps;
		a->exps = e->next;
		exp_rt_free(e);
	}
}

/* One loaded trials row into its experiment's table and the index. 0 or -1. */
static int load_trial(struct app *a, json_t *row, char *err, size_t errlen)
{
	struct exp_rt *e = exp_find_locked(a, iget(row, "experiment_id"));
	if (!e) {
		/* Never skipped: a lost experiment row means a damaged store. */
		snprintf(err, errlen, "trial %lld: its experiment %lld is not in the store",
		         (long long)iget(row, "id"), (long long)iget(row, "experiment_id"));
		return -1;
	}
	struct exp_trial *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (exp_trial_from_row(row, t, err, errlen))
		goto fail;
	if (t->trial_index < 0 || t->id <= 0) {
		snprintf(err, errlen, "trial %lld: bad id or trial index", (long long)t->id);
		goto fail;
	}
	if (trials_reserve(e, t->trial_index) || exp_index_add(&a->trial_ix, t)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	t->exp = e;
	if (e->trials[t->trial_index]) {
		exp_index_remove(&a->trial_ix, e->trials[t->trial_index]);
		exp_trial_free(e->trials[t->trial_index]);
	}
	e->trials[t->trial_index] = t;
	/* Claims are not in the snapshot: the trial rows are their record. */
	if (e->searcher && searcher_on_claim(e->searcher, t->trial_index, err, errlen))
		log_msg(&a->log, LOG_LEVEL_WARN, "experiment %lld: replaying claim: %s",
		        (long long)e->id, err);
	if (t->id >= a->next_trial_id)
		a->next_trial_id = t->id + 1;
	return 0;
fail:
	exp_trial_free(t);
	return -1;
}

/* Move each trial's token from the token table into its trial record. 0 or -1. */
static int adopt_trial_tokens(struct app *a, char *err, size_t errlen)
{
	const char *tk;
	json_t *row;
	void *tmp;
	json_object_foreach_safe (a->tokens, tmp, tk, row) {
		if (strcmp(sget(row, "kind"), "trial"))
			continue;
		struct exp_trial *t = exp_index_by_id(&a->trial_ix, iget(row, "trial_id"));
		if (!t || t->token[0] || strlen(tk) >= sizeof(t->token))
			continue; /* stays a plain token */
		exp_index_remove(&a->trial_ix, t);
		snprintf(t->token, sizeof(t->token), "%s", tk);
		if (exp_index_add(&a->trial_ix, t)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		json_object_del(a->tokens, tk);
	}
	return 0;
}

/* At start, a stopping experiment under the local manager: its tasks never
 * run again, so a live trial whose recorded process is gone (its end was not
 * written before the last stop, e.g. on a full disk) ends now, through the
 * same path as a task that ended. Lock held. */
static void end_lost_tasks(struct app *a, struct exp_rt *e)
{
	if (strcmp(a->cfg->rm, "local") || !fsm_is_stopping(state_of(e->row)))
		return;
	for (int i = 0; i < e->nallocs; i++) {
		struct exp_alloc *al = &e->allocs[i];
		struct exp_trial *t = trial_by_index(e, al->trial_index);
		if (!t || fsm_is_terminal(t->state) ||
		    (al->pid > 0 && (kill((pid_t)al->pid, 0) == 0 || errno == EPERM)))
			continue;
		struct rm_task_event ev = {.kind = RM_TASK_ENDED,
		                           .experiment_id = e->id,
		                           .array_task = i,
		                           .wait_status = -1};
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "experiment %lld task %d: its process is gone, its trial %lld ends",
		        (long long)e->id, i, (long long)t->id);
		on_task_event(a, &ev);
	}
}

int exp_load_all(struct app *a, char *err, size_t errlen)
{
	json_t *exps = store_load_table(a->store, "experiments", err, errlen);
	json_t *trials = exps ? store_load_table(a->store, "trials", err, errlen) : NULL;
	json_t *allocs = trials ? store_load_table(a->store, "allocations", err, errlen) : NULL;
	size_t i;
	json_t *row;
	int rv = -1;

	if (!allocs)
		goto out;
	a->next_exp_id = 1;
	a->next_trial_id = 1;
	json_array_foreach (exps, i, row) {
		struct exp_rt *e = calloc(1, sizeof(*e));
		if (!e)
			goto out;
		e->id = iget(row, "id");
		e->row = json_incref(row);
		e->nallocs = (int)iget(row, "num_tasks");
		e->allocs = calloc(e->nallocs > 0 ? (size_t)e->nallocs : 1, sizeof(*e->allocs));
		snprintf(e->rm_job, sizeof(e->rm_job), "%s", "");
		/* Newest first, like creation order in memory. */
		e->next = a->exps;
		a->exps = e;
		if (!e->allocs) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (e->id >= a->next_exp_id)
			a->next_exp_id = e->id + 1;
		if (!fsm_is_terminal(state_of(row))) {
			json_t *snap = json_object_get(row, "searcher_snapshot");
			e->searcher = json_is_object(snap) || json_is_array(snap)
			                  ? searcher_restore(config_of(e), snap, err, errlen)
			                  : searcher_new(config_of(e), err, errlen);
			if (!e->searcher) {
				log_msg(&a->log, LOG_LEVEL_ERROR, "experiment %lld: searcher: %s",
				        (long long)e->id, err);
				set_state(e->row, FSM_ERROR);
			}
		}
		json_object_del(e->row, "searcher_snapshot");
	}
	/* The rows' JSON is freed as they are converted: the table is large. */
	json_array_foreach (trials, i, row) {
		if (load_trial(a, row, err, errlen))
			goto out;
		json_array_set_new(trials, i, json_null());
	}
	if (adopt_trial_tokens(a, err, errlen))
		goto out;
	json_array_foreach (allocs, i, row) {
		struct exp_rt *e = exp_find_locked(a, iget(row, "experiment_id"));
		int task = (int)iget(row, "array_task");
		if (e && task >= 0 && task < e->nallocs)
			exp_alloc_from_row(row, &e->allocs[task]);
	}
	for (struct exp_rt *e = a->exps; e; e = e->next) {
		if (fsm_is_terminal(state_of(e->row)))
			continue;
		if (renew_alloc_token(a, e, err, errlen))
			goto out;
		/* The job from before when there is one (the local RM starts afresh). */
		resubmit_at_start(a, e, sget(e->row, "rm_job_id"), err, errlen);
		end_lost_tasks(a, e);
		settle_and_commit(a, e);
		log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld continues (%s)", (long long)e->id,
		        sget(e->row, "state"));
	}
	rv = 0;
out:
	json_decref(exps);
	json_decref(trials);
	json_decref(allocs);
	return rv;
}
