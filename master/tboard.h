/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TensorBoard event files of every trial's scalars, written by a background thread. */
#ifndef DET_MASTER_TBOARD_H
#define DET_MASTER_TBOARD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct app;
struct tboard;

#define TBOARD_MAX_QUEUE 20000 /* reports waiting to be written; more are dropped */
#define TBOARD_MAX_OPEN 32     /* event files kept open at once */
#define TBOARD_BATCH_MS 100    /* pause between batches, letting reports gather */
#define TBOARD_MAX_KNOWN 1024  /* trials whose event file is remembered for reopening */
#define TBOARD_NICE 10         /* the writer thread's nice value */

/* Start the writer thread for app a. NULL with err. */
struct tboard *tboard_start(struct app *a, char *err, size_t errlen);

/* Queue one committed metrics report (metrics is copied); never blocks on I/O.
 * 0, or -1 when it was dropped (queue full, no memory); tb NULL is a no-op. */
int tboard_enqueue(struct tboard *tb, int64_t trial_id, const char *group, int64_t steps,
                   const json_t *metrics);

/* Write what is queued and stop the thread (NULL is fine). */
void tboard_stop(struct tboard *tb);

/* The directory of a trial's event files: <ckpt_dir>/tensorboard/experiment_E/trial_T.
 * 0, or -1 when it does not fit. */
int tboard_trial_dir(const char *ckpt_dir, int64_t exp_id, int64_t trial_id, char *out,
                     size_t outlen);

#endif
