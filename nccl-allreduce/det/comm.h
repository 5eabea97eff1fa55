/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libdetcomm: data-parallel collectives over the ranks of an MPI communicator. */
#ifndef DET_COMM_H
#define DET_COMM_H

#include <stddef.h>
#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

struct detcomm;
struct detcomm_request;

enum detcomm_dtype { DETCOMM_F32 = 0, DETCOMM_F16 = 1, DETCOMM_BF16 = 2 };
enum detcomm_op { DETCOMM_SUM = 0, DETCOMM_AVG = 1 };
enum detcomm_backend {
	DETCOMM_BACKEND_AUTO = 0,
	DETCOMM_BACKEND_CPU = 1,
	DETCOMM_BACKEND_NCCL = 2
};

/* Tunables; detcomm_config_init fills defaults, then applies the DETCOMM_* environment. */
struct detcomm_config {
	enum detcomm_backend backend; /* DETCOMM_BACKEND: cpu | nccl | auto */
	long timeout_ms;              /* DETCOMM_TIMEOUT_MS: longest wait for another rank */
	size_t chunk_bytes;           /* DETCOMM_CHUNK_BYTES: shared-memory pipeline chunk */
	size_t small_bytes;           /* DETCOMM_SMALL_BYTES: below this every rank reduces all */
	size_t stream_bytes;          /* DETCOMM_STREAM_BYTES: from this size, streaming stores */
	size_t cma_bytes;             /* DETCOMM_CMA_BYTES: from this size, cross-memory attach */
	int ranks_per_node;           /* DETCOMM_RANKS_PER_NODE: 0 = real nodes; k = test split */
};

/* Fill cfg with defaults overridden by the environment; -1 with err on a bad variable. */
int detcomm_config_init(struct detcomm_config *cfg, char *err, size_t errlen);

/* Collective over comm (MPI must be initialised); cfg NULL = detcomm_config_init. */
int detcomm_init(MPI_Comm comm, const struct detcomm_config *cfg, struct detcomm **out, char *err,
                 size_t errlen);
/* Collective: wait for outstanding requests, release everything; NULL is a no-op. */
void detcomm_finalize(struct detcomm *c);

/* This rank's index and the number of ranks. */
int detcomm_rank(const struct detcomm *c);
int detcomm_size(const struct detcomm *c);
/* "cpu" or "nccl": the backend chosen at init. */
const char *detcomm_backend_name(const struct detcomm *c);
/* Size in bytes of one element of dtype (0 for an unknown dtype). */
size_t detcomm_dtype_size(enum detcomm_dtype dtype);

/* Allreduce count elements from send into recv (send == recv: in place); f32 accumulation. */
int detcomm_allreduce(struct detcomm *c, const void *send, void *recv, size_t count,
                      enum detcomm_dtype dtype, enum detcomm_op op, char *err, size_t errlen);
/* Allreduce n tensors in place as one operation (every rank passes the same counts). */
int detcomm_allreduce_grouped(struct detcomm *c, void *const *bufs, const size_t *counts, size_t n,
                              enum detcomm_dtype dtype, enum detcomm_op op, char *err,
                              size_t errlen);
/* Broadcast count elements of buf from rank root to every rank. */
int detcomm_broadcast(struct detcomm *c, void *buf, size_t count, enum detcomm_dtype dtype,
                      int root, char *err, size_t errlen);

/* Start an allreduce and return at once; buffers stay untouched by the caller until wait. */
int detcomm_allreduce_start(struct detcomm *c, const void *send, void *recv, size_t count,
                            enum detcomm_dtype dtype, enum detcomm_op op,
                            struct detcomm_request **req, char *err, size_t errlen);
/* Start a grouped allreduce (bufs and counts are copied; the tensors must stay alive). */
int detcomm_allreduce_grouped_start(struct detcomm *c, void *const *bufs, const size_t *counts,
                                    size_t n, enum detcomm_dtype dtype, enum detcomm_op op,
                                    struct detcomm_request **req, char *err, size_t errlen);
/* Wait for a started operation and free req; -1 with err if the operation failed. */
int detcomm_wait(struct detcomm_request *req, char *err, size_t errlen);
/* 1 if req has finished (detcomm_wait still needed), 0 if not. */
int detcomm_test(struct detcomm_request *req);

/* Collective: memory every local rank can address directly (zero-copy CPU allreduce). */
int detcomm_alloc(struct detcomm *c, size_t bytes, void **ptr, char *err, size_t errlen);
/* Collective: release memory from detcomm_alloc (in the same order on every rank). */
void detcomm_free(struct detcomm *c, void *ptr);

#ifdef __cplusplus
}
#endif
#endif
