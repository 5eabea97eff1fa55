/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment configuration: YAML text -> located tree (yamltree.c) ->
 * validated, normalized JSON (the shape of doc/expconf.md). The validators
 * never stop at the first problem: each section reports what it finds and
 * carries on, so one run lists every error of the file; the JSON is handed
 * out only when there was none. The YAML tree is kept with the result, and
 * expconf_location() walks it, so locations cost no memory per key path even
 * when aliases multiply the paths.
 */
#include "expconf.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expconf_check.h"
#include "expconf_diag.h"
#include "expconf_searcher.h"
#include "yamltree.h"

struct expconf {
	json_t *json;
	struct yamltree *tree;
};

static const char *const top_keys[] = {"name",
                                       "description",
                                       "labels",
                                       "entrypoint",
                                       "hyperparameters",
                                       "searcher",
                                       "resources",
                                       "checkpoint_storage",
                                       "max_restarts",
                                       "reproducibility",
                                       "environment",
                                       "bind_mounts",
                                       "slurm",
                                       "data",
                                       "min_validation_period",
                                       "min_checkpoint_period",
                                       "records_per_epoch",
                                       NULL};
/* Determined keys with no meaning on det-slurm: warned about, then dropped. */
static const char *const top_ignored[] = {"checkpoint_policy",
                                          "data_layer",
                                          "debug",
                                          "internal",
                                          "optimizations",
                                          "perform_initial_validation",
                                          "profiling",
                                          "scheduling_unit",
                                          "security",
                                          "tensorboard_storage",
                                          "workspace",
                                          "project",
                                          "log_policies",
                                          "retention_policy",
                                          "integrations",
                                          "pbs",
                                          NULL};
static const char *const resources_keys[] = {"slots_per_trial", "resource_pool", "priority",
                                             "max_slots", NULL};
static const char *const resources_ignored[] = {
    "weight", "native_parallel", "shm_size", "agent_label", "devices", "is_single_node", NULL};
static const char *const storage_keys[] = {"type",
                                           "host_path",
                                           "storage_path",
                                           "container_path",
                                           "save_experiment_best",
                                           "save_trial_best",
                                           "save_trial_latest",
                                           NULL};
static const char *const storage_ignored[] = {"propagation", NULL};
static const char *const storage_remote[] = {"s3", "gcs", "azure", "hdfs", NULL};
static const char *const repro_keys[] = {"experiment_seed", NULL};
static const char *const env_keys[] = {
    "environment_variables", "image", "force_pull_image", "pod_spec", "registry_auth", NULL};
static const char *const env_ignored[] = {"add_capabilities", "drop_capabilities", "ports",
                                          "proxy_ports", NULL};
static const char *const env_map_keys[] = {"cpu", "cuda", "gpu", "rocm", NULL};
/* The slot types a trial can have; "gpu" is Determined's older name of "cuda". */
static const char *const env_slot_types[] = {"cpu", "cuda", "rocm", NULL};
static const char *const mount_keys[] = {"host_path", "container_path", "read_only", NULL};
static const char *const mount_ignored[] = {"propagation", NULL};
static const char *const slurm_keys[] = {"sbatch_args", "gpu_type", "slots_per_node",
                                         "walltime_signal_seconds", NULL};

/* Optional string field; def NULL = absent when not given. */
static void opt_str(struct expconf_ctx *c, const struct yamltree_node *map, const char *key,
                    const char *def, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, map, key, &saved));
	json_t *j;

	if (n) {
		if (expconf_get_str(c, n, 0, &j) == 0)
			expconf_set(c, out, key, j);
	} else if (def) {
		expconf_set(c, out, key, json_string(def));
	}
	expconf_path_pop(c, saved);
}

