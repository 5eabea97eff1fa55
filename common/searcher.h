/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hyperparameter searchers: single, grid, random and adaptive_asha.
 *
 * A pure core: it takes events (a trial was claimed, reported a validation,
 * exited) and returns decisions; it does no I/O and reads no clock, so the
 * master, the CLI and the tests drive it the same way. Trial i's
 * hyperparameters and seed are a pure function of (experiment seed, i): an
 * array task may start in any order, be requeued, or be claimed again after a
 * master restart and still get the same trial. The whole mutable state
 * round-trips through searcher_snapshot()/searcher_restore().
 */
#ifndef DET_SEARCHER_H
#define DET_SEARCHER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct searcher;

/* How a trial ended, as far as the searcher cares. */
enum searcher_exit {
	SEARCHER_EXIT_COMPLETED,  /* ran to its length or was stopped by us */
	SEARCHER_EXIT_ERRORED,    /* failed for good: counts as the worst value */
	SEARCHER_EXIT_INVALID_HP, /* leaves every rung; a replacement is owed */
	SEARCHER_EXIT_CANCELED,   /* user killed it: no effect on decisions */
};

/* The answer to a validation report. */
enum searcher_decision { SEARCHER_CONTINUE, SEARCHER_STOP };

/* Build a searcher from a normalized config (expconf_json()); the config must
 * carry reproducibility.experiment_seed. NULL and a message in err on error. */
struct searcher *searcher_new(const json_t *config, char *err, size_t errlen);

/* Free (NULL is fine). */
void searcher_free(struct searcher *s);

/* Number of trial indices the plan starts with (array size N): 1, grid size or max_trials. */
int searcher_trial_count(const struct searcher *s);

/* Trials that may run at once (array throttle K); 0 = unlimited. */
int searcher_max_concurrent(const struct searcher *s);

/* Hyperparameters of trial index (new reference, nested maps as JSON objects),
 * or NULL with err when index is out of range. Pure in (seed, index). */
json_t *searcher_trial_hparams(const struct searcher *s, int index, char *err, size_t errlen);

/* adaptive_asha: the bracket (0 = most rungs) trial index belongs to; 0 for
 * the other searchers; -1 when index is out of range. */
int searcher_trial_bracket(const struct searcher *s, int index);

/* Seed for trial index's own random generators; pure in (seed, index). */
uint32_t searcher_trial_seed(const struct searcher *s, int index);

/* The length this trial should train for, in the searcher's time unit
 * (max_time / max_length); 0 when the config gives none. */
int64_t searcher_trial_length(const struct searcher *s, int index);

/* Unit of searcher_trial_length: "batches", "epochs", "records" or the time_metric name. */
const char *searcher_time_unit(const struct searcher *s);

/* Record that index was handed to a task (idempotent). -1 with err if out of range. */
int searcher_on_claim(struct searcher *s, int index, char *err, size_t errlen);

/* Record a validation report (JSON object of metric name -> number); *decision
 * says whether the trial should go on. -1 with err when the searcher metric
 * (or ASHA's time metric) is missing or not a number, or index is unknown. */
int searcher_on_validation(struct searcher *s, int index, const json_t *metrics,
                           enum searcher_decision *decision, char *err, size_t errlen);

/* Record a trial's end. For SEARCHER_EXIT_INVALID_HP the searcher owes a
 * replacement: *replacement gets its index (>= searcher_trial_count), else -1.
 * replacement may be NULL when the caller does not care. */
int searcher_on_exit(struct searcher *s, int index, enum searcher_exit how, int *replacement,
                     char *err, size_t errlen);

/* True when every planned trial (and replacement) has exited. */
int searcher_is_done(const struct searcher *s);

/* Fraction of the search completed, 0.0 .. 1.0. */
double searcher_progress(const struct searcher *s);

/* Best validated value of the searcher metric so far and its trial index;
 * -1 when nothing has been validated yet. */
int searcher_best(const struct searcher *s, double *value, int *index);

/* The plan as JSON for `det preview-search` and the API: name, trial count,
 * concurrency, grid points or random trials, ASHA brackets with rung times
 * and trial counts. New reference. */
json_t *searcher_preview(const struct searcher *s, char *err, size_t errlen);

/* All mutable state as JSON (new reference). */
json_t *searcher_snapshot(const struct searcher *s);

/* A searcher that makes exactly the decisions the snapshotted one would. */
struct searcher *searcher_restore(const json_t *config, const json_t *snapshot, char *err,
                                  size_t errlen);

#endif
