/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `searcher` section: which keys each searcher takes, Determined's
 * defaults, and the two ways of giving a length. The old `max_length`
 * {unit: N} form is kept as written and, for adaptive_asha, also copied into
 * `time_metric`/`max_time`, so the searcher reads one form only. Keys that
 * belong to another Determined searcher are an error that says so, rather
 * than "unknown key", because that is the likelier mistake.
 */
#include "expconf_searcher.h"

#include <limits.h>
#include <math.h>
#include <string.h>

static const char *const det_searcher_keys[] = {"bracket_rungs",
                                                "divisor",
                                                "explore_function",
                                                "length_per_round",
                                                "max_concurrent_trials",
                                                "max_length",
                                                "max_rungs",
                                                "max_trials",
                                                "mode",
                                                "num_rounds",
                                                "num_rungs",
                                                "population_size",
                                                "replace_function",
                                                "stop_once",
                                                "budget",
                                                "train_stragglers",
                                                "time_metric",
                                                "max_time",
                                                NULL};
static const char *const common_keys[] = {"name",
                                          "metric",
                                          "smaller_is_better",
                                          "source_trial_id",
                                          "source_checkpoint_uuid",
                                          "max_length",
                                          "time_metric",
                                          "max_time",
                                          "max_concurrent_trials",
                                          NULL};
static const char *const asha_ignored[] = {"bracket_rungs", "stop_once", NULL};
static const char *const unsupported[] = {
    "custom", "pbt", "adaptive", "adaptive_simple", "async_halving", "sync_halving", NULL};
static const char *const length_units[] = {"batches", "epochs", "records", NULL};

static int listed(const struct yamltree_node *n, const char *const *list)
{
	for (; *list; list++)
		if (yamltree_is(n, *list))
			return 1;
	return 0;
}

static int takes(const char *name, const struct yamltree_node *key)
{
	if (listed(key, common_keys))
		return 1;
	if (strcmp(name, "random") == 0)
		return yamltree_is(key, "max_trials");
	if (strcmp(name, "adaptive_asha") == 0)
		return yamltree_is(key, "max_trials") || yamltree_is(key, "divisor") ||
		       yamltree_is(key, "max_rungs") || yamltree_is(key, "mode");
	return 0;
}

static void check_keys(struct expconf_ctx *c, const struct yamltree_node *s, const char *name)
{
	for (size_t i = 0; i + 1 < s->nkids; i += 2) {
		const struct yamltree_node *key = s->kids[i];
		size_t saved;

		if (takes(name, key))
			continue;
		saved = expconf_path_push(c, key->text);
		if (strcmp(name, "adaptive_asha") == 0 && listed(key, asha_ignored))
			expconf_warn(c, key, "\"%s\" is a Determined setting ignored by det-slurm",
			             key->text);
		else if (listed(key, det_searcher_keys))
			expconf_err(c, key, "\"%s\" is not a setting of the %s searcher", key->text,
			            name);
		else
			expconf_err(c, key, "unknown key \"%s\"", key->text);
		expconf_path_pop(c, saved);
	}
}

int expconf_length(struct expconf_ctx *c, const struct yamltree_node *n, long long min,
                   json_t **out, const char **unit)
{
	const struct yamltree_node *v;
	long long value;
	size_t saved;

	*out = NULL;
	if (n->kind != YAMLTREE_MAP || n->nkids != 2 || !listed(n->kids[0], length_units)) {
		expconf_err(c, n,
		            "expected a length: a mapping with one of batches, epochs or records");
		return -1;
	}
	*unit = n->kids[0]->text;
	v = n->kids[1];
	saved = expconf_path_push(c, *unit);
	if (expconf_get_int(c, v, min, LLONG_MAX, &value) < 0) {
		expconf_path_pop(c, saved);
		return -1;
	}
	expconf_path_pop(c, saved);
	*out = json_pack("{s:I}", *unit, (json_int_t)value);
	return *out ? 0 : -1;
}

/* max_length or time_metric + max_time. */
static void searcher_length(struct expconf_ctx *c, const struct yamltree_node *s, const char *name,
                            json_t *out)
{
	size_t saved;
	const struct yamltree_node *ml = expconf_opt(expconf_child(c, s, "max_length", &saved));
	const struct yamltree_node *tm, *mt;
	const char *unit = NULL;
	json_t *length = NULL, *j = NULL;
	long long max_time = 0;
	int is_asha = strcmp(name, "adaptive_asha") == 0;

	if (ml && expconf_length(c, ml, 1, &length, &unit) == 0) {
		expconf_set(c, out, "max_length", length);
		if (is_asha) {
			expconf_set(c, out, "time_metric", json_string(unit));
			expconf_set(c, out, "max_time", json_incref(json_object_get(length, unit)));
		}
	}
	expconf_path_pop(c, saved);
	tm = expconf_opt(expconf_child(c, s, "time_metric", &saved));
	if (tm) {
		if (ml)
			expconf_err(c, tm,
			            "give either max_length or time_metric and max_time, not both");
		else if (!yamltree_map_get(s, "max_time"))
			expconf_err(c, tm, "time_metric needs max_time");
		else if (expconf_get_str(c, tm, 1, &j) == 0)
			expconf_set(c, out, "time_metric", j);
	}
	expconf_path_pop(c, saved);
	mt = expconf_opt(expconf_child(c, s, "max_time", &saved));
	if (mt) {
		if (ml)
			expconf_err(c, mt,
			            "give either max_length or time_metric and max_time, not both");
		else if (!tm)
			expconf_err(c, mt, "max_time needs time_metric");
		else if (expconf_get_int(c, mt, 1, LLONG_MAX, &max_time) == 0)
			expconf_set(c, out, "max_time", json_integer(max_time));
	}
	expconf_path_pop(c, saved);
	if (is_asha && !ml && !tm && !mt)
		expconf_err(c, s,
		            "adaptive_asha needs a length: time_metric and max_time (or the older "
		            "max_length)");
}

