/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Creation and submission: config checks, the experiment row, and the
 * array handed to the resource manager without the lock (prepared under
 * it, run after unlocking, recorded again under it by lifecycle_array_submitted).
 */
#include "exp.h"
#include "exp_internal.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "authz.h"
#include "ckpt_gc.h"
#include "ckpt_owner.h"
#include "ckpt_path.h"
#include "exp_trial.h"
#include "expconf.h"
#include "image_cache.h"
#include "lifecycle.h"
#include "searcher.h"
#include "workspace.h"

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

/* Parse and normalize; pick a seed when absent. *diag_out gets diagnostics on EXP_INVALID. */
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

enum exp_status exp_preview(const char *yaml, size_t ylen, json_t **out, char *err, size_t errlen)
{
	json_t *conf = parse_config(yaml, ylen, err, errlen, NULL);
	if (!conf)
		return EXP_INVALID;
	struct searcher *s = searcher_new(conf, err, errlen);
	if (!s) {
		json_decref(conf);
		return EXP_INVALID;
	}
	*out = searcher_preview(s, err, errlen);
	searcher_free(s);
	json_decref(conf);
	return *out ? EXP_OK : EXP_INVALID;
}

/* The Unix uid of the experiment's owner, -1 when unknown (lock held). */
static long owner_uid(struct app *a, struct exp_rt *e)
{
	const char *k;
	json_t *u;
	json_object_foreach (a->users, k, u) {
		if (exp_iget(u, "id") == e->owner_id)
			return json_is_integer(json_object_get(u, "uid")) ? (long)exp_iget(u, "uid")
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
		if (exp_iget(u, "id") == user_id)
			return json_is_integer(json_object_get(u, "uid")) ? (long)exp_iget(u, "uid")
			                                                  : -1;
	}
	return -1;
}

long exp_owner_uid_locked(struct app *a, struct exp_rt *e)
{
	return user_uid_locked(a, e->owner_id);
}

int exp_trial_storage(struct app *a, int64_t trial_id, int64_t *exp_id, long *uid, char *dir,
                      size_t dirlen, char *err, size_t errlen)
{
	struct exp_rt *e = NULL;
	int rv = -1;

	pthread_mutex_lock(&a->lock);
	if (exp_trial_locked(a, trial_id, &e) && e) {
		rv = ckpt_path_dir(json_object_get(e->row, "config"), a->cfg->checkpoint_storage,
		                   dir, dirlen, err, errlen);
		if (exp_id)
			*exp_id = e->id;
		*uid = exp_owner_uid_locked(a, e);
	} else {
		snprintf(err, errlen, "trial %lld is not loaded", (long long)trial_id);
	}
	pthread_mutex_unlock(&a->lock);
	return rv;
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
	json_t *res = json_object_get(exp_config_of(e), "resources");
	return (struct rm_array){
	    .experiment_id = e->id,
	    .num_tasks = (int)e->num_tasks,
	    .max_concurrent = (int)exp_iget(e->row, "max_concurrent"),
	    .slots_per_trial = (int)exp_iget(res, "slots_per_trial"),
	    .master_url = a->master_url,
	    .alloc_token = e->alloc_token,
	    .skip = skip,
	    .adopt_ids = pids,
	    .owner_uid = owner_uid(a, e),
	    .config = exp_config_of(e),
	};
}

/* An array submission, prepared under the lock and run without it: spec points only at
 * copies held here, so the experiment may change (or go) meanwhile. Not to be copied. */
