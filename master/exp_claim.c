/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Claims: an array task asks which trial to run; a new trial, a
 * restart or a resume, with its token.
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
#include "master_config.h"
#include "searcher.h"

/* ---- claim --------------------------------------------------------------- */

/* The claim answer; token is the trial's token as the task will present it. */
static json_t *claim_reply(struct app *a, struct exp_rt *e, const struct exp_trial *t,
                           const char *token, int task)
{
	if (a->rm->ops->label)
		a->rm->ops->label(a->rm, e->id, task, t->id);
	json_t *conf = exp_config_of(e);
	json_t *srch = json_object_get(conf, "searcher");
	json_t *res = json_object_get(conf, "resources");
	/* environment_variables per slot type; det-launch picks its own slot type's list
	 * (the top-level list, the cpu one, is for launchers that do not look further) */
	json_t *envconf = json_object_get(conf, "environment");
	json_t *env = json_object_get(envconf, "environment_variables");
	if (json_is_object(env)) /* configs stored before per-slot lists hold one list */
		env = json_object_get(env, "cpu");
	char dir[PATH_MAX], err[512];

	if (ckpt_path_dir(conf, a->cfg->checkpoint_storage, dir, sizeof(dir), err, sizeof(err))) {
		log_msg(&a->log, LOG_LEVEL_WARN, "experiment %lld: %s", (long long)e->id, err);
		return NULL;
	}
	int idx = t->trial_index;
	json_t *hp = json_loads(t->hparams ? t->hparams : "{}", 0, NULL);
	if (!hp)
		return NULL;
	json_t *reply = json_pack(
	    "{s:I, s:i, s:I, s:i, s:o, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:s, s:O, s:I, s:s,"
	    " s:O, s:O, s:O}",
	    "trial_id", (json_int_t)t->id, "trial_index", idx, "experiment_id", (json_int_t)e->id,
	    "array_task", task, "hparams", hp, "trial_seed", (json_int_t)t->seed, "token",
	    token ? json_string(token) : json_null(), "latest_checkpoint",
	    t->latest_checkpoint[0] ? json_string(t->latest_checkpoint) : json_null(),
	    "steps_completed", (json_int_t)t->steps_completed, "restarts", (json_int_t)t->restarts,
	    "max_restarts", (json_int_t)exp_iget(conf, "max_restarts"), "length",
	    (json_int_t)(e->searcher ? searcher_trial_length(e->searcher, idx) : 0), "time_unit",
	    e->searcher ? searcher_time_unit(e->searcher) : "batches", "entrypoint",
	    json_object_get(conf, "entrypoint"), "slots_per_trial",
	    (json_int_t)(exp_iget(res, "slots_per_trial") > 0 ? exp_iget(res, "slots_per_trial")
	                                                      : 1),
	    "checkpoint_dir", dir, "environment_variables", env ? env : json_array(),
	    "searcher_metric", json_object_get(srch, "metric"), "smaller_is_better",
	    json_object_get(srch, "smaller_is_better") ? json_object_get(srch, "smaller_is_better")
	                                               : json_true());
	if (reply && json_is_object(envconf) &&
	    json_object_set(reply, "environment", envconf) < 0) {
		json_decref(reply);
		reply = NULL;
	}
	/* an experiment with an image: how det-launch runs it (doc/containers.md) */
	const char *rt = a->cfg->container_runtime;
	if (reply && json_object_size(json_object_get(envconf, "image_digest")) &&
	    json_object_set_new(reply, "container",
	                        json_pack("{s:s, s:s, s:s, s:O}", "runtime",
	                                  strcmp(rt, "auto") ? rt : "podman", "oci_runtime",
	                                  a->cfg->container_oci_runtime, "image_cache_dir",
	                                  a->cfg->image_cache_dir, "bind_mounts",
	                                  json_object_get(conf, "bind_mounts")
	                                      ? json_object_get(conf, "bind_mounts")
	                                      : json_array())) < 0) {
		json_decref(reply);
		reply = NULL;
	}
	/* the config's data: section, for ClusterInfo.user_data */
	json_t *data = json_object_get(conf, "data");
	if (reply && json_is_object(data) && json_object_set(reply, "data", data) < 0) {
		json_decref(reply);
		reply = NULL;
	}
	return reply;
}

