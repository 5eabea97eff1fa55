/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rank detection for det-launch. Each launcher (mpirun, srun, a PMIx
 * server) tells its processes who they are through environment variables;
 * this file reads them from an explicit environment array so it is pure.
 * Non-obvious: Open MPI is checked first because mpirun inside a Slurm
 * allocation leaves the allocation's SLURM_* variables in place, which
 * describe the batch step, not this process.
 */
#include "launch_rank.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *launch_env_lookup(char *const envp[], const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], name, n) && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

/* Parse a non-negative int; -1 if absent or malformed. */
static int env_int(char *const envp[], const char *name, int *out, char *err, size_t errlen)
{
	const char *v = launch_env_lookup(envp, name);
	char *end;
	if (!v)
		return 1;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < 0 || x > INT_MAX) {
		snprintf(err, errlen, "%s=\"%.32s\": not a non-negative integer", name, v);
		return -1;
	}
	*out = (int)x;
	return 0;
}

int launch_rank_slurm_tasks_on_node(const char *spec, int node)
{
	const char *p = spec;
	int idx = 0;
	while (p && *p) {
		char *end;
		long count = strtol(p, &end, 10), reps = 1;
		if (end == p || count <= 0 || count > INT_MAX)
			return -1;
		p = end;
		if (*p == '(') {
			if (p[1] != 'x')
				return -1;
			reps = strtol(p + 2, &end, 10);
			if (end == p + 2 || *end != ')' || reps <= 0)
				return -1;
			p = end + 1;
		}
		if (node < idx + reps)
			return (int)count;
		idx += (int)reps;
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	return -1;
}

static int from_openmpi(char *const envp[], struct launch_rank *r, char *err, size_t errlen)
{
	if (env_int(envp, "OMPI_COMM_WORLD_RANK", &r->rank, err, errlen) ||
	    env_int(envp, "OMPI_COMM_WORLD_SIZE", &r->size, err, errlen))
		return -1;
	int rc = env_int(envp, "OMPI_COMM_WORLD_LOCAL_RANK", &r->local_rank, err, errlen);
	if (rc < 0)
		return -1;
	if (rc > 0)
		r->local_rank = r->rank;
	rc = env_int(envp, "OMPI_COMM_WORLD_LOCAL_SIZE", &r->local_size, err, errlen);
	if (rc < 0)
		return -1;
	if (rc > 0)
		r->local_size = r->size;
	r->source = "openmpi";
	return 0;
}

static int from_slurm(char *const envp[], struct launch_rank *r, char *err, size_t errlen)
{
	int nodes = 1;
	if (env_int(envp, "SLURM_PROCID", &r->rank, err, errlen))
		return -1;
	/* the step's own task count when srun set it, the job's otherwise */
	int rc = env_int(envp, "SLURM_STEP_NUM_TASKS", &r->size, err, errlen);
	if (rc > 0)
		rc = env_int(envp, "SLURM_NTASKS", &r->size, err, errlen);
	if (rc > 0)
		r->size = 1;
	else if (rc < 0)
		return -1;
	if (env_int(envp, "SLURM_LOCALID", &r->local_rank, err, errlen) > 0)
		r->local_rank = 0;
	if (env_int(envp, "SLURM_NODEID", &r->cross_rank, err, errlen) > 0)
		r->cross_rank = 0;
	rc = env_int(envp, "SLURM_STEP_NUM_NODES", &nodes, err, errlen);
	if (rc > 0 && env_int(envp, "SLURM_NNODES", &nodes, err, errlen) < 0)
		return -1;
	r->cross_size = nodes;
	const char *tpn = launch_env_lookup(envp, "SLURM_STEP_TASKS_PER_NODE");
	if (!tpn)
		tpn = launch_env_lookup(envp, "SLURM_TASKS_PER_NODE");
	r->local_size = tpn ? launch_rank_slurm_tasks_on_node(tpn, r->cross_rank) : r->size;
	if (r->local_size <= 0) {
		snprintf(err, errlen, "SLURM_TASKS_PER_NODE=\"%.64s\": no entry for node %d", tpn,
		         r->cross_rank);
		return -1;
	}
	r->source = "slurm";
	return 0;
}

static int from_pmix(char *const envp[], struct launch_rank *r, char *err, size_t errlen)
{
	if (env_int(envp, "PMIX_RANK", &r->rank, err, errlen))
		return -1;
	/* PMIx has no size variable of its own; the launcher's DET_SIZE says it */
	if (env_int(envp, "DET_SIZE", &r->size, err, errlen)) {
		snprintf(err, errlen,
		         "PMIX_RANK is set but the world size is unknown (set DET_SIZE)");
		return -1;
	}
	r->local_rank = r->rank;
	r->local_size = r->size;
	r->source = "pmix";
	return 0;
}

int launch_rank_detect(char *const envp[], struct launch_rank *r, char *err, size_t errlen)
{
	*r = (struct launch_rank){0, 1, 0, 1, 0, 1, "single"};
	int rc = 0;
	if (launch_env_lookup(envp, "OMPI_COMM_WORLD_RANK"))
		rc = from_openmpi(envp, r, err, errlen);
	else if (launch_env_lookup(envp, "SLURM_PROCID"))
		rc = from_slurm(envp, r, err, errlen);
	else if (launch_env_lookup(envp, "PMIX_RANK"))
		rc = from_pmix(envp, r, err, errlen);
	if (rc < 0)
		return -1;
	if (strcmp(r->source, "slurm") != 0) {
		/* nodes assumed to hold equal blocks of consecutive ranks */
		r->cross_size = r->size / r->local_size;
		r->cross_rank = r->rank / r->local_size;
		if (r->size % r->local_size)
			r->cross_size++;
	}
	if (r->size < 1 || r->rank >= r->size || r->local_size < 1 ||
	    r->local_rank >= r->local_size || r->cross_rank >= r->cross_size) {
		snprintf(err, errlen,
		         "inconsistent ranks from %s: rank %d of %d, local %d of %d, node %d of %d",
		         r->source, r->rank, r->size, r->local_rank, r->local_size, r->cross_rank,
		         r->cross_size);
		return -1;
	}
	return 0;
}
