/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPU engine set-up: node communicators, the shared mapping every local rank uses, memory
 * registered through detcomm_alloc, and the flag barrier with its timeout.
 *
 * Data structure: one POSIX shared-memory object per node holding a struct dc_ctl per local
 * rank (monotonic round counters, the operation header) followed by two buffer sets of
 * (local ranks + 1) pipeline slots.
 *
 * Non-obvious decision: the object is created by local rank 0, its name sent over MPI, and
 * unlinked as soon as every rank has mapped it, so nothing is left in /dev/shm even when a
 * rank is killed. Its pages are reserved at creation (posix_fallocate): a too small
 * /dev/shm (64 MiB in some containers) fails detcomm_init or detcomm_alloc cleanly. Waits spin
 * briefly, then yield, then sleep, and give up after the timeout or as soon as a peer's process no
 * longer exists.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv */
#endif
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "detcomm_shm.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "shared counters need lock-free 64-bit atomics");

uint64_t dc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Collective over comm: map a fresh shared object of bytes; rank 0 of comm creates it. */
static int map_shared(MPI_Comm comm, size_t bytes, char **out, char *err, size_t errlen)
{
	char name[64] = "";
	int me, fd = -1, ok = 1, all_ok = 0, rv = -1, saved = 0;
	void *p = MAP_FAILED;
	static const char *const stage[] = {"", "shm_open", "allocation (is /dev/shm full?)",
	                                    "mmap"};

	MPI_Comm_rank(comm, &me);
	if (me == 0) {
		snprintf(name, sizeof(name), "/detcomm-%ld-%llx", (long)getpid(),
		         (unsigned long long)dc_now_ns());
		fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0)
			ok = 0, saved = errno;
		else if ((saved = posix_fallocate(fd, 0, (off_t)bytes)) != 0)
			ok =
			    0; /* reserve now: a full /dev/shm is an error here, not SIGBUS later */
		if (!ok)
			snprintf(err, errlen, "detcomm: shared memory %s of %zu bytes: %s",
			         fd < 0 ? stage[1] : stage[2], bytes, strerror(saved));
	}
	MPI_Bcast(name, sizeof(name), MPI_CHAR, 0, comm);
	MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
	if (!ok) {
		if (me != 0)
			snprintf(err, errlen,
			         "detcomm: local rank 0 could not create shared memory");
		goto fail;
	}
	if (me != 0) {
		fd = shm_open(name, O_RDWR, 0600);
		if (fd < 0)
			ok = 0, saved = errno;
	}
	if (ok) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			ok = 0, saved = errno;
	}
	if (!ok)
		snprintf(err, errlen, "detcomm: shared memory %s %s (%zu bytes): %s",
		         fd < 0 ? stage[1] : stage[3], name, bytes, strerror(saved));
	MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
	if (me == 0)
		shm_unlink(name);
	if (!all_ok) {
		if (ok)
			snprintf(err, errlen, "detcomm: another local rank could not map %s", name);
		goto fail;
	}
	*out = p;
	p = MAP_FAILED;
	rv = 0;
fail:
	if (p != MAP_FAILED)
		munmap(p, bytes);
	if (fd >= 0)
		close(fd);
	return rv;
}

static int split_comms(struct dc_shm *s, const struct detcomm_config *cfg, char *err, size_t errlen)
{
	int mm[2], got[2];

	if (cfg->ranks_per_node > 0)
		MPI_Comm_split(s->world, s->rank / cfg->ranks_per_node, s->rank, &s->node);
	else
		MPI_Comm_split_type(s->world, MPI_COMM_TYPE_SHARED, s->rank, MPI_INFO_NULL,
		                    &s->node);
	MPI_Comm_rank(s->node, &s->lrank);
	MPI_Comm_size(s->node, &s->lsize);
	mm[0] = s->lsize;
	mm[1] = -s->lsize;
	MPI_Allreduce(mm, got, 2, MPI_INT, MPI_MAX, s->world);
	if (got[0] != -got[1]) {
		snprintf(err, errlen,
		         "detcomm: nodes run different numbers of ranks (%d to %d); every node "
		         "must run the same number",
		         -got[1], got[0]);
		return -1;
	}
	s->nnodes = s->size / s->lsize;
	MPI_Comm_split(s->world, s->lrank, s->rank, &s->cross);
	return 0;
}

