/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcomm correctness over MPI ranks: run under mpirun with 1 to 4 ranks; rank 0
 * prints one TAP line ("ok - name" / "not ok - name") per case, run.sh numbers them.
 *
 * Data structure: none beyond the buffers of each case; a case passes only if it passed
 * on every rank (MPI_Allreduce of the local verdicts).
 *
 * Non-obvious decision: inputs are small integers scaled per rank, so sums and averages
 * are exact in f32, f16 and bf16 and results are compared bit for bit, not with a
 * tolerance that could hide a wrong element.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "det/comm.h"
#include "detcomm_internal.h"

static int g_rank, g_size;

static void report(const char *name, int ok, const char *why)
{
	int all = 0;

	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (!ok)
		fprintf(stderr, "rank %d: %s: %s\n", g_rank, name, why ? why : "");
	if (g_rank == 0)
		printf("%s - %s\n", all ? "ok" : "not ok", name);
	fflush(stdout);
}

/* Value of element i on rank r: an integer in [1, 7] times (r + 1). */
static float input_of(int r, size_t i)
{
	return (float)((r + 1) * (int)(i % 7 + 1));
}

static float expected(size_t i, enum detcomm_op op)
{
	float s = (float)(g_size * (g_size + 1) / 2 * (int)(i % 7 + 1));
	return op == DETCOMM_AVG ? s / (float)g_size : s;
}

static void fill(enum detcomm_dtype dt, char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dc_elem_put(dt, p, i, input_of(g_rank, i));
}

/* Number of wrong elements of p against the expected result. */
static size_t wrong(enum detcomm_dtype dt, const char *p, size_t n, enum detcomm_op op)
{
	size_t i, bad = 0;
	float want;

	for (i = 0; i < n; i++) {
		want = dc_elem_round(dt, expected(i, op));
		if (dc_elem_get(dt, p, i) != want)
			bad++;
	}
	return bad;
}

static const char *dt_name(enum detcomm_dtype dt)
{
	return dt == DETCOMM_F32 ? "f32" : dt == DETCOMM_F16 ? "f16" : "bf16";
}

/* One allreduce of n elements at byte offset misalign, in place or not; checks everything. */
static void case_allreduce(struct detcomm *c, size_t n, enum detcomm_dtype dt, enum detcomm_op op,
                           int inplace, size_t misalign)
{
	size_t es = detcomm_dtype_size(dt), bytes = n * es + misalign + 8;
	char *sbuf = malloc(bytes), *rbuf = malloc(bytes), *s, *r;
	char name[160], err[512] = "";
	int ok = 0;

	snprintf(name, sizeof(name), "allreduce %s %s %zu elements %s%s", dt_name(dt),
	         op == DETCOMM_SUM ? "sum" : "avg", n, inplace ? "in place" : "out of place",
	         misalign ? " unaligned" : "");
	if (!sbuf || !rbuf)
		goto out;
	s = sbuf + misalign;
	r = inplace ? s : rbuf + misalign;
	fill(dt, s, n);
	if (!inplace)
		memset(rbuf, 0x5a, bytes);
	if (detcomm_allreduce(c, s, r, n, dt, op, err, sizeof(err)) != 0)
		goto out;
	if (wrong(dt, r, n, op) != 0) {
		snprintf(err, sizeof(err), "%zu wrong elements", wrong(dt, r, n, op));
		goto out;
	}
	/* out of place: the input is untouched and nothing after the output was written */
	if (!inplace && (wrong(dt, s, 0, op) != 0 || (unsigned char)r[n * es] != 0x5a)) {
		snprintf(err, sizeof(err), "wrote past the output");
		goto out;
	}
	if (!inplace && n && dc_elem_get(dt, s, n - 1) != input_of(g_rank, n - 1)) {
		snprintf(err, sizeof(err), "input modified");
		goto out;
	}
	ok = 1;
out:
	report(name, ok, err);
	free(sbuf);
	free(rbuf);
}