/* A list of strings (NULL or null = empty); nonempty: at least one item. */
static json_t *str_list(struct expconf_ctx *c, const struct yamltree_node *n, int nonempty)
{
	json_t *arr = json_array(), *j;

	if (!arr) {
		expconf_err(c, n, "out of memory");
		return NULL;
	}
	if (!expconf_opt(n))
		return arr;
	if (n->kind != YAMLTREE_SEQ) {
		expconf_err(c, n, "expected a list of strings");
		return arr;
	}
	if (nonempty && n->nkids == 0)
		expconf_err(c, n, "must not be an empty list");
	for (size_t i = 0; i < n->nkids; i++) {
		size_t saved = expconf_path_index(c, i);

		if (expconf_get_str(c, n->kids[i], 0, &j) == 0 && json_array_append_new(arr, j) < 0)
			expconf_err(c, n->kids[i], "out of memory");
		expconf_path_pop(c, saved);
	}
	return arr;
}

static void do_entrypoint(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, root, "entrypoint", &saved));
	json_t *j;

	if (!n)
		expconf_err(c, root,
		            "missing required key \"entrypoint\" (a command string or list)");
	else if (n->kind == YAMLTREE_SEQ)
		expconf_set(c, out, "entrypoint", str_list(c, n, 1));
	else if (n->kind == YAMLTREE_MAP)
		expconf_err(c, n, "expected a command: a string or a list of strings");
	else if (expconf_get_str(c, n, 1, &j) == 0)
		expconf_set(c, out, "entrypoint", j);
	expconf_path_pop(c, saved);
}

static void do_resources(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, root, "resources", &saved));
	json_t *r = json_object();

	if (!r)
		goto done;
	if (n)
		expconf_check_keys(c, n, resources_keys, resources_ignored);
	if (n && n->kind != YAMLTREE_MAP)
		n = NULL;
	expconf_opt_int(c, n, "slots_per_trial", 0, INT_MAX, 1, 1, r);
	opt_str(c, n, "resource_pool", "default", r);
	expconf_opt_int(c, n, "priority", 1, 99, 2, 0, r);
	expconf_opt_int(c, n, "max_slots", 0, INT_MAX, 2, 0, r);
done:
	expconf_set(c, out, "resources", r);
	expconf_path_pop(c, saved);
}

static int listed(const struct yamltree_node *n, const char *const *list)
{
	for (; *list; list++)
		if (yamltree_is(n, *list))
			return 1;
	return 0;
}

/* A required path-like string of checkpoint_storage. */
static void storage_need(struct expconf_ctx *c, const struct yamltree_node *n, const char *key,
                         const char *type)
{
	const struct yamltree_node *v = expconf_opt(yamltree_map_get(n, key));

	if (!v)
		expconf_err(c, n, "checkpoint_storage of type %s needs \"%s\"", type, key);
}

static void do_storage(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved, saved2;
	const struct yamltree_node *n = expconf_opt(
	                               expconf_child(c, root, "checkpoint_storage", &saved)),
	                           *t;
	json_t *s = json_object();

	if (!s)
		goto done;
	t = n && n->kind == YAMLTREE_MAP ? expconf_opt(expconf_child(c, n, "type", &saved2)) : NULL;
	if (t && listed(t, storage_remote)) {
		expconf_err(
		    c, t,
		    "checkpoint storage type \"%s\" is not supported by det-slurm (use shared_fs "
		    "or directory)",
		    t->text);
		expconf_path_pop(c, saved2);
		goto done;
	}
	if (t) {
		if (yamltree_is(t, "shared_fs") || yamltree_is(t, "directory"))
			expconf_set(c, s, "type", json_string(t->text));
		else
			expconf_err(c, t,
			            "unknown checkpoint storage type \"%s\" (expected shared_fs or "
			            "directory)",
			            t->kind == YAMLTREE_SCALAR ? t->text : "?");
		expconf_path_pop(c, saved2);
	}
	if (n && expconf_check_keys(c, n, storage_keys, storage_ignored) < 0)
		n = NULL;
	if (t && yamltree_is(t, "shared_fs"))
		storage_need(c, n, "host_path", "shared_fs");
	if (t && yamltree_is(t, "directory"))
		storage_need(c, n, "container_path", "directory");
	opt_str(c, n, "host_path", NULL, s);
	opt_str(c, n, "storage_path", NULL, s);
	opt_str(c, n, "container_path", NULL, s);
	expconf_opt_int(c, n, "save_experiment_best", 0, INT_MAX, 1, 0, s);
	expconf_opt_int(c, n, "save_trial_best", 0, INT_MAX, 1, 1, s);
	expconf_opt_int(c, n, "save_trial_latest", 0, INT_MAX, 1, 1, s);
done:
	expconf_set(c, out, "checkpoint_storage", s);
	expconf_path_pop(c, saved);
}