struct exp_submission {
	struct rm_array spec;
	unsigned char *skip; /* tasks already finished */
	int *running_ids;    /* tasks running from before: pids (local) or job ids (Slurm) */
	int64_t *starts;     /* their start times */
	json_t *config;      /* a copy of the experiment's config */
	char alloc_token[80];
	char existing[160]; /* the job from before */
	char job[160];      /* the manager's id for the array, once run */
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
	int n = (int)e->num_tasks;
	memset(s, 0, sizeof(*s));
	s->skip = calloc((size_t)n + 1, 1);
	s->running_ids = calloc((size_t)n + 1, sizeof(int));
	s->starts = calloc((size_t)n + 1, sizeof(*s->starts));
	s->config = json_deep_copy(exp_config_of(e));
	if (!s->skip || !s->running_ids || !s->starts || (exp_config_of(e) && !s->config)) {
		snprintf(err, errlen, "out of memory");
		submission_free(s);
		return -1;
	}
	for (int i = 0; !first_time && i < n; i++) {
		struct exp_alloc *al = exp_alloc_of(e, i);
		if (!al)
			continue;
		s->running_ids[i] = (int)al->pid;
		s->starts[i] = al->pid_start;
		struct exp_trial *t = exp_trial_by_index(e, al->trial_index);
		if (t && fsm_is_terminal(t->state) && al->next_index < 0)
			s->skip[i] = 1;
	}
	snprintf(s->alloc_token, sizeof(s->alloc_token), "%s", e->alloc_token);
	snprintf(s->existing, sizeof(s->existing), "%s", existing ? existing : "");
	s->spec = array_of(a, e, s->skip, s->running_ids);
	s->spec.alloc_token = s->alloc_token;
	s->spec.config = s->config;
	s->spec.adopt_starts = s->starts;
	s->spec.existing_job = existing ? s->existing : NULL;
	s->spec.check_owner = first_time && existing;
	/* Paused: no task may start in the window before the result is recorded. */
	s->spec.held = e->state == FSM_PAUSED;
	return 0;
}

/* Hand the array to the resource manager (may wait on slurmctld: call it without the
 * lock, except at start before anything is served); s->job gets its id. */
