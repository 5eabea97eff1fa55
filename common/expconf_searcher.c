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

static const char *const det_searcher_keys[] = {
	"bracket_rungs", "divisor", "explore_function", "length_per_round",
	"max_concurrent_trials", "max_length", "max_rungs", "max_trials", "mode", "num_rounds",
	"num_rungs", "population_size", "replace_function", "stop_once", "budget",
	"train_stragglers", "time_metric", "max_time", NULL};
static const char *const common_keys[] = {
	"name", "metric", "smaller_is_better", "source_trial_id", "source_checkpoint_uuid",
	"max_length", "time_metric", "max_time", "max_concurrent_trials", NULL};
static const char *const asha_ignored[] = {"bracket_rungs", "stop_once", NULL};
static const char *const unsupported[] = {"custom", "pbt", "adaptive", "adaptive_simple",
                                          "async_halving", "sync_halving", NULL};
static const char *const length_units[] = {"batches", "epochs", "records", NULL};

static int listed(const struct yt_node *n, const char *const *list)
{
	for (; *list; list++)
		if (yt_is(n, *list))
			return 1;
	return 0;
}

static int takes(const char *name, const struct yt_node *key)
{
	if (listed(key, common_keys))
		return 1;
	if (strcmp(name, "random") == 0)
		return yt_is(key, "max_trials");
	if (strcmp(name, "adaptive_asha") == 0)
		return yt_is(key, "max_trials") || yt_is(key, "divisor") ||
		       yt_is(key, "max_rungs") || yt_is(key, "mode");
	return 0;
}

static void check_keys(struct ec_ctx *c, const struct yt_node *s, const char *name)
{
	for (size_t i = 0; i + 1 < s->nkids; i += 2) {
		const struct yt_node *key = s->kids[i];
		size_t saved;

		if (takes(name, key))
			continue;
		saved = ec_push(c, key->text);
		if (strcmp(name, "adaptive_asha") == 0 && listed(key, asha_ignored))
			ec_warn(c, key, "\"%s\" is a Determined setting ignored by det-slurm",
			        key->text);
		else if (listed(key, det_searcher_keys))
			ec_error(c, key, "\"%s\" is not a setting of the %s searcher", key->text,
			         name);
		else
			ec_error(c, key, "unknown key \"%s\"", key->text);
		ec_pop(c, saved);
	}
}

int expconf_length(struct ec_ctx *c, const struct yt_node *n, long long min, json_t **out,
                   const char **unit)
{
	const struct yt_node *v;
	long long value;
	size_t saved;

	*out = NULL;
	if (n->kind != YT_MAP || n->nkids != 2 || !listed(n->kids[0], length_units)) {
		ec_error(c, n, "expected a length: a mapping with one of batches, epochs or records");
		return -1;
	}
	*unit = n->kids[0]->text;
	v = n->kids[1];
	saved = ec_push(c, *unit);
	if (ec_int(c, v, min, LLONG_MAX, &value) < 0) {
		ec_pop(c, saved);
		return -1;
	}
	ec_pop(c, saved);
	*out = json_pack("{s:I}", *unit, (json_int_t)value);
	return *out ? 0 : -1;
}

/* max_length or time_metric + max_time. */
static void searcher_length(struct ec_ctx *c, const struct yt_node *s, const char *name,
                            json_t *out)
{
	size_t saved;
	const struct yt_node *ml = ec_opt(ec_child(c, s, "max_length", &saved));
	const struct yt_node *tm, *mt;
	const char *unit = NULL;
	json_t *length = NULL, *j = NULL;
	long long max_time = 0;
	int is_asha = strcmp(name, "adaptive_asha") == 0;

	if (ml && expconf_length(c, ml, 1, &length, &unit) == 0) {
		ec_set(c, out, "max_length", length);
		if (is_asha) {
			ec_set(c, out, "time_metric", json_string(unit));
			ec_set(c, out, "max_time",
			       json_incref(json_object_get(length, unit)));
		}
	}
	ec_pop(c, saved);
	tm = ec_opt(ec_child(c, s, "time_metric", &saved));
	if (tm) {
		if (ml)
			ec_error(c, tm, "give either max_length or time_metric and max_time, not both");
		else if (!yt_map_get(s, "max_time"))
			ec_error(c, tm, "time_metric needs max_time");
		else if (ec_str(c, tm, 1, &j) == 0)
			ec_set(c, out, "time_metric", j);
	}
	ec_pop(c, saved);
	mt = ec_opt(ec_child(c, s, "max_time", &saved));
	if (mt) {
		if (ml)
			ec_error(c, mt, "give either max_length or time_metric and max_time, not both");
		else if (!tm)
			ec_error(c, mt, "max_time needs time_metric");
		else if (ec_int(c, mt, 1, LLONG_MAX, &max_time) == 0)
			ec_set(c, out, "max_time", json_integer(max_time));
	}
	ec_pop(c, saved);
	if (is_asha && !ml && !tm && !mt)
		ec_error(c, s,
		         "adaptive_asha needs a length: time_metric and max_time (or the older "
		         "max_length)");
}

