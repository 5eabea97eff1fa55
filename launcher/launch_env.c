/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building the entrypoint's environment. The array is built in layers, each
 * overriding the last: the launcher's own environment, the experiment's
 * environment_variables, then the variables det-slurm defines, so a config
 * cannot fake a trial id or a token.
 * Non-obvious: DET_ALLOCATION_TOKEN is removed; the trial gets only its own
 * trial token, which can write to nothing but its own trial.
 */
#include "launch_env.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct env_array {
	char **v;
	size_t n, cap;
};

static int valid_name(const char *s, size_t n)
{
	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* Set "name=value", replacing an earlier entry of the same name. */
static int env_put(struct env_array *a, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *entry = malloc(nl + strlen(value) + 2);
	if (!entry)
		return -1;
	sprintf(entry, "%s=%s", name, value);
	for (size_t i = 0; i < a->n; i++) {
		if (!strncmp(a->v[i], name, nl) && a->v[i][nl] == '=') {
			free(a->v[i]);
			a->v[i] = entry;
			return 0;
		}
	}
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **g = realloc(a->v, cap * sizeof(*g));
		if (!g) {
			free(entry);
			return -1;
		}
		a->v = g;
		a->cap = cap;
	}
	a->v[a->n++] = entry;
	a->v[a->n] = NULL;
	return 0;
}

static int env_put_int(struct env_array *a, const char *name, long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	return env_put(a, name, buf);
}

static const char *env_get(const struct env_array *a, const char *name)
{
	return a->v ? launch_env_lookup(a->v, name) : NULL;
}

static int copy_base(struct env_array *a, char *const base[])
{
	for (size_t i = 0; base && base[i]; i++) {
		const char *eq = strchr(base[i], '=');
		if (!eq || !strncmp(base[i], "DET_ALLOCATION_TOKEN=", 21))
			continue;
		char name[256];
		size_t nl = (size_t)(eq - base[i]);
		if (nl == 0 || nl >= sizeof(name))
			continue;
		memcpy(name, base[i], nl);
		name[nl] = '\0';
		if (env_put(a, name, eq + 1) < 0)
			return -1;
	}
	return 0;
}

