/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * adaptive_asha, the stopping-based variant (Determined's stop_once ASHA):
 * every trial trains toward max_time and is stopped at a rung when it is not
 * in the top 1/divisor of the trials recorded there.
 *
 * Data structure: brackets, each a ladder of rungs; a rung is an array of
 * (trial, value) kept sorted best first, values negated when larger is
 * better, failed trials as "worst" entries at the end.
 * Non-obvious decision: trial index -> bracket is fixed up front by a smooth
 * weighted round robin (bracket b's k-th trial sits at (k + 1/2) / trials_b,
 * ties to the larger bracket), so brackets fill in step under one array
 * throttle and the mapping is a pure function of the config. All rung and
 * bracket arithmetic is integer: no floating logarithms.
 */
#include "searcher_internal.h"
#include "errmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void searcher_asha_free(struct asha *a)
{
	if (!a)
		return;
	for (int b = 0; b < a->nbrackets; b++) {
		for (int r = 0; a->brackets[b].rungs && r < a->brackets[b].nrungs; r++)
			free(a->brackets[b].rungs[r].entries);
		free(a->brackets[b].rungs);
	}
	free(a->brackets);
	free(a);
}

/* floor(log_d(x)) + 1 for x >= 1, d >= 2, in integers. */
static int asha_levels(int64_t x, int64_t d)
{
	int64_t p = 1;
	int k = 1;

	while (p <= x / d) {
		p *= d;
		k++;
	}
	return k;
}

static int64_t ipow(int64_t d, int e)
{
	int64_t p = 1;

	while (e-- > 0)
		p *= d;
	return p;
}

static int asha_cfg(struct asha *a, const json_t *cfg, char *err, size_t errlen)
{
	const json_t *d = json_object_get(cfg, "divisor");
	const json_t *mr = json_object_get(cfg, "max_rungs");
	const json_t *mode = json_object_get(cfg, "mode");

	a->divisor = 4;
	if (d) {
		double v = json_number_value(d);

		if (!json_is_number(d) || v != (double)(int64_t)v || v < 2 || v > 1e9) {
			errmsg_set(err, errlen, "searcher.divisor: must be a whole number from 2");
			return -1;
		}
		a->divisor = (int64_t)v;
	}
	a->max_rungs = 5;
	if (mr) {
		if (!json_is_integer(mr) || json_integer_value(mr) < 1 ||
		    json_integer_value(mr) > 64) {
			errmsg_set(err, errlen,
			           "searcher.max_rungs: must be an integer from 1 to 64");
			return -1;
		}
		a->max_rungs = (int)json_integer_value(mr);
	}
	a->mode = "standard";
	if (mode) {
		const char *m = json_string_value(mode);

		if (m && strcmp(m, "aggressive") == 0)
			a->mode = "aggressive";
		else if (m && strcmp(m, "conservative") == 0)
			a->mode = "conservative";
		else if (!m || strcmp(m, "standard") != 0) {
			errmsg_set(err, errlen,
			           "searcher.mode: must be standard, aggressive or conservative");
			return -1;
		}
	}
	return 0;
}

/* Rung counts of the brackets, largest first. */
static int asha_brackets(struct asha *a, int R)
{
	int lo = 1;

	if (strcmp(a->mode, "aggressive") == 0)
		lo = R;
	else if (strcmp(a->mode, "standard") == 0)
		lo = (R - 1) / 2 + 1;
	a->nbrackets = R - lo + 1;
	a->brackets = calloc((size_t)a->nbrackets, sizeof(*a->brackets));
	if (!a->brackets)
		return -1;
	for (int b = 0; b < a->nbrackets; b++)
		a->brackets[b].nrungs = R - b;
	return 0;
}

/* Trials per bracket proportional to d^(n-1)/n, floored (at least 1), the
 * remainder to the first bracket. Exact rational arithmetic: every weight is
 * scaled by L = lcm(1..R) so they become integers. */
static void asha_split_trials(struct asha *a, int max_trials)
{
	__int128 L = 1, total = 0;
	int given = 0;

	for (int n = 2; n <= a->brackets[0].nrungs; n++) {
		__int128 x = L, y = n;

		while (y) { /* gcd */
			__int128 t = x % y;

			x = y;
			y = t;
		}
		L = L / x * n;
	}
	for (int b = 0; b < a->nbrackets; b++) {
		int n = a->brackets[b].nrungs;

		total += (__int128)ipow(a->divisor, n - 1) * (L / n);
	}
	for (int b = 0; b < a->nbrackets; b++) {
		int n = a->brackets[b].nrungs;
		__int128 w = (__int128)ipow(a->divisor, n - 1) * (L / n);
		int t = (int)(w * max_trials / total);

		a->brackets[b].trials = t < 1 ? 1 : t;
		given += a->brackets[b].trials;
	}
	if (given < max_trials)
		a->brackets[0].trials += max_trials - given;
}

/* max_concurrent split evenly, at least one per bracket, remainder to the
 * first brackets; 0 (unlimited) stays unlimited everywhere. */
static int asha_split_concurrency(struct asha *a, int conc)
{
	if (conc == 0)
		return 0;
	if (conc < a->nbrackets)
		conc = a->nbrackets;
	for (int b = 0; b < a->nbrackets; b++)
		a->brackets[b].max_concurrent = conc / a->nbrackets + (b < conc % a->nbrackets);
	return conc;
}

static int asha_rungs(struct asha *a, int64_t max_time)
{
	for (int b = 0; b < a->nbrackets; b++) {
		struct asha_bracket *br = &a->brackets[b];

		br->rungs = calloc((size_t)br->nrungs, sizeof(*br->rungs));
		if (!br->rungs)
			return -1;
		for (int i = 0; i < br->nrungs; i++) {
			int64_t t = max_time / ipow(a->divisor, br->nrungs - i - 1);

			br->rungs[i].time = t < 1 ? 1 : t;
		}
	}
	return 0;
}

/* Smooth weighted round robin: index i goes to the bracket whose next trial
 * k has the smallest (2k+1)/(2*trials_b); ties to the lower bracket number. */
static int asha_assign(struct searcher *s)
{
	struct asha *a = s->asha;
	int64_t next[64] = {0};

	for (int i = 0; i < s->trial_count; i++) {
		int best = -1, idx;

		for (int b = 0; b < a->nbrackets; b++) {
			int64_t tb = a->brackets[b].trials;

			if (next[b] >= tb)
				continue;
			if (best < 0 || (2 * next[b] + 1) * a->brackets[best].trials <
			                    (2 * next[best] + 1) * tb)
				best = b;
		}
		idx = searcher_add_trial(s, -1);
		if (idx < 0)
			return -1;
		s->trials[idx].bracket = (uint8_t)best;
		next[best]++;
	}
	return 0;
}

int searcher_asha_plan(struct searcher *s, const json_t *cfg, int max_trials, int max_concurrent,
                       char *err, size_t errlen)
{
	struct asha *a = calloc(1, sizeof(*a));
	int R;

	if (!a) {
		errmsg_set(err, errlen, "out of memory");
		return -1;
	}
	s->asha = a;
	if (asha_cfg(a, cfg, err, errlen) < 0)
		return -1;
	R = a->max_rungs;
	if (asha_levels(s->length, a->divisor) < R)
		R = asha_levels(s->length, a->divisor);
	if (asha_levels(max_trials, a->divisor) < R)
		R = asha_levels(max_trials, a->divisor);
	a->max_rungs = R;
	if (asha_brackets(a, R) < 0 || asha_rungs(a, s->length) < 0)
		goto oom;
	asha_split_trials(a, max_trials);
	s->trial_count = 0;
	for (int b = 0; b < a->nbrackets; b++)
		s->trial_count += a->brackets[b].trials;
	s->max_concurrent = asha_split_concurrency(a, max_concurrent);
	if (asha_assign(s) < 0)
		goto oom;
	return 0;
oom:
	errmsg_set(err, errlen, "out of memory");
	return -1;
}

long searcher_asha_insert(struct asha_rung *rung, int trial, int worst, double value)
{
	size_t pos = 0;

	if (rung->len == rung->cap) {
		size_t cap = rung->cap ? rung->cap * 2 : 8;
		struct asha_entry *n = realloc(rung->entries, cap * sizeof(*n));

		if (!n)
			return -1;
		rung->entries = n;
		rung->cap = cap;
	}
	/* A value goes before every entry that is not strictly better (as
	 * Determined does); worst entries go last. Binary search on the sorted
	 * prefix of finite values. */
	if (worst) {
		pos = rung->len;
	} else {
		size_t hi = rung->len;

		while (pos < hi) {
			size_t mid = pos + (hi - pos) / 2;

			if (!rung->entries[mid].worst && rung->entries[mid].value < value)
				pos = mid + 1;
			else
				hi = mid;
		}
	}
	memmove(&rung->entries[pos + 1], &rung->entries[pos],
	        (rung->len - pos) * sizeof(*rung->entries));
	rung->entries[pos] = (struct asha_entry){.trial = trial, .worst = worst, .value = value};
	rung->len++;
	return (long)pos;
}

int searcher_asha_validation(struct searcher *s, int index, double time, double metric,
                             enum searcher_decision *decision, char *err, size_t errlen)
{
	struct searcher_trial *t = &s->trials[index];
	struct asha_bracket *br = &s->asha->brackets[t->bracket];
	double value = s->smaller_is_better ? metric : -metric;

	*decision = SEARCHER_CONTINUE;
	while (t->rung < br->nrungs && time >= (double)br->rungs[t->rung].time) {
		struct asha_rung *rung = &br->rungs[t->rung];
		long pos = searcher_asha_insert(rung, index, 0, value);
		size_t keep;

		if (pos < 0) {
			errmsg_set(err, errlen, "out of memory");
			return -1;
		}
		t->rung++;
		if (t->rung == br->nrungs) { /* reached the top rung: done */
			t->stopped = 1;
			*decision = SEARCHER_STOP;
			return 0;
		}
		keep = rung->len / (size_t)s->asha->divisor;
		if (keep < 1)
			keep = 1;
		if ((size_t)pos >= keep) {
			t->stopped = 1;
			*decision = SEARCHER_STOP;
			return 0;
		}
	}
	return 0;
}

static void asha_remove(struct asha_rung *rung, int trial)
{
	for (size_t i = 0; i < rung->len; i++) {
		if (rung->entries[i].trial == trial) {
			memmove(&rung->entries[i], &rung->entries[i + 1],
			        (rung->len - i - 1) * sizeof(*rung->entries));
			rung->len--;
			return;
		}
	}
}

int searcher_asha_exit(struct searcher *s, int index, enum searcher_exit how, char *err,
                       size_t errlen)
{
	struct searcher_trial *t = &s->trials[index];
	struct asha_bracket *br = &s->asha->brackets[t->bracket];

	if (how == SEARCHER_EXIT_INVALID_HP) {
		for (int r = 0; r < t->rung && r < br->nrungs; r++)
			asha_remove(&br->rungs[r], index);
		return 0;
	}
	/* A failure still in the race counts as the worst value of the rung it
	 * was heading for. */
	if (how == SEARCHER_EXIT_ERRORED && !t->stopped && t->rung < br->nrungs) {
		if (searcher_asha_insert(&br->rungs[t->rung], index, 1, 0) < 0) {
			errmsg_set(err, errlen, "out of memory");
			return -1;
		}
		t->rung++;
	}
	return 0;
}

json_t *searcher_asha_preview(const struct searcher *s)
{
	const struct asha *a = s->asha;
	json_t *brackets = json_array();

	for (int b = 0; brackets && b < a->nbrackets; b++) {
		const struct asha_bracket *br = &a->brackets[b];
		json_t *rungs = json_array(), *bj;

		for (int r = 0; rungs && r < br->nrungs; r++) {
			json_t *rj = json_pack("{s:I}", "time", (json_int_t)br->rungs[r].time);

			if (rj && r + 1 < br->nrungs &&
			    json_object_set_new(rj, "promote_top",
			                        json_real(1.0 / (double)a->divisor)) < 0) {
				json_decref(rj);
				rj = NULL;
			}
			if (!rj || json_array_append_new(rungs, rj) < 0) {
				json_decref(rungs);
				rungs = NULL;
			}
		}
		bj = rungs ? json_pack("{s:o, s:i, s:i}", "rungs", rungs, "trials", br->trials,
		                       "max_concurrent", br->max_concurrent)
		           : NULL;
		if (!bj || json_array_append_new(brackets, bj) < 0) {
			json_decref(brackets);
			return NULL;
		}
	}
	return brackets;
}

json_t *searcher_asha_snapshot(const struct searcher *s)
{
	const struct asha *a = s->asha;
	json_t *all = json_array();

	for (int b = 0; all && b < a->nbrackets; b++) {
		json_t *bj = json_array();

		for (int r = 0; bj && r < a->brackets[b].nrungs; r++) {
			const struct asha_rung *rung = &a->brackets[b].rungs[r];
			json_t *rj = json_array();

			for (size_t i = 0; rj && i < rung->len; i++) {
				const struct asha_entry *e = &rung->entries[i];
				json_t *ej =
				    json_pack("[i, o]", e->trial,
				              e->worst ? json_null() : json_real(e->value));

				if (!ej || json_array_append_new(rj, ej) < 0) {
					json_decref(rj);
					rj = NULL;
				}
			}
			if (!rj || json_array_append_new(bj, rj) < 0) {
				json_decref(bj);
				bj = NULL;
			}
		}
		if (!bj || json_array_append_new(all, bj) < 0) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}

/* One entry [trial, value|null] of bracket b's rung r, appended in order. */
static int asha_restore_entry(struct searcher *s, int b, int r, const json_t *ej, int *stamp,
                              char *err, size_t errlen)
{
	struct asha_rung *rung = &s->asha->brackets[b].rungs[r];
	const json_t *tj = json_array_get(ej, 0), *vj = json_array_get(ej, 1);
	int trial, worst = json_is_null(vj);
	double value = worst ? 0 : json_number_value(vj);
	const struct asha_entry *last = rung->len ? &rung->entries[rung->len - 1] : NULL;

	if (!json_is_array(ej) || json_array_size(ej) != 2 || !json_is_integer(tj) ||
	    (!worst && !json_is_number(vj))) {
		errmsg_set(err, errlen, "snapshot: rung entries must be [trial, number or null]");
		return -1;
	}
	if (json_integer_value(tj) < 0 || json_integer_value(tj) >= s->ntrials) {
		errmsg_set(err, errlen, "snapshot: rung entry names unknown trial");
		return -1;
	}
	trial = (int)json_integer_value(tj);
	if (s->trials[trial].bracket != b || stamp[trial] == r + 1 || s->trials[trial].rung <= r ||
	    s->trials[trial].exit == SEARCHER_EXIT_INVALID_HP) {
		errmsg_set(err, errlen, "snapshot: trial %d does not belong in bracket %d rung %d",
		           trial, b, r);
		return -1;
	}
	if (last && (last->worst ? !worst : (!worst && value < last->value))) {
		errmsg_set(err, errlen, "snapshot: bracket %d rung %d is not sorted", b, r);
		return -1;
	}
	stamp[trial] = r + 1;
	/* Append as listed: equal values keep their snapshot order. */
	if (rung->len == rung->cap) {
		size_t cap = rung->cap ? rung->cap * 2 : 8;
		struct asha_entry *n = realloc(rung->entries, cap * sizeof(*n));

		if (!n) {
			errmsg_set(err, errlen, "out of memory");
			return -1;
		}
		rung->entries = n;
		rung->cap = cap;
	}
	rung->entries[rung->len++] =
	    (struct asha_entry){.trial = trial, .worst = worst, .value = value};
	return 0;
}

int searcher_asha_restore(struct searcher *s, const json_t *rungs, char *err, size_t errlen)
{
	const struct asha *a = s->asha;
	int *stamp = NULL, rv = -1;

	if (!json_is_array(rungs) || json_array_size(rungs) != (size_t)a->nbrackets) {
		errmsg_set(err, errlen, "snapshot: rungs must be a list of %d brackets",
		           a->nbrackets);
		return -1;
	}
	stamp = calloc((size_t)s->ntrials, sizeof(*stamp));
	if (!stamp) {
		errmsg_set(err, errlen, "out of memory");
		return -1;
	}
	for (int b = 0; b < a->nbrackets; b++) {
		const json_t *bj = json_array_get(rungs, (size_t)b);

		if (!json_is_array(bj) || json_array_size(bj) != (size_t)a->brackets[b].nrungs) {
			errmsg_set(err, errlen, "snapshot: bracket %d must list %d rungs", b,
			           a->brackets[b].nrungs);
			goto fail;
		}
		for (int r = 0; r < a->brackets[b].nrungs; r++) {
			const json_t *rj = json_array_get(bj, (size_t)r);
			size_t i;
			json_t *ej;

			if (!json_is_array(rj)) {
				errmsg_set(err, errlen,
				           "snapshot: bracket %d rung %d must be a list", b, r);
				goto fail;
			}
			json_array_foreach (rj, i, ej) {
				if (asha_restore_entry(s, b, r, ej, stamp, err, errlen) < 0)
					goto fail;
			}
		}
	}
	rv = 0;
fail:
	free(stamp);
	return rv;
}