static void opt_int(struct ec_ctx *c, const struct yt_node *s, const char *key, long long min,
                    long long max, int has_default, long long def, json_t *out)
{
	size_t saved;
	const struct yt_node *n = ec_opt(ec_child(c, s, key, &saved));
	long long v;

	if (n) {
		if (ec_int(c, n, min, max, &v) == 0)
			ec_set(c, out, key, json_integer(v));
	} else if (has_default) {
		ec_set(c, out, key, json_integer(def));
	}
	ec_pop(c, saved);
}

static void asha_fields(struct ec_ctx *c, const struct yt_node *s, json_t *out)
{
	size_t saved;
	const struct yt_node *n = ec_opt(ec_child(c, s, "divisor", &saved));
	double divisor = 4;
	json_t *j;

	if (n && ec_num(c, n, &divisor) == 0 && !(divisor > 1))
		ec_error(c, n, "divisor must be greater than 1, got %g", divisor);
	/* An integral divisor stays a JSON integer, as the contract shows it. */
	if (divisor == floor(divisor) && divisor < 1e15)
		ec_set(c, out, "divisor", json_integer((json_int_t)divisor));
	else
		ec_set(c, out, "divisor", json_real(divisor));
	ec_pop(c, saved);
	opt_int(c, s, "max_rungs", 1, 64, 1, 5, out);
	n = ec_opt(ec_child(c, s, "mode", &saved));
	if (!n) {
		ec_set(c, out, "mode", json_string("standard"));
	} else if (ec_str(c, n, 1, &j) == 0) {
		if (yt_is(n, "standard") || yt_is(n, "aggressive") || yt_is(n, "conservative"))
			ec_set(c, out, "mode", j);
		else {
			ec_error(c, n, "mode must be standard, aggressive or conservative, not \"%s\"",
			         n->text);
			json_decref(j);
		}
	}
	ec_pop(c, saved);
}

static void common_fields(struct ec_ctx *c, const struct yt_node *s, json_t *out)
{
	size_t saved;
	const struct yt_node *n = ec_opt(ec_child(c, s, "metric", &saved));
	json_t *j;
	int b = 1;

	if (!n)
		ec_error(c, s, "missing required key \"metric\"");
	else if (ec_str(c, n, 1, &j) == 0)
		ec_set(c, out, "metric", j);
	ec_pop(c, saved);
	n = ec_opt(ec_child(c, s, "smaller_is_better", &saved));
	if (n)
		ec_bool(c, n, &b);
	ec_set(c, out, "smaller_is_better", json_boolean(b));
	ec_pop(c, saved);
	opt_int(c, s, "source_trial_id", 0, LLONG_MAX, 0, 0, out);
	n = ec_opt(ec_child(c, s, "source_checkpoint_uuid", &saved));
	if (n && ec_str(c, n, 1, &j) == 0)
		ec_set(c, out, "source_checkpoint_uuid", j);
	ec_pop(c, saved);
}

json_t *expconf_searcher(struct ec_ctx *c, const struct yt_node *s)
{
	const struct yt_node *n;
	const char *name = NULL;
	json_t *out = json_object();
	size_t saved;

	if (!out) {
		ec_error(c, s, "out of memory");
		return NULL;
	}
	if (s->kind != YT_MAP) {
		ec_error(c, s, "expected a mapping with the searcher's name and settings");
		return out;
	}
	n = ec_opt(ec_child(c, s, "name", &saved));
	if (!n) {
		ec_error(c, s, "missing required key \"name\"");
	} else if (yt_is(n, "single") || yt_is(n, "random") || yt_is(n, "grid") ||
	           yt_is(n, "adaptive_asha")) {
		name = n->text;
		c->grid = yt_is(n, "grid");
		c->grid_at = n;
	} else if (listed(n, unsupported)) {
		ec_error(c, n, "searcher \"%s\" is not supported by det-slurm (use single, random, "
		               "grid or adaptive_asha)",
		         n->text);
	} else {
		ec_error(c, n, "unknown searcher \"%s\" (expected single, random, grid or "
		               "adaptive_asha)",
		         n->kind == YT_SCALAR ? n->text : "?");
	}
	ec_pop(c, saved);
	if (name)
		ec_set(c, out, "name", json_string(name));
	common_fields(c, s, out);
	if (!name)
		return out;
	check_keys(c, s, name);
	if (strcmp(name, "single") == 0)
		ec_set(c, out, "max_trials", json_integer(1));
	if (strcmp(name, "random") == 0 || strcmp(name, "adaptive_asha") == 0) {
		n = ec_opt(ec_child(c, s, "max_trials", &saved));
		if (!n)
			ec_error(c, s, "missing required key \"max_trials\" (the %s searcher needs it)",
			         name);
		ec_pop(c, saved);
		if (n)
			opt_int(c, s, "max_trials", 1, EXPCONF_MAX_TRIALS, 0, 0, out);
	}
	opt_int(c, s, "max_concurrent_trials", 0, INT_MAX, 1, 16, out);
	searcher_length(c, s, name, out);
	if (strcmp(name, "adaptive_asha") == 0)
		asha_fields(c, s, out);
	return out;
}
