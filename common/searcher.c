/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Searchers: reading the searcher config, the per-trial bookkeeping every
 * method shares (claims, exits, best value, progress, replacements) and the
 * dispatch to the method-specific parts (hparams.c for values,
 * searcher_asha.c for adaptive_asha, searcher_state.c for snapshots).
 *
 * Data structure: one struct searcher_trial per trial index, planned indices
 * first (0 .. trial_count-1), replacements for invalid hyperparameters after
 * them. Non-obvious decision: nothing about a trial's values is stored; they
 * are recomputed from (experiment seed, index) on every request, which is
 * what makes claims order-independent and snapshots small.
 */
#include "searcher_internal.h"
#include "errmsg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCHER_PREVIEW_RANDOM_TRIALS 100

const char *searcher_exit_name(enum searcher_exit how)
{
	switch (how) {
	case SEARCHER_EXIT_COMPLETED:
		return "completed";
	case SEARCHER_EXIT_ERRORED:
		return "errored";
	case SEARCHER_EXIT_INVALID_HP:
		return "invalid_hp";
	case SEARCHER_EXIT_CANCELED:
		return "canceled";
	}
	return "unknown";
}

void searcher_free(struct searcher *s)
{
	if (!s)
		return;
	free(s->metric);
	free(s->time_unit);
	hparams_free(s->hp);
	free(s->trials);
	free(s->replaced);
	searcher_asha_free(s->asha);
	free(s);
}

int searcher_add_trial(struct searcher *s, int original)
{
	struct searcher_trial *t;

	if (s->ntrials == s->trials_cap) {
		int cap = s->trials_cap ? s->trials_cap * 2 : 4;
		struct searcher_trial *n = realloc(s->trials, (size_t)cap * sizeof(*n));

		if (!n)
			return -1;
		s->trials = n;
		s->trials_cap = cap;
	}
	t = &s->trials[s->ntrials];
	memset(t, 0, sizeof(*t));
	t->exit = -1;
	if (original >= 0)
		t->bracket = s->trials[original].bracket;
	return s->ntrials++;
}

/* Optional integer member: absent -> def; present -> integer in [lo, hi]. */
static int cfg_int(const json_t *obj, const char *key, int64_t def, int64_t lo, int64_t hi,
                   int64_t *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		errmsg_set(err, errlen, "searcher.%s: must be an integer from %lld to %lld", key,
		           (long long)lo, (long long)hi);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static char *dup_or_null(const char *str)
{
	return str ? strdup(str) : NULL;
}

/* The length: time_metric + max_time, else max_length (old form; the config
 * normalizer already turns it into the new form for adaptive_asha, which needs
 * one of the two). */
static int cfg_length(struct searcher *s, const json_t *cfg, char *err, size_t errlen)
{
	const json_t *ml = json_object_get(cfg, "max_length");
	const json_t *tm = json_object_get(cfg, "time_metric");
	const json_t *mt = json_object_get(cfg, "max_time");
	int64_t v;

	if (tm && !json_is_null(tm)) {
		if (!json_is_string(tm) || json_string_length(tm) == 0) {
			errmsg_set(err, errlen, "searcher.time_metric: must be a non-empty string");
			return -1;
		}
		if (cfg_int(cfg, "max_time", 0, 1, INT64_MAX, &v, err, errlen) < 0)
			return -1;
		if (!mt || json_is_null(mt)) {
			errmsg_set(err, errlen, "searcher.max_time: needed with time_metric");
			return -1;
		}
		s->length = v;
		s->time_unit = dup_or_null(json_string_value(tm));
		return s->time_unit ? 0 : -1;
	}
	if (!ml || json_is_null(ml)) {
		if (s->kind != SEARCHER_ASHA)
			return 0;
		errmsg_set(
		    err, errlen,
		    "searcher: adaptive_asha needs time_metric and max_time (or max_length)");
		return -1;
	}
	if (!json_is_object(ml) || json_object_size(ml) != 1) {
		errmsg_set(
		    err, errlen,
		    "searcher.max_length: must be a map with one of batches, epochs, records");
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		static const char *const units[] = {"batches", "epochs", "records"};

		if (!json_object_get(ml, units[i]))
			continue;
		if (cfg_int(ml, units[i], 0, 1, INT64_MAX, &v, err, errlen) < 0) {
			errmsg_set(err, errlen,
			           "searcher.max_length.%s: must be a positive integer", units[i]);
			return -1;
		}
		s->length = v;
		s->time_unit = strdup(units[i]);
		return s->time_unit ? 0 : -1;
	}
	errmsg_set(err, errlen,
	           "searcher.max_length: must be a map with one of batches, epochs, records");
	return -1;
}

static int cfg_kind(struct searcher *s, const json_t *cfg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum searcher_kind kind;
	} kinds[] = {{"single", SEARCHER_SINGLE},
	             {"grid", SEARCHER_GRID},
	             {"random", SEARCHER_RANDOM},
	             {"adaptive_asha", SEARCHER_ASHA}};
	const char *name = json_string_value(json_object_get(cfg, "name"));

	for (size_t i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(name, kinds[i].name) == 0) {
			s->kind = kinds[i].kind;
			s->name = kinds[i].name;
			return 0;
		}
	}
	errmsg_set(err, errlen,
	           "searcher.name: must be one of single, grid, random, adaptive_asha");
	return -1;
}

