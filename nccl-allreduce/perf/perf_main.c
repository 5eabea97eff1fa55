/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-allreduce-perf: nccl-tests-style allreduce benchmark of libdetcomm (MPI program).
 *
 * Data structure: struct perf_ctx (options, communicator, GPU state); one send and one
 * receive buffer of the largest size serve every row.
 *
 * Non-obvious decision: baselines run in the same run, size by size, right after
 * detcomm's measurement, so machine noise hits both alike; the ratio column is baseline
 * time / detcomm time (equal to the busbw ratio, and defined at one rank too). They use
 * the same buffers, except with -R 1: MPI is slower on detcomm_alloc's shared mappings than
 * on malloc memory, so it gets malloc buffers, as do the memcpy runs that give the bound.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: det-allreduce-perf [options]\n"
	    "  -b SIZE   smallest size in bytes (K, M, G suffixes; default 1K)\n"
	    "  -e SIZE   largest size (default 64M)\n"
	    "  -f N      multiply the size by N each row (default 2)\n"
	    "  -i SIZE   add SIZE each row instead\n"
	    "  -n N      timed iterations (default 20)\n"
	    "  -w N      warm-up iterations (default 5)\n"
	    "  -c 0|1    check results (default 1)\n"
	    "  -d TYPE   float | half | bfloat16 (default float)\n"
	    "  -o OP     sum | avg (default sum)\n"
	    "  -R 0|1    1: buffers from detcomm_alloc (zero-copy CPU path; default 1)\n"
	    "  --gpu     buffers on the GPU, NCCL backend\n"
	    "  --baseline mpi|nccl   MPI_Allreduce (or raw ncclAllReduce with --gpu) on the\n"
	    "            same buffers in the same run; prints the ratio per size\n"
	    "  --tensors resnet50|bert-base   realistic gradient sets instead of a size sweep\n");
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10), mul = 1;

	if (end == s)
		return -1;
	if (*end == 'K' || *end == 'k')
		mul = 1ull << 10, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1ull << 20, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1ull << 30, end++;
	if (*end || v > (1ull << 40) / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct perf_opts *o, int *gpu)
{
	static const struct option longs[] = {{"gpu", no_argument, NULL, 'g'},
	                                      {"baseline", required_argument, NULL, 'B'},
	                                      {"tensors", required_argument, NULL, 'T'},
	                                      {"help", no_argument, NULL, 'h'},
	                                      {NULL, 0, NULL, 0}};
	int c, v;

	while ((c = getopt_long(argc, argv, "b:e:f:i:n:w:c:d:o:R:h", longs, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_size(optarg, &o->min_bytes))
				goto bad;
			break;
		case 'e':
			if (parse_size(optarg, &o->max_bytes))
				goto bad;
			break;
		case 'f':
			if (parse_int(optarg, 2, 1024, &v))
				goto bad;
			o->step_factor = (size_t)v;
			o->step_bytes = 0;
			break;
		case 'i':
			if (parse_size(optarg, &o->step_bytes) || !o->step_bytes)
				goto bad;
			break;
		case 'n':
			if (parse_int(optarg, 1, 1000000, &o->iters))
				goto bad;
			break;
		case 'w':
			if (parse_int(optarg, 0, 1000000, &o->warmup))
				goto bad;
			break;
		case 'c':
			if (parse_int(optarg, 0, 1, &o->check))
				goto bad;
			break;
		case 'd':
			if (!strcmp(optarg, "float") || !strcmp(optarg, "f32"))
				o->dtype = DETCOMM_F32;
			else if (!strcmp(optarg, "half") || !strcmp(optarg, "f16"))
				o->dtype = DETCOMM_F16;
			else if (!strcmp(optarg, "bfloat16") || !strcmp(optarg, "bf16"))
				o->dtype = DETCOMM_BF16;
			else
				goto bad;
			break;
		case 'o':
			if (!strcmp(optarg, "sum"))
				o->op = DETCOMM_SUM;
			else if (!strcmp(optarg, "avg"))
				o->op = DETCOMM_AVG;
			else
				goto bad;
			break;
		case 'R':
			if (parse_int(optarg, 0, 1, &v))
				goto bad;
			if (o->where != PERF_DEVICE)
				o->where = v ? PERF_REGISTERED : PERF_HOST;
			break;
		case 'g':
			*gpu = 1;
			o->where = PERF_DEVICE;
			break;
		case 'B':
			if (strcmp(optarg, "mpi") && strcmp(optarg, "nccl"))
				goto bad;
			o->baseline = optarg;
			break;
		case 'T':
			o->tensors = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			goto bad_usage;
		}
	}
	if (optind != argc || o->min_bytes > o->max_bytes)
		goto bad_usage;
	return 0;
bad:
	fprintf(stderr, "det-allreduce-perf: bad value \"%s\" for -%c\n", optarg, c);
bad_usage:
	usage(stderr);
	return -1;
}

