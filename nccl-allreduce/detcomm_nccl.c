/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NCCL backend: collectives on device memory, one GPU per local rank, one stream per
 * communicator; the only file that includes CUDA or NCCL headers.
 *
 * Data structure: struct dc_nccl holds the NCCL communicator, its stream and a free list
 * of completion events; a started operation is an event recorded after its kernels.
 *
 * Non-obvious decisions: each operation first waits (on the device) for work queued on the
 * default stream, where the caller computed the tensors. The NCCL unique id travels over MPI, and
 * every rank first agrees over MPI that all ranks have a GPU, because ncclCommInitRank would
 * otherwise wait for a rank that never joins. Waits poll the event and the communicator's
 * asynchronous error and abort the communicator after the timeout, so a missing rank ends in an
 * error, not a hang. Grouped tensors are issued between ncclGroupStart/End: one launch, no copy.
 */
#include <config.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nccl.h declares some functions as f() instead of f(void) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <cuda_runtime_api.h>
#include <nccl.h>
#pragma GCC diagnostic pop

#include "detcomm_internal.h"

struct dc_nccl_event {
	cudaEvent_t ev;
	struct dc_nccl_event *next;
};

struct dc_nccl {
	ncclComm_t comm;
	cudaStream_t stream;
	cudaEvent_t ready; /* recorded on the default stream before each operation */
	int device, have_comm, have_stream, have_ready, aborted;
	long timeout_ms;
	struct dc_nccl_event *free_events;
};

/* Every rank reports whether it is fine; 0 if all are. */
static int agree(MPI_Comm comm, int ok)
{
	int all = 0;

	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm);
	return all ? 0 : -1;
}

static int pick_device(int local_rank, int *device, char *err, size_t errlen)
{
	int count = 0;
	cudaError_t ce = cudaGetDeviceCount(&count);

	if (ce != cudaSuccess || count == 0) {
		snprintf(err, errlen, "detcomm: no CUDA device available for the NCCL backend (%s)",
		         ce != cudaSuccess ? cudaGetErrorString(ce) : "0 devices");
		return -1;
	}
	if (local_rank >= count) {
		snprintf(
		    err, errlen,
		    "detcomm: local rank %d has no GPU of its own (%d visible); NCCL needs one "
		    "GPU per rank",
		    local_rank, count);
		return -1;
	}
	ce = cudaSetDevice(local_rank);
	if (ce != cudaSuccess) {
		snprintf(err, errlen, "detcomm: cudaSetDevice(%d): %s", local_rank,
		         cudaGetErrorString(ce));
		return -1;
	}
	*device = local_rank;
	return 0;
}

int dc_nccl_open(MPI_Comm comm, int local_rank, long timeout_ms, struct dc_nccl **out, char *err,
                 size_t errlen)
{
	struct dc_nccl *n = calloc(1, sizeof(*n));
	ncclUniqueId id;
	ncclResult_t nr = ncclSuccess;
	int rank, size, ok;

	*out = NULL;
	MPI_Comm_rank(comm, &rank);
	MPI_Comm_size(comm, &size);
	if (!n)
		snprintf(err, errlen, "detcomm: out of memory");
	ok = n && pick_device(local_rank, &n->device, err, errlen) == 0;
	if (agree(comm, ok) != 0) {
		if (ok)
			snprintf(err, errlen, "detcomm: another rank has no usable GPU");
		goto fail;
	}
	n->timeout_ms = timeout_ms;
	ok = cudaStreamCreateWithFlags(&n->stream, cudaStreamNonBlocking) == cudaSuccess;
	n->have_stream = ok;
	n->have_ready =
	    ok && cudaEventCreateWithFlags(&n->ready, cudaEventDisableTiming) == cudaSuccess;
	ok = ok && n->have_ready;
	memset(&id, 0, sizeof(id));
	if (rank == 0 && ok) {
		nr = ncclGetUniqueId(&id);
		ok = nr == ncclSuccess;
	}
	if (agree(comm, ok) != 0) {
		snprintf(err, errlen, "detcomm: creating the CUDA stream or NCCL id failed (%s)",
		         ncclGetErrorString(nr));
		goto fail;
	}
	MPI_Bcast(&id, (int)sizeof(id), MPI_BYTE, 0, comm);
	nr = ncclCommInitRank(&n->comm, size, id, rank);
	n->have_comm = nr == ncclSuccess;
	if (agree(comm, n->have_comm) != 0) {
		snprintf(err, errlen, "detcomm: ncclCommInitRank on rank %d: %s", rank,
		         ncclGetErrorString(nr));
		goto fail;
	}
	n->timeout_ms = timeout_ms;
	*out = n;
	return 0;
fail:
	dc_nccl_close(n);
	return -1;
}

void dc_nccl_close(struct dc_nccl *n)
{
	struct dc_nccl_event *e;

	if (!n)
		return;
	while ((e = n->free_events)) {
		n->free_events = e->next;
		cudaEventDestroy(e->ev);
		free(e);
	}
	if (n->have_comm && !n->aborted)
		ncclCommDestroy(n->comm);
	if (n->have_ready)
		cudaEventDestroy(n->ready);
	if (n->have_stream)
		cudaStreamDestroy(n->stream);
	free(n);
}