static int cfg_common(struct searcher *s, const json_t *config, const json_t *cfg, char *err,
                      size_t errlen)
{
	const json_t *seed =
	    json_object_get(json_object_get(config, "reproducibility"), "experiment_seed");
	const json_t *metric = json_object_get(cfg, "metric");
	const json_t *sib = json_object_get(cfg, "smaller_is_better");

	if (!json_is_integer(seed)) {
		errmsg_set(err, errlen, "reproducibility.experiment_seed: must be an integer");
		return -1;
	}
	s->seed = (uint64_t)json_integer_value(seed);
	if (!json_is_string(metric) || json_string_length(metric) == 0) {
		errmsg_set(err, errlen, "searcher.metric: must be a non-empty string");
		return -1;
	}
	s->metric = strdup(json_string_value(metric));
	if (!s->metric) {
		errmsg_set(err, errlen, "out of memory");
		return -1;
	}
	if (sib && !json_is_boolean(sib)) {
		errmsg_set(err, errlen, "searcher.smaller_is_better: must be true or false");
		return -1;
	}
	s->smaller_is_better = sib ? json_is_true(sib) : 1;
	return 0;
}

static int plan_trials(struct searcher *s, const json_t *cfg, char *err, size_t errlen)
{
	int64_t max_trials = 1, conc;

	if (cfg_int(cfg, "max_concurrent_trials", SEARCHER_DEFAULT_MAX_CONCURRENT, 0,
	            SEARCHER_MAX_TRIALS, &conc, err, errlen) < 0)
		return -1;
	if (s->kind == SEARCHER_RANDOM || s->kind == SEARCHER_ASHA) {
		if (!json_object_get(cfg, "max_trials")) {
			errmsg_set(err, errlen, "searcher.max_trials: required for %s", s->name);
			return -1;
		}
		if (cfg_int(cfg, "max_trials", 1, 1, SEARCHER_MAX_TRIALS, &max_trials, err,
		            errlen) < 0)
			return -1;
	}
	s->max_concurrent = (int)conc;
	switch (s->kind) {
	case SEARCHER_SINGLE:
		s->trial_count = 1;
		s->max_concurrent = 1;
		return 0;
	case SEARCHER_GRID:
		s->trial_count = hparams_grid_size(s->hp);
		return 0;
	case SEARCHER_RANDOM:
		s->trial_count = (int)max_trials;
		return 0;
	case SEARCHER_ASHA:
	default:
		return searcher_asha_plan(s, cfg, (int)max_trials, (int)conc, err, errlen);
	}
}

