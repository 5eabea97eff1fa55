/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NCCL backend stand-in for builds without CUDA: every entry point reports that the
 * library was built without it, so DETCOMM_BACKEND=nccl fails with a clear message and
 * auto falls back to the CPU engine.
 *
 * Data structure: none (struct dc_nccl is never created here).
 *
 * Non-obvious decision: the stand-in keeps the NCCL decision at run time out of every
 * caller: the front end needs no #ifdef.
 */
#include <config.h>

#include <stdio.h>

#include "detcomm_internal.h"

int dc_nccl_open(MPI_Comm comm, int local_rank, long timeout_ms, struct dc_nccl **out, char *err,
                 size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "detcomm: built without CUDA/NCCL (configure --with-cuda)");
	return -1;
}

void dc_nccl_close(struct dc_nccl *n)
{
}

int dc_nccl_is_device_ptr(struct dc_nccl *n, const void *p)
{
	return 0;
}

int dc_nccl_enqueue(struct dc_nccl *n, const struct dc_op *op, struct dc_nccl_event **ev, char *err,
                    size_t errlen)
{
	snprintf(err, errlen, "detcomm: built without CUDA/NCCL");
	return -1;
}

int dc_nccl_poll(struct dc_nccl *n, struct dc_nccl_event *ev, char *err, size_t errlen)
{
	snprintf(err, errlen, "detcomm: built without CUDA/NCCL");
	return -1;
}

int dc_nccl_wait(struct dc_nccl *n, struct dc_nccl_event *ev, char *err, size_t errlen)
{
	snprintf(err, errlen, "detcomm: built without CUDA/NCCL");
	return -1;
}
