/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment and trial lifecycle: the searcher-driven core behind the API.
 * Every function that takes the app lock says so; the ones named *_locked
 * expect the caller to hold it. Functions answering the API return an HTTP
 * status (200 on success) and put a message in err otherwise.
 */
#ifndef DET_EXP_H
#define DET_EXP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "fsm.h"

/* Load every experiment, trial and allocation; resubmit unfinished arrays. 0 or -1. */
int exp_load_all(struct app *a, char *err, size_t errlen);

/* Start / stop the scheduler thread that polls the resource manager. */
int exp_ticker_start(struct app *a, char *err, size_t errlen);
void exp_ticker_stop(struct app *a);

/* Free every in-memory experiment. */
void exp_free_all(struct app *a);

/* Find an experiment (lock held). */
struct exp_rt *exp_find_locked(struct app *a, int64_t id);

/* Find a trial and its experiment (lock held); NULL when unknown. */
struct exp_trial *exp_trial_locked(struct app *a, int64_t trial_id, struct exp_rt **e);

/* The Unix uid of e's owner, -1 when the det user has none (lock held). */
long exp_owner_uid_locked(struct app *a, struct exp_rt *e);

/* Create from YAML text and a model definition in project ("ID" or "WORKSPACE/PROJECT",
 * NULL: the default one, which p must be allowed to write), forked from parent_id (0:
 * none); *out gets the view. With
 * client_submits the master submits nothing and the view carries "submit_plan" (the
 * array specs and batch scripts) or "submit_error". */
int exp_create(struct app *a, const struct principal *p, const char *yaml, size_t ylen,
               const void *model, size_t mlen, int activate, int client_submits,
               const char *project, int64_t parent_id, json_t **out, char *err, size_t errlen);

/* The owner's own submission of the experiment's array: watch job (takes the lock). */
int exp_register_job(struct app *a, const struct principal *p, int64_t id, const char *job,
                     char *err, size_t errlen);

/* The plan a config would produce (preview-hp-search). */
int exp_preview(const char *yaml, size_t ylen, json_t **out, char *err, size_t errlen);

/* pause / activate / cancel / kill by a user (takes the lock). */
int exp_user_event(struct app *a, int64_t id, enum fsm_event ev, char *err, size_t errlen);

/* archive (1) / unarchive (0); only finished experiments (takes the lock). */
int exp_set_archived(struct app *a, int64_t id, int archived, char *err, size_t errlen);

/* Delete a finished experiment and everything it owns (takes the lock). */
int exp_delete(struct app *a, int64_t id, char *err, size_t errlen);

/* 1 when uuid is experiment id's searcher.source_checkpoint_uuid, where its trials
 * start (its trials may read that checkpoint's record) (takes the lock). */
int exp_source_checkpoint_is(struct app *a, int64_t id, const char *uuid);

/* Drop a deleted experiment (its rows already gone) from memory and free it (lock held). */
void exp_forget_locked(struct app *a, struct exp_rt *e);

/* Claim for an array task (takes the lock). */
int exp_claim(struct app *a, int64_t id, int task, json_t **out, char *err, size_t errlen);

/* A metrics report; *out gets {stop, preempt} (takes the lock). */
int exp_report_metrics(struct app *a, int64_t trial_id, const char *group, int64_t steps,
                       json_t *metrics, json_t **out, char *err, size_t errlen);

/* A training report in flight: exp_training_begin() checks the trial and
 * prepares ops; the caller commits them (store_write or store_write_async);
 * exp_training_end() then updates the trial and answers {stop, preempt}. */
struct exp_training {
	int64_t trial_id, steps;
	json_t *mrow, *trow;
	struct store_op ops[2];
};

/* Check and prepare (takes the lock briefly): 200, or an HTTP status with err. */
int exp_training_begin(struct app *a, int64_t trial_id, int64_t steps, json_t *metrics,
                       struct exp_training *w, char *err, size_t errlen);

/* After the commit (rv 0, or -1 with commit_err): 200 with the trial's signals
 * (stop when it is gone), or 500 (takes the lock). */
int exp_training_end(struct app *a, struct exp_training *w, int rv, const char *commit_err,
                     int *stop, int *preempt, char *err, size_t errlen);

/* Free what exp_training_begin() prepared (safe after any result). */
void exp_training_free(struct exp_training *w);

/* A completed checkpoint (takes the lock). */
int exp_report_checkpoint(struct app *a, int64_t trial_id, const char *uuid, int64_t steps,
                          json_t *metadata, json_t *files, char *err, size_t errlen);

/* Log lines (already validated array of objects) (takes the lock). */
int exp_report_logs(struct app *a, int64_t trial_id, json_t *logs, char *err, size_t errlen);

/* Progress 0..1 (takes the lock). */
int exp_report_progress(struct app *a, int64_t trial_id, double progress, char *err, size_t errlen);

/* Early exit reason (takes the lock). */
int exp_report_early_exit(struct app *a, int64_t trial_id, const char *reason, char *err,
                          size_t errlen);

/* The entrypoint ended; *out gets {restart, restarts, latest_checkpoint, steps_completed}. */
int exp_report_exit(struct app *a, int64_t trial_id, int exit_code, int signal, json_t **out,
                    char *err, size_t errlen);

/* Kill one trial (takes the lock). */
int exp_trial_kill(struct app *a, int64_t trial_id, char *err, size_t errlen);

/* Pending signals of a trial; -1 when unknown (takes the lock). */
int exp_trial_signals(struct app *a, int64_t trial_id, int *stop, int *preempt);

/* 1 when the trial has ended (or is unknown) (takes the lock). */
int exp_trial_over(struct app *a, int64_t trial_id);

/* JSON view of an experiment summary (lock held); new reference. */
json_t *exp_view_locked(struct exp_rt *e, int with_config);

#endif
