/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU engine: allreduce and broadcast through node shared memory, MPI between nodes.
 *
 * Data structure: an operation is a virtual vector, the concatenation of its tensors
 * (struct dc_op segments, located by a prefix-sum array). It moves in rounds of at most
 * one slot (chunk_bytes); round r uses buffer set r % 2. In a round each rank copies the
 * parts of its input the others reduce into its slot (flag "staged"), reduces its own slice
 * straight from its private input and the peers' slots into its output and the result slot
 * (flag "reduced"), then copies the other slices from the result slot.
 *
 * Non-obvious decisions: (1) Two buffer sets and monotonic counters make reuse safe with
 * two flag waits per round: a rank writes set r % 2 again only after every peer has staged
 * round r + 1, which it does only after finishing round r. (2) Small operations take one
 * wait: every rank reduces the whole vector itself. (3) When every rank's buffers come
 * from detcomm_alloc, nothing is staged at all: rank j reads slice j of every input and
 * writes it into every output (zero copy), which is what reaches memory bandwidth.
 * (4) A grouped call runs in batches: runs of small tensors packed into one slot-sized
 * operation (the staging copy packs them), each large tensor as an operation of its own;
 * nothing is copied into a whole-size fusion buffer. (Streaming all tensors through one
 * virtual vector was measured 2-4x slower than this for ResNet-50.)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv, process_vm_writev */
#endif
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "detcomm_shm.h"

#define DC_MAX_LOCAL 256

struct dc_run {
	struct dc_shm *s;
	const struct dc_op *op;
	const struct dc_op *group; /* the whole call: op or the grouped call op belongs to */
	size_t es;
	size_t *pre; /* pre[i] = first element of segment i; pre[nseg] = total */
	float divisor;
	int stream; /* outputs too large for the cache: streaming stores */
};

