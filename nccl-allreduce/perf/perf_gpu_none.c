/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-allreduce-perf without CUDA: --gpu reports that the build has no CUDA.
 *
 * Data structure: none.
 *
 * Non-obvious decision: the stand-in keeps perf_main.c free of #ifdef HAVE_CUDA.
 */
#include <config.h>

#include <stdio.h>

#include "perf.h"

int perf_gpu_open(struct perf_ctx *x, struct perf_gpu **g, char *err, size_t errlen)
{
	*g = NULL;
	snprintf(err, errlen, "--gpu: built without CUDA/NCCL (configure --with-cuda)");
	return -1;
}

void perf_gpu_close(struct perf_gpu *g)
{
}

void *perf_gpu_alloc(struct perf_gpu *g, size_t bytes)
{
	return NULL;
}

void perf_gpu_free(struct perf_gpu *g, void *p)
{
}

int perf_gpu_copy(struct perf_gpu *g, void *dst, const void *src, size_t bytes, int to_device)
{
	return -1;
}

int perf_gpu_nccl(struct perf_gpu *g, const char *const *s, char *const *r, const size_t *counts,
                  size_t n, int grouped, enum detcomm_dtype dt, enum detcomm_op op)
{
	return -1;
}

void perf_gpu_sync(struct perf_gpu *g)
{
}