static void do_reproducibility(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n =
	    expconf_opt(expconf_child(c, root, "reproducibility", &saved));
	json_t *r = json_object();

	if (r && n && expconf_check_keys(c, n, repro_keys, NULL) == 0)
		expconf_opt_int(c, n, "experiment_seed", 0, UINT32_MAX, 0, 0, r);
	expconf_set(c, out, "reproducibility", r);
	expconf_path_pop(c, saved);
}

/* "NAME=value" with NAME a shell-style variable name. */
static int env_entry_ok(const char *s)
{
	const char *p = s;

	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
		return 0;
	for (p++; *p && *p != '='; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return *p == '=';
}

static void env_list(struct expconf_ctx *c, const struct yamltree_node *n, json_t *into)
{
	json_t *list = str_list(c, n, 0);
	size_t i;
	json_t *v;

	if (!list)
		return;
	json_array_foreach (list, i, v) {
		if (!env_entry_ok(json_string_value(v))) {
			size_t saved = expconf_path_index(c, i);

			expconf_err(c, n->kids[i], "expected NAME=value, got \"%s\"",
			            json_string_value(v));
			expconf_path_pop(c, saved);
		}
	}
	json_array_extend(into, list);
	json_decref(list);
}

/* The map key of slot type k: "cuda" may also be written "gpu". */
static const struct yamltree_node *
slot_child(struct expconf_ctx *c, const struct yamltree_node *map, const char *k, size_t *saved)
{
	const struct yamltree_node *n = expconf_opt(expconf_child(c, map, k, saved));

	if (!n && !strcmp(k, "cuda")) {
		expconf_path_pop(c, *saved);
		n = expconf_opt(expconf_child(c, map, "gpu", saved));
	}
	return n;
}

/* environment_variables: one list for every slot type, or one list per slot type
 * (cpu, cuda or gpu, rocm); a trial gets the list of its own slot type only. */
static json_t *env_vars(struct expconf_ctx *c, const struct yamltree_node *env)
{
	size_t saved;
	const struct yamltree_node *vars =
	    env ? expconf_opt(expconf_child(c, env, "environment_variables", &saved)) : NULL;
	json_t *by_slot = json_object();

	if (!env)
		saved = c->plen;
	for (const char *const *k = env_slot_types; by_slot && *k; k++)
		expconf_set(c, by_slot, *k, json_array());
	if (!by_slot || !vars)
		goto done;
	if (vars->kind == YAMLTREE_MAP) {
		expconf_check_keys(c, vars, env_map_keys, NULL);
		if (yamltree_map_get(vars, "cuda") && yamltree_map_get(vars, "gpu"))
			expconf_err(c, vars, "give \"cuda\" or its older name \"gpu\", not both");
		for (const char *const *k = env_slot_types; *k; k++) {
			size_t saved2;
			const struct yamltree_node *l = slot_child(c, vars, *k, &saved2);

			if (l)
				env_list(c, l, json_object_get(by_slot, *k));
			expconf_path_pop(c, saved2);
		}
	} else {
		json_t *cpu = json_object_get(by_slot, "cpu");

		env_list(c, vars, cpu);
		for (const char *const *k = env_slot_types + 1; cpu && *k; k++)
			json_array_extend(json_object_get(by_slot, *k), cpu);
	}
done:
	expconf_path_pop(c, saved);
	return by_slot;
}

/* An image reference: "sha256:" and 64 hex digits, or a name of letters, digits
 * and ._-:/ (no "..", no leading '-' or '/'), at most 128 bytes. */
int expconf_image_ref_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 128)
		return 0;
	if (!strncmp(s, "sha256:", 7)) {
		if (n != 7 + 64)
			return 0;
		for (size_t i = 7; i < n; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
				return 0;
		return 1;
	}
	if (s[0] == '-' || s[0] == '/' || s[0] == '.' || strstr(s, ".."))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("._-:/", s[i])))
			return 0;
	return 1;
}

