/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals shared by the searcher's files (searcher.c, searcher_asha.c,
 * searcher_state.c). Not part of the interface: use searcher.h.
 */
#ifndef DET_SEARCHER_INTERNAL_H
#define DET_SEARCHER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "expconf.h"
#include "hparams.h"
#include "searcher.h"

/* Which search method. */
enum searcher_kind { SEARCHER_SINGLE, SEARCHER_GRID, SEARCHER_RANDOM, SEARCHER_ASHA };

/* Default of searcher.max_concurrent_trials (Determined's). */
#define SEARCHER_DEFAULT_MAX_CONCURRENT 16
/* Largest searcher.max_trials accepted. */
#define SEARCHER_MAX_TRIALS EXPCONF_MAX_TRIALS
/* Replacements for invalid hyperparameters stop after max(trial_count, this). */
#define SEARCHER_MIN_REPLACEMENTS 100

/* What the searcher knows about one trial index. */
struct searcher_trial {
	int8_t exit;      /* -1 while not exited, else enum searcher_exit */
	uint8_t claimed;  /* handed to a task at least once */
	uint8_t stopped;  /* we answered SEARCHER_STOP */
	uint8_t rung;     /* ASHA: number of rungs of its bracket it has entered */
	uint8_t bracket;  /* ASHA: its bracket */
	uint8_t has_best; /* best holds a value */
	uint8_t has_time; /* time holds a value */
	double best;      /* best searcher metric reported (as reported) */
	double time;      /* latest time metric reported */
};

/* One ASHA rung entry: value is "smaller is better" (negated if needed). */
struct asha_entry {
	int trial;
	int worst; /* a failed trial: ranks after every value */
	double value;
};

/* A rung: entries sorted best first, worst entries last. */
struct asha_rung {
	int64_t time; /* time metric value needed to enter */
	size_t len, cap;
	struct asha_entry *entries;
};

/* One bracket: a separate successive-halving ladder. */
struct asha_bracket {
	int nrungs;
	int trials;         /* planned trial indices in this bracket */
	int max_concurrent; /* its share of max_concurrent_trials; 0 = unlimited */
	struct asha_rung *rungs;
};

/* adaptive_asha's plan and rungs. */
struct asha {
	int64_t divisor;
	int max_rungs; /* effective R */
	const char *mode;
	int nbrackets;
	struct asha_bracket *brackets;
};

struct searcher {
	enum searcher_kind kind;
	const char *name;
	uint64_t seed;
	char *metric;
	int smaller_is_better;
	int trial_count;
	int max_concurrent;
	int64_t length;  /* max_time / max_length value, 0 when none */
	char *time_unit; /* NULL when no length is configured */
	struct hparams *hp;
	struct searcher_trial *trials; /* trial_count + replacements */
	int ntrials, trials_cap;
	int *replaced; /* replaced[j]: the index that trial_count + j replaces */
	int max_replacements;
	struct asha *asha;
};

/* Parse the ASHA fields, plan brackets and assign trial indices to them. */
int searcher_asha_plan(struct searcher *s, const json_t *cfg, int max_trials, int max_concurrent,
                       char *err, size_t errlen);

/* Free the ASHA part (NULL is fine). */
void searcher_asha_free(struct asha *a);

/* Record a validation of a running trial and decide. */
int searcher_asha_validation(struct searcher *s, int index, double time, double metric,
                             enum searcher_decision *decision, char *err, size_t errlen);

/* Bookkeeping for a trial's exit (rung membership). */
int searcher_asha_exit(struct searcher *s, int index, enum searcher_exit how, char *err,
                       size_t errlen);

/* Insert an entry into a rung at its rank; returns the position or -1 (no memory). */
long searcher_asha_insert(struct asha_rung *rung, int trial, int worst, double value);

/* The brackets array of the preview (new reference). */
json_t *searcher_asha_preview(const struct searcher *s);

/* The "rungs" member of the snapshot (new reference). */
json_t *searcher_asha_snapshot(const struct searcher *s);

/* Load the "rungs" member of a snapshot into the (fresh) rungs. */
int searcher_asha_restore(struct searcher *s, const json_t *rungs, char *err, size_t errlen);

/* Append a trial slot (a replacement) inheriting bracket from original. -1 on no memory. */
int searcher_add_trial(struct searcher *s, int original);

/* Issue the next replacement index for original: the index, -1 when the
 * replacements are used up (or the method has none), -2 on no memory. */
int searcher_add_replacement(struct searcher *s, int original);

/* Exit names used in snapshots: "completed", "errored", "invalid_hp", "canceled". */
const char *searcher_exit_name(enum searcher_exit how);

#endif