/* Cross-memory attach (process_vm_readv) works between every pair of local ranks? */
static void check_cma(struct dc_shm *s)
{
	static const uint64_t magic = 0x646574636f6d6d21ull;
	volatile uint64_t probe = magic;
	uint64_t got;
	struct iovec l = {&got, sizeof(got)}, r;
	int j, ok = s->lsize > 1, all = 0;

	s->ctl[s->lrank].probe = (uint64_t)(uintptr_t)&probe;
	MPI_Barrier(s->node);
	for (j = 0; j < s->lsize && ok; j++) {
		if (j == s->lrank)
			continue;
		got = 0;
		r.iov_base = (void *)(uintptr_t)s->ctl[j].probe;
		r.iov_len = sizeof(got);
		ok = process_vm_readv((pid_t)s->ctl[j].pid, &l, 1, &r, 1, 0) ==
		         (ssize_t)sizeof(got) &&
		     got == magic;
	}
	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, s->node);
	s->cma = all && probe == magic;
}

static void check_peers_visible(struct dc_shm *s)
{
	int j, visible = 1, all = 0;

	for (j = 0; j < s->lsize; j++)
		if (kill((pid_t)s->ctl[j].pid, 0) != 0 && errno != EPERM)
			visible = 0;
	MPI_Allreduce(&visible, &all, 1, MPI_INT, MPI_MIN, s->node);
	s->check_pids = all;
}

int dc_shm_open(MPI_Comm comm, const struct detcomm_config *cfg, struct dc_shm **out, char *err,
                size_t errlen)
{
	struct dc_shm *s = calloc(1, sizeof(*s));
	size_t ctl_bytes;
	int provided = 0;

	if (!s) {
		snprintf(err, errlen, "detcomm: out of memory");
		return -1;
	}
	s->world = s->node = s->cross = MPI_COMM_NULL;
	if (MPI_Comm_dup(comm, &s->world) != MPI_SUCCESS) {
		snprintf(err, errlen, "detcomm: MPI_Comm_dup failed");
		goto fail;
	}
	MPI_Comm_rank(s->world, &s->rank);
	MPI_Comm_size(s->world, &s->size);
	MPI_Query_thread(&provided);
	s->thread_multiple = provided >= MPI_THREAD_MULTIPLE;
	s->timeout_ms = cfg->timeout_ms;
	s->chunk = cfg->chunk_bytes;
	s->small = cfg->small_bytes;
	s->stream = cfg->stream_bytes ? cfg->stream_bytes : SIZE_MAX;
	s->cma_min = cfg->cma_bytes ? cfg->cma_bytes : SIZE_MAX;
	if (split_comms(s, cfg, err, errlen) != 0)
		goto fail;
	ctl_bytes = ((sizeof(struct dc_ctl) * (size_t)s->lsize + 4095) / 4096) * 4096;
	s->map_bytes = ctl_bytes + 2 * (size_t)(s->lsize + 1) * s->chunk;
	if (map_shared(s->node, s->map_bytes, &s->map, err, errlen) != 0)
		goto fail;
	s->ctl = (struct dc_ctl *)s->map;
	s->data = s->map + ctl_bytes;
	/* every rank touches its own slots now, so no page fault lands inside a timed wait */
	memset(s->ctl + s->lrank, 0, sizeof(struct dc_ctl));
	memset(dc_slot(s, 0, s->lrank), 0, s->chunk);
	memset(dc_slot(s, 1, s->lrank), 0, s->chunk);
	if (s->lrank == 0) {
		memset(dc_slot(s, 0, s->lsize), 0, s->chunk);
		memset(dc_slot(s, 1, s->lsize), 0, s->chunk);
	}
	s->ctl[s->lrank].pid = (int32_t)getpid();
	s->scratch = malloc(2 * s->chunk);
	if (!s->scratch) {
		snprintf(err, errlen, "detcomm: out of memory");
		goto fail;
	}
	MPI_Barrier(s->node);
	check_peers_visible(s);
	if (s->cma_min != SIZE_MAX)
		check_cma(s);
	*out = s;
	return 0;
fail:
	dc_shm_close(s);
	return -1;
}

void dc_shm_close(struct dc_shm *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nregs; i++)
		munmap(s->regs[i].base, s->regs[i].bytes);
	free(s->regs);
	if (s->map)
		munmap(s->map, s->map_bytes);
	free(s->scratch);
	if (s->cross != MPI_COMM_NULL)
		MPI_Comm_free(&s->cross);
	if (s->node != MPI_COMM_NULL)
		MPI_Comm_free(&s->node);
	if (s->world != MPI_COMM_NULL)
		MPI_Comm_free(&s->world);
	free(s);
}

int dc_shm_local_rank(const struct dc_shm *s)
{
	return s->lrank;
}

int dc_shm_thread_safe(const struct dc_shm *s)
{
	return s->nnodes == 1 || s->thread_multiple;
}