static void image_ref(struct expconf_ctx *c, const struct yamltree_node *n, const char *slot,
                      json_t *by_slot)
{
	json_t *j;

	if (expconf_get_str(c, n, 1, &j) < 0)
		return;
	if (!expconf_image_ref_ok(json_string_value(j))) {
		expconf_err(c, n,
		            "expected an image name (letters, digits and ._-:/, no \"..\") or "
		            "sha256:DIGEST (64 hex digits), got \"%s\"",
		            json_string_value(j));
		json_decref(j);
		return;
	}
	expconf_set(c, by_slot, slot, j);
}

/* environment.image: one name for every slot type or {cpu, cuda (gpu), rocm};
 * NULL when not given. */
static json_t *env_image(struct expconf_ctx *c, const struct yamltree_node *env)
{
	size_t saved;
	const struct yamltree_node *n =
	    env ? expconf_opt(expconf_child(c, env, "image", &saved)) : NULL;
	json_t *by_slot = NULL;

	if (!env)
		return NULL;
	if (!n)
		goto done;
	by_slot = json_object();
	if (!by_slot) {
		expconf_err(c, n, "out of memory");
	} else if (n->kind == YAMLTREE_MAP) {
		expconf_check_keys(c, n, env_map_keys, NULL);
		if (yamltree_map_get(n, "cuda") && yamltree_map_get(n, "gpu"))
			expconf_err(c, n, "give \"cuda\" or its older name \"gpu\", not both");
		for (const char *const *k = env_slot_types; *k; k++) {
			size_t saved2;
			const struct yamltree_node *l = slot_child(c, n, *k, &saved2);

			if (l)
				image_ref(c, l, *k, by_slot);
			expconf_path_pop(c, saved2);
		}
	} else {
		image_ref(c, n, "cpu", by_slot);
		for (const char *const *k = env_slot_types + 1; *k; k++)
			if (json_object_get(by_slot, "cpu"))
				expconf_set(c, by_slot, *k,
				            json_copy(json_object_get(by_slot, "cpu")));
	}
done:
	expconf_path_pop(c, saved);
	return by_slot;
}

/* Keys accepted for compatibility that det-slurm cannot honour: one warning each. */
static void env_warn_ignored(struct expconf_ctx *c, const struct yamltree_node *env)
{
	static const char *const why[][2] = {
	    {"pod_spec", "ignored: det-slurm runs no Kubernetes pods"},
	    {"registry_auth", "ignored: images come from the master's image cache (det image "
	                      "import), no registry is contacted"},
	};

	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		size_t saved;

		if (expconf_opt(expconf_child(c, env, why[i][0], &saved)))
			expconf_warn(c, yamltree_map_get(env, why[i][0]), "%s", why[i][1]);
		expconf_path_pop(c, saved);
	}
}

static void do_environment(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved, saved2;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, root, "environment", &saved)),
	                           *f;
	json_t *e = json_object(), *image;
	int force = 0;

	if (!e)
		goto done;
	if (n && expconf_check_keys(c, n, env_keys, env_ignored) < 0)
		n = NULL;
	expconf_set(c, e, "environment_variables", env_vars(c, n));
	image = env_image(c, n);
	if (image)
		expconf_set(c, e, "image", image);
	f = n ? expconf_opt(expconf_child(c, n, "force_pull_image", &saved2)) : NULL;
	if (f)
		expconf_get_bool(c, f, &force);
	if (n)
		expconf_path_pop(c, saved2);
	expconf_set(c, e, "force_pull_image", json_boolean(force));
	if (n)
		env_warn_ignored(c, n);