struct searcher *searcher_new(const json_t *config, char *err, size_t errlen)
{
	struct searcher *s = NULL;
	const json_t *cfg = json_object_get(config, "searcher");
	const json_t *hps = json_object_get(config, "hyperparameters");
	json_t *empty = NULL;

	if (err && errlen)
		err[0] = '\0';
	if (!json_is_object(config) || !json_is_object(cfg)) {
		errmsg_set(err, errlen, "searcher: the config needs a searcher map");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errmsg_set(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg_kind(s, cfg, err, errlen) < 0 || cfg_common(s, config, cfg, err, errlen) < 0)
		goto fail;
	if (!hps || json_is_null(hps))
		hps = empty = json_object();
	s->hp = hparams_new(hps, s->kind == SEARCHER_GRID, err, errlen);
	if (!s->hp)
		goto fail;
	if (cfg_length(s, cfg, err, errlen) < 0 || plan_trials(s, cfg, err, errlen) < 0)
		goto fail;
	s->max_replacements = s->kind == SEARCHER_GRID ? 0
	                      : s->trial_count > SEARCHER_MIN_REPLACEMENTS
	                          ? s->trial_count
	                          : SEARCHER_MIN_REPLACEMENTS;
	if (!s->trials) { /* ASHA allocated them while assigning brackets */
		for (int i = 0; i < s->trial_count; i++) {
			if (searcher_add_trial(s, -1) < 0) {
				errmsg_set(err, errlen, "out of memory");
				goto fail;
			}
		}
	}
	json_decref(empty);
	return s;
fail:
	if (err && errlen && !err[0])
		errmsg_set(err, errlen, "out of memory");
	json_decref(empty);
	searcher_free(s);
	return NULL;
}

int searcher_trial_count(const struct searcher *s)
{
	return s->trial_count;
}

int searcher_max_concurrent(const struct searcher *s)
{
	return s->max_concurrent;
}

static int check_index(const struct searcher *s, int index, char *err, size_t errlen)
{
	if (index < 0 || index >= s->ntrials) {
		errmsg_set(err, errlen, "trial index %d is out of range (0..%d)", index,
		           s->ntrials - 1);
		return -1;
	}
	return 0;
}

json_t *searcher_trial_hparams(const struct searcher *s, int index, char *err, size_t errlen)
{
	struct prng gen;
	json_t *v;

	if (check_index(s, index, err, errlen) < 0)
		return NULL;
	if (s->kind == SEARCHER_GRID) {
		v = hparams_grid_point(s->hp, index);
	} else {
		prng_init(&gen, s->seed, (uint64_t)index, PRNG_STREAM_HPARAMS);
		v = hparams_sample(s->hp, &gen);
	}
	if (!v)
		errmsg_set(err, errlen, "out of memory");
	return v;
}

int searcher_trial_bracket(const struct searcher *s, int index)
{
	if (index < 0 || index >= s->ntrials)
		return -1;
	return s->kind == SEARCHER_ASHA ? s->trials[index].bracket : 0;
}

uint32_t searcher_trial_seed(const struct searcher *s, int index)
{
	struct prng gen;

	prng_init(&gen, s->seed, (uint64_t)(uint32_t)index, PRNG_STREAM_TRIAL_SEED);
	return (uint32_t)(prng_next(&gen) >> 32);
}

int64_t searcher_trial_length(const struct searcher *s, int index)
{
	(void)index;
	return s->length;
}

const char *searcher_time_unit(const struct searcher *s)
{
	return s->time_unit ? s->time_unit : "";
}

int searcher_on_claim(struct searcher *s, int index, char *err, size_t errlen)
{
	if (check_index(s, index, err, errlen) < 0)
		return -1;
	s->trials[index].claimed = 1;
	return 0;
}

/* metric -> value; -1 with err when it is absent or not a number. */
static int metric_value(const json_t *metrics, const char *name, const char *what, int index,
                        double *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(metrics, name);

	if (!json_is_number(v)) {
		errmsg_set(err, errlen, "validation of trial %d: %s \"%s\" is %s", index, what,
		           name, v ? "not a number" : "missing");
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

static int better(const struct searcher *s, double a, double b)
{
	return s->smaller_is_better ? a < b : a > b;
}

int searcher_on_validation(struct searcher *s, int index, const json_t *metrics,
                           enum searcher_decision *decision, char *err, size_t errlen)
{
	struct searcher_trial *t;
	double value = 0, time = 0;
	int has_time = 0;

	*decision = SEARCHER_CONTINUE;
	if (check_index(s, index, err, errlen) < 0)
		return -1;
	if (!json_is_object(metrics)) {
		errmsg_set(err, errlen, "validation of trial %d: metrics must be a map", index);
		return -1;
	}
	/* As in Determined, only adaptive_asha needs the searcher metric in every
	 * validation; the others take a report without it and rank by the rest. */
	int has_value = s->kind == SEARCHER_ASHA || json_object_get(metrics, s->metric);
	if (has_value &&
	    metric_value(metrics, s->metric, "searcher metric", index, &value, err, errlen) < 0)
		return -1;
	if (s->time_unit && (s->kind == SEARCHER_ASHA || json_object_get(metrics, s->time_unit))) {
		if (metric_value(metrics, s->time_unit, "time metric", index, &time, err, errlen) <
		    0)
			return -1;
		has_time = 1;
	}
	t = &s->trials[index];
	if (t->exit >= 0) { /* late report of a finished trial: change nothing */
		*decision = SEARCHER_STOP;
		return 0;
	}
	t->claimed = 1;
	if (has_value && (!t->has_best || better(s, value, t->best))) {
		t->best = value;
		t->has_best = 1;
	}
	if (has_time) {
		t->time = time;
		t->has_time = 1;
	}
	if (t->stopped) {
		*decision = SEARCHER_STOP;
		return 0;
	}
	if (s->kind == SEARCHER_ASHA)
		return searcher_asha_validation(s, index, time, value, decision, err, errlen);
	if (s->length > 0 && has_time && time >= (double)s->length) {
		t->stopped = 1;
		*decision = SEARCHER_STOP;
	}
	return 0;
}

/* The replacement index already issued for original, or -1. */
static int find_replacement(const struct searcher *s, int original)
{
	for (int j = 0; j < s->ntrials - s->trial_count; j++)
		if (s->replaced[j] == original)
			return s->trial_count + j;
	return -1;
}

int searcher_add_replacement(struct searcher *s, int original)
{
	int nrep = s->ntrials - s->trial_count;
	int *n;

	if (nrep >= s->max_replacements)
		return -1;
	n = realloc(s->replaced, (size_t)(nrep + 1) * sizeof(*n));
	if (!n)
		return -2;
	s->replaced = n;
	if (searcher_add_trial(s, original) < 0)
		return -2;
	s->replaced[nrep] = original;
	return s->ntrials - 1;
}

int searcher_on_exit(struct searcher *s, int index, enum searcher_exit how, int *replacement,
                     char *err, size_t errlen)
{
	struct searcher_trial *t;
	int rep = -1;

	if (replacement)
		*replacement = -1;
	if (check_index(s, index, err, errlen) < 0)
		return -1;
	if ((int)how < SEARCHER_EXIT_COMPLETED || how > SEARCHER_EXIT_CANCELED) {
		errmsg_set(err, errlen, "trial %d: unknown exit kind %d", index, (int)how);
		return -1;
	}
	t = &s->trials[index];
	if (t->exit >= 0) { /* repeated report: fine if it says the same */
		if (t->exit != (int)how) {
			errmsg_set(err, errlen, "trial %d already exited as %s, not %s", index,
			           searcher_exit_name((enum searcher_exit)t->exit),
			           searcher_exit_name(how));
			return -1;
		}
		if (replacement && how == SEARCHER_EXIT_INVALID_HP)
			*replacement = find_replacement(s, index);
		return 0;
	}
	if (how == SEARCHER_EXIT_INVALID_HP) {
		rep = searcher_add_replacement(s, index);
		if (rep == -2) {
			errmsg_set(err, errlen, "out of memory");
			return -1;
		}
		t = &s->trials[index]; /* the table may have moved */
	}
	if (s->kind == SEARCHER_ASHA && searcher_asha_exit(s, index, how, err, errlen) < 0)
		return -1;
	t->exit = (int8_t)how;
	if (replacement)
		*replacement = rep;
	return 0;
}

int searcher_is_done(const struct searcher *s)
{
	for (int i = 0; i < s->ntrials; i++)
		if (s->trials[i].exit < 0)
			return 0;
	return s->ntrials > 0;
}

double searcher_progress(const struct searcher *s)
{
	double sum = 0;

	if (searcher_is_done(s))
		return 1.0;
	for (int i = 0; i < s->ntrials; i++) {
		const struct searcher_trial *t = &s->trials[i];

		if (t->exit == SEARCHER_EXIT_INVALID_HP)
			continue;
		if (t->exit >= 0 || t->stopped)
			sum += 1.0;
		else if (s->length > 0 && t->has_time && t->time > 0)
			sum += fmin(t->time / (double)s->length, 1.0);
	}
	sum /= s->trial_count > 0 ? s->trial_count : 1;
	return sum > 1.0 ? 1.0 : sum;
}

int searcher_best(const struct searcher *s, double *value, int *index)
{
	int best = -1;

	for (int i = 0; i < s->ntrials; i++) {
		const struct searcher_trial *t = &s->trials[i];

		if (!t->has_best || t->exit == SEARCHER_EXIT_INVALID_HP)
			continue;
		if (best < 0 || better(s, t->best, s->trials[best].best))
			best = i;
	}
	if (best < 0)
		return -1;
	if (value)
		*value = s->trials[best].best;
	if (index)
		*index = best;
	return 0;
}

static json_t *preview_points(const struct searcher *s, int limit, char *err, size_t errlen)
{
	json_t *arr = json_array();

	for (int i = 0; arr && i < s->trial_count && i < limit; i++) {
		json_t *hp = searcher_trial_hparams(s, i, err, errlen);

		if (!hp || json_array_append_new(arr, hp) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *searcher_preview(const struct searcher *s, char *err, size_t errlen)
{
	json_t *p, *extra = NULL;
	const char *key = NULL;

	p = json_pack("{s:s, s:s, s:b, s:i, s:i, s:o, s:I}", "name", s->name, "metric", s->metric,
	              "smaller_is_better", s->smaller_is_better, "trial_count", s->trial_count,
	              "max_concurrent_trials", s->max_concurrent, "time_unit",
	              s->time_unit ? json_string(s->time_unit) : json_null(),
	              s->kind == SEARCHER_ASHA ? "max_time" : "max_length", (json_int_t)s->length);
	if (!p)
		goto fail;
	switch (s->kind) {
	case SEARCHER_GRID:
		key = "points";
		extra = preview_points(s, s->trial_count, err, errlen);
		break;
	case SEARCHER_SINGLE:
	case SEARCHER_RANDOM:
		key = "trials";
		extra = preview_points(s, SEARCHER_PREVIEW_RANDOM_TRIALS, err, errlen);
		break;
	case SEARCHER_ASHA:
	default:
		key = "brackets";
		extra = searcher_asha_preview(s);
		if (extra &&
		    (json_object_set_new(p, "divisor", json_integer(s->asha->divisor)) < 0 ||
		     json_object_set_new(p, "max_rungs", json_integer(s->asha->max_rungs)) < 0 ||
		     json_object_set_new(p, "mode", json_string(s->asha->mode)) < 0)) {
			json_decref(extra);
			extra = NULL;
		}
		break;
	}
	if (!extra || json_object_set_new(p, key, extra) < 0)
		goto fail;
	return p;
fail:
	errmsg_set(err, errlen, "out of memory");
	json_decref(p);
	return NULL;
}
