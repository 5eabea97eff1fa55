/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det's internal interface: what the dispatch file (spank_det.c) calls
 * in each context's file, and the option table they share.
 */
#ifndef DET_SPANK_DET_H
#define DET_SPANK_DET_H

#include <jansson.h>
#include <slurm/spank.h>

#include "spank_det_args.h"

#define DET_SPANK_PREFIX "spank_det: "

/* Job control env names (sbatch -> job_submit, prolog; SLURM_SPANK_* in the job). */
#define DET_SPANK_ENV_EXPERIMENT "DET_EXPERIMENT_ID"
#define DET_SPANK_ENV_POOL "DET_RESOURCE_POOL"
#define DET_SPANK_ENV_SLOTS "DET_SLOTS_PER_TRIAL"

/* Values given with --det-experiment, --det-pool, --det-slots ("" when not). */
struct det_spank_options {
	char experiment[16];
	char pool[64];
	char slots[8];
};

/* Register every option of the table (any context that parses options). */
int det_options_register(spank_t sp);

/* The values the option callbacks stored. */
const struct det_spank_options *det_options_get(void);

/* Copy the given options into the job control env (sbatch, salloc, srun). */
int det_options_to_job_control(spank_t sp);

/* Allocator (sbatch/salloc) and local (srun) contexts: options into the job control env. */
int det_submit_post_opt(spank_t sp);

/* Remote context (slurmstepd). */
int det_remote_user_init(spank_t sp, const struct det_spank_args *args);
int det_remote_task_exit(spank_t sp);
int det_remote_exit(spank_t sp);

/* Report one JSON event for job_id to the master; 0 or -1 with err. */

int det_report_send(const struct det_spank_args *args, unsigned job_id, json_t *event, char *err,
                    size_t errlen);

#endif