done:
	expconf_set(c, out, "environment", e);
	expconf_path_pop(c, saved);
}

/* A container path: absolute, no "." or ".." component, not "/" itself. */
static int container_path_ok(const char *p)
{
	if (!p || p[0] != '/' || !strcmp(p, "/"))
		return 0;
	for (const char *s = p; *s;) {
		while (*s == '/')
			s++;
		size_t len = strcspn(s, "/");
		if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		s += len;
	}
	return 1;
}

static void do_mount(struct expconf_ctx *c, const struct yamltree_node *m, json_t *mounts)
{
	const struct yamltree_node *hp = expconf_opt(yamltree_map_get(m, "host_path"));
	const struct yamltree_node *cp = expconf_opt(yamltree_map_get(m, "container_path"));
	json_t *o = json_object();
	size_t saved;
	int ro = 0;

	if (!o || expconf_check_keys(c, m, mount_keys, mount_ignored) < 0)
		goto fail;
	if (!hp)
		expconf_err(c, m, "missing required key \"host_path\"");
	if (!cp)
		expconf_err(c, m, "missing required key \"container_path\"");
	opt_str(c, m, "host_path", NULL, o);
	opt_str(c, m, "container_path", NULL, o);
	if (hp && hp->kind == YAMLTREE_SCALAR && hp->text[0] != '/') {
		saved = expconf_path_push(c, "host_path");
		expconf_err(c, hp, "host_path must be an absolute path");
		expconf_path_pop(c, saved);
	}
	if (cp && cp->kind == YAMLTREE_SCALAR && !container_path_ok(cp->text)) {
		saved = expconf_path_push(c, "container_path");
		expconf_err(c, cp,
		            "container_path must be an absolute path other than \"/\" with no "
		            "\".\" or \"..\" component");
		expconf_path_pop(c, saved);
	}
	{
		const struct yamltree_node *r =
		    expconf_opt(expconf_child(c, m, "read_only", &saved));

		if (r)
			expconf_get_bool(c, r, &ro);
		expconf_path_pop(c, saved);
	}
	expconf_set(c, o, "read_only", json_boolean(ro));
	if (json_array_append(mounts, o) < 0)
		expconf_err(c, m, "out of memory");
fail:
	json_decref(o);
}

static void do_bind_mounts(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, root, "bind_mounts", &saved));
	json_t *mounts = json_array();

	if (mounts && n && n->kind != YAMLTREE_SEQ)
		expconf_err(c, n,
		            "expected a list of mounts (host_path, container_path, read_only)");
	else if (mounts && n)
		for (size_t i = 0; i < n->nkids; i++) {
			size_t saved2 = expconf_path_index(c, i);

			do_mount(c, n->kids[i], mounts);
			expconf_path_pop(c, saved2);
		}
	expconf_set(c, out, "bind_mounts", mounts);
	expconf_path_pop(c, saved);
}

static void do_slurm(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved, saved2;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, root, "slurm", &saved));
	json_t *s = json_object();

	if (!s)
		goto done;
	if (n && expconf_check_keys(c, n, slurm_keys, NULL) < 0)
		n = NULL;
	expconf_set(c, s, "sbatch_args",
	            str_list(c, expconf_child(c, n, "sbatch_args", &saved2), 0));
	expconf_path_pop(c, saved2);
	opt_str(c, n, "gpu_type", NULL, s);
	expconf_opt_int(c, n, "slots_per_node", 1, INT_MAX, 0, 0, s);
	expconf_opt_int(c, n, "walltime_signal_seconds", 0, 65535, 0, 0, s);
done:
	expconf_set(c, out, "slurm", s);
	expconf_path_pop(c, saved);
}

