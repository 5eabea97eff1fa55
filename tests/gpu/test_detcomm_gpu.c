/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcomm's NCCL backend on GPU memory (built only with CUDA; prints TAP from rank 0).
 *   test_detcomm_gpu            every collective on device buffers (one GPU per rank)
 *   test_detcomm_gpu --no-gpu   run where no GPU is visible: DETCOMM_BACKEND=nccl must
 *                               fail with a clear message, auto must fall back to cpu
 *
 * Data structure: a device buffer per case and a host mirror to fill and check it.
 *
 * Non-obvious decision: expected values are small integers (exact in f16 and bf16), so
 * results are compared exactly, as in the CPU tests.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <cuda_runtime_api.h>
#pragma GCC diagnostic pop

#include "det/comm.h"
#include "detcomm_internal.h"

static int g_rank, g_size, g_n;

static void report(const char *name, int ok, const char *why)
{
	int all = 0;

	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (!ok)
		fprintf(stderr, "rank %d: %s: %s\n", g_rank, name, why ? why : "");
	if (g_rank == 0)
		printf("%s %d - %s\n", all ? "ok" : "not ok", ++g_n, name);
	fflush(stdout);
}

static float want(size_t i, enum detcomm_op op)
{
	float s = (float)(g_size * (g_size + 1) / 2 * (int)(i % 7 + 1));
	return op == DETCOMM_AVG ? s / (float)g_size : s;
}

/* Host pattern uploaded to a fresh device buffer; NULL on failure. */
static void *upload(enum detcomm_dtype dt, size_t n)
{
	size_t es = detcomm_dtype_size(dt), i;
	char *h = malloc(n * es + 1);
	void *d = NULL;

	if (!h)
		return NULL;
	for (i = 0; i < n; i++)
		dc_elem_put(dt, h, i, (float)((g_rank + 1) * (int)(i % 7 + 1)));
	if (cudaMalloc(&d, n * es + 1) != cudaSuccess ||
	    cudaMemcpy(d, h, n * es, cudaMemcpyHostToDevice) != cudaSuccess) {
		cudaFree(d);
		d = NULL;
	}
	free(h);
	return d;
}

static size_t wrong(enum detcomm_dtype dt, const void *d, size_t n, enum detcomm_op op)
{
	size_t es = detcomm_dtype_size(dt), i, bad = 0;
	char *h = malloc(n * es + 1);
	float w;

	if (!h || cudaMemcpy(h, d, n * es, cudaMemcpyDeviceToHost) != cudaSuccess) {
		free(h);
		return n + 1;
	}
	for (i = 0; i < n; i++) {
		w = dc_elem_round(dt, want(i, op));
		bad += dc_elem_get(dt, h, i) != w;
	}
	free(h);
	return bad;
}

static void case_allreduce(struct detcomm *c, size_t n, enum detcomm_dtype dt, enum detcomm_op op,
                           int inplace)
{
	static const char *names[] = {"f32", "f16", "bf16"};
	char name[128], err[512] = "";
	void *s = upload(dt, n), *r = NULL;
	int ok = 0;

	snprintf(name, sizeof(name), "device allreduce %s %s %zu elements %s", names[dt],
	         op == DETCOMM_SUM ? "sum" : "avg", n, inplace ? "in place" : "out of place");
	if (!s || (!inplace && cudaMalloc(&r, n * detcomm_dtype_size(dt) + 1) != cudaSuccess))
		goto out;
	if (detcomm_allreduce(c, s, inplace ? s : r, n, dt, op, err, sizeof(err)) != 0)
		goto out;
	ok = wrong(dt, inplace ? s : r, n, op) == 0;
out:
	report(name, ok, err);
	cudaFree(s);
	cudaFree(r);
}

static void case_grouped_async(struct detcomm *c)
{
	static const size_t counts[] = {1, 1000, 0, 262147, 17, 4096};
	enum { N = sizeof(counts) / sizeof(counts[0]) };
	void *bufs[N] = {0};
	struct detcomm_request *req = NULL, *req2 = NULL;
	void *one = upload(DETCOMM_F32, 5000);
	char err[512] = "";
	int i, ok = 0;

	for (i = 0; i < N; i++)
		if (!(bufs[i] = upload(DETCOMM_BF16, counts[i])))
			goto out;
	if (!one ||
	    detcomm_allreduce_grouped_start(c, bufs, counts, N, DETCOMM_BF16, DETCOMM_AVG, &req,
	                                    err, sizeof(err)) != 0 ||
	    detcomm_allreduce_start(c, one, one, 5000, DETCOMM_F32, DETCOMM_SUM, &req2, err,
	                            sizeof(err)) != 0)
		goto out;
	if (detcomm_wait(req2, err, sizeof(err)) != 0 || detcomm_wait(req, err, sizeof(err)) != 0)
		goto out;
	req = req2 = NULL;
	ok = wrong(DETCOMM_F32, one, 5000, DETCOMM_SUM) == 0;
	for (i = 0; i < N; i++)
		ok = ok && wrong(DETCOMM_BF16, bufs[i], counts[i], DETCOMM_AVG) == 0;
out:
	if (req)
		detcomm_wait(req, err, sizeof(err));
	if (req2)
		detcomm_wait(req2, err, sizeof(err));
	report("device grouped allreduce (bf16 avg) and async start/wait", ok, err);
	for (i = 0; i < N; i++)
		cudaFree(bufs[i]);
	cudaFree(one);
}