static int user_vars(struct env_array *a, const json_t *list, char *err, size_t errlen)
{
	size_t i;
	json_t *item;
	if (!list)
		return 0;
	if (!json_is_array(list)) {
		snprintf(err, errlen, "environment_variables: not a list");
		return -1;
	}
	json_array_foreach (list, i, item) {
		const char *kv = json_string_value(item);
		const char *eq = kv ? strchr(kv, '=') : NULL;
		char name[256];
		if (!eq || !valid_name(kv, (size_t)(eq - kv)) ||
		    (size_t)(eq - kv) >= sizeof(name)) {
			snprintf(err, errlen, "environment_variables[%zu]: expected \"NAME=value\"",
			         i);
			return -1;
		}
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		if (env_put(a, name, eq + 1) < 0)
			goto oom;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* A string field, or "" when null/absent. */
static const char *str_field(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static int trial_vars(struct env_array *a, const struct launch_env_input *in, char *err,
                      size_t errlen)
{
	const json_t *as = in->assignment;
	const struct launch_rank *r = in->rank;
	json_t *hpo = json_object_get(as, "hparams");
	char *hp = hpo ? json_dumps(hpo, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
	int rc = 0;
	if (!hp)
		goto oom;
	json_t *seed = json_object_get(as, "trial_seed");
	char seedbuf[32];
	snprintf(seedbuf, sizeof(seedbuf), "%" PRIu64,
	         json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0);
	rc |= env_put(a, "DET_HPARAMS", hp);
	free(hp);
	json_t *data = json_object_get(as, "data");
	if (json_is_object(data)) { /* the config's data: section (ClusterInfo.user_data) */
		char *d = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
		if (!d)
			goto oom;
		rc |= env_put(a, "DET_USER_DATA", d);
		free(d);
	}
	if (in->det_master)
		rc |= env_put(a, "DET_MASTER", in->det_master);
	rc |= env_put_int(a, "DET_EXPERIMENT_ID",
	                  json_integer_value(json_object_get(as, "experiment_id")));
	rc |= env_put_int(a, "DET_TRIAL_ID", json_integer_value(json_object_get(as, "trial_id")));
	rc |= env_put(a, "DET_TRIAL_SEED", seedbuf);
	rc |= env_put(a, "DET_LATEST_CHECKPOINT", str_field(as, "latest_checkpoint"));
	rc |= env_put_int(a, "DET_STEPS_COMPLETED",
	                  json_integer_value(json_object_get(as, "steps_completed")));
	rc |= env_put(a, "DET_CHECKPOINT_DIR", str_field(as, "checkpoint_dir"));
	rc |= env_put(a, "DET_SESSION_TOKEN", str_field(as, "token"));
	rc |= env_put_int(a, "DET_SEARCHER_LENGTH",
	                  json_integer_value(json_object_get(as, "length")));
	rc |= env_put(a, "DET_SEARCHER_UNIT",
	              *str_field(as, "time_unit") ? str_field(as, "time_unit") : "batches");
	rc |= env_put(a, "DET_SEARCHER_METRIC", str_field(as, "searcher_metric"));
	rc |= env_put(a, "DET_SMALLER_IS_BETTER",
	              json_is_false(json_object_get(as, "smaller_is_better")) ? "0" : "1");
	if (in->preempt_file)
		rc |= env_put(a, "DET_PREEMPT_FILE", in->preempt_file);
	if (in->early_exit_file)
		rc |= env_put(a, "DET_EARLY_EXIT_FILE", in->early_exit_file);
	rc |= env_put_int(a, "DET_RANK", r->rank);
	rc |= env_put_int(a, "DET_SIZE", r->size);
	rc |= env_put_int(a, "DET_LOCAL_RANK", r->local_rank);
	rc |= env_put_int(a, "DET_LOCAL_SIZE", r->local_size);
	rc |= env_put_int(a, "DET_CROSS_RANK", r->cross_rank);
	rc |= env_put_int(a, "DET_CROSS_SIZE", r->cross_size);
	rc |= env_put_int(a, "RANK", r->rank);
	rc |= env_put_int(a, "WORLD_SIZE", r->size);
	rc |= env_put_int(a, "LOCAL_RANK", r->local_rank);
	rc |= env_put_int(a, "LOCAL_WORLD_SIZE", r->local_size);
	rc |= env_put(a, "MASTER_ADDR",
	              *str_field(as, "master_addr") ? str_field(as, "master_addr") : "127.0.0.1");
	rc |= env_put_int(a, "MASTER_PORT", json_integer_value(json_object_get(as, "master_port")));
	if (json_is_integer(json_object_get(as, "dist_port")))
		rc |= env_put_int(a, "DET_DIST_PORT",
		                  json_integer_value(json_object_get(as, "dist_port")));
	if (rc)
		goto oom;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* name=dir:old (at_end: old:dir), or name=dir when it was unset or empty. */
static int add_path(struct env_array *a, const char *name, const char *dir, int at_end)
{
	if (!dir)
		return 0;
	const char *old = env_get(a, name);
	if (!old || !*old)
		return env_put(a, name, dir);
	char *v = malloc(strlen(dir) + strlen(old) + 2);
	if (!v)
		return -1;
	sprintf(v, "%s:%s", at_end ? old : dir, at_end ? dir : old);
	int rc = env_put(a, name, v);
	free(v);
	return rc;
}

/* name is set in base to something other than "", "NoDevFiles" or "-1". */
static int names_devices(char *const base[], const char *name)
{
	const char *v = base ? launch_env_lookup(base, name) : NULL;
	return v && *v && strcmp(v, "NoDevFiles") && strcmp(v, "-1");
}

const char *launch_env_slot_type(char *const base[])
{
	if (names_devices(base, "CUDA_VISIBLE_DEVICES"))
		return "cuda";
	if (names_devices(base, "ROCR_VISIBLE_DEVICES") ||
	    names_devices(base, "HIP_VISIBLE_DEVICES"))
		return "rocm";
	return "cpu";
}

/* The experiment's variables for this slot type: environment.environment_variables
 * holds one list per slot type; older masters send only a top-level list. */
static const json_t *slot_vars(char *const base[], const json_t *as)
{
	const json_t *by =
	    json_object_get(json_object_get(as, "environment"), "environment_variables");
	if (json_is_object(by))
		return json_object_get(by, launch_env_slot_type(base));
	return json_object_get(as, "environment_variables");
}

char **launch_env_build(char *const base[], const struct launch_env_input *in, char *err,
                        size_t errlen)
{
	struct env_array a = {NULL, 0, 0};
	if (!json_is_object(in->assignment) ||
	    !json_is_integer(json_object_get(in->assignment, "trial_id"))) {
		snprintf(err, errlen, "trial assignment: no trial_id");
		return NULL;
	}
	if (copy_base(&a, base) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (user_vars(&a, slot_vars(base, in->assignment), err, errlen) < 0)
		goto fail;
	if (trial_vars(&a, in, err, errlen) < 0)
		goto fail;
	/* det-launch's directories go after the trial's PATH, so that an entrypoint's
	 * python, python3 or any other program is the one the user's PATH names */
	if (add_path(&a, "PYTHONPATH", in->pythondir, 0) < 0 ||
	    add_path(&a, "PATH", in->bindirs, 1) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return a.v;
fail:
	launch_env_free(a.v);
	return NULL;
}

void launch_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
