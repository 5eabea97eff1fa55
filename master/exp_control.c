/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shell entry points for users: pause/activate/cancel/kill
 * (lifecycle_user_event), archive, delete.
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

enum exp_status exp_user_event(struct app *a, int64_t id, enum fsm_event ev, char *err,
                               size_t errlen)
{
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find(a, id, &status, err, errlen);
	if (!e)
		goto out;
	enum fsm_state from = e->state;
	struct lifecycle_user_decision d = lifecycle_user_event(from, ev);
	if (!d.allowed) {
		snprintf(err, errlen, "cannot %s an experiment that is %s", fsm_event_name(ev),
		         fsm_state_name(from));
		status = EXP_CONFLICT;
		goto out;
	}
	json_t *row = json_deep_copy(e->row);
	exp_set_state(row, d.to);
	struct store_op op = exp_put("experiments", row);
	if (exp_commit(a, e, &op, 1, NULL, err, errlen)) {
		json_decref(row);
		status = EXP_INTERNAL;
		goto out;
	}
	exp_swap_row(e, row);
	log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld: %s → %s", (long long)id,
	        fsm_event_name(ev), fsm_state_name(d.to));
	exp_trials_event(a, e, ev);
	exp_rm_command(a, id, e->rm_job, d.rm);
	exp_settle_and_commit(a, e);
	http_server_wake(a->http);
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}

enum exp_status exp_set_archived(struct app *a, int64_t id, int archived, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find(a, id, &status, err, errlen);
	if (!e) {
		/* not found */
	} else if (!fsm_is_terminal(e->state)) {
		snprintf(err, errlen, "experiment %lld is %s: only finished experiments can be %s",
		         (long long)id, fsm_state_name(e->state),
		         archived ? "archived" : "unarchived");
		status = EXP_CONFLICT;
	} else {
		json_t *row = json_pack("{s:I, s:b}", "id", (json_int_t)id, "archived", archived);
		struct store_op op = {.kind = STORE_UPDATE, .table = "experiments", .row = row};
		if (exp_commit(a, e, &op, 1, NULL, err, errlen) == 0) {
			json_object_set_new(e->row, "archived", json_boolean(archived));
			e->archived = !!archived;
		} else
			status = EXP_INTERNAL;
		json_decref(row);
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

void exp_rt_free(struct exp_rt *e)
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

void exp_forget_locked(struct app *a, struct exp_rt *e)
{
	const char *k;
	json_t *t;
	void *tmp;
	for (int i = 0; i < e->trials_cap; i++)
		if (e->trials[i])
			exp_index_remove(&a->trial_ix, e->trials[i]);
	json_object_foreach_safe (a->tokens, tmp, k, t) {
		if (exp_iget(t, "experiment_id") == e->id)
			json_object_del(a->tokens, k);
	}
	for (struct exp_rt **pp = &a->exps; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			a->exps_vec_stale = 1;
			break;
		}
	}
	exp_rt_free(e);
}

enum exp_status exp_delete(struct app *a, int64_t id, char *err, size_t errlen)
{
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find(a, id, &status, err, errlen);
	if (!e)
		goto out;
	if (!fsm_is_terminal(e->state)) {
		snprintf(err, errlen, "experiment %lld is %s: cancel or kill it first",
		         (long long)id, fsm_state_name(e->state));
		status = EXP_CONFLICT;
		goto out;
	}
	json_t *key = json_pack("{s:I}", "id", (json_int_t)id);
	json_t *tkey = json_pack("{s:I}", "experiment_id", (json_int_t)id);
	struct store_op ops[] = {
	    {.kind = STORE_DELETE, .table = "tokens", .row = tkey},
	    {.kind = STORE_DELETE, .table = "experiments", .row = key},
	};
	if (exp_commit(a, e, ops, 2, NULL, err, errlen) == 0) {
		exp_forget_locked(a, e);
	} else {
		status = EXP_INTERNAL;
	}
	json_decref(key);
	json_decref(tkey);
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}
