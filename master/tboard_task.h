/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The argv of a TensorBoard task: which trials' event files it serves, and how. */
#ifndef DET_MASTER_TBOARD_TASK_H
#define DET_MASTER_TBOARD_TASK_H

#include <stddef.h>
#include <stdint.h>

#define TBOARD_TASK_MAX_RUNS 1024 /* trials one TensorBoard may show */
#define TBOARD_TASK_PREFIX_ARG 8  /* argv index of --path_prefix's value */

/* One trial a TensorBoard shows: its event files lie under its experiment's
 * checkpoint directory (tboard_trial_dir). */
struct tboard_task_run {
	int64_t exp_id, trial_id;
	const char *ckpt_dir; /* the experiment's checkpoint directory, absolute */
};

/* The argv "tensorboard --logdir_spec trial-T:DIR,... --host 127.0.0.1 --port PORT
 * --path_prefix /proxy/TASK_ID" for n runs (1..TBOARD_TASK_MAX_RUNS; port 0: any free
 * one; task_id 0 before the id is known: argv[TBOARD_TASK_PREFIX_ARG] is then replaced). A
 * directory holding ',' or ':' (which would break the spec) is refused. A NULL-terminated vector
 * freed with tboard_task_argv_free, or NULL with err. */
char **tboard_task_argv(const struct tboard_task_run *runs, size_t n, int64_t task_id, int port,
                        char *err, size_t errlen);

/* Free what tboard_task_argv returned (NULL is fine). */
void tboard_task_argv_free(char **argv);

#endif