static int peer_failed(struct dc_shm *s, int j, const char *what, int dead, char *err,
                       size_t errlen)
{
	int wrank = -1;
	MPI_Group g_node, g_world;

	MPI_Comm_group(s->node, &g_node);
	MPI_Comm_group(s->world, &g_world);
	MPI_Group_translate_ranks(g_node, 1, &j, g_world, &wrank);
	MPI_Group_free(&g_node);
	MPI_Group_free(&g_world);
	if (dead)
		snprintf(err, errlen,
		         "detcomm: rank %d (pid %d) exited while rank %d waited for %s", wrank,
		         (int)s->ctl[j].pid, s->rank, what);
	else
		snprintf(err, errlen,
		         "detcomm: rank %d did not reach %s within %ld ms (DETCOMM_TIMEOUT_MS); "
		         "a rank stopped calling collectives or died",
		         wrank, what, s->timeout_ms);
	return -1;
}

static int wait_peer(struct dc_shm *s, int j, int which, uint64_t target, const char *what,
                     char *err, size_t errlen)
{
	_Atomic uint64_t *ctr = which ? &s->ctl[j].reduced : &s->ctl[j].staged;
	uint64_t start = 0, now, last_pid = 0, limit = (uint64_t)s->timeout_ms * 1000000u;
	unsigned spins = 0;
	struct timespec nap = {0, 20000};

	while (atomic_load_explicit(ctr, memory_order_acquire) < target) {
		if (++spins < 512) {
			cpu_relax();
			continue;
		}
		now = dc_now_ns();
		if (!start)
			start = last_pid = now;
		if (now - start > limit)
			return peer_failed(s, j, what, 0, err, errlen);
		if (s->check_pids && now - last_pid > 10000000u) {
			last_pid = now;
			if (kill((pid_t)s->ctl[j].pid, 0) != 0 && errno == ESRCH)
				return peer_failed(s, j, what, 1, err, errlen);
		}
		if (now - start < 2000000u)
			sched_yield();
		else
			nanosleep(&nap, NULL);
	}
	return 0;
}

int dc_shm_barrier(struct dc_shm *s, int which, const char *what, char *err, size_t errlen)
{
	uint64_t target = which ? ++s->reduced : ++s->staged;
	int j;

	atomic_store_explicit(which ? &s->ctl[s->lrank].reduced : &s->ctl[s->lrank].staged, target,
	                      memory_order_release);
	for (j = 0; j < s->lsize; j++)
		if (j != s->lrank && wait_peer(s, j, which, target, what, err, errlen) != 0)
			return -1;
	return 0;
}

int dc_shm_alloc(struct dc_shm *s, size_t bytes, void **ptr, char *err, size_t errlen)
{
	unsigned long long mine = (unsigned long long)bytes, *all = NULL;
	struct dc_region r = {0}, *grown;
	size_t total = 0;
	int j, rv = -1;

	*ptr = NULL;
	all = calloc((size_t)s->lsize, sizeof(*all));
	if (!all) {
		snprintf(err, errlen, "detcomm: out of memory");
		goto fail;
	}
	MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all, 1, MPI_UNSIGNED_LONG_LONG, s->node);
	for (j = 0; j < s->lsize; j++) {
		if (all[j] > ((size_t)1 << 40)) {
			snprintf(err, errlen, "detcomm_alloc: %llu bytes requested (limit 1 TiB)",
			         all[j]);
			goto fail;
		}
		if (j == s->lrank)
			r.my_off = total;
		total += ((size_t)all[j] + 4095) / 4096 * 4096;
	}
	r.bytes = total ? total : 4096;
	r.my_bytes = bytes;
	r.id = s->next_reg++;
	grown = realloc(s->regs, (s->nregs + 1) * sizeof(*grown));
	if (!grown) {
		snprintf(err, errlen, "detcomm: out of memory");
		goto fail;
	}
	s->regs = grown;
	if (map_shared(s->node, r.bytes, &r.base, err, errlen) != 0)
		goto fail;
	s->regs[s->nregs++] = r;
	*ptr = r.base + r.my_off;
	rv = 0;
fail:
	free(all);
	return rv;
}

void dc_shm_free(struct dc_shm *s, void *ptr)
{
	size_t i;

	for (i = 0; i < s->nregs; i++) {
		if (s->regs[i].base + s->regs[i].my_off == (char *)ptr) {
			munmap(s->regs[i].base, s->regs[i].bytes);
			s->regs[i] = s->regs[--s->nregs];
			return;
		}
	}
}

const struct dc_region *dc_shm_region_of(const struct dc_shm *s, const void *p)
{
	const char *c = p;
	size_t i;

	for (i = 0; i < s->nregs; i++)
		if (c >= s->regs[i].base + s->regs[i].my_off &&
		    c < s->regs[i].base + s->regs[i].my_off + s->regs[i].my_bytes)
			return &s->regs[i];
	return NULL;
}

const struct dc_region *dc_shm_region(const struct dc_shm *s, int64_t id)
{
	size_t i;

	for (i = 0; i < s->nregs; i++)
		if (s->regs[i].id == id)
			return &s->regs[i];
	return NULL;
}
