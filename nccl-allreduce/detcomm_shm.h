/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CPU engine's shared state: node-local control block, pipeline slots, registered memory. */
#ifndef DETCOMM_SHM_H
#define DETCOMM_SHM_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "detcomm_internal.h"

/* What a rank announces at the start of an operation; peers compare it with their own. */
struct dc_hdr {
	uint64_t seq;     /* operation number on this communicator */
	uint64_t total;   /* elements */
	uint64_t nseg;    /* tensors */
	uint64_t seghash; /* hash of the tensor sizes */
	uint32_t kind, dtype, op, root;
	int64_t in_reg, in_off; /* registered region id and offset of the input, or -1 */
	int64_t out_reg, out_off;
	uint64_t in_ptr, out_ptr; /* this rank's addresses, for cross-memory attach */
};

/* One per local rank, written only by its owner; counters on their own cache line. */
struct dc_ctl {
	_Alignas(64) _Atomic uint64_t staged; /* rounds whose input this rank has published */
	_Atomic uint64_t reduced;             /* rounds whose slice this rank has reduced */
	_Alignas(64) struct dc_hdr hdr[2];    /* indexed by round parity */
	int32_t pid;
	uint64_t probe; /* address of a private word peers try to read at init */
};

/* Memory from detcomm_alloc: one shared mapping holding every local rank's part. */
struct dc_region {
	int64_t id;
	char *base;
	size_t bytes;
	size_t my_off, my_bytes;
};

struct dc_shm {
	MPI_Comm world, node, cross;
	int rank, size, lrank, lsize, nnodes, thread_multiple;
	long timeout_ms;
	size_t chunk, small, stream;
	size_t cma_min; /* from this size, cross-memory attach; SIZE_MAX = never */
	int cma;        /* every local rank can read and write every other's memory */
	char *map;
	size_t map_bytes;
	struct dc_ctl *ctl;
	char *data;
	uint64_t staged, reduced, seq; /* this rank's counters */
	int check_pids;
	float *scratch; /* f32 slice for the inter-node step */
	struct dc_region *regs;
	size_t nregs;
	int64_t next_reg;
};

/* Slot of local rank j (j == lsize: the result slot) in the buffer set of a round. */
static inline char *dc_slot(struct dc_shm *s, uint64_t round, int j)
{
	return s->data + ((size_t)(round & 1) * (size_t)(s->lsize + 1) + (size_t)j) * s->chunk;
}

/* Publish this rank's next round on counter which (0 staged, 1 reduced) and wait for peers. */
int dc_shm_barrier(struct dc_shm *s, int which, const char *what, char *err, size_t errlen);
/* Region holding p, or NULL. */
const struct dc_region *dc_shm_region_of(const struct dc_shm *s, const void *p);
/* Region by id, or NULL. */
const struct dc_region *dc_shm_region(const struct dc_shm *s, int64_t id);

#endif