static void cases_sizes(struct detcomm *c)
{
	static const size_t sizes[] = {0, 1, 3, 17, 1000, 4097, 8191, 32773, 300001, 1048579};
	static const enum detcomm_dtype dts[] = {DETCOMM_F32, DETCOMM_F16, DETCOMM_BF16};
	size_t i, d;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (d = 0; d < 3; d++) {
			case_allreduce(c, sizes[i], dts[d], DETCOMM_SUM, 0, 0);
			case_allreduce(c, sizes[i], dts[d], DETCOMM_AVG, 1, 0);
		}
	case_allreduce(c, 300001, DETCOMM_F32, DETCOMM_SUM, 1, 0);
	case_allreduce(c, 4097, DETCOMM_F32, DETCOMM_AVG, 0, 1);
	case_allreduce(c, 300001, DETCOMM_F32, DETCOMM_SUM, 0, 3);
	case_allreduce(c, 300001, DETCOMM_F16, DETCOMM_AVG, 1, 1);
	case_allreduce(c, 33, DETCOMM_BF16, DETCOMM_SUM, 0, 1);
	/* above 16 MiB per rank: streaming stores, aligned and 4 bytes off */
	case_allreduce(c, 4194311, DETCOMM_F32, DETCOMM_SUM, 0, 0);
	case_allreduce(c, 4194311, DETCOMM_F32, DETCOMM_AVG, 0, 4);
}

static void case_grouped(struct detcomm *c, int async)
{
	static const size_t counts[] = {5, 0, 1, 300000, 64, 17, 2000000, 3, 4096};
	enum { N = sizeof(counts) / sizeof(counts[0]) };
	void *bufs[N] = {0};
	struct detcomm_request *req = NULL;
	char err[512] = "", name[96];
	size_t i;
	int ok = 0;

	snprintf(name, sizeof(name), "grouped allreduce of %d tensors (avg%s)", N,
	         async ? ", async" : "");
	for (i = 0; i < N; i++) {
		bufs[i] = malloc(counts[i] * 4 + 1);
		if (!bufs[i])
			goto out;
		fill(DETCOMM_F32, bufs[i], counts[i]);
	}
	if (async) {
		if (detcomm_allreduce_grouped_start(c, bufs, counts, N, DETCOMM_F32, DETCOMM_AVG,
		                                    &req, err, sizeof(err)) != 0 ||
		    detcomm_wait(req, err, sizeof(err)) != 0)
			goto out;
	} else if (detcomm_allreduce_grouped(c, bufs, counts, N, DETCOMM_F32, DETCOMM_AVG, err,
	                                     sizeof(err)) != 0) {
		goto out;
	}
	for (i = 0; i < N; i++) {
		if (wrong(DETCOMM_F32, bufs[i], counts[i], DETCOMM_AVG)) {
			snprintf(err, sizeof(err), "tensor %zu wrong", i);
			goto out;
		}
	}
	ok = 1;
out:
	report(name, ok, err);
	for (i = 0; i < N; i++)
		free(bufs[i]);
}

/* Several started allreduces overlap with work on this thread, then are waited for. */
static void case_async(struct detcomm *c)
{
	enum { K = 6 };
	static const size_t n[K] = {100, 1 << 20, 7, 300001, 0, 65536};
	struct detcomm_request *req[K] = {0};
	float *buf[K] = {0};
	volatile double work = 0;
	char err[512] = "";
	int k, ok = 0, started = 0;
	long i;

	for (k = 0; k < K; k++) {
		buf[k] = malloc(n[k] * 4 + 4);
		if (!buf[k])
			goto out;
		fill(DETCOMM_F32, (char *)buf[k], n[k]);
	}
	for (k = 0; k < K; k++, started++)
		if (detcomm_allreduce_start(c, buf[k], buf[k], n[k], DETCOMM_F32, DETCOMM_SUM,
		                            &req[k], err, sizeof(err)) != 0)
			goto out;
	for (i = 0; i < 200000; i++)
		work += (double)i * 0.5;
	if (work < 0)
		snprintf(err, sizeof(err), "impossible");
	/* a blocking call queues behind the started ones */
	case_allreduce(c, 1000, DETCOMM_F32, DETCOMM_SUM, 0, 0);
	for (k = K - 1; k >= 0; k--) {
		started--;
		if (detcomm_wait(req[k], err, sizeof(err)) != 0)
			goto out;
	}
	for (k = 0; k < K; k++)
		if (wrong(DETCOMM_F32, (char *)buf[k], n[k], DETCOMM_SUM)) {
			snprintf(err, sizeof(err), "request %d wrong", k);
			goto out;
		}
	ok = 1;
out:
	while (started > 0)
		detcomm_wait(req[--started], err, sizeof(err));
	report("async allreduces overlap computation and complete in order", ok, err);
	for (k = 0; k < K; k++)
		free(buf[k]);
}

