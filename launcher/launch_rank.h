/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where this det-launch sits among the trial's processes, read from the
 * environment that mpirun (Open MPI), PMIx or srun (Slurm) set.
 */
#ifndef DET_LAUNCH_RANK_H
#define DET_LAUNCH_RANK_H

#include <stddef.h>

struct launch_rank {
	int rank, size;
	int local_rank, local_size;
	int cross_rank, cross_size;
	const char *source; /* "openmpi", "slurm", "pmix" or "single" */
};

/* Look name up in an environment array (NULL-terminated "K=V"). */
const char *launch_env_lookup(char *const envp[], const char *name);

/* Detect the rank from envp: Open MPI first, then Slurm, then PMIx; a
 * single process when none is present. -1 with err on inconsistent values. */
int launch_rank_detect(char *const envp[], struct launch_rank *r, char *err, size_t errlen);

/* Slurm's compressed tasks-per-node list ("2(x3),1") entry for node index
 * node; -1 when malformed or out of range. */
int launch_rank_slurm_tasks_on_node(const char *spec, int node);

#endif