static void case_broadcast_and_host(struct detcomm *c)
{
	char err[512] = "";
	float host[100];
	void *d = upload(DETCOMM_F32, 4096);
	int i, ok = 0;

	if (!d || detcomm_broadcast(c, d, 4096, DETCOMM_F32, 0, err, sizeof(err)) != 0)
		goto out;
	/* rank 0's pattern everywhere: that is the sum pattern of a 1-rank world */
	ok = g_size > 1 || wrong(DETCOMM_F32, d, 4096, DETCOMM_SUM) == 0;
	for (i = 0; i < 100; i++)
		host[i] = (float)((g_rank + 1) * (i % 7 + 1));
	/* host memory with the NCCL backend goes through the CPU engine */
	if (detcomm_allreduce(c, host, host, 100, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) != 0)
		ok = 0;
	for (i = 0; i < 100; i++)
		ok = ok && host[i] == want((size_t)i, DETCOMM_SUM);
out:
	report("device broadcast; host buffers still work with the NCCL backend", ok, err);
	cudaFree(d);
}

/* Work queued on the default stream (a large memset) must land before NCCL reads. */
static void case_default_stream_order(struct detcomm *c)
{
	size_t n = (size_t)64 << 20, i, nonzero = 0;
	void *s = upload(DETCOMM_F32, n), *r = NULL;
	float *h = malloc(4096 * sizeof(float));
	char err[512] = "";
	int ok = 0;

	if (!s || !h || cudaMalloc(&r, n * 4) != cudaSuccess)
		goto out;
	if (cudaMemsetAsync(s, 0, n * 4, 0) != cudaSuccess ||
	    detcomm_allreduce(c, s, r, n, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) != 0)
		goto out;
	if (cudaMemcpy(h, (char *)r + (n - 4096) * 4, 4096 * 4, cudaMemcpyDeviceToHost) !=
	    cudaSuccess)
		goto out;
	for (i = 0; i < 4096; i++)
		nonzero += h[i] != 0.0f;
	ok = nonzero == 0;
	if (!ok)
		snprintf(err, sizeof(err), "%zu elements read before the memset finished", nonzero);
out:
	report("device allreduce waits for work queued on the default stream", ok, err);
	cudaFree(s);
	cudaFree(r);
	free(h);
}

static int no_gpu(void)
{
	struct detcomm_config cfg;
	struct detcomm *c = NULL;
	char err[512] = "";
	int ok;

	detcomm_config_init(&cfg, err, sizeof(err));
	cfg.backend = DETCOMM_BACKEND_NCCL;
	ok = detcomm_init(MPI_COMM_WORLD, &cfg, &c, err, sizeof(err)) != 0 &&
	     strstr(err, "no CUDA device") != NULL;
	report("DETCOMM_BACKEND=nccl without a GPU fails with a clear error", ok, err);
	detcomm_finalize(c);
	c = NULL;
	cfg.backend = DETCOMM_BACKEND_AUTO;
	ok = detcomm_init(MPI_COMM_WORLD, &cfg, &c, err, sizeof(err)) == 0 &&
	     strcmp(detcomm_backend_name(c), "cpu") == 0;
	report("DETCOMM_BACKEND=auto without a GPU falls back to cpu", ok, err);
	detcomm_finalize(c);
	return 0;
}

int main(int argc, char **argv)
{
	static const enum detcomm_dtype dts[] = {DETCOMM_F32, DETCOMM_F16, DETCOMM_BF16};
	struct detcomm_config cfg;
	struct detcomm *c = NULL;
	char err[512] = "";
	int provided, d;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &g_size);
	if (argc > 1 && !strcmp(argv[1], "--no-gpu")) {
		no_gpu();
		goto done;
	}
	detcomm_config_init(&cfg, err, sizeof(err));
	cfg.backend = DETCOMM_BACKEND_NCCL;
	if (detcomm_init(MPI_COMM_WORLD, &cfg, &c, err, sizeof(err)) != 0) {
		report("detcomm_init with the NCCL backend", 0, err);
		goto done;
	}
	report("detcomm_init with the NCCL backend", 1, NULL);
	for (d = 0; d < 3; d++) {
		case_allreduce(c, 1, dts[d], DETCOMM_SUM, 0);
		case_allreduce(c, 1000003, dts[d], DETCOMM_SUM, 0);
		case_allreduce(c, 1000003, dts[d], DETCOMM_AVG, 1);
	}
	case_allreduce(c, 0, DETCOMM_F32, DETCOMM_SUM, 1);
	case_grouped_async(c);
	case_broadcast_and_host(c);
	case_default_stream_order(c);
	detcomm_finalize(c);
done:
	if (g_rank == 0)
		printf("1..%d\n", g_n);
	MPI_Finalize();
	return 0;
}