static size_t seg_at(const struct dc_run *r, size_t pos)
{
	size_t lo = 0, hi = r->op->nseg;

	/* last i with pre[i] <= pos; empty segments are skipped because pre[i+1] > pos */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (r->pre[mid] <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Copy virtual [pos, pos+len) of the inputs into dst. */
static void copy_in(const struct dc_run *r, size_t pos, size_t len, char *dst)
{
	size_t i = seg_at(r, pos), n;

	while (len > 0) {
		n = r->pre[i + 1] - pos;
		if (n > len)
			n = len;
		if (n) {
			memcpy(dst, r->op->segs[i].in + (pos - r->pre[i]) * r->es, n * r->es);
			dst += n * r->es;
			pos += n;
			len -= n;
		}
		i++;
	}
}

/* Copy src into virtual [pos, pos+len) of the outputs. */
static void copy_out(const struct dc_run *r, size_t pos, size_t len, const char *src)
{
	size_t i = seg_at(r, pos), n;

	while (len > 0) {
		n = r->pre[i + 1] - pos;
		if (n > len)
			n = len;
		if (n) {
			if (r->stream)
				dc_copy_stream(r->op->segs[i].out + (pos - r->pre[i]) * r->es, src,
				               n * r->es);
			else
				memcpy(r->op->segs[i].out + (pos - r->pre[i]) * r->es, src,
				       n * r->es);
			src += n * r->es;
			pos += n;
			len -= n;
		}
		i++;
	}
}

/*
 * Reduce virtual [pos, pos+len) of a round starting at vb: own input from the segments,
 * peers' inputs from their slots; written to the own output and, if res, the result slot.
 * With f32dst the sum goes to f32dst (f32, undivided) instead.
 */
static void reduce_range(const struct dc_run *r, uint64_t round, size_t vb, size_t pos, size_t len,
                         char *res, float *f32dst)
{
	struct dc_shm *s = r->s;
	const char *srcs[DC_MAX_LOCAL];
	char *dsts[2];
	size_t i = seg_at(r, pos), n, off;
	int j, k, nd;

	while (len > 0) {
		n = r->pre[i + 1] - pos;
		if (n > len)
			n = len;
		if (n) {
			off = (pos - vb) * r->es;
			srcs[0] = r->op->segs[i].in + (pos - r->pre[i]) * r->es;
			for (j = 0, k = 1; j < s->lsize; j++)
				if (j != s->lrank)
					srcs[k++] = dc_slot(s, round, j) + off;
			if (f32dst) {
				dsts[0] = (char *)(f32dst + (pos - vb));
				dc_reduce(r->op->dtype, srcs, s->lsize, DETCOMM_F32, dsts, 1, n,
				          1.0f);
			} else {
				nd = 0;
				/* streaming: the own slice is copied out of res like the others */
				if (!(r->stream && res))
					dsts[nd++] = r->op->segs[i].out + (pos - r->pre[i]) * r->es;
				if (res)
					dsts[nd++] = res + off;
				dc_reduce(r->op->dtype, srcs, s->lsize, r->op->dtype, dsts, nd, n,
				          r->divisor);
			}
			pos += n;
			len -= n;
		}
		i++;
	}
}

/* Convert the f32 inter-node sum of [pos, pos+len) into the own output and the result. */
static void finish_range(const struct dc_run *r, size_t vb, size_t pos, size_t len, char *res,
                         const float *f32src)
{
	const char *srcs[1];
	char *dsts[2];
	size_t i = seg_at(r, pos), n;

	while (len > 0) {
		n = r->pre[i + 1] - pos;
		if (n > len)
			n = len;
		if (n) {
			srcs[0] = (const char *)(f32src + (pos - vb));
			dsts[0] = r->op->segs[i].out + (pos - r->pre[i]) * r->es;
			dsts[1] = res + (pos - vb) * r->es;
			dc_reduce(DETCOMM_F32, srcs, 1, r->op->dtype, dsts, 2, n, r->divisor);
			pos += n;
			len -= n;
		}
		i++;
	}
}

/* Slice of local rank j in a round of len elements: 64-byte aligned boundaries. */
static void slice_of(const struct dc_run *r, size_t len, int j, size_t *b, size_t *e)
{
	size_t per = 64 / r->es, lsz = (size_t)r->s->lsize;
	size_t sl = ((len + lsz - 1) / lsz + per - 1) / per * per;

	*b = sl * (size_t)j < len ? sl * (size_t)j : len;
	*e = *b + sl < len ? *b + sl : len;
}

static int cross_allreduce(struct dc_shm *s, float *buf, size_t n, char *err, size_t errlen)
{
	while (n > 0) {
		int m = n > (size_t)INT_MAX ? INT_MAX : (int)n;
		if (MPI_Allreduce(MPI_IN_PLACE, buf, m, MPI_FLOAT, MPI_SUM, s->cross) !=
		    MPI_SUCCESS) {
			snprintf(err, errlen, "detcomm: inter-node MPI_Allreduce failed");
			return -1;
		}
		buf += m;
		n -= (size_t)m;
	}
	return 0;
}

/* First half of a sliced round: copy the slices the peers reduce into this rank's slot. */
static void round_stage(struct dc_run *r, size_t vb, size_t len)
{
	struct dc_shm *s = r->s;
	char *mine = dc_slot(s, s->staged, s->lrank);
	size_t b, e;
	int j;

	for (j = 0; j < s->lsize; j++) {
		if (j == s->lrank)
			continue;
		slice_of(r, len, j, &b, &e);
		copy_in(r, vb + b, e - b, mine + b * r->es);
	}
}

/* Second half, after the staging wait of round: reduce the own slice, copy out the others. */
static int round_reduce(struct dc_run *r, uint64_t round, size_t vb, size_t len, char *err,
                        size_t errlen)
{
	struct dc_shm *s = r->s;
	char *res = dc_slot(s, round, s->lsize);
	size_t b, e;
	int j;

	slice_of(r, len, s->lrank, &b, &e);
	if (s->nnodes > 1) {
		reduce_range(r, round, vb, vb + b, e - b, NULL, s->scratch);
		if (cross_allreduce(s, s->scratch + b, e - b, err, errlen) != 0)
			return -2;
		finish_range(r, vb, vb + b, e - b, res, s->scratch);
	} else {
		reduce_range(r, round, vb, vb + b, e - b, res, NULL);
	}
	if (dc_shm_barrier(s, 1, "allreduce (reduction)", err, errlen) != 0)
		return -2;
	for (j = 0; j < s->lsize; j++) {
		if (j == s->lrank && !(r->stream && s->nnodes == 1))
			continue;
		slice_of(r, len, j, &b, &e);
		copy_out(r, vb + b, e - b, res + b * r->es);
	}
	return 0;
}

/* One whole sliced round over virtual [vb, vb+len). */
static int round_sliced(struct dc_run *r, size_t vb, size_t len, char *err, size_t errlen)
{
	uint64_t round = r->s->staged;

	round_stage(r, vb, len);
	if (dc_shm_barrier(r->s, 0, "allreduce (staging)", err, errlen) != 0)
		return -2;
	return round_reduce(r, round, vb, len, err, errlen);
}

static int check_headers(struct dc_shm *s, uint64_t round, const struct dc_hdr *mine, char *err,
                         size_t errlen)
{
	int j;

	for (j = 0; j < s->lsize; j++) {
		const struct dc_hdr *h = &s->ctl[j].hdr[round & 1];
		if (j == s->lrank)
			continue;
		if (h->seq != mine->seq) {
			snprintf(
			    err, errlen,
			    "detcomm: local rank %d is at operation %llu, this rank (%d) at %llu",
			    j, (unsigned long long)h->seq, s->rank, (unsigned long long)mine->seq);
			return -2;
		}
		if (h->kind != mine->kind || h->total != mine->total || h->nseg != mine->nseg ||
		    h->seghash != mine->seghash || h->dtype != mine->dtype || h->op != mine->op ||
		    h->root != mine->root) {
			snprintf(
			    err, errlen,
			    "detcomm: operation %llu differs between ranks: local rank %d passed "
			    "kind %u, %llu elements in %llu tensors, dtype %u, op %u, root %u; "
			    "rank %d passed kind %u, %llu elements in %llu tensors, dtype %u, "
			    "op %u, root %u",
			    (unsigned long long)mine->seq, j, h->kind, (unsigned long long)h->total,
			    (unsigned long long)h->nseg, h->dtype, h->op, h->root, s->rank,
			    mine->kind, (unsigned long long)mine->total,
			    (unsigned long long)mine->nseg, mine->dtype, mine->op, mine->root);
			return -1;
		}
	}
	return 0;
}

/*
 * Between nodes: every rank contributes its header and its node's verdict, so all ranks of
 * all nodes return the same answer (a node that stopped early would leave the others
 * blocked in the next inter-node call).
 */
static int cross_check(struct dc_shm *s, const struct dc_hdr *h, int local_rc, char *err,
                       size_t errlen)
{
	enum { F = 7 };
	unsigned long long v[2 * F + 1], m[2 * F + 1];
	int i;

	if (s->nnodes == 1)
		return local_rc;
	v[0] = h->seq, v[1] = h->kind, v[2] = h->total, v[3] = h->nseg, v[4] = h->seghash;
	v[5] = h->dtype | (uint64_t)h->op << 8, v[6] = h->root;
	for (i = 0; i < F; i++)
		v[F + i] = ~v[i];
	v[2 * F] = local_rc != 0;
	MPI_Allreduce(v, m, 2 * F + 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, s->cross);
	if (local_rc != 0)
		return local_rc;
	if (m[2 * F]) {
		snprintf(err, errlen,
		         "detcomm: operation %llu differs between ranks on another node",
		         (unsigned long long)h->seq);
		return -1;
	}
	for (i = 0; i < F; i++) {
		if (m[i] != ~m[F + i]) {
			snprintf(err, errlen,
			         "detcomm: operation %llu differs between ranks on different nodes "
			         "(count, "
			         "dtype, reduction or tensor list)",
			         (unsigned long long)h->seq);
			return -1;
		}
	}
	return 0;
}

/* The header names the whole call, so a grouped call is checked at its first batch. */
static void fill_header(struct dc_run *r, struct dc_hdr *h)
{
	const struct dc_op *op = r->op, *g = r->group;
	const struct dc_region *reg;
	uint64_t hash = 1469598103934665603ull;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->seq = r->s->seq;
	h->kind = (uint32_t)g->kind;
	h->total = g->total;
	h->nseg = g->nseg;
	for (i = 0; i < g->nseg; i++)
		hash = (hash ^ (uint64_t)g->segs[i].count) * 1099511628211ull;
	h->seghash = hash;
	h->dtype = (uint32_t)op->dtype;
	h->op = (uint32_t)op->op;
	h->root = (uint32_t)op->root;
	h->in_reg = h->out_reg = -1;
	h->in_ptr = (uint64_t)(uintptr_t)op->segs[0].in;
	h->out_ptr = (uint64_t)(uintptr_t)op->segs[0].out;
	if (op->nseg != 1)
		return;
	reg = dc_shm_region_of(r->s, op->segs[0].in);
	if (reg && (size_t)(op->segs[0].in - reg->base) + op->total * r->es <=
	               reg->my_off + reg->my_bytes) {
		h->in_reg = reg->id;
		h->in_off = op->segs[0].in - reg->base;
	}
	reg = dc_shm_region_of(r->s, op->segs[0].out);
	if (reg && (size_t)(op->segs[0].out - reg->base) + op->total * r->es <=
	               reg->my_off + reg->my_bytes) {
		h->out_reg = reg->id;
		h->out_off = op->segs[0].out - reg->base;
	}
}

/* Zero copy: every rank's buffers are in registered memory; rank j reduces slice j. */
static int run_direct(struct dc_run *r, uint64_t hround, char *err, size_t errlen)
{
	struct dc_shm *s = r->s;
	const char *srcs[DC_MAX_LOCAL];
	char *dsts[DC_MAX_LOCAL];
	size_t b, e;
	int j;

	slice_of(r, r->op->total, s->lrank, &b, &e);
	for (j = 0; j < s->lsize; j++) {
		const struct dc_hdr *h = &s->ctl[j].hdr[hround & 1];
		const struct dc_region *in = dc_shm_region(s, h->in_reg);
		const struct dc_region *out = dc_shm_region(s, h->out_reg);
		if (!in || !out) {
			snprintf(err, errlen,
			         "detcomm: local rank %d uses detcomm_alloc memory this rank has "
			         "freed (detcomm_free must be called on every rank)",
			         j);
			return -2;
		}
		srcs[j] = in->base + h->in_off + b * r->es;
		dsts[j] = out->base + h->out_off + b * r->es;
	}
	if (e > b && r->stream && r->op->dtype == DETCOMM_F32)
		dc_sum_f32_stream(srcs, s->lsize, dsts, s->lsize, e - b, r->divisor);
	else if (e > b)
		dc_reduce(r->op->dtype, srcs, s->lsize, r->op->dtype, dsts, s->lsize, e - b,
		          r->divisor);
	dc_stream_fence(); /* peers read their outputs after the release below */
	if (dc_shm_barrier(s, 1, "allreduce (zero-copy reduction)", err, errlen) != 0)
		return -2;
	return 0;
}

/* A rank skips staging when its buffers are registered (and the node is alone). */
static int zero_copy_capable(const struct dc_shm *s, const struct dc_hdr *h)
{
	return s->nnodes == 1 && h->in_reg >= 0 && h->out_reg >= 0;
}

/* How many local ranks announced zero-copy buffers in round hround. */
static int count_zero_copy(struct dc_shm *s, uint64_t hround)
{
	int j, n = 0;

	for (j = 0; j < s->lsize; j++)
		n += zero_copy_capable(s, &s->ctl[j].hdr[hround & 1]);
	return n;
}

/* Small: stage everything, one wait, every rank reduces the whole vector. */
static int run_small(struct dc_run *r, const struct dc_hdr *hdr, char *err, size_t errlen)
{
	struct dc_shm *s = r->s;
	uint64_t round = s->staged;
	int rc;

	copy_in(r, 0, r->op->total, dc_slot(s, round, s->lrank));
	s->ctl[s->lrank].hdr[round & 1] = *hdr;
	if (dc_shm_barrier(s, 0, "allreduce", err, errlen) != 0)
		return -2;
	rc = check_headers(s, round, hdr, err, errlen);
	if (rc != 0)
		return rc;
	reduce_range(r, round, 0, 0, r->op->total, NULL, NULL);
	return 0;
}

/* Move bytes between this process and peer j's memory; -1 with err on failure. */
static int cma_move(struct dc_shm *s, int j, char *local, uint64_t remote, size_t bytes, int write,
                    char *err, size_t errlen)
{
	struct iovec l, r;
	ssize_t n;

	while (bytes > 0) {
		l.iov_base = local;
		l.iov_len = bytes;
		r.iov_base = (void *)(uintptr_t)remote;
		r.iov_len = bytes;
		n = write ? process_vm_writev((pid_t)s->ctl[j].pid, &l, 1, &r, 1, 0)
		          : process_vm_readv((pid_t)s->ctl[j].pid, &l, 1, &r, 1, 0);
		if (n <= 0) {
			snprintf(err, errlen, "detcomm: process_vm_%s of local rank %d failed: %s",
			         write ? "writev" : "readv", j,
			         n < 0 ? strerror(errno) : "no progress");
			return -1;
		}
		local += n;
		remote += (uint64_t)n;
		bytes -= (size_t)n;
	}
	return 0;
}

/*
 * Cross-memory attach: rank j reads slice j of every peer's private input with
 * process_vm_readv (one slot-sized piece at a time, into a private buffer), reduces it
 * with its own input into its own output, and writes the result into every peer's
 * output with process_vm_writev. Two flag waits per operation, one copy per byte.
 */
static int run_cma(struct dc_run *r, uint64_t hround, char *err, size_t errlen)
{
	struct dc_shm *s = r->s;
	size_t b, e, pos, n, piece = s->chunk / r->es;
	char *tmp = (char *)s->scratch, *out;
	const char *srcs[2];
	char *dsts[1];
	int j;

	slice_of(r, r->op->total, s->lrank, &b, &e);
	for (pos = b; pos < e; pos += n) {
		n = e - pos < piece ? e - pos : piece;
		out = r->op->segs[0].out + pos * r->es;
		srcs[0] = r->op->segs[0].in + pos * r->es;
		dsts[0] = out;
		for (j = 0; j < s->lsize; j++) {
			const struct dc_hdr *h = &s->ctl[j].hdr[hround & 1];
			if (j == s->lrank)
				continue;
			if (cma_move(s, j, tmp, h->in_ptr + pos * r->es, n * r->es, 0, err, errlen))
				return -2;
			srcs[1] = tmp;
			/* the first peer: own input + peer; later peers (f32 only): running sum */
			dc_reduce(r->op->dtype, srcs, 2, r->op->dtype, dsts, 1, n, 1.0f);
			srcs[0] = out;
		}
		if (r->divisor > 1.0f) {
			srcs[0] = out;
			dc_reduce(r->op->dtype, srcs, 1, r->op->dtype, dsts, 1, n, r->divisor);
		}
		for (j = 0; j < s->lsize; j++) {
			const struct dc_hdr *h = &s->ctl[j].hdr[hround & 1];
			if (j != s->lrank && cma_move(s, j, out, h->out_ptr + pos * r->es,
			                              n * r->es, 1, err, errlen))
				return -2;
		}
	}
	if (dc_shm_barrier(s, 1, "allreduce (cross-memory attach)", err, errlen) != 0)
		return -2;
	return 0;
}

/*
 * Round 0 carries the header and, from ranks without zero-copy buffers, the first chunk.
 * After its wait all ranks know the same: all zero copy (direct), a large operation with
 * cross-memory attach (nobody staged), none (round 0 was a data round: finish it), or a
 * mix (round 0 only carried headers: stream everything).
 */
static int run_allreduce(struct dc_run *r, char *err, size_t errlen)
{
	struct dc_shm *s = r->s;
	size_t total = r->op->total, bytes = total * r->es, per_round = s->chunk / r->es, vb = 0;
	size_t len0 = total < per_round ? total : per_round;
	struct dc_hdr hdr;
	uint64_t hround = s->staged;
	int rc, nzc, cma;

	fill_header(r, &hdr);
	if (s->nnodes == 1 && bytes <= s->small)
		return run_small(r, &hdr, err, errlen);
	/* the same on every rank (sizes match, or the header check fails everywhere) */
	cma = s->cma && s->nnodes == 1 && bytes >= s->cma_min && r->op->nseg == 1 &&
	      (s->lsize == 2 || r->op->dtype == DETCOMM_F32);
	if (!zero_copy_capable(s, &hdr) && !cma)
		round_stage(r, 0, len0);
	s->ctl[s->lrank].hdr[hround & 1] = hdr;
	if (dc_shm_barrier(s, 0, "allreduce (staging)", err, errlen) != 0)
		return -2;
	rc = cross_check(s, &hdr, check_headers(s, hround, &hdr, err, errlen), err, errlen);
	if (rc != 0)
		return rc;
	nzc = count_zero_copy(s, hround);
	if (nzc == s->lsize)
		return run_direct(r, hround, err, errlen);
	if (cma)
		return run_cma(r, hround, err, errlen);
	if (nzc == 0) {
		rc = round_reduce(r, hround, 0, len0, err, errlen);
		if (rc != 0)
			return rc;
		vb = len0;
	}
	for (; vb < total; vb += per_round) {
		rc = round_sliced(r, vb, total - vb < per_round ? total - vb : per_round, err,
		                  errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Broadcast: the root streams its buffer through its slots; others copy out. */
static int run_bcast(struct dc_run *r, char *err, size_t errlen)
{
	struct dc_shm *s = r->s;
	size_t bytes = r->op->total * r->es, pos = 0, n;
	char *buf = r->op->segs[0].out;
	struct dc_hdr hdr;
	uint64_t round;
	int rc, lroot, first = 1;

	fill_header(r, &hdr);
	if (s->nnodes > 1) {
		/* header check on the node, then MPI carries the data */
		round = s->staged;
		s->ctl[s->lrank].hdr[round & 1] = hdr;
		if (dc_shm_barrier(s, 0, "broadcast", err, errlen) != 0)
			return -2;
		rc = cross_check(s, &hdr, check_headers(s, round, &hdr, err, errlen), err, errlen);
		if (rc != 0)
			return rc;
		while (pos < bytes) {
			n = bytes - pos > (size_t)INT_MAX ? (size_t)INT_MAX : bytes - pos;
			if (MPI_Bcast(buf + pos, (int)n, MPI_BYTE, r->op->root, s->world) !=
			    MPI_SUCCESS) {
				snprintf(err, errlen, "detcomm: MPI_Bcast failed");
				return -2;
			}
			pos += n;
		}
		return 0;
	}
	lroot = r->op->root; /* single node: node ranks equal world ranks */
	do {
		n = bytes - pos < s->chunk ? bytes - pos : s->chunk;
		round = s->staged;
		if (s->lrank == lroot)
			memcpy(dc_slot(s, round, lroot), buf + pos, n);
		if (first)
			s->ctl[s->lrank].hdr[round & 1] = hdr;
		if (dc_shm_barrier(s, 0, "broadcast", err, errlen) != 0)
			return -2;
		if (first) {
			rc = check_headers(s, round, &hdr, err, errlen);
			if (rc != 0)
				return rc;
			first = 0;
		}
		if (s->lrank != lroot)
			memcpy(buf + pos, dc_slot(s, round, lroot), n);
		pos += n;
	} while (pos < bytes);
	return 0;
}

/* One operation, or one batch of the grouped call group. */
static int run_one(struct dc_shm *s, const struct dc_op *op, const struct dc_op *group, char *err,
                   size_t errlen)
{
	struct dc_run r = {.s = s, .op = op, .group = group, .es = detcomm_dtype_size(op->dtype)};
	size_t i;
	int rc;

	r.divisor = op->op == DETCOMM_AVG ? (float)s->size : 1.0f;
	/* in place the output lines were just read, so ordinary stores hit the cache */
	r.stream = op->kind == DC_ALLREDUCE && op->total * r.es >= s->stream && op->nseg == 1 &&
	           op->segs[0].in != op->segs[0].out;
	r.pre = malloc((op->nseg + 1) * sizeof(*r.pre));
	if (!r.pre) {
		snprintf(err, errlen, "detcomm: out of memory");
		return -1;
	}
	r.pre[0] = 0;
	for (i = 0; i < op->nseg; i++)
		r.pre[i + 1] = r.pre[i] + op->segs[i].count;
	if (op->kind == DC_BCAST)
		rc = run_bcast(&r, err, errlen);
	else
		rc = run_allreduce(&r, err, errlen);
	if (r.stream)
		dc_stream_fence();
	free(r.pre);
	return rc;
}

/*
 * Grouped call: a tensor larger than half a slot runs as an operation of its own (no
 * copy beyond the pipeline); runs of smaller tensors are packed into batches of one slot.
 */
static int run_grouped(struct dc_shm *s, const struct dc_op *op, char *err, size_t errlen)
{
	size_t es = detcomm_dtype_size(op->dtype), alone = s->chunk / 2, i = 0, j, bytes;
	struct dc_op batch = *op;
	int rc;

	while (i < op->nseg) {
		j = i + 1;
		bytes = op->segs[i].count * es;
		if (bytes <= alone)
			while (j < op->nseg && op->segs[j].count * es <= alone &&
			       bytes + op->segs[j].count * es <= s->chunk)
				bytes += op->segs[j++].count * es;
		batch.segs = op->segs + i;
		batch.nseg = j - i;
		batch.total = bytes / es;
		rc = run_one(s, &batch, op, err, errlen);
		if (rc != 0)
			return rc;
		i = j;
	}
	return 0;
}

int dc_shm_run(struct dc_shm *s, const struct dc_op *op, char *err, size_t errlen)
{
	if (s->lsize > DC_MAX_LOCAL) {
		snprintf(err, errlen, "detcomm: %d ranks on one node (at most %d)", s->lsize,
		         DC_MAX_LOCAL);
		return -1;
	}
	s->seq++;
	if (op->kind == DC_ALLREDUCE && op->nseg > 1)
		return run_grouped(s, op, err, errlen);
	return run_one(s, op, op, err, errlen);
}
