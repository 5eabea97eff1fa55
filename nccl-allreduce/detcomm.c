/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcomm front end: configuration, argument checks, backend choice per call and the
 * asynchronous request queue.
 *
 * Data structure: struct detcomm owns the CPU engine (always: host buffers use it), the
 * NCCL backend when chosen, and a FIFO of started CPU requests served by one progress
 * thread, created on the first asynchronous call.
 *
 * Non-obvious decisions: a blocking call runs on the caller's thread when nothing is
 * queued (no thread hand-off on the latency path), otherwise it queues behind the started
 * requests, so every rank executes collectives in the order it issued them. A timeout or a
 * dead peer leaves the shared state undefined: the communicator is then marked broken and
 * every later call fails at once with the first error. When MPI calls are needed from the
 * progress thread but MPI lacks MPI_THREAD_MULTIPLE, queued requests run inside
 * detcomm_wait instead (correct, without overlap).
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detcomm_internal.h"

#define DC_ERRLEN 512
#define DC_MAX_TENSORS ((size_t)1 << 20)

struct detcomm_request {
	struct detcomm *c;
	struct dc_op op;
	struct dc_seg one;
	struct dc_nccl_event *ev; /* NCCL request: completion event */
	int done, rc;
	char err[DC_ERRLEN];
	struct detcomm_request *next;
};

struct detcomm {
	int rank, size;
	struct detcomm_config cfg;
	struct dc_shm *shm;
	struct dc_nccl *nccl;
	atomic_int broken;
	char broken_msg[DC_ERRLEN];
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	pthread_t thread;
	int thread_started, stopping, threaded;
	struct detcomm_request *head, *tail;
	size_t pending; /* queued or running CPU requests */
};

size_t detcomm_dtype_size(enum detcomm_dtype dtype)
{
	switch (dtype) {
	case DETCOMM_F32:
		return 4;
	case DETCOMM_F16:
	case DETCOMM_BF16:
		return 2;
	}
	return 0;
}