static void do_period(struct expconf_ctx *c, const struct yamltree_node *root, const char *key,
                      json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, root, key, &saved));
	const char *unit;
	json_t *j;

	if (n && expconf_length(c, n, 0, &j, &unit) == 0)
		expconf_set(c, out, key, j);
	expconf_path_pop(c, saved);
}

static void do_data(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, root, "data", &saved));
	json_t *j = n ? expconf_to_json(c, n) : json_object();

	if (j)
		expconf_set(c, out, "data", j);
	expconf_path_pop(c, saved);
}

static void do_searcher_and_hps(struct expconf_ctx *c, const struct yamltree_node *root,
                                json_t *out)
{
	size_t saved;
	const struct yamltree_node *s = expconf_opt(expconf_child(c, root, "searcher", &saved));
	json_t *sj = NULL, *hps;

	if (!s)
		expconf_err(c, root, "missing required key \"searcher\"");
	else
		sj = expconf_searcher(c, s);
	expconf_path_pop(c, saved);
	hps = expconf_hparams(c, expconf_opt(expconf_child(c, root, "hyperparameters", &saved)));
	expconf_path_pop(c, saved);
	if (hps && c->grid) {
		unsigned long long points = expconf_grid_size(hps, EXPCONF_MAX_GRID_POINTS);

		saved = expconf_path_push(c, "searcher");
		if (points > EXPCONF_MAX_GRID_POINTS)
			expconf_err(c, c->grid_at,
			            "grid search has more than %d points (the product of the "
			            "hyperparameters' counts); lower the counts",
			            EXPCONF_MAX_GRID_POINTS);
		expconf_path_pop(c, saved);
	}
	if (hps)
		expconf_set(c, out, "hyperparameters", hps);
	if (sj)
		expconf_set(c, out, "searcher", sj);
}

static void validate(struct expconf_ctx *c, const struct yamltree_node *root, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n;

	expconf_check_keys(c, root, top_keys, top_ignored);
	opt_str(c, root, "name", "experiment", out);
	opt_str(c, root, "description", "", out);
	expconf_set(c, out, "labels", str_list(c, expconf_child(c, root, "labels", &saved), 0));
	expconf_path_pop(c, saved);
	do_entrypoint(c, root, out);
	do_searcher_and_hps(c, root, out);
	do_resources(c, root, out);
	do_storage(c, root, out);
	expconf_opt_int(c, root, "max_restarts", 0, INT_MAX, 1, 5, out);
	do_reproducibility(c, root, out);
	do_environment(c, root, out);
	do_bind_mounts(c, root, out);
	do_slurm(c, root, out);
	do_data(c, root, out);
	do_period(c, root, "min_validation_period", out);
	do_period(c, root, "min_checkpoint_period", out);
	n = expconf_opt(expconf_child(c, root, "records_per_epoch", &saved));
	expconf_path_pop(c, saved);
	if (n)
		expconf_opt_int(c, root, "records_per_epoch", 0, LLONG_MAX, 0, 0, out);
}

struct expconf *expconf_parse(const char *text, size_t len, const char *filename,
                              struct expconf_diags *diags)
{
	struct expconf_ctx c;
	struct expconf *conf = NULL;
	struct yamltree *tree = NULL;
	json_t *out = NULL;

