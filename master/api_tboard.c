/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a TensorBoard task shows (POST /tasks with kind "tensorboard",
 * doc/tasks.md): the trials of body.experiment_ids and body.trial_ids, each
 * checked readable by the caller first (404 otherwise, as every task action
 * answers), then turned into TensorBoard's argv by tboard_task_argv. The
 * checkpoint directories are read under the app lock and copied out; the
 * argv is built after the lock is released.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "authz.h"
#include "ckpt_path.h"
#include "exp.h"
#include "tboard_task.h"
#include "workspace.h"

#define TBOARD_CKPT_DIR_MAX 4096

/* The runs found so far; dirs[i] holds runs[i].ckpt_dir. */
struct tboard_found {
	struct tboard_task_run runs[TBOARD_TASK_MAX_RUNS];
	char (*dirs)[TBOARD_CKPT_DIR_MAX];
	size_t n;
};

/* body[key]: absent, or a list of at most TBOARD_TASK_MAX_RUNS ids > 0. 0, or -1 with err. */
static int id_list(json_t *body, const char *key, char *err, size_t errlen)
{
	json_t *v = json_object_get(body, key), *id;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v) || json_array_size(v) > TBOARD_TASK_MAX_RUNS)
		goto bad;
	json_array_foreach (v, i, id)
		if (!json_is_integer(id) || json_integer_value(id) <= 0)
			goto bad;
	return 0;
bad:
	snprintf(err, errlen, "%s: expected a list of at most %d ids (integers > 0)", key,
	         TBOARD_TASK_MAX_RUNS);
	return -1;
}

/* Add trial t of experiment e to f unless it is there (lock held). 0, or -1 with err. */
static int add_trial_locked(struct app *a, struct tboard_found *f, struct exp_rt *e,
                            const struct exp_trial *t, char *err, size_t errlen)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->runs[i].trial_id == t->id)
			return 0;
	if (f->n == TBOARD_TASK_MAX_RUNS) {
		snprintf(err, errlen, "a TensorBoard shows at most %d trials",
		         TBOARD_TASK_MAX_RUNS);
		return -1;
	}
	if (ckpt_path_dir(json_object_get(e->row, "config"), a->cfg->checkpoint_storage,
	                  f->dirs[f->n], TBOARD_CKPT_DIR_MAX, err, errlen))
		return -1;
	f->runs[f->n] = (struct tboard_task_run){e->id, t->id, f->dirs[f->n]};
	f->n++;
	return 0;
}

/* The trials named by body into f (lock held). 0; 1 when one vanished (404, err);
 * -1 with err. */
static int collect_locked(struct app *a, json_t *body, struct tboard_found *f, char *err,
                          size_t errlen)
{
	json_t *id;
	size_t i;

	json_array_foreach (json_object_get(body, "experiment_ids"), i, id) {
		struct exp_rt *e = exp_find_locked(a, json_integer_value(id));
		if (!e) {
			snprintf(err, errlen, "experiment %lld not found",
			         (long long)json_integer_value(id));
			return 1;
		}
		for (int k = 0; k < e->trials_cap; k++)
			if (e->trials[k] && add_trial_locked(a, f, e, e->trials[k], err, errlen))
				return -1;
	}
	json_array_foreach (json_object_get(body, "trial_ids"), i, id) {
		struct exp_rt *e = NULL;
		struct exp_trial *t = exp_trial_locked(a, json_integer_value(id), &e);
		if (!t || !e) {
			snprintf(err, errlen, "trial %lld not found",
			         (long long)json_integer_value(id));
			return 1;
		}
		if (add_trial_locked(a, f, e, t, err, errlen))
			return -1;
	}
	return 0;
}

/* 404 unless the caller may read every named experiment and trial: 0, or -1 after it. */
static int check_readable(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *id;
	size_t i;

	json_array_foreach (json_object_get(c->body, "experiment_ids"), i, id) {
		json_int_t x = json_integer_value(id);
		if (workspace_exp_access(a, &c->who, x, AUTHZ_EXP_READ) != EXP_OK) {
			api_error(rep, 404, "experiment %lld not found", (long long)x);
			return -1;
		}
	}
	json_array_foreach (json_object_get(c->body, "trial_ids"), i, id) {
		json_int_t x = json_integer_value(id);
		if (workspace_trial_access(a, &c->who, x, AUTHZ_EXP_READ) != EXP_OK) {
			api_error(rep, 404, "trial %lld not found", (long long)x);
			return -1;
		}
	}
	return 0;
}

char **api_tboard_argv(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	char **argv = NULL;
	struct tboard_found *f = calloc(1, sizeof(*f));

	if (!f || !(f->dirs = calloc(TBOARD_TASK_MAX_RUNS, sizeof(*f->dirs)))) {
		api_error(rep, 500, "out of memory");
		goto fail;
	}
	if (json_object_get(c->body, "argv")) {
		api_error(rep, 400,
		          "argv: a TensorBoard's is built by the master (name "
		          "experiment_ids or trial_ids)");
		goto fail;
	}
	if (id_list(c->body, "experiment_ids", err, sizeof(err)) ||
	    id_list(c->body, "trial_ids", err, sizeof(err))) {
		api_error(rep, 400, "%s", err);
		goto fail;
	}
	if (!json_array_size(json_object_get(c->body, "experiment_ids")) &&
	    !json_array_size(json_object_get(c->body, "trial_ids"))) {
		api_error(rep, 400, "experiment_ids or trial_ids: name at least one");
		goto fail;
	}
	if (check_readable(a, c, rep))
		goto fail;
	pthread_mutex_lock(&a->lock);
	int rc = collect_locked(a, c->body, f, err, sizeof(err));
	pthread_mutex_unlock(&a->lock);
	if (rc) {
		api_error(rep, rc > 0 ? 404 : 400, "%s", err);
		goto fail;
	}
	/* Task id 0: exp_task_run writes /proxy/<id> once the task has one. */
	argv = tboard_task_argv(f->runs, f->n, 0, 0, err, sizeof(err));
	if (!argv)
		api_error(rep, 400, "%s", err);
fail:
	if (f)
		free(f->dirs);
	free(f);
	return argv;
}
