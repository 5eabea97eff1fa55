/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading at start: experiments, trials and allocations from the store,
 * searchers restored, tokens renewed, arrays handed back to the manager,
 * lost tasks ended.
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

void exp_free_all(struct app *a)
{
	while (a->exps) {
		struct exp_rt *e = a->exps;
		a->exps = e->next;
		exp_rt_free(e);
	}
	free(a->exps_vec);
	a->exps_vec = NULL;
	a->exps_vec_n = 0;
}

/* One loaded trials row into its experiment's table and the index. 0 or -1. */
static int load_trial(struct app *a, json_t *row, char *err, size_t errlen)
{
	struct exp_rt *e = exp_find_locked(a, exp_iget(row, "experiment_id"));
	if (!e) {
		/* Never skipped: a lost experiment row means a damaged store. */
		snprintf(err, errlen, "trial %lld: its experiment %lld is not in the store",
		         (long long)exp_iget(row, "id"), (long long)exp_iget(row, "experiment_id"));
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
	if (exp_trials_reserve(e, t->trial_index) || exp_index_add(&a->trial_ix, t)) {
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
		if (strcmp(exp_sget(row, "kind"), "trial"))
			continue;
		struct exp_trial *t = exp_index_by_id(&a->trial_ix, exp_iget(row, "trial_id"));
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
	if (strcmp(a->cfg->rm, "local") || !fsm_is_stopping(e->state))
		return;
	for (int i = 0; i < e->nallocs; i++) {
		struct exp_alloc *al = &e->allocs[i];
		struct exp_trial *t = exp_trial_by_index(e, al->trial_index);
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
		exp_on_task_event(a, &ev);
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
		e->id = exp_iget(row, "id");
		e->row = json_incref(row);
		exp_type_row(e);
		e->nallocs = (int)exp_iget(row, "num_tasks");
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
		if (!fsm_is_terminal(exp_state_of(row))) {
			json_t *snap = json_object_get(row, "searcher_snapshot");
			e->searcher = json_is_object(snap) || json_is_array(snap)
			                  ? searcher_restore(exp_config_of(e), snap, err, errlen)
			                  : searcher_new(exp_config_of(e), err, errlen);
			if (!e->searcher) {
				log_msg(&a->log, LOG_LEVEL_ERROR, "experiment %lld: searcher: %s",
				        (long long)e->id, err);
				exp_set_state(e->row, FSM_ERROR);
				exp_type_row(e); /* its state and ended_at */
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
		struct exp_rt *e = exp_find_locked(a, exp_iget(row, "experiment_id"));
		int task = (int)exp_iget(row, "array_task");
		if (e && task >= 0 && task < e->nallocs)
			exp_alloc_from_row(row, &e->allocs[task]);
	}
	for (struct exp_rt *e = a->exps; e; e = e->next) {
		if (fsm_is_terminal(e->state))
			continue;
		if (exp_renew_alloc_token(a, e, err, errlen))
			goto out;
		/* The job from before when there is one (the local RM starts afresh). */
		exp_resubmit_at_start(a, e, exp_sget(e->row, "rm_job_id"), err, errlen);
		end_lost_tasks(a, e);
		exp_settle_and_commit(a, e);
		log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld continues (%s)", (long long)e->id,
		        exp_sget(e->row, "state"));
	}
	rv = 0;
out:
	json_decref(exps);
	json_decref(trials);
	json_decref(allocs);
	return rv;
}
