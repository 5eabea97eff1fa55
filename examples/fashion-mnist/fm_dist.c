/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data-parallel glue for the Fashion-MNIST example. det-launch starts one
 * process per slot (mpirun or srun --mpi=pmix) and runs the entrypoint in
 * each, so the MPI environment is inherited: the example joins the ranks
 * only when that environment says there are several, so a one-slot trial
 * never pays for MPI start-up. Every rank computes the gradient of its shard
 * of each global batch; libdetcomm averages them, so all ranks apply the same
 * update and their weights stay bitwise identical. Rank 0 alone talks to the
 * master; its decisions (stop, preempt) are shared with fm_dist_share.
 */
#include "fm_dist.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "det/comm.h"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Ranks the launcher started, from Open MPI's or PMIx's environment. */
static int launcher_size(void)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "DET_SIZE"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return atoi(v);
	}
	return 1;
}

int fm_dist_init(struct fm_dist *d, char *err, size_t errlen)
{
	struct detcomm_config cfg;
	int flag = 0;

	d->rank = 0;
	d->size = 1;
	d->comm = NULL;
	d->mpi_started = 0;
	if (launcher_size() <= 1)
		return 0;
	if (MPI_Initialized(&flag) != MPI_SUCCESS)
		goto mpi_fail;
	if (!flag) {
		if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
			goto mpi_fail;
		d->mpi_started = 1;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &d->size);
	if (d->size <= 1)
		return 0;
	if (detcomm_config_init(&cfg, err, errlen) < 0)
		return -1;
	cfg.backend = DETCOMM_BACKEND_CPU; /* host tensors: the CPU path */
	if (detcomm_init(MPI_COMM_WORLD, &cfg, &d->comm, err, errlen) < 0)
		return -1;
	return 0;
mpi_fail:
	snprintf(err, errlen, "MPI initialisation failed");
	return -1;
}

int fm_dist_average_grads(void *ctx, float *const *bufs, const size_t *counts, size_t n)
{
	struct fm_dist *d = ctx;
	char err[256];

	if (!d->comm)
		return 0;
	double t0 = now_seconds();
	if (detcomm_allreduce_grouped(d->comm, (void *const *)bufs, counts, n, DETCOMM_F32,
	                              DETCOMM_AVG, err, sizeof(err)) < 0) {
		fprintf(stderr, "fashion-mnist: rank %d: %s\n", d->rank, err);
		return -1;
	}
	d->comm_seconds += now_seconds() - t0;
	d->comm_calls++;
	return 0;
}

int fm_dist_mean(struct fm_dist *d, double *v, char *err, size_t errlen)
{
	double sum = 0;
	if (!d->comm)
		return 0;
	if (MPI_Allreduce(v, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS) {
		snprintf(err, errlen, "MPI_Allreduce of a metric failed");
		return -1;
	}
	*v = sum / d->size;
	return 0;
}

int fm_dist_sum(struct fm_dist *d, double *v, int n, char *err, size_t errlen)
{
	if (!d->comm)
		return 0;
	if (MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS) {
		snprintf(err, errlen, "MPI_Allreduce of metrics failed");
		return -1;
	}
	return 0;
}

int fm_dist_share(struct fm_dist *d, int *v, int n, char *err, size_t errlen)
{
	if (!d->comm)
		return 0;
	if (MPI_Bcast(v, n, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
		snprintf(err, errlen, "MPI_Bcast of a decision failed");
		return -1;
	}
	return 0;
}

void fm_dist_finalize(struct fm_dist *d)
{
	if (d->comm && getenv("FM_PROFILE"))
		fprintf(stderr, "fashion-mnist: rank %d: %ld gradient allreduces, %.3f s\n",
		        d->rank, d->comm_calls, d->comm_seconds);
	if (d->comm)
		detcomm_finalize(d->comm);
	d->comm = NULL;
	if (d->mpi_started)
		MPI_Finalize();
	d->mpi_started = 0;
}
