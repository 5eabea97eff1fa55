/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-allreduce-perf --tensors: allreduce of a model's whole gradient set with several
 * strategies (per tensor, grouped, fused into one buffer, started asynchronously) against
 * the baselines (MPI_Allreduce per tensor and fused; on a GPU raw ncclAllReduce per
 * tensor and grouped), each checked and timed in the same run.
 *
 * Data structure: struct tset, one separately allocated buffer per tensor (as a model's
 * parameters are) plus a fusion buffer of the total size for the fused strategies.
 *
 * Non-obvious decision: strategies are rows of a table of functions, so every strategy is
 * warmed up, timed, and checked by the same code.
 */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perf.h"

struct tset {
	struct perf_ctx *x;
	size_t n, total, es;
	size_t *counts;
	struct perf_buf *bufs;
	void **ptrs;
	struct perf_buf fused;
	struct detcomm_request **reqs;
	char err[512];
};

static int s_detcomm_each(struct tset *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (detcomm_allreduce(t->x->comm, t->ptrs[i], t->ptrs[i], t->counts[i],
		                      t->x->o.dtype, t->x->o.op, t->err, sizeof(t->err)) != 0)
			return -1;
	return 0;
}

static int s_detcomm_grouped(struct tset *t)
{
	return detcomm_allreduce_grouped(t->x->comm, t->ptrs, t->counts, t->n, t->x->o.dtype,
	                                 t->x->o.op, t->err, sizeof(t->err));
}

static int s_detcomm_async(struct tset *t)
{
	size_t i, started = 0;
	int rv = 0;

	for (i = 0; i < t->n; i++, started++)
		if (detcomm_allreduce_start(t->x->comm, t->ptrs[i], t->ptrs[i], t->counts[i],
		                            t->x->o.dtype, t->x->o.op, &t->reqs[i], t->err,
		                            sizeof(t->err)) != 0) {
			rv = -1;
			break;
		}
	for (i = 0; i < started; i++)
		if (detcomm_wait(t->reqs[i], t->err, sizeof(t->err)) != 0)
			rv = -1;
	return rv;
}

/* Copy every tensor into (dir 1) or out of (dir 0) the fusion buffer. */
static int fuse(struct tset *t, int dir)
{
	size_t i, off = 0, b;
	int mode = t->x->o.where == PERF_DEVICE ? 2 : -1;

	for (i = 0; i < t->n; i++) {
		b = t->counts[i] * t->es;
		char *f = t->fused.p + off;
		if (mode == 2) {
			if (perf_gpu_copy(t->x->gpu, dir ? f : t->ptrs[i], dir ? t->ptrs[i] : f, b,
			                  2) != 0)
				return -1;
		} else {
			memcpy(dir ? f : t->ptrs[i], dir ? t->ptrs[i] : f, b);
		}
		off += b;
	}
	return 0;
}

static int s_detcomm_fused(struct tset *t)
{
	if (fuse(t, 1) != 0 ||
	    detcomm_allreduce(t->x->comm, t->fused.p, t->fused.p, t->total, t->x->o.dtype,
	                      t->x->o.op, t->err, sizeof(t->err)) != 0)
		return -1;
	return fuse(t, 0);
}

static int mpi_sum(struct tset *t, void *p, size_t count)
{
	float *f = p;
	size_t i;

	if (MPI_Allreduce(MPI_IN_PLACE, p, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) !=
	    MPI_SUCCESS) {
		snprintf(t->err, sizeof(t->err), "MPI_Allreduce failed");
		return -1;
	}
	if (t->x->o.op == DETCOMM_AVG)
		for (i = 0; i < count; i++)
			f[i] /= (float)t->x->size;
	return 0;
}

static int s_mpi_each(struct tset *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (mpi_sum(t, t->ptrs[i], t->counts[i]) != 0)
			return -1;
	return 0;
}

static int s_mpi_fused(struct tset *t)
{
	if (fuse(t, 1) != 0 || mpi_sum(t, t->fused.p, t->total) != 0)
		return -1;
	return fuse(t, 0);
}

