/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checkpoint garbage collection, run once when an experiment ends: keep each
 * trial's latest save_trial_latest and best save_trial_best checkpoints and
 * the experiment's best save_experiment_best, delete the rest (registry row
 * marked DELETED, directory removed). A checkpoint's metric is the searcher
 * metric of the validation reported at the same steps_completed; one without
 * such a validation can be kept only as a "latest"; one marked "protected"
 * is always kept. Selection is the pure lifecycle_gc_select (lifecycle.c) so
 * that the rules are tested without files. The directories are
 * removed by ckpt_owner_remove: as the experiment's owner, after checking the
 * checkpoint directory against the storage roots again, following no symlink.
 * That runs on a worker thread fed by a FIFO of jobs, outside the app lock
 * that ckpt_gc_experiment is called under (the registry rows are marked
 * DELETED first, under the lock); without a worker it runs inline.
 */
#include "ckpt_gc.h"
#include "model.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg_thread.h"
#include "ckpt_owner.h"
#include "ckpt_path.h"
#include "lifecycle.h"

json_t *ckpt_gc_select(const json_t *ckpts, const struct ckpt_gc_policy *p)
{
	size_t n = json_array_size(ckpts), i;
	struct lifecycle_ckpt *c = calloc(n ? n : 1, sizeof(*c));
	unsigned char *drop = calloc(n ? n : 1, 1);
	json_t *out = json_array(), *row;
	struct lifecycle_gc_policy lp = {p->experiment_best, p->trial_best, p->trial_latest,
	                                 p->smaller_is_better};

	if (!c || !drop || !out)
		goto fail;
	json_array_foreach (ckpts, i, row) {
		const char *st = json_string_value(json_object_get(row, "state"));
		json_t *m = json_object_get(row, "metric");
		c[i] = (struct lifecycle_ckpt){
		    .trial_id = json_integer_value(json_object_get(row, "trial_id")),
		    .steps = json_integer_value(json_object_get(row, "steps_completed")),
		    .metric = json_number_value(m),
		    .has_metric = json_is_number(m),
		    .is_protected = json_is_true(json_object_get(row, "protected")),
		    .deleted = st && !strcmp(st, "DELETED"),
		};
	}
	if (lifecycle_gc_select(c, n, &lp, drop))
		goto fail;
	for (i = 0; i < n; i++)
		if (drop[i] &&
		    json_array_append(out, json_object_get(json_array_get(ckpts, i), "uuid")))
			goto fail;
	free(c);
	free(drop);
	return out;
fail:
	free(c);
	free(drop);
	json_decref(out);
	return NULL;
}

/* Directories to remove for one experiment (a queued job). */
struct gc_job {
	int64_t experiment_id;
	long owner_uid;
	char dir[PATH_MAX];
	json_t *names;
	struct gc_job *next;
};

struct ckpt_gc_worker {
	struct app *a;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct gc_job *head, *tail;
	int stopping;
};

/* Remove a job's directories as the owner; failures are logged. */
static void remove_dirs(struct app *a, const struct gc_job *j)
{
	char why[1024];
	struct ckpt_owner o;
	int n;

	if (ckpt_owner_lookup(j->owner_uid, &o, why, sizeof(why))) {
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "experiment %lld: checkpoint gc: %s; their files are left in place",
		        (long long)j->experiment_id, why);
		return;
	}
	n = ckpt_owner_remove(
	    &o, a->cfg->storage_roots,
	    json_string_value(json_object_get(a->cfg->checkpoint_storage, "host_path")), j->dir,
	    j->names, why, sizeof(why));
	if (n < 0)
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "experiment %lld: checkpoint gc as uid %u: %s; files are left in place",
		        (long long)j->experiment_id, (unsigned)o.uid, why);
	else
		log_msg(&a->log, LOG_LEVEL_INFO,
		        "experiment %lld: checkpoint gc removed %d directories as uid %u",
		        (long long)j->experiment_id, n, (unsigned)o.uid);
}

static void job_free(struct gc_job *j)
{
	if (j) {
		json_decref(j->names);
		free(j);
	}
}

static void *worker_main(void *arg)
{
	struct ckpt_gc_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		struct gc_job *j = w->head;
		if (!j)
			break;
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);
		remove_dirs(w->a, j);
		job_free(j);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct ckpt_gc_worker *ckpt_gc_worker_start(struct app *a, char *err, size_t errlen)
{
	struct ckpt_gc_worker *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->a = a;
	if (bg_thread_start(&w->thread, &w->lock, &w->cond, worker_main, w)) {
		snprintf(err, errlen, "cannot start the checkpoint gc thread");
		free(w);
		return NULL;
	}
	return w;
}

void ckpt_gc_worker_stop(struct ckpt_gc_worker *w)
{
	if (!w)
		return;
	bg_thread_stop(w->thread, &w->lock, &w->cond, &w->stopping);
	bg_thread_destroy(&w->lock, &w->cond);
	free(w);
}