/* Make room for trial index idx in e->trials. 0 or -1. */
int exp_trials_reserve(struct exp_rt *e, int idx)
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
static enum exp_status new_trial(struct app *a, struct exp_rt *e, int task, int idx, json_t **out,
                                 char *err, size_t errlen)
{
	json_t *before = searcher_snapshot(e->searcher);
	json_t *hp = NULL, *trow = NULL, *tok = NULL, *arow = NULL;
	struct exp_trial *t = NULL;
	char token[AUTH_TOKEN_CHARS + 1];
	enum exp_status status = EXP_INTERNAL;
	int indexed = 0;

	if (searcher_on_claim(e->searcher, idx, err, errlen))
		goto fail;
	hp = searcher_trial_hparams(e->searcher, idx, err, errlen);
	if (!hp)
		goto fail;
	t = calloc(1, sizeof(*t));
	if (!t || idx < 0 || exp_trials_reserve(e, idx)) {
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
	/* searcher.source_checkpoint_uuid (exp_create checked it): where every trial starts. */
	snprintf(t->latest_checkpoint, sizeof(t->latest_checkpoint), "%s",
	         exp_sget(json_object_get(exp_config_of(e), "searcher"), "source_checkpoint_uuid"));
	trow = t->hparams ? exp_trial_row(t) : NULL;
	tok = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f}", "token", t->token, "kind", "trial",
	                "user_id", (json_int_t)e->owner_id, "experiment_id", (json_int_t)e->id,
	                "trial_id", (json_int_t)t->id, "created_at", app_now());
	struct exp_alloc acopy = exp_alloc_copy(e, task);
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
	struct store_op ops[] = {exp_put("trials", trow), exp_put("tokens", tok),
	                         exp_put("allocations", arow)};
	if (exp_commit(a, e, ops, 3, NULL, err, errlen))
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
	status = EXP_OK;
fail:
	if (t && indexed)
		exp_index_remove(&a->trial_ix, t);
	exp_trial_free(t);
	if (status != EXP_OK)
		exp_searcher_rollback(e, before); /* any failure, the commit's included */
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
	                (json_int_t)e->owner_id, "experiment_id", (json_int_t)e->id, "trial_id",
	                (json_int_t)t->id, "created_at", app_now());
	if (!key || !row) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct store_op ops[] = {{.kind = STORE_DELETE, .table = "tokens", .row = key},
	                         exp_put("tokens", row)};
	if (exp_commit(a, e, ops, 2, NULL, err, errlen))
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
int exp_renew_alloc_token(struct app *a, struct exp_rt *e, char *err, size_t errlen)
{
	char token[AUTH_TOKEN_CHARS + 1], hash[AUTH_TOKEN_CHARS + 1];
	json_t *row = NULL;
	int rv = -1;

	if (auth_new_token(token, sizeof(token), err, errlen))
		goto fail;
	auth_token_hash(token, hash);
	row = json_pack("{s:s, s:s, s:I, s:I, s:f}", "token", hash, "kind", "allocation", "user_id",
	                (json_int_t)e->owner_id, "experiment_id", (json_int_t)e->id, "created_at",
	                app_now());
	if (!row) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct store_op op = exp_put("tokens", row);
	if (exp_commit(a, e, &op, 1, NULL, err, errlen))
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

enum exp_status exp_claim(struct app *a, int64_t id, int task, json_t **out, char *err,
                          size_t errlen)
{
	enum exp_status status = EXP_OK;

	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find(a, id, &status, err, errlen);
	if (!e)
		goto out;
	struct exp_alloc *al = exp_alloc_of(e, task);
	struct exp_trial *cur = al ? exp_trial_by_index(e, al->trial_index) : NULL;
	struct lifecycle_claim_view v = {
	    .task = task,
	    .num_tasks = e->num_tasks,
	    .experiment = e->state,
	    .searching = e->searcher != NULL,
	    .has_trial = cur != NULL,
	    .trial = cur ? cur->state : FSM_ACTIVE,
	    .next_index = al ? al->next_index : -1,
	    .restarts = cur ? cur->restarts : 0,
	    .preempted = cur ? cur->preempted : 0,
	    .has_secret = cur && cur->secret[0],
	};
	struct lifecycle_claim d = lifecycle_claim_decide(&v);
	struct exp_trial row;
	switch (d.action) {
	case LIFECYCLE_CLAIM_OUT_OF_RANGE:
		snprintf(err, errlen, "array_task %d out of range 0..%lld", task,
		         (long long)v.num_tasks - 1);
		status = EXP_INVALID;
		break;
	case LIFECYCLE_CLAIM_PAUSED:
		snprintf(err, errlen, "experiment %lld is paused", (long long)id);
		status = EXP_CONFLICT;
		break;
	case LIFECYCLE_CLAIM_NEW:
		status = new_trial(a, e, task, (int)d.index, out, err, errlen);
		break;
	case LIFECYCLE_CLAIM_FINISH:
		/* It was told to stop: the restarted task has nothing to run. */
		row = *cur;
		exp_finish_trial(a, e, &row, d.end_state, err, errlen);
		*out = json_pack("{s:b}", "done", 1);
		break;
	case LIFECYCLE_CLAIM_RESUME:
		/* A restart of the current trial (after a preemption it is not counted). */
		row = *cur;
		row.restarts = d.restarts;
		row.preempted = 0;
		exp_set_trial_state(&row, FSM_ACTIVE);
		status = exp_trial_commit(a, e, &row, err, errlen);
		if (status == EXP_OK && d.rotate_token &&
		    rotate_trial_token(a, e, cur, err, errlen))
			status = EXP_INTERNAL;
		if (status == EXP_OK)
			*out = claim_reply(a, e, cur, cur->secret, task);
		if (status == EXP_OK && !*out) {
			snprintf(err, errlen, "out of memory");
			status = EXP_INTERNAL;
		}
		break;
	default:
		*out = json_pack("{s:b}", "done", 1);
		break;
	}
out:
	pthread_mutex_unlock(&a->lock);
	return status;
}
