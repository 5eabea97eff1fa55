/* SPDX-License-Identifier: GPL-2.0-or-later */
/* det-allreduce-perf: shared declarations of the benchmark's parts. */
#ifndef PERF_H
#define PERF_H

#include <stddef.h>

#include "det/comm.h"

/* Timed iterations are split into this many batches; the fastest batch is reported. */
#define PERF_BATCHES 5

enum perf_impl { PERF_DETCOMM, PERF_MPI, PERF_NCCL, PERF_COPY };
enum perf_where { PERF_HOST, PERF_REGISTERED, PERF_DEVICE };

struct perf_opts {
	size_t min_bytes, max_bytes, step_factor, step_bytes;
	int iters, warmup, check;
	enum detcomm_dtype dtype;
	enum detcomm_op op;
	enum perf_where where;
	const char *baseline; /* NULL, "mpi" or "nccl" */
	const char *tensors;  /* NULL, "resnet50" or "bert-base" */
};

struct perf_ctx {
	struct perf_opts o;
	struct detcomm *comm;
	struct perf_gpu *gpu; /* raw NCCL and CUDA memory, --gpu only */
	int rank, size;
};

/* A buffer on the host, in detcomm_alloc memory or on the GPU. */
struct perf_buf {
	char *p;
	size_t bytes;
	enum perf_where where;
};

int perf_buf_alloc(struct perf_ctx *x, struct perf_buf *b, size_t bytes, char *err, size_t errlen);
/* The same in an explicit place. */
int perf_buf_alloc_at(struct perf_ctx *x, struct perf_buf *b, size_t bytes, enum perf_where where,
                      char *err, size_t errlen);
void perf_buf_free(struct perf_ctx *x, struct perf_buf *b);
/* Input pattern of this rank (small integers: exact sums in every dtype). */
int perf_fill(struct perf_ctx *x, struct perf_buf *b, size_t off, size_t count);
/* Elements of the allreduce result in b that differ from the expected ones. */
size_t perf_wrong(struct perf_ctx *x, const struct perf_buf *b, size_t off, size_t count);

/* One operation of impl on count elements; -1 with err on failure. */
int perf_run_once(struct perf_ctx *x, enum perf_impl impl, const char *s, char *r, size_t count,
                  char *err, size_t errlen);
/* Seconds per operation (slowest rank), after warmup; -1 on failure. */
double perf_time(struct perf_ctx *x, enum perf_impl impl, const char *s, char *r, size_t count,
                 char *err, size_t errlen);

/* The tensor shapes of a model's gradients; counts is malloc'ed. -1 for an unknown name. */
int perf_model(const char *name, size_t **counts, size_t *n, char *err, size_t errlen);
/* --tensors: per tensor, grouped, fused and the MPI or NCCL strategies. */
int perf_tensors(struct perf_ctx *x);

/* GPU side (perf_gpu.c with CUDA, perf_gpu_none.c without). */
struct perf_gpu;
int perf_gpu_open(struct perf_ctx *x, struct perf_gpu **g, char *err, size_t errlen);
void perf_gpu_close(struct perf_gpu *g);
void *perf_gpu_alloc(struct perf_gpu *g, size_t bytes);
void perf_gpu_free(struct perf_gpu *g, void *p);
int perf_gpu_copy(struct perf_gpu *g, void *dst, const void *src, size_t bytes, int to_device);
/* Raw ncclAllReduce of n tensors (grouped: in one ncclGroupStart/End), then stream sync. */
int perf_gpu_nccl(struct perf_gpu *g, const char *const *s, char *const *r, const size_t *counts,
                  size_t n, int grouped, enum detcomm_dtype dt, enum detcomm_op op);
/* Wait for everything queued on the device. */
void perf_gpu_sync(struct perf_gpu *g);

#endif