/* Queue (or, without a worker, do) the removal of names in the experiment's checkpoint
 * directory. */
static void queue_removal(struct app *a, int64_t experiment_id, const json_t *config,
                          long owner_uid, json_t *names)
{
	struct gc_job *j = calloc(1, sizeof(*j));
	char why[512];

	if (!j || !json_array_size(names)) {
		free(j);
		return;
	}
	j->experiment_id = experiment_id;
	j->owner_uid = owner_uid;
	j->names = json_incref(names);
	if (ckpt_path_dir(config, a->cfg->checkpoint_storage, j->dir, sizeof(j->dir), why,
	                  sizeof(why))) {
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "experiment %lld: checkpoint gc: %s; their files are left in place",
		        (long long)experiment_id, why);
		job_free(j);
		return;
	}
	if (!a->ckpt_gc) {
		remove_dirs(a, j);
		job_free(j);
		return;
	}
	pthread_mutex_lock(&a->ckpt_gc->lock);
	if (a->ckpt_gc->tail)
		a->ckpt_gc->tail->next = j;
	else
		a->ckpt_gc->head = j;
	a->ckpt_gc->tail = j;
	pthread_cond_signal(&a->ckpt_gc->cond);
	pthread_mutex_unlock(&a->ckpt_gc->lock);
}

void ckpt_gc_remove(struct app *a, int64_t experiment_id, const json_t *config, long owner_uid,
                    json_t *uuids)
{
	queue_removal(a, experiment_id, config, owner_uid, uuids);
}

int ckpt_gc_experiment(struct app *a, int64_t experiment_id, const json_t *config, long owner_uid,
                       char *err, size_t errlen)
{
	json_t *cs = json_object_get(config, "checkpoint_storage");
	json_t *srch = json_object_get(config, "searcher");
	const char *metric = json_string_value(json_object_get(srch, "metric"));
	struct ckpt_gc_policy p = {
	    .experiment_best = (int)json_integer_value(json_object_get(cs, "save_experiment_best")),
	    .trial_best = json_is_integer(json_object_get(cs, "save_trial_best"))
	                      ? (int)json_integer_value(json_object_get(cs, "save_trial_best"))
	                      : 1,
	    .trial_latest = json_is_integer(json_object_get(cs, "save_trial_latest"))
	                        ? (int)json_integer_value(json_object_get(cs, "save_trial_latest"))
	                        : 1,
	    .smaller_is_better = !json_is_false(json_object_get(srch, "smaller_is_better")),
	};
	json_t *ckpts = store_checkpoints(a->store, experiment_id, 0, err, errlen);
	json_t *del = NULL, *names = json_array();
	size_t i;
	json_t *c;
	int n = -1;

	if (!ckpts || !names) {
		json_decref(ckpts);
		json_decref(names);
		if (!*err)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Attach each checkpoint's validation metric (same trial and steps). */
	json_t *vals = json_object(); /* trial id -> metrics rows */
	json_array_foreach (ckpts, i, c) {
		char key[32];
		int64_t tid = json_integer_value(json_object_get(c, "trial_id"));
		snprintf(key, sizeof(key), "%lld", (long long)tid);
		json_t *rows = json_object_get(vals, key);
		if (!rows) {
			rows = store_metrics(a->store, tid, "validation", 0, 100000, err, errlen);
			if (!rows)
				goto out;
			json_object_set_new(vals, key, rows);
		}
		size_t j;
		json_t *m;
		json_array_foreach (rows, j, m) {
			if (json_integer_value(json_object_get(m, "steps_completed")) ==
			    json_integer_value(json_object_get(c, "steps_completed"))) {
				json_t *mv = json_object_get(json_object_get(m, "metrics"),
				                             metric ? metric : "");
				if (json_is_number(mv))
					json_object_set(c, "metric", mv);
			}
		}
	}
	del = ckpt_gc_select(ckpts, &p);
	if (!del)
		goto out;
	n = 0;
	json_array_foreach (del, i, c) {
		const char *uuid = json_string_value(c);
		if (model_checkpoint_registered_locked(a, uuid))
			continue; /* a model version: kept (model.h) */
		json_t *upd = json_pack("{s:s, s:s}", "uuid", uuid, "state", "DELETED");
		struct store_op op = {.kind = STORE_UPDATE, .table = "checkpoints", .row = upd};
		int rc = store_write(a->store, &op, 1, err, errlen);
		json_decref(upd);
		if (rc)
			break;
		/* A uuid is hex digits and '-' (api_trial.c): one directory entry. */
		json_array_append(names, c);
		n++;
	}
	queue_removal(a, experiment_id, config, owner_uid, names);
out:
	json_decref(vals);
	json_decref(ckpts);
	json_decref(del);
	json_decref(names);
	return n;
}
