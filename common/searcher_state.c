/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Searcher snapshots: every piece of mutable state as JSON, and its checked
 * reload. Shape (doc/searchers.md):
 *   {"version": 1, "searcher": NAME, "trial_count": N,
 *    "replaced": [ORIGINAL, ...],
 *    "trials": [{"index", "claimed", "exit", "stopped", "rung", "best", "time"}, ...],
 *    "rungs": [[[[TRIAL, VALUE|null], ...] per rung] per bracket]}   (adaptive_asha)
 * Non-obvious decision: a restore rebuilds the searcher from the config
 * first and only overlays the snapshot, so the plan (brackets, rungs, trial
 * count) always comes from the config and a snapshot that disagrees with it
 * is rejected instead of trusted.
 */
#include "searcher_internal.h"
#include "errmsg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SNAPSHOT_VERSION 1

static json_t *trial_json(const struct searcher_trial *t, int index)
{
	return json_pack("{s:i, s:b, s:o, s:b, s:i, s:o, s:o}", "index", index, "claimed",
	                 t->claimed, "exit",
	                 t->exit >= 0 ? json_string(searcher_exit_name((enum searcher_exit)t->exit))
	                              : json_null(),
	                 "stopped", t->stopped, "rung", t->rung, "best",
	                 t->has_best ? json_real(t->best) : json_null(), "time",
	                 t->has_time ? json_real(t->time) : json_null());
}

static int trial_is_fresh(const struct searcher_trial *t)
{
	return t->exit < 0 && !t->claimed && !t->stopped && !t->rung && !t->has_best &&
	       !t->has_time;
}

json_t *searcher_snapshot(const struct searcher *s)
{
	json_t *snap = NULL, *trials = json_array(), *replaced = json_array();

	if (!trials || !replaced)
		goto fail;
	for (int j = 0; j < s->ntrials - s->trial_count; j++)
		if (json_array_append_new(replaced, json_integer(s->replaced[j])) < 0)
			goto fail;
	for (int i = 0; i < s->ntrials; i++) {
		if (trial_is_fresh(&s->trials[i]))
			continue;
		if (json_array_append_new(trials, trial_json(&s->trials[i], i)) < 0)
			goto fail;
	}
	snap =
	    json_pack("{s:i, s:s, s:i, s:o, s:o}", "version", SNAPSHOT_VERSION, "searcher", s->name,
	              "trial_count", s->trial_count, "replaced", replaced, "trials", trials);
	replaced = trials = NULL; /* "o" took them, even on failure */
	if (!snap)
		goto fail;
	if (s->kind == SEARCHER_ASHA &&
	    json_object_set_new(snap, "rungs", searcher_asha_snapshot(s)) < 0)
		goto fail;
	return snap;
fail:
	json_decref(trials);
	json_decref(replaced);
	json_decref(snap);
	return NULL;
}

static int restore_replaced(struct searcher *s, const json_t *replaced, char *err, size_t errlen)
{
	size_t j;
	json_t *v;

	if (!json_is_array(replaced) || json_array_size(replaced) > (size_t)s->max_replacements) {
		errmsg_set(err, errlen, "snapshot: replaced must be a list of at most %d indices",
		           s->max_replacements);
		return -1;
	}
	json_array_foreach (replaced, j, v) {
		/* A replacement replaces an earlier index, each index at most once. */
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= s->ntrials ||
		    s->trials[json_integer_value(v)].exit == SEARCHER_EXIT_INVALID_HP) {
			errmsg_set(err, errlen,
			           "snapshot: replaced[%zu] is not a valid trial index", j);
			return -1;
		}
		/* Mark it for the duplicate check; the real exit comes with "trials". */
		s->trials[json_integer_value(v)].exit = SEARCHER_EXIT_INVALID_HP;
		if (searcher_add_replacement(s, (int)json_integer_value(v)) < 0) {
			errmsg_set(err, errlen, "snapshot: cannot add replacement %zu", j);
			return -1;
		}
	}
	for (int i = 0; i < s->ntrials; i++) /* the real exits come with "trials" */
		s->trials[i].exit = -1;
	return 0;
}

static int parse_exit(const json_t *v, int8_t *exit)
{
	static const enum searcher_exit all[] = {SEARCHER_EXIT_COMPLETED, SEARCHER_EXIT_ERRORED,
	                                         SEARCHER_EXIT_INVALID_HP, SEARCHER_EXIT_CANCELED};

	if (json_is_null(v)) {
		*exit = -1;
		return 0;
	}
	for (size_t i = 0; json_is_string(v) && i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(json_string_value(v), searcher_exit_name(all[i])) == 0) {
			*exit = (int8_t)all[i];
			return 0;
		}
	}
	return -1;
}

