/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libdetcomm internals shared by the front end, the CPU engine and the NCCL backend. */
#ifndef DETCOMM_INTERNAL_H
#define DETCOMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "det/comm.h"

enum dc_kind { DC_ALLREDUCE = 1, DC_BCAST = 2 };

/* One tensor of an operation: count elements read from in, written to out. */
struct dc_seg {
	const char *in;
	char *out;
	size_t count;
};

/* One collective as every backend sees it. */
struct dc_op {
	enum dc_kind kind;
	enum detcomm_dtype dtype;
	enum detcomm_op op;
	int root;
	size_t nseg;
	struct dc_seg *segs;
	size_t total; /* elements over all segments */
};

/* Reduce count elements: dst[k][i] = sum_j srcs[j][i] (f32 accumulation) / divisor. */
void dc_reduce(enum detcomm_dtype sdt, const char *const *srcs, int nsrc, enum detcomm_dtype ddt,
               char *const *dsts, int ndst, size_t count, float divisor);
/* Outputs of large operations: streaming stores that skip the read for ownership. */
#define DC_STREAM_MAX 256
void dc_sum_f32_stream(const char *const *srcs, int nsrc, char *const *dsts, int ndst, size_t n,
                       float divisor);
void dc_copy_stream(char *dst, const char *src, size_t bytes);
/* Order streaming stores before the next (release) store. */
void dc_stream_fence(void);
/* Conversions used by tests and the benchmark. */
float dc_f16_to_f32(uint16_t h);
uint16_t dc_f32_to_f16(float f);
float dc_bf16_to_f32(uint16_t h);
uint16_t dc_f32_to_bf16(float f);
/* Element i of a buffer p of dt, as a float; storing v there (rounded to dt). */
float dc_elem_get(enum detcomm_dtype dt, const char *p, size_t i);
void dc_elem_put(enum detcomm_dtype dt, char *p, size_t i, float v);
/* v as dt holds it (rounded to f16 or bf16). */
float dc_elem_round(enum detcomm_dtype dt, float v);

/* CPU engine: shared memory inside a node, MPI between nodes. */
struct dc_shm;
int dc_shm_open(MPI_Comm comm, const struct detcomm_config *cfg, struct dc_shm **out, char *err,
                size_t errlen);
void dc_shm_close(struct dc_shm *s);
int dc_shm_run(struct dc_shm *s, const struct dc_op *op, char *err, size_t errlen);
int dc_shm_alloc(struct dc_shm *s, size_t bytes, void **ptr, char *err, size_t errlen);
void dc_shm_free(struct dc_shm *s, void *ptr);
int dc_shm_local_rank(const struct dc_shm *s);
/* 1 if MPI calls from the progress thread are allowed (single node or MPI_THREAD_MULTIPLE). */
int dc_shm_thread_safe(const struct dc_shm *s);

/* NCCL backend (detcomm_nccl.c; detcomm_nccl_none.c when built without CUDA). */
struct dc_nccl;
struct dc_nccl_event;
int dc_nccl_open(MPI_Comm comm, int local_rank, long timeout_ms, struct dc_nccl **out, char *err,
                 size_t errlen);
void dc_nccl_close(struct dc_nccl *n);
/* 1 if p is device (or managed) memory NCCL can use. */
int dc_nccl_is_device_ptr(struct dc_nccl *n, const void *p);
/* Enqueue op on the backend's stream and record an event in *ev. */
int dc_nccl_enqueue(struct dc_nccl *n, const struct dc_op *op, struct dc_nccl_event **ev, char *err,
                    size_t errlen);
/* 1 when ev has completed, 0 if not, -1 on an asynchronous NCCL error. */
int dc_nccl_poll(struct dc_nccl *n, struct dc_nccl_event *ev, char *err, size_t errlen);
/* Wait for ev (bounded by the timeout; aborts the communicator on expiry) and release it. */
int dc_nccl_wait(struct dc_nccl *n, struct dc_nccl_event *ev, char *err, size_t errlen);

/* Monotonic clock in nanoseconds. */
uint64_t dc_now_ns(void);

#endif