static void asha_fields(struct expconf_ctx *c, const struct yamltree_node *s, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, s, "divisor", &saved));
	double divisor = 4;
	json_t *j;

	if (n && expconf_get_num(c, n, &divisor) == 0 && !(divisor > 1))
		expconf_err(c, n, "divisor must be greater than 1, got %g", divisor);
	/* An integral divisor stays a JSON integer, as the contract shows it. */
	if (divisor == floor(divisor) && divisor < 1e15)
		expconf_set(c, out, "divisor", json_integer((json_int_t)divisor));
	else
		expconf_set(c, out, "divisor", json_real(divisor));
	expconf_path_pop(c, saved);
	expconf_opt_int(c, s, "max_rungs", 1, 64, 1, 5, out);
	n = expconf_opt(expconf_child(c, s, "mode", &saved));
	if (!n) {
		expconf_set(c, out, "mode", json_string("standard"));
	} else if (expconf_get_str(c, n, 1, &j) == 0) {
		if (yamltree_is(n, "standard") || yamltree_is(n, "aggressive") ||
		    yamltree_is(n, "conservative"))
			expconf_set(c, out, "mode", j);
		else {
			expconf_err(c, n,
			            "mode must be standard, aggressive or conservative, not \"%s\"",
			            n->text);
			json_decref(j);
		}
	}
	expconf_path_pop(c, saved);
}

static void common_fields(struct expconf_ctx *c, const struct yamltree_node *s, json_t *out)
{
	size_t saved;
	const struct yamltree_node *n = expconf_opt(expconf_child(c, s, "metric", &saved));
	json_t *j;
	int b = 1;

	if (!n)
		expconf_err(c, s, "missing required key \"metric\"");
	else if (expconf_get_str(c, n, 1, &j) == 0)
		expconf_set(c, out, "metric", j);
	expconf_path_pop(c, saved);
	n = expconf_opt(expconf_child(c, s, "smaller_is_better", &saved));
	if (n)
		expconf_get_bool(c, n, &b);
	expconf_set(c, out, "smaller_is_better", json_boolean(b));
	expconf_path_pop(c, saved);
	expconf_opt_int(c, s, "source_trial_id", 0, LLONG_MAX, 0, 0, out);
	n = expconf_opt(expconf_child(c, s, "source_checkpoint_uuid", &saved));
	if (n && expconf_get_str(c, n, 1, &j) == 0)
		expconf_set(c, out, "source_checkpoint_uuid", j);
	expconf_path_pop(c, saved);
}

json_t *expconf_searcher(struct expconf_ctx *c, const struct yamltree_node *s)
{
	const struct yamltree_node *n;
	const char *name = NULL;
	json_t *out = json_object();
	size_t saved;

	if (!out) {
		expconf_err(c, s, "out of memory");
		return NULL;
	}
	if (s->kind != YAMLTREE_MAP) {
		expconf_err(c, s, "expected a mapping with the searcher's name and settings");
		return out;
	}
	n = expconf_opt(expconf_child(c, s, "name", &saved));
	if (!n) {
		expconf_err(c, s, "missing required key \"name\"");
	} else if (yamltree_is(n, "single") || yamltree_is(n, "random") || yamltree_is(n, "grid") ||
	           yamltree_is(n, "adaptive_asha")) {
		name = n->text;
		c->grid = yamltree_is(n, "grid");
		c->grid_at = n;
	} else if (listed(n, unsupported)) {
		expconf_err(c, n,
		            "searcher \"%s\" is not supported by det-slurm (use single, random, "
		            "grid or adaptive_asha)",
		            n->text);
	} else {
		expconf_err(c, n,
		            "unknown searcher \"%s\" (expected single, random, grid or "
		            "adaptive_asha)",
		            n->kind == YAMLTREE_SCALAR ? n->text : "?");
	}
	expconf_path_pop(c, saved);
	if (name)
		expconf_set(c, out, "name", json_string(name));
	common_fields(c, s, out);
	if (!name)
		return out;
	check_keys(c, s, name);
	if (strcmp(name, "single") == 0)
		expconf_set(c, out, "max_trials", json_integer(1));
	if (strcmp(name, "random") == 0 || strcmp(name, "adaptive_asha") == 0) {
		n = expconf_opt(expconf_child(c, s, "max_trials", &saved));
		if (!n)
			expconf_err(
			    c, s, "missing required key \"max_trials\" (the %s searcher needs it)",
			    name);
		expconf_path_pop(c, saved);
		if (n)
			expconf_opt_int(c, s, "max_trials", 1, EXPCONF_MAX_TRIALS, 0, 0, out);
	}
	expconf_opt_int(c, s, "max_concurrent_trials", 0, INT_MAX, 1, 16, out);
	searcher_length(c, s, name, out);
	if (strcmp(name, "adaptive_asha") == 0)
		asha_fields(c, s, out);
	return out;
}