static int submission_run(struct app *a, struct exp_submission *s, char *err, size_t errlen)
{
	if (a->rm->ops->submit_array(a->rm, &s->spec, s->job, sizeof(s->job), err, errlen)) {
		log_msg(&a->log, LOG_LEVEL_ERROR, "experiment %lld: submit: %s",
		        (long long)s->spec.experiment_id, err);
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
	struct lifecycle_submitted d = lifecycle_array_submitted(
	    e != NULL, e && e->rm_job[0], e ? e->state : FSM_ERROR, s->spec.held);
	if (!d.record) {
		log_msg(&a->log, LOG_LEVEL_WARN,
		        "experiment %lld: %s meanwhile: its job %s is canceled",
		        (long long)s->spec.experiment_id,
		        e ? "another job was registered" : "deleted", s->job);
		exp_rm_command(a, s->spec.experiment_id, s->job, d.rm);
		return;
	}
	snprintf(e->rm_job, sizeof(e->rm_job), "%s", s->job);
	if (strcmp(exp_sget(e->row, "rm_job_id"), e->rm_job)) {
		/* Recorded at once: a restarted master must find the same job. */
		json_t *row =
		    json_pack("{s:I, s:s}", "id", (json_int_t)e->id, "rm_job_id", e->rm_job);
		struct store_op op = {.kind = STORE_UPDATE, .table = "experiments", .row = row};
		if (exp_commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0)
			json_object_set_new(e->row, "rm_job_id", json_string(e->rm_job));
		json_decref(row);
	}
	exp_rm_command(a, e->id, e->rm_job, d.rm);
}

/* At start only (lock held, nothing served yet): hand e's array to the manager again. */
int exp_resubmit_at_start(struct app *a, struct exp_rt *e, const char *existing, char *err,
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

/* After submission_run (rc its result) without the lock, with the lock held again:
 * experiment id found again (NULL when it went meanwhile), no longer submitting,
 * and the job recorded as its array when the submission succeeded. */
static struct exp_rt *submission_settle(struct app *a, int64_t id, const struct exp_submission *s,
                                        int rc)
{
	struct exp_rt *e = exp_find_locked(a, id);
	if (e)
		e->submitting = 0;
	if (!rc)
		submission_record(a, e, s);
	return e;
}

enum exp_status exp_register_job(struct app *a, const struct principal *p, int64_t id,
                                 const char *job, char *err, size_t errlen)
{
	struct exp_submission s = {0};
	enum exp_status status = EXP_OK;
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find(a, id, &status, err, errlen);
	if (!e) {
		/* not found */
	} else if (!authz_allowed(p, AUTHZ_EXP_REGISTER_JOB, e->owner_id)) {
		snprintf(err, errlen, "experiment %lld belongs to another user", (long long)id);
		status = EXP_FORBIDDEN;
	} else if (e->rm_job[0] || e->submitting || fsm_is_terminal(e->state)) {
		snprintf(err, errlen, "experiment %lld is %s", (long long)id,
		         e->rm_job[0] || e->submitting ? "submitted already" : "over");
		status = EXP_CONFLICT;
	} else if (submission_prepare(a, e, 1, job, &s, err, errlen)) {
		status = EXP_INTERNAL;
	} else {
		e->submitting = 1;
	}
	pthread_mutex_unlock(&a->lock);
	if (status != EXP_OK)
		return status;
	/* Checking the job asks slurmctld: without the lock. */
	int rc = submission_run(a, &s, err, errlen);
	pthread_mutex_lock(&a->lock);
	submission_settle(a, id, &s, rc);
	if (rc) {
		status = EXP_INVALID;
	} else {
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
	if (!e || fsm_is_terminal(e->state))
		return;
	json_t *row = json_deep_copy(e->row);
	exp_set_state(row, FSM_ERROR);
	struct store_op op = exp_put("experiments", row);
	if (exp_commit(a, e, &op, 1, NULL, err, sizeof(err)) == 0)
		exp_swap_row(e, row);
	else
		json_decref(row);
	searcher_free(e->searcher);
	e->searcher = NULL;
}

/* searcher.source_trial_id / source_checkpoint_uuid: the checkpoint every trial
 * starts from, which p must be allowed to read (its experiment's rules). The
 * trial's latest checkpoint becomes source_checkpoint_uuid in conf. */
static enum exp_status source_checkpoint(struct app *a, const struct principal *p, json_t *conf,
                                         char *err, size_t errlen)
{
	json_t *srch = json_object_get(conf, "searcher");
	json_t *tid = json_object_get(srch, "source_trial_id");
	const char *uuid = json_string_value(json_object_get(srch, "source_checkpoint_uuid"));
	char found[EXP_TRIAL_CKPT_MAX] = "";
	int64_t exp_id = 0;
	enum exp_status status = EXP_OK;

	if (uuid) {
		*err = '\0';
		json_t *row = store_checkpoint(a->store, uuid, err, errlen);
		if (!row && *err)
			return EXP_INTERNAL;
		if (!row) {
			snprintf(err, errlen, "searcher.source_checkpoint_uuid: no checkpoint %s",
			         uuid);
			return EXP_NOT_FOUND;
		}
		exp_id = exp_iget(row, "experiment_id");
		if (strcmp(exp_sget(row, "state"), "COMPLETED")) {
			snprintf(err, errlen,
			         "searcher.source_checkpoint_uuid: checkpoint %s is %s", uuid,
			         exp_sget(row, "state"));
			status = EXP_CONFLICT;
		}
		json_decref(row); /* the state is told after the permission check below */
	}
	pthread_mutex_lock(&a->lock);
	struct exp_rt *se = NULL;
	if (!uuid && json_is_integer(tid)) {
		struct exp_trial *t = exp_trial_locked(a, json_integer_value(tid), &se);
		if (!t) {
			snprintf(err, errlen, "searcher.source_trial_id: no trial %lld",
			         (long long)json_integer_value(tid));
			status = EXP_NOT_FOUND;
		} else if (!t->latest_checkpoint[0]) {
			snprintf(err, errlen,
			         "searcher.source_trial_id: trial %lld has no checkpoint",
			         (long long)t->id);
			status = EXP_CONFLICT;
		} else {
			snprintf(found, sizeof(found), "%s", t->latest_checkpoint);
		}
	} else if (uuid) {
		se = exp_find_locked(a, exp_id);
	}
	if ((status == EXP_OK || uuid) && (uuid || se) &&
	    (!se || !workspace_exp_allowed_locked(a, p, se, AUTHZ_EXP_READ))) {
		snprintf(err, errlen, "user %s may not read the source checkpoint's experiment",
		         p->name);
		status = EXP_FORBIDDEN;
	}
	pthread_mutex_unlock(&a->lock);
	if (status == EXP_OK && found[0])
		json_object_set_new(srch, "source_checkpoint_uuid", json_string(found));
	return status;
}

int exp_source_checkpoint_is(struct app *a, int64_t id, const char *uuid)
{
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find_locked(a, id);
	const char *src =
	    e ? exp_sget(json_object_get(exp_config_of(e), "searcher"), "source_checkpoint_uuid")
	      : "";
	int is = *src && uuid && !strcmp(src, uuid);
	pthread_mutex_unlock(&a->lock);
	return is;
}

/* 1 when program is an executable file in a directory of PATH. */
static int on_path(const char *program)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX];
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		if (n > 0 && n < sizeof(dir) - strlen(program) - 2) {
			snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, p, program);
			if (access(dir, X_OK) == 0)
				return 1;
		}
		p += n + (p[n] == ':');
	}
	return 0;
}