static int s_nccl(struct tset *t, int grouped)
{
	if (perf_gpu_nccl(t->x->gpu, (const char *const *)t->ptrs, (char *const *)t->ptrs,
	                  t->counts, t->n, grouped, t->x->o.dtype, t->x->o.op) != 0) {
		snprintf(t->err, sizeof(t->err), "raw NCCL failed");
		return -1;
	}
	return 0;
}

static int s_nccl_each(struct tset *t)
{
	return s_nccl(t, 0);
}

static int s_nccl_grouped(struct tset *t)
{
	return s_nccl(t, 1);
}

struct strategy {
	const char *name;
	int (*run)(struct tset *t);
	int baseline; /* 1: MPI (CPU only), 2: raw NCCL (GPU only), 0: detcomm */
};

static const struct strategy strategies[] = {
    {"detcomm per tensor", s_detcomm_each, 0},
    {"detcomm grouped", s_detcomm_grouped, 0},
    {"detcomm fused buffer", s_detcomm_fused, 0},
    {"detcomm async per tensor", s_detcomm_async, 0},
    {"MPI_Allreduce per tensor", s_mpi_each, 1},
    {"MPI_Allreduce fused buffer", s_mpi_fused, 1},
    {"ncclAllReduce per tensor (raw)", s_nccl_each, 2},
    {"ncclAllReduce grouped (raw)", s_nccl_grouped, 2},
};
enum { NSTRAT = sizeof(strategies) / sizeof(strategies[0]) };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Time one strategy (slowest rank) and check its result; -1 on failure. */
static int run_strategy(struct tset *t, const struct strategy *st, double *secs, size_t *wrong)
{
	struct perf_ctx *x = t->x;
	unsigned long long w = 0, wall = 0;
	double t0, dt, slowest;
	int i, b, batches, per, ok = 1, all = 0;
	size_t k;

	for (k = 0; k < t->n; k++)
		perf_fill(x, &t->bufs[k], 0, t->counts[k]);
	for (i = 0; i < x->o.warmup && ok; i++)
		ok = st->run(t) == 0;
	batches = x->o.iters < PERF_BATCHES ? x->o.iters : PERF_BATCHES;
	per = x->o.iters / batches;
	for (b = 0; b < batches; b++) {
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = now_s();
		for (i = 0; i < per && ok; i++)
			ok = st->run(t) == 0;
		if (x->gpu)
			perf_gpu_sync(x->gpu);
		dt = (now_s() - t0) / (double)per;
		MPI_Allreduce(&dt, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
		if (b == 0 || slowest < *secs)
			*secs = slowest;
	}
	if (ok && x->o.check) {
		for (k = 0; k < t->n; k++)
			perf_fill(x, &t->bufs[k], 0, t->counts[k]);
		ok = st->run(t) == 0;
		if (x->gpu)
			perf_gpu_sync(x->gpu);
		for (k = 0; ok && k < t->n; k++)
			w += perf_wrong(x, &t->bufs[k], 0, t->counts[k]);
	}
	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(&w, &wall, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
	*wrong = (size_t)wall;
	if (!ok)
		fprintf(stderr, "det-allreduce-perf: rank %d: %s: %s\n", x->rank, st->name, t->err);
	return all ? 0 : -1;
}

static int tset_alloc(struct tset *t)
{
	size_t i;

	t->bufs = calloc(t->n, sizeof(*t->bufs));
	t->ptrs = calloc(t->n, sizeof(*t->ptrs));
	t->reqs = calloc(t->n, sizeof(*t->reqs));
	if (!t->bufs || !t->ptrs || !t->reqs)
		return -1;
	for (i = 0; i < t->n; i++) {
		if (perf_buf_alloc(t->x, &t->bufs[i], t->counts[i] * t->es, t->err,
		                   sizeof(t->err)) != 0)
			return -1;
		t->ptrs[i] = t->bufs[i].p;
	}
	return perf_buf_alloc(t->x, &t->fused, t->total * t->es, t->err, sizeof(t->err));
}

static void tset_free(struct tset *t)
{
	size_t i;

	for (i = 0; t->bufs && i < t->n; i++)
		perf_buf_free(t->x, &t->bufs[i]);
	perf_buf_free(t->x, &t->fused);
	free(t->bufs);
	free(t->ptrs);
	free(t->reqs);
	free(t->counts);
}

static void print_summary(struct tset *t, const double *secs, const int *ran)
{
	int i, best = -1;

	for (i = 0; i < NSTRAT; i++)
		if (ran[i] && strategies[i].baseline == 1 && (best < 0 || secs[i] < secs[best]))
			best = i;
	if (best >= 0)
		printf("# detcomm grouped vs best MPI strategy (%s): %.2fx faster\n",
		       strategies[best].name, secs[best] / secs[1]);
	if (ran[6]) {
		printf("# detcomm grouped vs %zu separate ncclAllReduce calls: %.2fx faster\n",
		       t->n, secs[6] / secs[1]);
		printf("# detcomm grouped overhead vs raw NCCL group: %+.1f%%\n",
		       100.0 * (secs[1] / secs[7] - 1.0));
		printf("# detcomm async per tensor overhead vs raw NCCL per tensor: %+.1f%%\n",
		       100.0 * (secs[3] / secs[6] - 1.0));
	}
}

int perf_tensors(struct perf_ctx *x)
{
	struct tset t = {.x = x, .es = detcomm_dtype_size(x->o.dtype)};
	double secs[NSTRAT] = {0}, ref = 0;
	size_t wrong[NSTRAT] = {0}, i, bad = 0;
	int ran[NSTRAT] = {0}, s, rv = -1;

	if (perf_model(x->o.tensors, &t.counts, &t.n, t.err, sizeof(t.err)) != 0)
		goto fail;
	for (i = 0; i < t.n; i++)
		t.total += t.counts[i];
	if (x->o.where == PERF_REGISTERED)
		x->o.where = PERF_HOST; /* a model's parameters live in ordinary memory */
	if (tset_alloc(&t) != 0)
		goto fail;
	if (x->rank == 0) {
		printf("# det-allreduce-perf --tensors %s: %zu tensors, %zu elements (%.1f MiB), "
		       "%d ranks, backend %s, %d iterations\n",
		       x->o.tensors, t.n, t.total, (double)(t.total * t.es) / 1048576.0, x->size,
		       detcomm_backend_name(x->comm), x->o.iters);
		printf("# %-32s %10s %10s %10s %8s %7s\n", "strategy", "time(ms)", "algbw(GB/s)",
		       "busbw", "speedup", "#wrong");
	}
	for (s = 0; s < NSTRAT; s++) {
		const struct strategy *st = &strategies[s];
		if (st->baseline == 1 && (x->gpu || x->o.dtype != DETCOMM_F32))
			continue;
		if (st->baseline == 2 && !x->gpu)
			continue;
		if (run_strategy(&t, st, &secs[s], &wrong[s]) != 0)
			goto fail;
		ran[s] = 1;
		bad += wrong[s];
	}
	/* speedup against the best baseline (MPI on CPUs, raw NCCL per tensor on GPUs) */
	for (s = 0; s < NSTRAT; s++)
		if (ran[s] && strategies[s].baseline && (ref == 0 || secs[s] < ref) &&
		    (strategies[s].baseline == 1 || s == 6))
			ref = secs[s];
	if (x->rank == 0) {
		for (s = 0; s < NSTRAT; s++) {
			double algbw = (double)(t.total * t.es) / secs[s] / 1e9;
			if (!ran[s])
				continue;
			printf("  %-32s %10.3f %10.2f %10.2f %7.2fx %7zu\n", strategies[s].name,
			       secs[s] * 1e3, algbw,
			       x->size > 1 ? algbw * 2.0 * (x->size - 1) / x->size : 0.0,
			       ref > 0 ? ref / secs[s] : 0.0, wrong[s]);
		}
		print_summary(&t, secs, ran);
		printf("# Out of bounds values : %zu %s\n", bad, bad ? "FAILED" : "OK");
	}
	rv = bad ? -1 : 0;
fail:
	if (rv != 0 && t.err[0])
		fprintf(stderr, "det-allreduce-perf: rank %d: %s\n", x->rank, t.err);
	tset_free(&t);
	return rv;
}