	expconf_diags_init(diags, filename);
	memset(&c, 0, sizeof(c));
	c.d = diags;
	if (len > EXPCONF_MAX_FILE_BYTES) {
		expconf_diag_add(diags, EXPCONF_ERROR, 0, 0, "",
		                 "file too large (%zu bytes, limit %d)", len,
		                 EXPCONF_MAX_FILE_BYTES);
		goto fail;
	}
	tree = yamltree_parse(text ? text : "", text ? len : 0, diags);
	if (!tree)
		goto fail;
	if (!tree->root || yamltree_is_null(tree->root)) {
		expconf_diag_add(diags, EXPCONF_ERROR, 1, 1, "",
		                 "the file is empty: expected an experiment configuration mapping");
		goto fail;
	}
	if (tree->root->kind != YAMLTREE_MAP) {
		expconf_err(&c, tree->root, "expected a mapping of configuration keys at the top");
		goto fail;
	}
	out = json_object();
	if (!out) {
		expconf_err(&c, NULL, "out of memory");
		goto fail;
	}
	validate(&c, tree->root, out);
	if (diags->errors)
		goto fail;
	conf = calloc(1, sizeof(*conf));
	if (!conf) {
		expconf_err(&c, NULL, "out of memory");
		goto fail;
	}
	conf->json = out;
	conf->tree = tree;
	expconf_diags_sort(diags);
	return conf;
fail:
	expconf_diags_sort(diags);
	json_decref(out);
	yamltree_free(tree);
	return NULL;
}

struct expconf *expconf_parse_file(const char *path, struct expconf_diags *diags)
{
	struct expconf *conf = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "rb");

	if (!f) {
		expconf_diags_init(diags, path);
		expconf_diag_add(diags, EXPCONF_ERROR, 0, 0, "", "cannot open: %s",
		                 strerror(errno));
		return NULL;
	}
	buf = malloc(EXPCONF_MAX_FILE_BYTES + 1);
	if (!buf) {
		expconf_diags_init(diags, path);
		expconf_diag_add(diags, EXPCONF_ERROR, 0, 0, "", "out of memory");
		goto done;
	}
	/* Read one byte past the limit so that an oversized file is seen as such. */
	len = fread(buf, 1, EXPCONF_MAX_FILE_BYTES + 1, f);
	if (ferror(f)) {
		expconf_diags_init(diags, path);
		expconf_diag_add(diags, EXPCONF_ERROR, 0, 0, "", "cannot read: %s",
		                 strerror(errno));
		goto done;
	}
	if (len > EXPCONF_MAX_FILE_BYTES) {
		expconf_diags_init(diags, path);
		expconf_diag_add(diags, EXPCONF_ERROR, 0, 0, "",
		                 "file too large (more than %d bytes)", EXPCONF_MAX_FILE_BYTES);
		goto done;
	}
	conf = expconf_parse(buf, len, path, diags);
done:
	free(buf);
	fclose(f);
	return conf;
}

void expconf_free(struct expconf *conf)
{
	if (!conf)
		return;
	json_decref(conf->json);
	yamltree_free(conf->tree);
	free(conf);
}

json_t *expconf_json(const struct expconf *conf)
{
	return conf ? conf->json : NULL;
}

/* The child of n named by one path component (a key, or a list index). */
static const struct yamltree_node *location_step(const struct yamltree_node *n, const char *part,
                                                 size_t len, const struct yamltree_node **at)
{
	if (n->kind == YAMLTREE_MAP) {
		for (size_t i = 0; i + 1 < n->nkids; i += 2) {
			const struct yamltree_node *k = n->kids[i];

			if (k->len == len && memcmp(k->text, part, len) == 0) {
				*at = k;
				return n->kids[i + 1];
			}
		}
		return NULL;
	}
	if (n->kind == YAMLTREE_SEQ && len > 0 && len < 20) {
		size_t idx = 0;

		for (size_t i = 0; i < len; i++) {
			if (part[i] < '0' || part[i] > '9')
				return NULL;
			idx = idx * 10 + (size_t)(part[i] - '0');
		}
		if (idx < n->nkids) {
			*at = n->kids[idx];
			return n->kids[idx];
		}
	}
	return NULL;
}

int expconf_location(const struct expconf *conf, const char *path, int *line, int *column)
{
	const struct yamltree_node *n, *at;

	if (!conf || !path)
		return -1;
	n = at = conf->tree->root;
	while (*path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);

		n = location_step(n, path, len, &at);
		if (!n)
			return -1;
		path += len + (dot ? 1 : 0);
	}
	*line = at->line;
	*column = at->column;
	return 0;
}