/* The last rank joins late: start returns at once and the request is visibly pending. */
static void case_async_returns_early(struct detcomm *c)
{
	float b[4096];
	struct detcomm_request *req = NULL;
	struct timespec t0, t1, nap = {0, 300000000};
	char err[512] = "";
	double ms;
	int ok = 0, pending = 0;

	if (g_size < 2)
		return;
	fill(DETCOMM_F32, (char *)b, 4096);
	if (g_rank == g_size - 1) {
		nanosleep(&nap, NULL);
		ok = detcomm_allreduce(c, b, b, 4096, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) ==
		     0;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (detcomm_allreduce_start(c, b, b, 4096, DETCOMM_F32, DETCOMM_SUM, &req, err,
	                            sizeof(err)) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pending = !detcomm_test(req);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
	if (detcomm_wait(req, err, sizeof(err)) != 0)
		goto out;
	if (ms > 100 || !pending) {
		snprintf(err, sizeof(err), "start took %.1f ms, pending after start: %d", ms,
		         pending);
		goto out;
	}
	ok = wrong(DETCOMM_F32, (char *)b, 4096, DETCOMM_SUM) == 0;
out:
	report("allreduce_start returns while a peer is still away", ok, err);
}

static void case_broadcast(struct detcomm *c, size_t n, int root)
{
	uint16_t *b = malloc(n * 2 + 2);
	char err[512] = "", name[96];
	size_t i;
	int ok = 0;

	snprintf(name, sizeof(name), "broadcast %zu f16 from rank %d", n, root);
	if (!b)
		goto out;
	for (i = 0; i < n; i++)
		b[i] = (uint16_t)(g_rank == root ? i * 31 + 7 : 0);
	if (detcomm_broadcast(c, b, n, DETCOMM_F16, root, err, sizeof(err)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (b[i] != (uint16_t)(i * 31 + 7)) {
			snprintf(err, sizeof(err), "element %zu wrong", i);
			goto out;
		}
	ok = 1;
out:
	report(name, ok, err);
	free(b);
}

/* Zero-copy buffers from detcomm_alloc, on every rank or on rank 0 only. */
static void case_registered(struct detcomm *c, size_t n, int inplace, int all_ranks)
{
	int use = all_ranks || g_rank == 0;
	char err[512] = "", name[128];
	float *s = NULL, *r = NULL, *ms = NULL, *mr = NULL;
	int ok = 0;

	snprintf(name, sizeof(name), "allreduce %zu f32 in detcomm_alloc memory (%s, %s)", n,
	         inplace ? "in place" : "out of place", all_ranks ? "all ranks" : "rank 0 only");
	if (detcomm_alloc(c, n * 4, (void **)&s, err, sizeof(err)) != 0 ||
	    detcomm_alloc(c, n * 4, (void **)&r, err, sizeof(err)) != 0)
		goto out;
	ms = malloc(n * 4 + 4);
	mr = malloc(n * 4 + 4);
	if (!ms || !mr)
		goto out;
	if (!use) {
		detcomm_free(c, s);
		detcomm_free(c, r);
		s = ms;
		r = mr;
	}
	fill(DETCOMM_F32, (char *)s, n);
	if (detcomm_allreduce(c, s, inplace ? s : r, n, DETCOMM_F32, DETCOMM_AVG, err,
	                      sizeof(err)) != 0)
		goto out;
	if (wrong(DETCOMM_F32, (char *)(inplace ? s : r), n, DETCOMM_AVG)) {
		snprintf(err, sizeof(err), "wrong result");
		goto out;
	}
	ok = 1;
out:
	report(name, ok, err);
	if (use) {
		detcomm_free(c, s);
		detcomm_free(c, r);
	}
	free(ms);
	free(mr);
}

static void case_mismatch(struct detcomm *c)
{
	float buf[64] = {0};
	char err[512] = "";
	int rc, ok;

	if (g_size < 2)
		return;
	rc = detcomm_allreduce(c, buf, buf, g_rank == 0 ? 10 : 12, DETCOMM_F32, DETCOMM_SUM, err,
	                       sizeof(err));
	ok = rc != 0 && strstr(err, "differs between ranks") != NULL;
	report("mismatched counts fail on every rank", ok, err);
	rc = detcomm_allreduce(c, buf, buf, 8, g_rank == 0 ? DETCOMM_F16 : DETCOMM_BF16,
	                       DETCOMM_SUM, err, sizeof(err));
	report("mismatched dtypes fail on every rank", rc != 0, err);
	{
		size_t counts[3] = {10, 20, (size_t)(g_rank == 0 ? 30 : 31)};
		void *bufs[3] = {buf, buf + 10, buf + 30};
		rc = detcomm_allreduce_grouped(c, bufs, counts, 3, DETCOMM_F32, DETCOMM_SUM, err,
		                               sizeof(err));
		report("grouped calls with different tensor lists fail on every rank",
		       rc != 0 && strstr(err, "differs between ranks") != NULL, err);
	}
	err[0] = 0;
	case_allreduce(c, 5000, DETCOMM_F32, DETCOMM_SUM, 0, 0);
}

static void case_bad_args(struct detcomm *c)
{
	float b[8];
	char err[512] = "";
	int ok = 1;

	ok &= detcomm_allreduce(c, NULL, b, 4, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) != 0;
	ok &= detcomm_allreduce(c, b, b, 4, (enum detcomm_dtype)7, DETCOMM_SUM, err, sizeof(err)) !=
	      0;
	ok &= detcomm_allreduce(c, b, b + 1, 4, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) != 0;
	ok &= strstr(err, "overlap") != NULL;
	ok &= detcomm_broadcast(c, b, 4, DETCOMM_F32, g_size, err, sizeof(err)) != 0;
	report("bad arguments are refused before any communication", ok, err);
}

/* The last rank never joins: the others fail within the timeout, then fail fast. */
static void case_timeout(void)
{
	struct detcomm_config cfg;
	struct detcomm *c = NULL;
	char err[512] = "";
	float b[16] = {0};
	struct timespec t0, t1;
	double secs = 0;
	int ok = 0;

	/* between nodes MPI carries the data and MPI has no timeout: single node only */
	if (g_size < 2 || getenv("DETCOMM_RANKS_PER_NODE"))
		return;
	if (detcomm_config_init(&cfg, err, sizeof(err)) != 0)
		goto out;
	cfg.timeout_ms = 500;
	cfg.backend = DETCOMM_BACKEND_CPU;
	if (detcomm_init(MPI_COMM_WORLD, &cfg, &c, err, sizeof(err)) != 0)
		goto out;
	if (g_rank == g_size - 1) {
		ok = 1;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (detcomm_allreduce(c, b, b, 16, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) == 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	if (secs > 5.0 || !strstr(err, "did not reach")) {
		snprintf(err + strlen(err), sizeof(err) - strlen(err), " (after %.1f s)", secs);
		goto out;
	}
	ok = detcomm_allreduce(c, b, b, 16, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) != 0 &&
	     strstr(err, "unusable") != NULL;
out:
	report("a rank that never arrives gives an error within the timeout", ok, err);
	detcomm_finalize(c);
}

int main(int argc, char **argv)
{
	struct detcomm *c = NULL;
	char err[512] = "";
	int provided = 0;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &g_size);
	if (detcomm_init(MPI_COMM_WORLD, NULL, &c, err, sizeof(err)) != 0) {
		report("detcomm_init", 0, err);
		MPI_Finalize();
		return 1;
	}
	snprintf(err, sizeof(err), "detcomm_init on %d ranks (backend %s)", g_size,
	         detcomm_backend_name(c));
	report(err, 1, NULL);
	cases_sizes(c);
	case_grouped(c, 0);
	case_grouped(c, 1);
	case_async(c);
	case_async_returns_early(c);
	case_broadcast(c, 1, 0);
	case_broadcast(c, 3000001, g_size - 1);
	case_registered(c, 1000003, 0, 1);
	case_registered(c, 1000003, 1, 1);
	case_registered(c, 333333, 0, 0);
	case_registered(c, 4194311, 0, 1);
	case_mismatch(c);
	case_bad_args(c);
	detcomm_finalize(c);
	case_timeout();
	MPI_Finalize();
	return 0;
}