static int env_long(const char *name, long lo, long hi, long *out, char *err, size_t errlen)
{
	const char *v = getenv(name);
	char *end;
	long x;

	if (!v || !*v)
		return 0;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end || x < lo || x > hi) {
		snprintf(err, errlen, "detcomm: %s=\"%.40s\": expected an integer in [%ld, %ld]",
		         name, v, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

int detcomm_config_init(struct detcomm_config *cfg, char *err, size_t errlen)
{
	const char *b = getenv("DETCOMM_BACKEND");
	long v;

	cfg->backend = DETCOMM_BACKEND_AUTO;
	cfg->timeout_ms = 600000;
	cfg->chunk_bytes = 1 << 20;
	cfg->small_bytes = 32 << 10;
	cfg->stream_bytes = (size_t)16 << 20;
	cfg->cma_bytes = 0; /* off: the kernel copy measured 3 GB/s against memcpy's 8-22 */
	cfg->ranks_per_node = 0;
	if (b && *b) {
		if (!strcmp(b, "auto"))
			cfg->backend = DETCOMM_BACKEND_AUTO;
		else if (!strcmp(b, "cpu"))
			cfg->backend = DETCOMM_BACKEND_CPU;
		else if (!strcmp(b, "nccl"))
			cfg->backend = DETCOMM_BACKEND_NCCL;
		else {
			snprintf(err, errlen,
			         "detcomm: DETCOMM_BACKEND=\"%.40s\": expected cpu, nccl or auto",
			         b);
			return -1;
		}
	}
	v = cfg->timeout_ms;
	if (env_long("DETCOMM_TIMEOUT_MS", 1, 86400000L, &v, err, errlen) != 0)
		return -1;
	cfg->timeout_ms = v;
	v = (long)cfg->chunk_bytes;
	if (env_long("DETCOMM_CHUNK_BYTES", 4096, 1L << 30, &v, err, errlen) != 0)
		return -1;
	cfg->chunk_bytes = (size_t)v;
	v = (long)cfg->small_bytes;
	if (env_long("DETCOMM_SMALL_BYTES", 0, 1L << 30, &v, err, errlen) != 0)
		return -1;
	cfg->small_bytes = (size_t)v;
	v = (long)cfg->stream_bytes;
	if (env_long("DETCOMM_STREAM_BYTES", 0, 1L << 40, &v, err, errlen) != 0)
		return -1;
	cfg->stream_bytes = (size_t)v;
	v = (long)cfg->cma_bytes;
	if (env_long("DETCOMM_CMA_BYTES", 0, 1L << 40, &v, err, errlen) != 0)
		return -1;
	cfg->cma_bytes = (size_t)v;
	v = cfg->ranks_per_node;
	if (env_long("DETCOMM_RANKS_PER_NODE", 0, 1 << 20, &v, err, errlen) != 0)
		return -1;
	cfg->ranks_per_node = (int)v;
	return 0;
}

static int check_config(struct detcomm_config *cfg, int size, char *err, size_t errlen)
{
	if (cfg->timeout_ms < 1) {
		snprintf(err, errlen, "detcomm: timeout_ms %ld must be positive", cfg->timeout_ms);
		return -1;
	}
	if (cfg->chunk_bytes < 4096 || cfg->chunk_bytes > ((size_t)1 << 30)) {
		snprintf(err, errlen, "detcomm: chunk_bytes %zu outside [4096, 1 GiB]",
		         cfg->chunk_bytes);
		return -1;
	}
	cfg->chunk_bytes &= ~(size_t)63;
	if (cfg->small_bytes > cfg->chunk_bytes)
		cfg->small_bytes = cfg->chunk_bytes;
	if (cfg->ranks_per_node < 0 || (cfg->ranks_per_node > 0 && size % cfg->ranks_per_node)) {
		snprintf(err, errlen, "detcomm: ranks_per_node %d does not divide %d ranks",
		         cfg->ranks_per_node, size);
		return -1;
	}
	return 0;
}

/* Collective: open NCCL as configured; in auto mode a failure anywhere means CPU for all. */
static int open_backend(struct detcomm *c, MPI_Comm comm, char *err, size_t errlen)
{
	char why[DC_ERRLEN] = "";

	if (c->cfg.backend == DETCOMM_BACKEND_CPU)
		return 0;
	if (dc_nccl_open(comm, dc_shm_local_rank(c->shm), c->cfg.timeout_ms, &c->nccl, why,
	                 sizeof(why)) == 0)
		return 0;
	if (c->cfg.backend == DETCOMM_BACKEND_AUTO)
		return 0;
	snprintf(err, errlen, "%s", why);
	return -1;
}

int detcomm_init(MPI_Comm comm, const struct detcomm_config *cfg, struct detcomm **out, char *err,
                 size_t errlen)
{
	struct detcomm *c = NULL;
	int initialized = 0;

	*out = NULL;
	MPI_Initialized(&initialized);
	if (!initialized) {
		snprintf(err, errlen, "detcomm_init: MPI is not initialised (call MPI_Init first)");
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "detcomm_init: out of memory");
		return -1;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv_work, NULL);
	pthread_cond_init(&c->cv_done, NULL);
	MPI_Comm_rank(comm, &c->rank);
	MPI_Comm_size(comm, &c->size);
	if (cfg)
		c->cfg = *cfg;
	else if (detcomm_config_init(&c->cfg, err, errlen) != 0)
		goto fail;
	if (check_config(&c->cfg, c->size, err, errlen) != 0)
		goto fail;
	if (dc_shm_open(comm, &c->cfg, &c->shm, err, errlen) != 0)
		goto fail;
	if (open_backend(c, comm, err, errlen) != 0)
		goto fail;
	c->threaded = dc_shm_thread_safe(c->shm);
	*out = c;
	return 0;
fail:
	detcomm_finalize(c);
	return -1;
}

int detcomm_rank(const struct detcomm *c)
{
	return c->rank;
}

int detcomm_size(const struct detcomm *c)
{
	return c->size;
}

const char *detcomm_backend_name(const struct detcomm *c)
{
	return c->nccl ? "nccl" : "cpu";
}

/* Run one CPU operation on this thread; a broken communicator fails at once. */
static int run_cpu(struct detcomm *c, const struct dc_op *op, char *err, size_t errlen)
{
	int rc;

	if (atomic_load(&c->broken)) {
		snprintf(err, errlen, "detcomm: communicator unusable after an earlier failure: %s",
		         c->broken_msg);
		return -1;
	}
	if (c->size == 1) {
		size_t i, es = detcomm_dtype_size(op->dtype);
		for (i = 0; op->kind == DC_ALLREDUCE && i < op->nseg; i++)
			if (op->segs[i].in != op->segs[i].out && op->segs[i].count)
				memcpy(op->segs[i].out, op->segs[i].in, op->segs[i].count * es);
		return 0;
	}
	rc = dc_shm_run(c->shm, op, err, errlen);
	if (rc == -2) {
		snprintf(c->broken_msg, sizeof(c->broken_msg), "%s", err);
		atomic_store(&c->broken, 1);
	}
	return rc == 0 ? 0 : -1;
}

/* Take the first queued request and run it (c->mu held, dropped while it runs); it is
 * done (rc set) on return. */
static void run_head_locked(struct detcomm *c)
{
	struct detcomm_request *h = c->head;

	c->head = h->next;
	if (!c->head)
		c->tail = NULL;
	pthread_mutex_unlock(&c->mu);
	int rc = run_cpu(c, &h->op, h->err, sizeof(h->err));
	pthread_mutex_lock(&c->mu);
	h->rc = rc;
	h->done = 1;
	c->pending--;
}

static void *progress_main(void *arg)
{
	struct detcomm *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->head && !c->stopping)
			pthread_cond_wait(&c->cv_work, &c->mu);
		if (!c->head)
			break;
		run_head_locked(c);
		pthread_cond_broadcast(&c->cv_done);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Without a progress thread: run queued requests here, in order, up to and including q. */
static void drain_locked(struct detcomm *c, struct detcomm_request *q)
{
	while (c->head && (!q || !q->done))
		run_head_locked(c);
}

static int enqueue(struct detcomm *c, struct detcomm_request *q, char *err, size_t errlen)
{
	int rv = 0;

	pthread_mutex_lock(&c->mu);
	if (c->threaded && !c->thread_started) {
		if (pthread_create(&c->thread, NULL, progress_main, c) != 0) {
			snprintf(err, errlen, "detcomm: cannot start the progress thread");
			rv = -1;
			goto out;
		}
		c->thread_started = 1;
	}
	q->next = NULL;
	if (c->tail)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	c->pending++;
	pthread_cond_signal(&c->cv_work);
out:
	pthread_mutex_unlock(&c->mu);
	return rv;
}

static int bad_args(struct detcomm *c, const struct dc_op *op, char *err, size_t errlen)
{
	size_t es = detcomm_dtype_size(op->dtype), i, total = 0;

	if (!c) {
		snprintf(err, errlen, "detcomm: NULL communicator");
		return 1;
	}
	if (!es) {
		snprintf(err, errlen, "detcomm: unknown dtype %d", (int)op->dtype);
		return 1;
	}
	if (op->op != DETCOMM_SUM && op->op != DETCOMM_AVG) {
		snprintf(err, errlen, "detcomm: unknown reduction %d", (int)op->op);
		return 1;
	}
	if (op->kind == DC_BCAST && (op->root < 0 || op->root >= c->size)) {
		snprintf(err, errlen, "detcomm_broadcast: root %d outside [0, %d)", op->root,
		         c->size);
		return 1;
	}
	for (i = 0; i < op->nseg; i++) {
		const struct dc_seg *g = &op->segs[i];
		size_t bytes = g->count * es;
		if (g->count > (SIZE_MAX / 2) / es - total) {
			snprintf(err, errlen, "detcomm: tensor %zu: %zu elements overflow", i,
			         g->count);
			return 1;
		}
		total += g->count;
		if (g->count && (!g->in || !g->out)) {
			snprintf(err, errlen, "detcomm: tensor %zu: NULL buffer for %zu elements",
			         i, g->count);
			return 1;
		}
		if (g->count && g->in != g->out && g->in < g->out + bytes &&
		    g->out < g->in + bytes) {
			snprintf(err, errlen,
			         "detcomm: tensor %zu: send and recv overlap without being equal",
			         i);
			return 1;
		}
	}
	return 0;
}

static int on_device(struct detcomm *c, const struct dc_op *op)
{
	return c->nccl && op->nseg > 0 && dc_nccl_is_device_ptr(c->nccl, op->segs[0].out);
}

/* Start op (segments already owned by q); on error q is freed. */
static int start(struct detcomm *c, struct detcomm_request *q, char *err, size_t errlen)
{
	q->c = c;
	if (on_device(c, &q->op)) {
		if (dc_nccl_enqueue(c->nccl, &q->op, &q->ev, err, errlen) != 0)
			goto fail;
		return 0;
	}
	if (enqueue(c, q, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	if (q->op.segs != &q->one)
		free(q->op.segs);
	free(q);
	return -1;
}

static struct detcomm_request *new_request(size_t nseg, char *err, size_t errlen)
{
	struct detcomm_request *q = calloc(1, sizeof(*q));

	if (!q)
		goto oom;
	q->op.segs = &q->one;
	if (nseg > 1) {
		q->op.segs = calloc(nseg, sizeof(*q->op.segs));
		if (!q->op.segs) {
			free(q);
			goto oom;
		}
	}
	return q;
oom:
	snprintf(err, errlen, "detcomm: out of memory");
	return NULL;
}

int detcomm_wait(struct detcomm_request *q, char *err, size_t errlen)
{
	struct detcomm *c;
	int rc;

	if (!q) {
		snprintf(err, errlen, "detcomm_wait: NULL request");
		return -1;
	}
	c = q->c;
	if (q->ev) {
		rc = dc_nccl_wait(c->nccl, q->ev, q->err, sizeof(q->err));
	} else {
		pthread_mutex_lock(&c->mu);
		if (!c->threaded)
			drain_locked(c, q);
		while (!q->done)
			pthread_cond_wait(&c->cv_done, &c->mu);
		pthread_mutex_unlock(&c->mu);
		rc = q->rc;
	}
	if (rc != 0)
		snprintf(err, errlen, "%s", q->err);
	if (q->op.segs != &q->one)
		free(q->op.segs);
	free(q);
	return rc == 0 ? 0 : -1;
}

int detcomm_test(struct detcomm_request *q)
{
	int done;

	if (!q)
		return 1;
	if (q->ev)
		return dc_nccl_poll(q->c->nccl, q->ev, q->err, sizeof(q->err)) != 0;
	pthread_mutex_lock(&q->c->mu);
	done = q->done;
	pthread_mutex_unlock(&q->c->mu);
	return done;
}

/* Blocking operation: inline when nothing is queued, else behind the queue. */
static int run_now(struct detcomm *c, const struct dc_op *op, char *err, size_t errlen)
{
	struct detcomm_request *q;
	size_t pending;

	if (on_device(c, op)) {
		struct dc_nccl_event *ev = NULL;
		if (dc_nccl_enqueue(c->nccl, op, &ev, err, errlen) != 0)
			return -1;
		return dc_nccl_wait(c->nccl, ev, err, errlen);
	}
	pthread_mutex_lock(&c->mu);
	pending = c->pending;
	pthread_mutex_unlock(&c->mu);
	if (!pending)
		return run_cpu(c, op, err, errlen);
	q = new_request(op->nseg, err, errlen);
	if (!q)
		return -1;
	memcpy(q->op.segs, op->segs, op->nseg * sizeof(*op->segs));
	q->op.kind = op->kind;
	q->op.dtype = op->dtype;
	q->op.op = op->op;
	q->op.root = op->root;
	q->op.nseg = op->nseg;
	q->op.total = op->total;
	if (start(c, q, err, errlen) != 0)
		return -1;
	return detcomm_wait(q, err, errlen);
}

static void fill_op(struct dc_op *op, enum dc_kind kind, enum detcomm_dtype dtype,
                    enum detcomm_op rop, int root, struct dc_seg *segs, size_t nseg)
{
	size_t i;

	op->kind = kind;
	op->dtype = dtype;
	op->op = rop;
	op->root = root;
	op->segs = segs;
	op->nseg = nseg;
	op->total = 0;
	for (i = 0; i < nseg; i++)
		op->total += segs[i].count;
}

int detcomm_allreduce(struct detcomm *c, const void *send, void *recv, size_t count,
                      enum detcomm_dtype dtype, enum detcomm_op op, char *err, size_t errlen)
{
	struct dc_seg seg = {send, recv, count};
	struct dc_op o;

	fill_op(&o, DC_ALLREDUCE, dtype, op, 0, &seg, 1);
	if (bad_args(c, &o, err, errlen))
		return -1;
	return run_now(c, &o, err, errlen);
}

int detcomm_broadcast(struct detcomm *c, void *buf, size_t count, enum detcomm_dtype dtype,
                      int root, char *err, size_t errlen)
{
	struct dc_seg seg = {buf, buf, count};
	struct dc_op o;

	fill_op(&o, DC_BCAST, dtype, DETCOMM_SUM, root, &seg, 1);
	if (bad_args(c, &o, err, errlen))
		return -1;
	return run_now(c, &o, err, errlen);
}

static int grouped_segs(void *const *bufs, const size_t *counts, size_t n, struct dc_seg *segs,
                        char *err, size_t errlen)
{
	size_t i;

	if (n > DC_MAX_TENSORS || (n && (!bufs || !counts))) {
		snprintf(err, errlen, "detcomm: grouped allreduce of %zu tensors (at most %zu)", n,
		         DC_MAX_TENSORS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		segs[i].in = bufs[i];
		segs[i].out = bufs[i];
		segs[i].count = counts[i];
	}
	return 0;
}

int detcomm_allreduce_grouped(struct detcomm *c, void *const *bufs, const size_t *counts, size_t n,
                              enum detcomm_dtype dtype, enum detcomm_op op, char *err,
                              size_t errlen)
{
	struct dc_seg one, *segs = &one;
	struct dc_op o;
	int rv = -1;

	if (n > DC_MAX_TENSORS || (n && (!bufs || !counts))) {
		grouped_segs(bufs, counts, n, NULL, err, errlen);
		return -1;
	}
	if (n > 1 && !(segs = calloc(n, sizeof(*segs)))) {
		snprintf(err, errlen, "detcomm: out of memory");
		return -1;
	}
	if (grouped_segs(bufs, counts, n, segs, err, errlen) != 0)
		goto fail;
	if (n == 0)
		one.count = 0, one.in = one.out = NULL;
	fill_op(&o, DC_ALLREDUCE, dtype, op, 0, segs, n ? n : 1);
	if (bad_args(c, &o, err, errlen))
		goto fail;
	rv = run_now(c, &o, err, errlen);
fail:
	if (segs != &one)
		free(segs);
	return rv;
}

int detcomm_allreduce_start(struct detcomm *c, const void *send, void *recv, size_t count,
                            enum detcomm_dtype dtype, enum detcomm_op op,
                            struct detcomm_request **req, char *err, size_t errlen)
{
	struct detcomm_request *q;

	*req = NULL;
	q = new_request(1, err, errlen);
	if (!q)
		return -1;
	q->one = (struct dc_seg){send, recv, count};
	fill_op(&q->op, DC_ALLREDUCE, dtype, op, 0, &q->one, 1);
	if (bad_args(c, &q->op, err, errlen)) {
		free(q);
		return -1;
	}
	if (start(c, q, err, errlen) != 0)
		return -1;
	*req = q;
	return 0;
}

int detcomm_allreduce_grouped_start(struct detcomm *c, void *const *bufs, const size_t *counts,
                                    size_t n, enum detcomm_dtype dtype, enum detcomm_op op,
                                    struct detcomm_request **req, char *err, size_t errlen)
{
	struct detcomm_request *q;

	*req = NULL;
	if (n > DC_MAX_TENSORS || (n && (!bufs || !counts)))
		return grouped_segs(bufs, counts, n, NULL, err, errlen);
	q = new_request(n, err, errlen);
	if (!q)
		return -1;
	grouped_segs(bufs, counts, n, q->op.segs, err, errlen);
	fill_op(&q->op, DC_ALLREDUCE, dtype, op, 0, q->op.segs, n ? n : 1);
	if (bad_args(c, &q->op, err, errlen)) {
		if (q->op.segs != &q->one)
			free(q->op.segs);
		free(q);
		return -1;
	}
	if (start(c, q, err, errlen) != 0)
		return -1;
	*req = q;
	return 0;
}

int detcomm_alloc(struct detcomm *c, size_t bytes, void **ptr, char *err, size_t errlen)
{
	return dc_shm_alloc(c->shm, bytes, ptr, err, errlen);
}

void detcomm_free(struct detcomm *c, void *ptr)
{
	if (c && ptr)
		dc_shm_free(c->shm, ptr);
}

void detcomm_finalize(struct detcomm *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	if (!c->threaded)
		drain_locked(c, NULL);
	while (c->pending)
		pthread_cond_wait(&c->cv_done, &c->mu);
	c->stopping = 1;
	pthread_cond_broadcast(&c->cv_work);
	pthread_mutex_unlock(&c->mu);
	if (c->thread_started)
		pthread_join(c->thread, NULL);
	dc_nccl_close(c->nccl);
	dc_shm_close(c->shm);
	pthread_cond_destroy(&c->cv_work);
	pthread_cond_destroy(&c->cv_done);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