/* null -> absent; a finite number -> present; anything else -> -1. */
static int parse_opt_number(const json_t *v, uint8_t *has, double *out)
{
	if (json_is_null(v)) {
		*has = 0;
		*out = 0;
		return 0;
	}
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return -1;
	*has = 1;
	*out = json_number_value(v);
	return 0;
}

static int restore_trial(struct searcher *s, const json_t *tj, size_t pos, char *err, size_t errlen)
{
	const json_t *idx = json_object_get(tj, "index"), *claimed = json_object_get(tj, "claimed");
	const json_t *stopped = json_object_get(tj, "stopped"), *rung = json_object_get(tj, "rung");
	struct searcher_trial t = {.exit = -1};
	int max_rung = 0;

	if (!json_is_object(tj) || !json_is_integer(idx) || json_integer_value(idx) < 0 ||
	    json_integer_value(idx) >= s->ntrials)
		goto bad;
	t.bracket = s->trials[json_integer_value(idx)].bracket;
	if (s->kind == SEARCHER_ASHA)
		max_rung = s->asha->brackets[t.bracket].nrungs;
	if (!json_is_boolean(claimed) || !json_is_boolean(stopped) || !json_is_integer(rung) ||
	    json_integer_value(rung) < 0 || json_integer_value(rung) > max_rung)
		goto bad;
	t.claimed = json_is_true(claimed);
	t.stopped = json_is_true(stopped);
	t.rung = (uint8_t)json_integer_value(rung);
	if (!json_object_get(tj, "exit") || parse_exit(json_object_get(tj, "exit"), &t.exit) < 0 ||
	    !json_object_get(tj, "best") || !json_object_get(tj, "time") ||
	    parse_opt_number(json_object_get(tj, "best"), &t.has_best, &t.best) < 0 ||
	    parse_opt_number(json_object_get(tj, "time"), &t.has_time, &t.time) < 0)
		goto bad;
	s->trials[json_integer_value(idx)] = t;
	return 0;
bad:
	errmsg_set(
	    err, errlen,
	    "snapshot: trials[%zu] must be {index, claimed, exit, stopped, rung, best, time} "
	    "with valid values",
	    pos);
	return -1;
}

static int restore_state(struct searcher *s, const json_t *snap, char *err, size_t errlen)
{
	const json_t *trials = json_object_get(snap, "trials"),
	             *rungs = json_object_get(snap, "rungs");
	const char *name = json_string_value(json_object_get(snap, "searcher"));
	size_t i;
	json_t *tj;

	if (!json_is_object(snap) ||
	    json_integer_value(json_object_get(snap, "version")) != SNAPSHOT_VERSION) {
		errmsg_set(err, errlen, "snapshot: not a version %d searcher snapshot",
		           SNAPSHOT_VERSION);
		return -1;
	}
	if (!name || strcmp(name, s->name) != 0 ||
	    !json_is_integer(json_object_get(snap, "trial_count")) ||
	    json_integer_value(json_object_get(snap, "trial_count")) != s->trial_count) {
		errmsg_set(err, errlen,
		           "snapshot: it is of another search than this config's %s with "
		           "%d trials",
		           s->name, s->trial_count);
		return -1;
	}
	if (restore_replaced(s, json_object_get(snap, "replaced"), err, errlen) < 0)
		return -1;
	if (!json_is_array(trials)) {
		errmsg_set(err, errlen, "snapshot: trials must be a list");
		return -1;
	}
	json_array_foreach (trials, i, tj) {
		if (restore_trial(s, tj, i, err, errlen) < 0)
			return -1;
	}
	for (int j = 0; j < s->ntrials - s->trial_count; j++) {
		if (s->trials[s->replaced[j]].exit != SEARCHER_EXIT_INVALID_HP) {
			errmsg_set(err, errlen,
			           "snapshot: trial %d was replaced but did not exit as "
			           "invalid_hp",
			           s->replaced[j]);
			return -1;
		}
	}
	if (s->kind != SEARCHER_ASHA) {
		if (rungs) {
			errmsg_set(err, errlen, "snapshot: rungs given for a %s search", s->name);
			return -1;
		}
		return 0;
	}
	return searcher_asha_restore(s, rungs, err, errlen);
}

struct searcher *searcher_restore(const json_t *config, const json_t *snapshot, char *err,
                                  size_t errlen)
{
	struct searcher *s = searcher_new(config, err, errlen);

	if (!s)
		return NULL;
	if (restore_state(s, snapshot, err, errlen) < 0) {
		searcher_free(s);
		return NULL;
	}
	return s;
}
