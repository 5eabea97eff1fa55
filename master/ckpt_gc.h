/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checkpoint garbage collection when an experiment ends. */
#ifndef DET_CKPT_GC_H
#define DET_CKPT_GC_H

#include <jansson.h>

#include "app.h"

/* What to keep (checkpoint_storage's save_* settings). */
struct ckpt_gc_policy {
	int experiment_best; /* best N of the whole experiment */
	int trial_best;      /* best N of each trial */
	int trial_latest;    /* latest N of each trial */
	int smaller_is_better;
};

/* Pure selection: ckpts is an array of {uuid, trial_id, steps_completed,
 * state, metric (number or null), protected (true: always kept)}; returns the uuids to
 * delete (new array), NULL when out of memory. */
json_t *ckpt_gc_select(const json_t *ckpts, const struct ckpt_gc_policy *p);

/* Apply the experiment's policy: mark unneeded checkpoints DELETED and have their
 * directories removed (by a->ckpt_gc when set, else now) as owner_uid (the experiment owner's Unix
 * uid, -1: none, then no file is touched). Returns how many were marked, or -1 with err. */
int ckpt_gc_experiment(struct app *a, int64_t experiment_id, const json_t *config, long owner_uid,
                       char *err, size_t errlen);

/* Have the directories of the named checkpoints (uuids) of an experiment whose rows
 * were deleted removed as owner_uid, the way GC removes them (-1: none, no file touched). */
void ckpt_gc_remove(struct app *a, int64_t experiment_id, const json_t *config, long owner_uid,
                    json_t *uuids);

/* The thread that removes the directories of GC'd checkpoints outside the app lock
 * (set as a->ckpt_gc). NULL with err. */
struct ckpt_gc_worker *ckpt_gc_worker_start(struct app *a, char *err, size_t errlen);

/* Remove what is queued, then stop the thread (NULL is fine). */
void ckpt_gc_worker_stop(struct ckpt_gc_worker *w);

#endif
