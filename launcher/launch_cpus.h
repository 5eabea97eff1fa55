/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU pinning of the ranks on one node: each rank runs on its share of the
 * CPUs the step was allowed, never on more.
 */
#ifndef DET_LAUNCH_CPUS_H
#define DET_LAUNCH_CPUS_H

#include <sched.h>
#include <stddef.h>

/* Local rank local_rank's share of allowed (local_size ranks on this node)
 * into share: the allowed CPUs in order, cut into local_size contiguous
 * runs as even as possible; with fewer CPUs than ranks, one CPU each,
 * shared. share is never outside allowed. 0, or -1 when allowed is empty
 * or local_rank is not in 0..local_size-1. */
int launch_cpus_share(const cpu_set_t *allowed, int local_rank, int local_size, cpu_set_t *share);

/* Has Slurm already bound each task to its own CPUs? bind_type is
 * SLURM_CPU_BIND_TYPE (NULL when unset); "none" and its "quiet,"/"verbose,"
 * forms count as not bound. 1 or 0. */
int launch_cpus_slurm_bound(const char *bind_type);

/* Pin this process (and what it starts) to its share of its current
 * affinity when it is one of several srun tasks on the node that Slurm did
 * not bind itself (source "slurm", local_size > 1). 1 when pinned, 0 when
 * left alone, -1 with err. */
int launch_cpus_pin(const char *source, int local_rank, int local_size, char *err, size_t errlen);

#endif