struct perf_row {
	double t[2], tb[2], tcopy;
	size_t wrong[2], wrong_b[2];
};

/* Time impl out of place and in place at count elements, and check both. */
static int measure(struct perf_ctx *x, enum perf_impl impl, struct perf_buf *s, struct perf_buf *r,
                   size_t count, double t[2], size_t wrong[2], char *err, size_t errlen)
{
	unsigned long long w[2] = {0, 0}, all[2];
	int k;

	for (k = 0; k < 2; k++) {
		char *in = k == 0 ? s->p : r->p;
		struct perf_buf *in_buf = k == 0 ? s : r;
		perf_fill(x, in_buf, 0, count);
		t[k] = perf_time(x, impl, in, r->p, count, err, errlen);
		if (t[k] < 0)
			return -1;
		if (x->o.check) {
			perf_fill(x, in_buf, 0, count);
			if (perf_run_once(x, impl, in, r->p, count, err, errlen) != 0)
				return -1;
			w[k] = perf_wrong(x, r, 0, count);
		}
	}
	MPI_Allreduce(w, all, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
	wrong[0] = (size_t)all[0];
	wrong[1] = (size_t)all[1];
	return 0;
}

static double busbw(const struct perf_ctx *x, size_t bytes, double t)
{
	double algbw = (double)bytes / t / 1e9;
	return x->size > 1 ? algbw * 2.0 * (x->size - 1) / x->size : 0.0;
}

static const char *dtype_name(enum detcomm_dtype d)
{
	return d == DETCOMM_F32 ? "float" : d == DETCOMM_F16 ? "half" : "bfloat16";
}

static void print_header(const struct perf_ctx *x)
{
	const char *where[] = {"host (malloc)", "detcomm_alloc (zero copy)", "GPU"};

	printf("# det-allreduce-perf: %d ranks, backend %s, buffers %s, %d iterations, "
	       "%d warm-up\n",
	       x->size, detcomm_backend_name(x->comm), where[x->o.where], x->o.iters, x->o.warmup);
	if (x->o.tensors)
		return;
	printf("#%62s%32s", "out-of-place", "in-place");
	if (x->o.baseline)
		printf("   %s baseline (%s buffers)", x->o.baseline,
		       x->o.where == PERF_REGISTERED ? "malloc" : "same");
	printf("\n#%11s %12s %9s %6s %8s %7s %7s %6s %8s %7s %7s %6s", "size", "count", "type",
	       "redop", "time", "algbw", "busbw", "#wrong", "time", "algbw", "busbw", "#wrong");
	if (x->o.baseline)
		printf(" %7s %6s %7s %6s %6s", "busbw", "ratio", "busbw", "ratio", "#wrong");
	if (x->o.where != PERF_DEVICE && x->o.baseline)
		printf(" %7s %6s", "bound", "%bound");
	printf("\n#%11s %12s %9s %6s %8s %7s %7s %6s %8s %7s %7s %6s", "(B)", "(elements)", "", "",
	       "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)", "");
	if (x->o.baseline)
		printf(" %7s %6s %7s %6s %6s", "(GB/s)", "oop", "(GB/s)", "inpl", "");
	if (x->o.where != PERF_DEVICE && x->o.baseline)
		printf(" %7s %6s", "(GB/s)", "");
	printf("\n");
}

static void print_row(const struct perf_ctx *x, size_t bytes, size_t count,
                      const struct perf_row *w)
{
	int k;

	printf("%12zu %12zu %9s %6s", bytes, count, dtype_name(x->o.dtype),
	       x->o.op == DETCOMM_SUM ? "sum" : "avg");
	for (k = 0; k < 2; k++)
		printf(" %8.2f %7.2f %7.2f %6zu", w->t[k] * 1e6, (double)bytes / w->t[k] / 1e9,
		       busbw(x, bytes, w->t[k]), w->wrong[k]);
	if (x->o.baseline)
		printf(" %7.2f %6.2f %7.2f %6.2f %6zu", busbw(x, bytes, w->tb[0]),
		       w->tb[0] / w->t[0], busbw(x, bytes, w->tb[1]), w->tb[1] / w->t[1],
		       w->wrong_b[0] + w->wrong_b[1]);
	/* memory-traffic bound: every rank copying S bytes at once moves what an allreduce must */
	if (x->o.where != PERF_DEVICE && x->o.baseline)
		printf(" %7.2f %6.1f", busbw(x, bytes, w->tcopy), 100.0 * w->tcopy / w->t[0]);
	printf("\n");
	fflush(stdout);
}

static int sweep(struct perf_ctx *x)
{
	size_t es = detcomm_dtype_size(x->o.dtype), bytes, count, nrows = 0, bad = 0;
	struct perf_buf s = {0}, r = {0}, bs = {0}, br = {0}, *ps = &s, *pr = &r;
	double sum_busbw = 0, sum_ratio[2] = {0, 0};
	enum perf_impl base =
	    x->o.baseline && !strcmp(x->o.baseline, "nccl") ? PERF_NCCL : PERF_MPI;
	char err[512] = "";
	int rv = -1;

	if (perf_buf_alloc(x, &s, x->o.max_bytes, err, sizeof(err)) != 0 ||
	    perf_buf_alloc(x, &r, x->o.max_bytes, err, sizeof(err)) != 0)
		goto fail;
	/* MPI is slower on shared mappings than on its usual malloc memory: give it that */
	if (x->o.baseline && x->o.where == PERF_REGISTERED) {
		if (perf_buf_alloc_at(x, &bs, x->o.max_bytes, PERF_HOST, err, sizeof(err)) != 0 ||
		    perf_buf_alloc_at(x, &br, x->o.max_bytes, PERF_HOST, err, sizeof(err)) != 0)
			goto fail;
		ps = &bs;
		pr = &br;
	}
	if (x->rank == 0)
		print_header(x);
	for (bytes = x->o.min_bytes; bytes <= x->o.max_bytes;
	     bytes = x->o.step_bytes ? bytes + x->o.step_bytes : bytes * x->o.step_factor) {
		struct perf_row w = {0};
		count = bytes / es;
		if (measure(x, PERF_DETCOMM, &s, &r, count, w.t, w.wrong, err, sizeof(err)) != 0)
			goto fail;
		if (x->o.baseline &&
		    measure(x, base, ps, pr, count, w.tb, w.wrong_b, err, sizeof(err)) != 0)
			goto fail;
		if (x->o.baseline && x->o.where != PERF_DEVICE &&
		    (w.tcopy = perf_time(x, PERF_COPY, ps->p, pr->p, count, err, sizeof(err))) < 0)
			goto fail;
		bad += w.wrong[0] + w.wrong[1] + w.wrong_b[0] + w.wrong_b[1];
		sum_busbw += busbw(x, count * es, w.t[0]) + busbw(x, count * es, w.t[1]);
		sum_ratio[0] += x->o.baseline ? w.tb[0] / w.t[0] : 0;
		sum_ratio[1] += x->o.baseline ? w.tb[1] / w.t[1] : 0;
		nrows++;
		if (x->rank == 0)
			print_row(x, count * es, count, &w);
		if (bytes == 0)
			break;
	}
	if (x->rank == 0) {
		printf("# Out of bounds values : %zu %s\n", bad, bad ? "FAILED" : "OK");
		printf("# Avg bus bandwidth    : %g\n", nrows ? sum_busbw / (2.0 * nrows) : 0.0);
		if (x->o.baseline)
			printf("# Avg ratio vs %s : %.2f out of place, %.2f in place\n",
			       x->o.baseline, nrows ? sum_ratio[0] / nrows : 0.0,
			       nrows ? sum_ratio[1] / nrows : 0.0);
	}
	rv = bad ? -1 : 0;
fail:
	if (rv != 0 && err[0])
		fprintf(stderr, "det-allreduce-perf: rank %d: %s\n", x->rank, err);
	perf_buf_free(x, &s);
	perf_buf_free(x, &r);
	perf_buf_free(x, &bs);
	perf_buf_free(x, &br);
	return rv;
}

int main(int argc, char **argv)
{
	struct perf_ctx x = {.o = {.min_bytes = 1024,
	                           .max_bytes = 64 << 20,
	                           .step_factor = 2,
	                           .iters = 20,
	                           .warmup = 5,
	                           .check = 1,
	                           .dtype = DETCOMM_F32,
	                           .op = DETCOMM_SUM,
	                           .where = PERF_REGISTERED}};
	struct detcomm_config cfg;
	char err[512] = "";
	int gpu = 0, provided, rc, status = 1;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &x.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &x.size);
	rc = parse_args(argc, argv, &x.o, &gpu);
	if (rc != 0) {
		status = rc > 0 ? 0 : 2;
		goto out;
	}
	if (detcomm_config_init(&cfg, err, sizeof(err)) != 0)
		goto fail;
	if (gpu) {
		cfg.backend = DETCOMM_BACKEND_NCCL;
		if (x.o.baseline && !strcmp(x.o.baseline, "mpi"))
			x.o.baseline = "nccl";
	} else if (x.o.baseline && !strcmp(x.o.baseline, "nccl")) {
		snprintf(err, sizeof(err), "--baseline nccl needs --gpu");
		goto fail;
	}
	if (detcomm_init(MPI_COMM_WORLD, &cfg, &x.comm, err, sizeof(err)) != 0)
		goto fail;
	if (gpu && perf_gpu_open(&x, &x.gpu, err, sizeof(err)) != 0)
		goto fail;
	rc = x.o.tensors ? perf_tensors(&x) : sweep(&x);
	status = rc == 0 ? 0 : 1;
	goto out;
fail:
	fprintf(stderr, "det-allreduce-perf: rank %d: %s\n", x.rank, err);
out:
	perf_gpu_close(x.gpu);
	detcomm_finalize(x.comm);
	MPI_Finalize();
	return status;
}
