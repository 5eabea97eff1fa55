/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-allreduce-perf on a GPU: device memory, copies, and a raw NCCL communicator of its
 * own for the baselines (ncclAllReduce per tensor or in one group, on one stream).
 *
 * Data structure: struct perf_gpu, the raw communicator and its stream.
 *
 * Non-obvious decision: the raw baseline synchronises the stream once per batch of calls,
 * not per call, which is the fastest way to issue separate ncclAllReduce calls; any
 * advantage of grouping is then the launch overhead alone.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <cuda_runtime_api.h>
#include <nccl.h>
#pragma GCC diagnostic pop

#include "perf.h"

struct perf_gpu {
	ncclComm_t comm;
	cudaStream_t stream;
	int have_comm;
};

int perf_gpu_open(struct perf_ctx *x, struct perf_gpu **out, char *err, size_t errlen)
{
	struct perf_gpu *g = calloc(1, sizeof(*g));
	MPI_Comm node;
	ncclUniqueId id;
	int lrank = 0, ok;

	*out = NULL;
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, x->rank, MPI_INFO_NULL, &node);
	MPI_Comm_rank(node, &lrank);
	MPI_Comm_free(&node);
	ok = cudaSetDevice(lrank) == cudaSuccess &&
	     cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking) == cudaSuccess;
	memset(&id, 0, sizeof(id));
	if (ok && x->rank == 0)
		ok = ncclGetUniqueId(&id) == ncclSuccess;
	MPI_Bcast(&id, (int)sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD);
	if (ok)
		ok = ncclCommInitRank(&g->comm, x->size, id, x->rank) == ncclSuccess;
	g->have_comm = ok;
	if (!ok) {
		snprintf(err, errlen,
		         "raw NCCL communicator for the baseline could not be created");
		perf_gpu_close(g);
		return -1;
	}
	*out = g;
	return 0;
}

void perf_gpu_close(struct perf_gpu *g)
{
	if (!g)
		return;
	if (g->have_comm)
		ncclCommDestroy(g->comm);
	if (g->stream)
		cudaStreamDestroy(g->stream);
	free(g);
}

void *perf_gpu_alloc(struct perf_gpu *g, size_t bytes)
{
	void *p = NULL;

	if (cudaMalloc(&p, bytes) != cudaSuccess)
		return NULL;
	cudaMemset(p, 0, bytes);
	return p;
}

void perf_gpu_free(struct perf_gpu *g, void *p)
{
	cudaFree(p);
}

/* to_device: 1 host to device, 0 device to host, 2 device to device. */
int perf_gpu_copy(struct perf_gpu *g, void *dst, const void *src, size_t bytes, int to_device)
{
	enum cudaMemcpyKind k = to_device == 1   ? cudaMemcpyHostToDevice
	                        : to_device == 0 ? cudaMemcpyDeviceToHost
	                                         : cudaMemcpyDeviceToDevice;

	/* synchronous: detcomm works on a stream of its own, which must see the data */
	if (to_device == 2)
		return cudaMemcpyAsync(dst, src, bytes, k, g->stream) == cudaSuccess &&
		               cudaStreamSynchronize(g->stream) == cudaSuccess
		           ? 0
		           : -1;
	cudaDeviceSynchronize();
	return cudaMemcpy(dst, src, bytes, k) == cudaSuccess ? 0 : -1;
}

int perf_gpu_nccl(struct perf_gpu *g, const char *const *s, char *const *r, const size_t *counts,
                  size_t n, int grouped, enum detcomm_dtype dt, enum detcomm_op op)
{
	ncclDataType_t t = dt == DETCOMM_F16    ? ncclFloat16
	                   : dt == DETCOMM_BF16 ? ncclBfloat16
	                                        : ncclFloat32;
	ncclRedOp_t o = op == DETCOMM_AVG ? ncclAvg : ncclSum;
	ncclResult_t nr = ncclSuccess;
	size_t i;

	if (grouped)
		ncclGroupStart();
	for (i = 0; i < n && nr == ncclSuccess; i++)
		nr = ncclAllReduce(s[i], r[i], counts[i], t, o, g->comm, g->stream);
	if (grouped && ncclGroupEnd() != ncclSuccess)
		nr = ncclInternalError;
	if (cudaStreamSynchronize(g->stream) != cudaSuccess)
		return -1;
	return nr == ncclSuccess ? 0 : -1;
}

void perf_gpu_sync(struct perf_gpu *g)
{
	cudaStreamSynchronize(g->stream);
	cudaDeviceSynchronize();
}
