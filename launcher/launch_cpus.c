/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU pinning for det-launch. Slurm hands a step a CPU set (cgroup cpuset,
 * task/affinity); srun tasks that Slurm did not bind each see the whole
 * set, so two ranks on a node would fight over all of it. Each det-launch
 * therefore narrows its own affinity to its local rank's share before it
 * starts the trial, which inherits it. Non-obvious decision: the share is
 * cut from the process's current affinity, never from the node's CPU
 * list, so pinning can only narrow what Slurm allowed; and when Slurm bound
 * the tasks itself (--cpu-bind) det-launch leaves that binding alone.
 */
#include "launch_cpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int launch_cpus_share(const cpu_set_t *allowed, int local_rank, int local_size, cpu_set_t *share)
{
	int n = CPU_COUNT(allowed), first, end, seen = 0;
	if (n == 0 || local_size < 1 || local_rank < 0 || local_rank >= local_size)
		return -1;
	first = (int)((long)local_rank * n / local_size);
	end = (int)((long)(local_rank + 1) * n / local_size);
	if (end <= first)
		end = first + 1;
	CPU_ZERO(share);
	for (int cpu = 0; cpu < CPU_SETSIZE && seen < end; cpu++) {
		if (!CPU_ISSET(cpu, allowed))
			continue;
		if (seen >= first)
			CPU_SET(cpu, share);
		seen++;
	}
	return 0;
}

int launch_cpus_slurm_bound(const char *bind_type)
{
	if (!bind_type)
		return 0;
	while (!strncmp(bind_type, "quiet,", 6) || !strncmp(bind_type, "verbose,", 8))
		bind_type += bind_type[0] == 'q' ? 6 : 8;
	return *bind_type && strcmp(bind_type, "none") && strcmp(bind_type, "quiet") &&
	       strcmp(bind_type, "verbose");
}

int launch_cpus_pin(const char *source, int local_rank, int local_size, char *err, size_t errlen)
{
	cpu_set_t allowed, share;
	if (!source || strcmp(source, "slurm") || local_size < 2 ||
	    launch_cpus_slurm_bound(getenv("SLURM_CPU_BIND_TYPE")))
		return 0;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
		snprintf(err, errlen, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	if (launch_cpus_share(&allowed, local_rank, local_size, &share) < 0) {
		snprintf(err, errlen, "no CPU share for local rank %d of %d", local_rank,
		         local_size);
		return -1;
	}
	if (sched_setaffinity(0, sizeof(share), &share) < 0) {
		snprintf(err, errlen, "sched_setaffinity: %s", strerror(errno));
		return -1;
	}
	return 1;
}
