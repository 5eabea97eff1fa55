/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The experiment engine's internal interface, shared by its files (master/exp_*.c)
 * and nothing else. Functions marked "lock held" expect app.lock.
 *
 * Lock order: app.lock first. Under it only leaf locks, held briefly and never
 * while taking another (the store's queue, rm_slurm.lock and label_lock,
 * rm_local.lock, the GC worker's queue, tboard.lock, app.stats_lock). Never
 * under app.lock: rm_slurm.poll_lock, slurmctld calls, fork/exec, deleting
 * checkpoint directories, sleeping (doc/architecture.md).
 */
#ifndef DET_MASTER_EXP_INTERNAL_H
#define DET_MASTER_EXP_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "exp.h"
#include "fsm.h"
#include "lifecycle.h"
#include "rm.h"
#include "searcher.h"
#include "store.h"

struct exp_submission;

/* A string field of a row ("" when absent). */
const char *exp_sget(json_t *row, const char *k);

/* An integer field of a row (0 when absent). */
int64_t exp_iget(json_t *row, const char *k);

/* The state field of an experiment row. */
enum fsm_state exp_state_of(json_t *row);

/* Fill e's typed fields (state, owner_id, project_id, num_tasks, max_restarts) from e->row. */
void exp_type_row(struct exp_rt *e);

/* Set the state field of an experiment row. */
void exp_set_state(json_t *row, int s);

/* The experiment id (lock held); NULL with EXP_NOT_FOUND and err when unknown. */
struct exp_rt *exp_find(struct app *a, int64_t id, enum exp_status *status, char *err,
                        size_t errlen);

/* The trial of index in e, NULL when not claimed. */
struct exp_trial *exp_trial_by_index(struct exp_rt *e, int64_t index);

/* The allocation of array task in e, NULL when out of range. */
struct exp_alloc *exp_alloc_of(struct exp_rt *e, int task);

/* The allocation of task as a working copy (a fresh one when there is none yet). */
struct exp_alloc exp_alloc_copy(struct exp_rt *e, int task);

/* Trial t's new state; a final one stamps ended_at. */
void exp_set_trial_state(struct exp_trial *t, int s);

/* The experiment config of e (borrowed). */
json_t *exp_config_of(struct exp_rt *e);

/* A store op that upserts a whole row. */
struct store_op exp_put(const char *table, json_t *row);

/* Put e's searcher back to a snapshot taken before a change that was not committed
 * (snapshot NULL: nothing to undo). */
void exp_searcher_rollback(struct exp_rt *e, json_t *snapshot_before);

/* Write ops; on failure restore the searcher from before (may be NULL). */
int exp_commit(struct app *a, struct exp_rt *e, struct store_op *ops, size_t n,
               json_t *snapshot_before, char *err, size_t errlen);

/* Experiment row copy with the searcher's current snapshot and progress. */
json_t *exp_row_with_searcher(struct exp_rt *e);

/* Install an experiment row as e's (reference stolen) and its typed state. The
 * searcher snapshot is only for the database: in memory the live searcher is the
 * truth, and a parsed snapshot of a large experiment would cost megabytes. */
void exp_swap_row(struct exp_rt *e, json_t *row);

/* Copy a committed working copy of a trial over its record in memory. */
void exp_swap_trial(struct exp_rt *e, const struct exp_trial *row);

/* Write one trial row (a working copy) and swap it in: EXP_OK, or EXP_INTERNAL with err. */
enum exp_status exp_trial_commit(struct app *a, struct exp_rt *e, const struct exp_trial *row,
                                 char *err, size_t errlen);

/* Send a lifecycle decision's command for job to the resource manager (it queues it:
 * never blocks). */
void exp_rm_command(struct app *a, int64_t id, const char *job, enum lifecycle_rm_command c);

/* After a committed change: apply the settled row and tell the RM. 0, or -1
 * when the write failed (memory keeps the state before; the ticker retries). */
int exp_settle_and_commit(struct app *a, struct exp_rt *e);

/* Finish trial t (copy in trow) in final state: tell the searcher, owe
 * replacements, write trial + allocation + snapshot, swap in. Lock held. */
int exp_finish_trial(struct app *a, struct exp_rt *e, struct exp_trial *trow, enum fsm_state final,
                     char *err, size_t errlen);

/* Move every live trial through event ev (experiment-level change). */
void exp_trials_event(struct app *a, struct exp_rt *e, enum fsm_event ev);

/* Free an experiment record and everything it owns. */
void exp_rt_free(struct exp_rt *e);

/* At start only (lock held, nothing served yet): hand e's array to the manager again. */
int exp_resubmit_at_start(struct app *a, struct exp_rt *e, const char *existing, char *err,
                          size_t errlen);

/* Make room for trial index idx in e->trials. 0 or -1. */
int exp_trials_reserve(struct exp_rt *e, int idx);

/* An unfinished experiment loaded from the store gets a fresh allocation
 * token for the tasks it submits from now on (the store keeps only hashes;
 * tasks still running hold the old one, which stays valid). 0 or -1. */
int exp_renew_alloc_token(struct app *a, struct exp_rt *e, char *err, size_t errlen);

/* Apply one task event. 0, or -1 when a write failed: nothing of the event
 * that failed is in memory, and applying it again later is safe (the ticker
 * retries, in order). */
int exp_on_task_event(struct app *a, const struct rm_task_event *ev);

/* exp_task_event with the app lock held. */
enum exp_status exp_task_event_locked(struct app *a, int64_t id, enum lifecycle_task_event ev,
                                      int exit_status, const char *end_reason, char *err,
                                      size_t errlen);

/* A resource manager's event of a command task (experiment_id < 0): the task's
 * state follows. 0, or -1 when a write failed (retried later). Lock held. */
int exp_task_on_rm_event(struct app *a, const struct rm_task_event *ev);

#endif
