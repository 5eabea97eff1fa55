/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data-parallel training for the Fashion-MNIST example: ranks from the MPI
 * launcher (slots_per_trial > 1), gradients averaged with libdetcomm.
 */
#ifndef FM_DIST_H
#define FM_DIST_H

#include <stddef.h>

struct detcomm;

struct fm_dist {
	int rank, size;
	struct detcomm *comm; /* NULL for one process */
	int mpi_started;      /* MPI_Init was called here */
	double comm_seconds;  /* time spent averaging gradients and sharing decisions */
	long comm_calls;
};

/* Join the other ranks when the launcher started several (MPI environment),
 * else a single process. 0, or -1 with err. */
int fm_dist_init(struct fm_dist *d, char *err, size_t errlen);

/* fm_grad_hook: average n gradient tensors across ranks (ctx: struct fm_dist). */
int fm_dist_average_grads(void *ctx, float *const *bufs, const size_t *counts, size_t n);

/* Replace *v by its mean over all ranks. 0 or -1 with err. */
int fm_dist_mean(struct fm_dist *d, double *v, char *err, size_t errlen);

/* Replace v[0..n) by their sums over all ranks. 0 or -1 with err. */
int fm_dist_sum(struct fm_dist *d, double *v, int n, char *err, size_t errlen);

/* Give every rank rank 0's n ints. 0 or -1 with err. */
int fm_dist_share(struct fm_dist *d, int *v, int n, char *err, size_t errlen);

/* Leave the group (when one was joined). */
void fm_dist_finalize(struct fm_dist *d);

#endif