/* A config that names an image runs in a container or not at all (never on the
 * host in its place): the image must be in the cache, and a runtime there.
 * Resolves the names to digests (environment.image_digest). 0 or -1 with err. */
static int image_allowed(struct app *a, json_t *conf, long uid, char *err, size_t errlen)
{
	const char *rt = a->cfg->container_runtime;
	struct ckpt_owner o;
	json_t *m;
	size_t i;

	if (!json_object_size(json_object_get(json_object_get(conf, "environment"), "image")))
		return 0;
	if (image_resolve(a, conf, err, errlen))
		return -1;
	if (!strcmp(rt, "none") || (!strcmp(rt, "auto") && !on_path("podman"))) {
		snprintf(err, errlen,
		         "environment.image: this det-master has no container runtime "
		         "(container_runtime: %s%s), and trials never run on the host in place of "
		         "their image",
		         rt, strcmp(rt, "auto") ? "" : ", podman is not installed");
		return -1;
	}
	/* bind_mounts: each host path readable by the owner (checked as the owner) */
	json_array_foreach (json_object_get(conf, "bind_mounts"), i, m) {
		const char *hp = json_string_value(json_object_get(m, "host_path"));
		char why[512];
		int fd = -1;
		if (ckpt_owner_lookup(uid, &o, why, sizeof(why)) == 0)
			fd = ckpt_owner_open_read(&o, hp, 0, why, sizeof(why));
		if (fd < 0) {
			snprintf(err, errlen, "bind_mounts.%zu.host_path: not readable by you: %s",
			         i, why);
			return -1;
		}
		close(fd);
	}
	return 0;
}

