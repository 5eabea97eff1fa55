/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-allreduce-perf: buffers, input pattern and checks, and the timed loop every
 * implementation (detcomm, MPI_Allreduce, raw NCCL, memcpy) goes through.
 *
 * Data structure: struct perf_buf, a buffer in one of three places (host, detcomm_alloc
 * memory, GPU); fill and check go through a host copy when it lives on the GPU.
 *
 * Non-obvious decision: a time is the slowest rank's, taken between barriers, as in
 * nccl-tests, but the iterations run in PERF_BATCHES batches and the fastest batch counts:
 * on a shared machine one descheduled rank would otherwise dominate the average. Every
 * implementation is timed the same way. The MPI baseline divides after MPI_SUM for
 * averages, as a framework would.
 */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perf.h"
#include "detcomm_internal.h"

int perf_buf_alloc(struct perf_ctx *x, struct perf_buf *b, size_t bytes, char *err, size_t errlen)
{
	return perf_buf_alloc_at(x, b, bytes, x->o.where, err, errlen);
}

int perf_buf_alloc_at(struct perf_ctx *x, struct perf_buf *b, size_t bytes, enum perf_where where,
                      char *err, size_t errlen)
{
	void *p = NULL;

	b->bytes = bytes;
	b->where = where;
	switch (b->where) {
	case PERF_HOST:
		p = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096 + 4096);
		if (!p)
			snprintf(err, errlen, "out of memory for %zu bytes", bytes);
		break;
	case PERF_REGISTERED:
		if (detcomm_alloc(x->comm, bytes, &p, err, errlen) != 0)
			p = NULL;
		break;
	case PERF_DEVICE:
		p = perf_gpu_alloc(x->gpu, bytes ? bytes : 1);
		if (!p)
			snprintf(err, errlen, "cudaMalloc of %zu bytes failed", bytes);
		break;
	}
	b->p = p;
	if (p && b->where != PERF_DEVICE)
		memset(p, 0, bytes); /* fault every page in before timing */
	return p ? 0 : -1;
}

void perf_buf_free(struct perf_ctx *x, struct perf_buf *b)
{
	if (!b->p)
		return;
	if (b->where == PERF_HOST)
		free(b->p);
	else if (b->where == PERF_REGISTERED)
		detcomm_free(x->comm, b->p);
	else
		perf_gpu_free(x->gpu, b->p);
	b->p = NULL;
}

int perf_fill(struct perf_ctx *x, struct perf_buf *b, size_t off, size_t count)
{
	enum detcomm_dtype dt = x->o.dtype;
	size_t es = detcomm_dtype_size(dt), i;
	char *h = b->where == PERF_DEVICE ? malloc(count * es + 1) : b->p + off * es;
	int rv = 0;

	if (!h)
		return -1;
	for (i = 0; i < count; i++)
		dc_elem_put(dt, h, i, (float)((x->rank + 1) * (int)((off + i) % 7 + 1)));
	if (b->where == PERF_DEVICE) {
		rv = perf_gpu_copy(x->gpu, b->p + off * es, h, count * es, 1);
		free(h);
	}
	return rv;
}

size_t perf_wrong(struct perf_ctx *x, const struct perf_buf *b, size_t off, size_t count)
{
	enum detcomm_dtype dt = x->o.dtype;
	size_t es = detcomm_dtype_size(dt), i, bad = 0;
	const char *h = b->p + off * es;
	char *copy = NULL;
	float want, sum1 = (float)(x->size * (x->size + 1) / 2);

	if (b->where == PERF_DEVICE) {
		copy = malloc(count * es + 1);
		if (!copy || perf_gpu_copy(x->gpu, copy, b->p + off * es, count * es, 0) != 0) {
			free(copy);
			return count ? count : 1;
		}
		h = copy;
	}
	for (i = 0; i < count; i++) {
		want = sum1 * (float)((off + i) % 7 + 1);
		if (x->o.op == DETCOMM_AVG)
			want /= (float)x->size;
		if (dc_elem_get(dt, h, i) != dc_elem_round(dt, want))
			bad++;
	}
	free(copy);
	return bad;
}

static int mpi_allreduce(struct perf_ctx *x, const void *s, void *r, size_t count, char *err,
                         size_t errlen)
{
	float *f = r;
	size_t i;

	if (x->o.dtype != DETCOMM_F32 || count > INT_MAX) {
		snprintf(err, errlen, "MPI baseline needs f32 and at most INT_MAX elements");
		return -1;
	}
	if (MPI_Allreduce(s == r ? MPI_IN_PLACE : s, r, (int)count, MPI_FLOAT, MPI_SUM,
	                  MPI_COMM_WORLD) != MPI_SUCCESS) {
		snprintf(err, errlen, "MPI_Allreduce failed");
		return -1;
	}
	if (x->o.op == DETCOMM_AVG)
		for (i = 0; i < count; i++)
			f[i] /= (float)x->size;
	return 0;
}

int perf_run_once(struct perf_ctx *x, enum perf_impl impl, const char *s, char *r, size_t count,
                  char *err, size_t errlen)
{
	switch (impl) {
	case PERF_DETCOMM:
		return detcomm_allreduce(x->comm, s, r, count, x->o.dtype, x->o.op, err, errlen);
	case PERF_MPI:
		return mpi_allreduce(x, s, r, count, err, errlen);
	case PERF_NCCL:
		if (perf_gpu_nccl(x->gpu, &s, &r, &count, 1, 0, x->o.dtype, x->o.op) != 0) {
			snprintf(err, errlen, "raw ncclAllReduce failed");
			return -1;
		}
		return 0;
	case PERF_COPY:
		if (x->o.where == PERF_DEVICE)
			return perf_gpu_copy(x->gpu, r, s, count * detcomm_dtype_size(x->o.dtype),
			                     2);
		memcpy(r, s, count * detcomm_dtype_size(x->o.dtype));
		return 0;
	}
	return -1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double perf_time(struct perf_ctx *x, enum perf_impl impl, const char *s, char *r, size_t count,
                 char *err, size_t errlen)
{
	int batches = x->o.iters < PERF_BATCHES ? x->o.iters : PERF_BATCHES;
	int per = x->o.iters / batches, i, b, ok = 1, all = 0;
	double t0, t, slowest, best = -1.0;

	for (i = 0; i < x->o.warmup && ok; i++)
		ok = perf_run_once(x, impl, s, r, count, err, errlen) == 0;
	for (b = 0; b < batches; b++) {
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = now_s();
		for (i = 0; i < per && ok; i++)
			ok = perf_run_once(x, impl, s, r, count, err, errlen) == 0;
		if (x->gpu)
			perf_gpu_sync(x->gpu);
		t = (now_s() - t0) / (double)per;
		MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
		if (best < 0 || slowest < best)
			best = slowest;
	}
	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (!all && ok)
		snprintf(err, errlen, "failed on another rank");
	return all ? best : -1.0;
}