int dc_nccl_is_device_ptr(struct dc_nccl *n, const void *p)
{
	struct cudaPointerAttributes a;

	if (!p || cudaPointerGetAttributes(&a, p) != cudaSuccess) {
		cudaGetLastError(); /* clear the sticky-free error of a host pointer */
		return 0;
	}
	return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

static ncclDataType_t nccl_dtype(enum detcomm_dtype d)
{
	switch (d) {
	case DETCOMM_F16:
		return ncclFloat16;
	case DETCOMM_BF16:
		return ncclBfloat16;
	case DETCOMM_F32:
		break;
	}
	return ncclFloat32;
}

static int issue(struct dc_nccl *n, const struct dc_op *op, char *err, size_t errlen)
{
	ncclDataType_t dt = nccl_dtype(op->dtype);
	ncclRedOp_t rop = op->op == DETCOMM_AVG ? ncclAvg : ncclSum;
	ncclResult_t nr = ncclSuccess, gr;
	size_t i;

	if (op->kind == DC_BCAST) {
		nr = ncclBroadcast(op->segs[0].in, op->segs[0].out, op->segs[0].count, dt, op->root,
		                   n->comm, n->stream);
	} else if (op->nseg == 1) {
		nr = ncclAllReduce(op->segs[0].in, op->segs[0].out, op->segs[0].count, dt, rop,
		                   n->comm, n->stream);
	} else {
		nr = ncclGroupStart();
		for (i = 0; nr == ncclSuccess && i < op->nseg; i++)
			if (op->segs[i].count)
				nr = ncclAllReduce(op->segs[i].in, op->segs[i].out,
				                   op->segs[i].count, dt, rop, n->comm, n->stream);
		gr = ncclGroupEnd();
		if (nr == ncclSuccess)
			nr = gr;
	}
	if (nr != ncclSuccess) {
		snprintf(err, errlen, "detcomm: NCCL %s: %s",
		         op->kind == DC_BCAST ? "broadcast" : "allreduce", ncclGetErrorString(nr));
		return -1;
	}
	return 0;
}

int dc_nccl_enqueue(struct dc_nccl *n, const struct dc_op *op, struct dc_nccl_event **ev, char *err,
                    size_t errlen)
{
	struct dc_nccl_event *e = NULL;
	cudaError_t ce;

	*ev = NULL;
	if (n->aborted) {
		snprintf(err, errlen,
		         "detcomm: NCCL communicator aborted after an earlier failure");
		return -1;
	}
	if (n->free_events) {
		e = n->free_events;
		n->free_events = e->next;
	} else {
		e = calloc(1, sizeof(*e));
		if (!e) {
			snprintf(err, errlen, "detcomm: out of memory");
			return -1;
		}
		ce = cudaEventCreateWithFlags(&e->ev, cudaEventDisableTiming);
		if (ce != cudaSuccess) {
			snprintf(err, errlen, "detcomm: cudaEventCreate: %s",
			         cudaGetErrorString(ce));
			free(e);
			return -1;
		}
	}
	/* gradients computed on the default stream must be complete before NCCL reads them */
	ce = cudaEventRecord(n->ready, 0);
	if (ce == cudaSuccess)
		ce = cudaStreamWaitEvent(n->stream, n->ready, 0);
	if (ce != cudaSuccess) {
		snprintf(err, errlen, "detcomm: ordering after the default stream: %s",
		         cudaGetErrorString(ce));
		goto fail;
	}
	if (issue(n, op, err, errlen) != 0)
		goto fail;
	ce = cudaEventRecord(e->ev, n->stream);
	if (ce != cudaSuccess) {
		snprintf(err, errlen, "detcomm: cudaEventRecord: %s", cudaGetErrorString(ce));
		goto fail;
	}
	*ev = e;
	return 0;
fail:
	e->next = n->free_events;
	n->free_events = e;
	return -1;
}

int dc_nccl_poll(struct dc_nccl *n, struct dc_nccl_event *ev, char *err, size_t errlen)
{
	cudaError_t ce = cudaEventQuery(ev->ev);
	ncclResult_t nr, async = ncclSuccess;

	if (ce == cudaSuccess)
		return 1;
	if (ce != cudaErrorNotReady) {
		snprintf(err, errlen, "detcomm: CUDA error while waiting: %s",
		         cudaGetErrorString(ce));
		return -1;
	}
	nr = ncclCommGetAsyncError(n->comm, &async);
	if (nr != ncclSuccess || (async != ncclSuccess && async != ncclInProgress)) {
		snprintf(err, errlen, "detcomm: NCCL asynchronous error: %s",
		         ncclGetErrorString(nr != ncclSuccess ? nr : async));
		return -1;
	}
	return 0;
}

int dc_nccl_wait(struct dc_nccl *n, struct dc_nccl_event *ev, char *err, size_t errlen)
{
	uint64_t start = dc_now_ns(), limit = (uint64_t)n->timeout_ms * 1000000u;
	unsigned polls = 0;
	int st, rv = -1;

	for (;;) {
		st = dc_nccl_poll(n, ev, err, errlen);
		if (st != 0)
			break;
		if (++polls > 1000 && dc_now_ns() - start > limit) {
			snprintf(err, errlen,
			         "detcomm: NCCL operation did not finish within %ld ms "
			         "(DETCOMM_TIMEOUT_MS); communicator aborted",
			         n->timeout_ms);
			break;
		}
		if (polls > 100000)
			sched_yield();
	}
	if (st == 1)
		rv = 0;
	else if (!n->aborted) {
		ncclCommAbort(n->comm);
		n->aborted = 1;
	}
	ev->next = n->free_events;
	n->free_events = ev;
	return rv;
}
