/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A cheap HTTP/1.1 load generator for bench-master: raw keep-alive sockets, few threads. */
#ifndef DET_BENCH_RAWLOAD_H
#define DET_BENCH_RAWLOAD_H

#include <stddef.h>

/* One logical client: a claimed trial and its token (or a /health poller). */
struct rawload_client {
	char token[128];
	long long trial;
	long long first_step; /* steps_completed of its first report is first_step + 1 */
	long long rows;       /* > 0: send exactly this many reports, then stop */
};

/* What a run measured. lat_ms is malloc'd (free it), sorted ascending. */
struct rawload_result {
	size_t n;         /* answered requests */
	long long errors; /* non-200 answers, broken connections */
	double seconds;   /* wall time of the run */
	double *lat_ms;   /* latency of each answered request (capped at max_samples) */
	size_t nlat;
};

/* Drive the master at 127.0.0.1:port with n clients on nthreads threads, each
 * client one connection with one request in flight: GET /health when health,
 * else POST /api/v1/trials/ID/metrics (training). Runs for seconds, or until
 * every client sent its rows. 0, or -1 with err (cannot connect, no memory). */
int rawload_run(int port, struct rawload_client *cl, int n, int nthreads, int health,
                double seconds, size_t max_samples, struct rawload_result *res, char *err,
                size_t errlen);

#endif