enum exp_status exp_create(struct app *a, const struct principal *p, const char *yaml, size_t ylen,
                           const void *model, size_t mlen, int activate, int client_submits,
                           const char *project, int64_t parent_id, json_t **out, char *err,
                           size_t errlen)
{
	json_t *diags = NULL, *conf = parse_config(yaml, ylen, err, errlen, &diags);
	struct exp_rt *e = NULL;
	char token[AUTH_TOKEN_CHARS + 1], hash[AUTH_TOKEN_CHARS + 1];
	json_t *trow = NULL;
	enum exp_status status = EXP_INVALID;

	json_decref(diags);
	if (!conf)
		return EXP_INVALID;
	pthread_mutex_lock(&a->lock);
	long uid = user_uid_locked(a, p->user_id);
	pthread_mutex_unlock(&a->lock);
	if (storage_allowed(a, conf, uid, err, errlen) || image_allowed(a, conf, uid, err, errlen))
		goto fail;
	status = source_checkpoint(a, p, conf, err, errlen);
	if (status != EXP_OK)
		goto fail;
	status = EXP_INVALID;
	if (a->rm->ops->check_config && a->rm->ops->check_config(a->rm, conf, err, errlen))
		goto fail;
	if (client_submits && !a->rm->ops->plan) {
		snprintf(err, errlen, "submit: the %s resource manager submits by itself",
		         a->rm->ops->name);
		goto fail;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
		goto fail;
	}
	e->searcher = searcher_new(conf, err, errlen);
	if (!e->searcher)
		goto fail;
	if (auth_new_token(token, sizeof(token), err, errlen)) {
		status = EXP_INTERNAL;
		goto fail;
	}
	auth_token_hash(token, hash);
	snprintf(e->alloc_token, sizeof(e->alloc_token), "%s", token);
	const char *name = json_string_value(json_object_get(conf, "name"));
	json_t *labels = json_object_get(conf, "labels");
	pthread_mutex_lock(&a->lock);
	char pid_text[24];
	snprintf(pid_text, sizeof(pid_text), "%d", WORKSPACE_DEFAULT_PROJECT_ID);
	int64_t project_id = workspace_project_writable_locked(a, p, project ? project : pid_text,
	                                                       &status, err, errlen);
	if (!project_id) {
		pthread_mutex_unlock(&a->lock);
		goto fail;
	}
	e->id = a->next_exp_id++;
	e->nallocs = searcher_trial_count(e->searcher);
	e->allocs = calloc(e->nallocs > 0 ? (size_t)e->nallocs : 1, sizeof(*e->allocs));
	e->state = activate ? FSM_ACTIVE : FSM_PAUSED;
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
	if (e->row)
		json_object_set_new(e->row, "project_id", json_integer(project_id));
	if (e->row && parent_id > 0)
		json_object_set_new(e->row, "parent_id", json_integer(parent_id));
	if (e->row)
		json_object_set_new(e->row, "description",
		                    json_string(exp_sget(conf, "description")));
	if (!e->row || !trow || !e->allocs) {
		pthread_mutex_unlock(&a->lock);
		snprintf(err, errlen, "out of memory");
		status = EXP_INTERNAL;
		goto fail;
	}
	exp_type_row(e);
	struct store_op ops[] = {
	    {.kind = STORE_PUT,
	     .table = "experiments",
	     .row = e->row,
	     .blob = model,
	     .blob_len = mlen,
	     .blob_col = "model_def"},
	    exp_put("tokens", trow),
	};
	if (store_write(a->store, ops, 2, err, errlen)) {
		pthread_mutex_unlock(&a->lock);
		status = EXP_INTERNAL;
		goto fail;
	}
	json_object_set(a->tokens, hash, trow);
	e->next = a->exps;
	a->exps = e;
	a->exps_vec_stale = 1;
	struct rm_array spec = array_of(a, e, NULL, NULL);
	json_t *plan = client_submits ? a->rm->ops->plan(a->rm, &spec, err, errlen) : NULL;
	struct exp_submission sub = {0};
	int64_t id = e->id;
	int ntasks = (int)e->num_tasks, nconc = (int)exp_iget(e->row, "max_concurrent");
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
		e = submission_settle(a, id, &sub, rc);
		if (rc) {
			submission_failed(a, e);
		} else if (e) {
			json_decref(*out);
			*out = exp_view_locked(e, 0);
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
		return EXP_INVALID;
	}
	log_msg(&a->log, LOG_LEVEL_INFO, "experiment %lld created by %s: %d trials, %d at once",
	        (long long)id, p->name, ntasks, nconc);
	return EXP_OK;
fail:
	json_decref(trow);
	json_decref(conf);
	exp_rt_free(e);
	return status;
}
