/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-master: sustained trial-side load on a real det-master. Starts a
 * private master (temporary state directory, free port), creates an
 * experiment with one trial per client, claims them all, then runs N client
 * threads that each post training metric reports over a kept-alive
 * connection for S seconds. Prints reports/s, latency p50/p99/max, and the
 * master's RSS; as a baseline measured in the same run, the same clients
 * hammer GET /health (no database work) first, and the ratio is printed.
 * With --trials T --rows R it then fills T trials with R metric rows each and
 * prints the RSS again (the memory-with-many-trials figure).
 * The master's local resource manager runs this same program as the
 * "launcher" of each array task: started with DET_ARRAY_TASK set, it just
 * sleeps until it is signalled, so tasks cost nothing while clients report.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"

#define MAX_SAMPLES 200000

struct client {
	pthread_t th;
	char master[128];
	char token[128];
	long long trial;
	double seconds;
	int health;                 /* baseline: GET /health */
	long long first_step, rows; /* fill mode: exactly rows reports */
	double *lat_ms;
	size_t n, cap;
	long long errors;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	char err[256], auth[160], path[96], body[160];
	struct http_response r;

	snprintf(auth, sizeof(auth), "Bearer %s", c->token);
	struct http_client *h = http_client_new(c->master, auth, err, sizeof(err));
	if (!h) {
		c->errors++;
		return NULL;
	}
	snprintf(path, sizeof(path), "/api/v1/trials/%lld/metrics", c->trial);
	double end = now_s() + c->seconds;
	for (long long i = 1;; i++) {
		if (c->rows ? i > c->rows : now_s() >= end)
			break;
		int n = snprintf(body, sizeof(body),
		                 "{\"group\":\"training\",\"steps_completed\":%lld,"
		                 "\"metrics\":{\"loss\":%.3f,\"acc\":0.5}}",
		                 c->first_step + i, 1.0 / (double)i);
		double t0 = now_s();
		int rc = c->health ? http_client_request(h, "GET", "/health", NULL, NULL, 0, &r,
		                                         err, sizeof(err))
		                   : http_client_request(h, "POST", path, "application/json", body,
		                                         (size_t)n, &r, err, sizeof(err));
		double dt = (now_s() - t0) * 1000.0;
		if (rc || r.status != 200)
			c->errors++;
		http_response_free(&r);
		if (c->n < c->cap)
			c->lat_ms[c->n++] = dt;
	}
	http_client_free(h);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Run nclients threads; print a line; returns reports per second. */
static double run(struct client *cl, int n, const char *what)
{
	size_t total = 0, k = 0;
	long long errors = 0;
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		cl[i].n = 0;
		cl[i].errors = 0;
		pthread_create(&cl[i].th, NULL, client_main, &cl[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(cl[i].th, NULL);
		total += cl[i].n;
		errors += cl[i].errors;
	}
	double secs = now_s() - t0;
	double *all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return 0;
	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < cl[i].n; j++)
			all[k++] = cl[i].lat_ms[j];
	qsort(all, total, sizeof(*all), cmp_double);
	double rate = (double)total / secs;
	printf(
	    "%-28s %8d clients %10zu requests %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms"
	    "  errors %lld\n",
	    what, n, total, rate, total ? all[total / 2] : 0.0,
	    total ? all[(size_t)((double)total * 0.99)] : 0.0, total ? all[total - 1] : 0.0,
	    errors);
	free(all);
	return rate;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static pid_t start_master(const char *bin, const char *self, const char *dir, int *port)
{
	int fds[2];
	char sock[300];
	if (pipe(fds))
		return -1;
	snprintf(sock, sizeof(sock), "%s/m.sock", dir);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl(bin, bin, "--listen", "127.0.0.1:0", "--socket", sock, "--state-dir", dir,
		      "--launcher", self, "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	char line[256];
	*port = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "det-master: listening on port %d", port) == 1)
			break;
	/* Keep reading its stdout in the background would be overkill: it prints nothing more. */
	return *port ? pid : -1;
}

/* Kill every experiment so that the master stops their tasks. */
static void kill_experiments(const char *sockurl)
{
	char err[256], path[96];
	long status;
	struct http_client *h = http_client_new(sockurl, NULL, err, sizeof(err));
	for (int id = 1; h && id <= 2; id++) {
		snprintf(path, sizeof(path), "/api/v1/experiments/%d/kill", id);
		http_client_json(h, "POST", path, NULL, NULL, &status, err, sizeof(err));
	}
	http_client_free(h);
	sleep(1); /* the scheduler signals the tasks on its next tick */
}

static int setup_trials(const char *sockurl, int ntrials, struct client *cl, const char *tcp)
{
	char err[512];
	long status;
	json_t *out = NULL;
	struct http_client *h = http_client_new(sockurl, NULL, err, sizeof(err));
	char cfg[512];
	if (!h)
		return -1;
	snprintf(cfg, sizeof(cfg),
	         "name: bench\nentrypoint: x\nhyperparameters: {lr: {type: double, minval: 0.1, "
	         "maxval: 0.2}}\nsearcher: {name: random, metric: loss, max_trials: %d, "
	         "max_concurrent_trials: 1, max_length: {batches: 1000000000}}\n",
	         ntrials);
	json_t *body = json_pack("{s:s}", "config", cfg);
	if (http_client_json(h, "POST", "/api/v1/experiments", body, &out, &status, err,
	                     sizeof(err))) {
		fprintf(stderr, "bench-master: create: %s\n", err);
		return -1;
	}
	long long exp = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	json_decref(body);
	for (int i = 0; i < ntrials; i++) {
		char path[96];
		snprintf(path, sizeof(path), "/api/v1/experiments/%lld/claim", exp);
		body = json_pack("{s:i}", "array_task", i);
		if (http_client_json(h, "POST", path, body, &out, &status, err, sizeof(err))) {
			fprintf(stderr, "bench-master: claim %d: %s\n", i, err);
			return -1;
		}
		snprintf(cl[i].token, sizeof(cl[i].token), "%s",
		         json_string_value(json_object_get(out, "token")));
		cl[i].trial = json_integer_value(json_object_get(out, "trial_id"));
		snprintf(cl[i].master, sizeof(cl[i].master), "%s", tcp);
		json_decref(out);
		json_decref(body);
	}
	http_client_free(h);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"master-bin", required_argument, NULL, 'b'},
	                                     {"clients", required_argument, NULL, 'c'},
	                                     {"seconds", required_argument, NULL, 's'},
	                                     {"trials", required_argument, NULL, 't'},
	                                     {"rows", required_argument, NULL, 'r'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *bin = "master/det-master";
	int nclients = 100, ntrials = 0, rows = 0, opt, port;
	double seconds = 5;
	char dir[] = "/tmp/bench-master.XXXXXX", sockurl[300], tcp[64];

	while ((opt = getopt_long(argc, argv, "b:c:s:t:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			bin = optarg;
			break;
		case 'c':
			nclients = atoi(optarg);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 't':
			ntrials = atoi(optarg);
			break;
		case 'r':
			rows = atoi(optarg);
			break;
		default:
			printf("usage: bench-master [--master-bin PATH] [--clients N] [--seconds S]"
			       " [--trials T --rows R]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (nclients < 1 || nclients > 2000 || seconds <= 0 || ntrials < 0 || rows < 0) {
		fprintf(stderr, "bench-master: bad arguments\n");
		return 2;
	}
	if (getenv("DET_ARRAY_TASK")) {
		/* Started by the master as a task: wait to be stopped. */
		pause();
		return 0;
	}
	if (!mkdtemp(dir))
		return 1;
	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		return 1;
	self[sl] = '\0';
	snprintf(sockurl, sizeof(sockurl), "unix:%s/m.sock", dir);
	pid_t pid = start_master(bin, self, dir, &port);
	if (pid < 0) {
		fprintf(stderr, "bench-master: cannot start %s\n", bin);
		return 1;
	}
	snprintf(tcp, sizeof(tcp), "http://127.0.0.1:%d", port);
	struct client *cl = calloc((size_t)nclients, sizeof(*cl));
	int rv = 1;
	if (!cl || setup_trials(sockurl, nclients, cl, tcp))
		goto out;
	for (int i = 0; i < nclients; i++) {
		cl[i].seconds = seconds;
		cl[i].cap = MAX_SAMPLES / (size_t)nclients + 1;
		cl[i].lat_ms = malloc(cl[i].cap * sizeof(double));
		if (!cl[i].lat_ms)
			goto out;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("det-master bench: %d concurrent clients, %.0f s each phase, keep-alive HTTP\n",
	       nclients, seconds);
	for (int i = 0; i < nclients; i++)
		cl[i].health = 1;
	double base = run(cl, nclients, "GET /health (baseline)");
	for (int i = 0; i < nclients; i++)
		cl[i].health = 0;
	double rate = run(cl, nclients, "POST /trials/ID/metrics");
	printf("metric reports/s over baseline: %.2f\n", base > 0 ? rate / base : 0);
	printf("master RSS after the load: %.1f MB\n", (double)rss_kb(pid) / 1024.0);
	if (ntrials > 0 && rows > 0) {
		struct client *fill = calloc((size_t)ntrials, sizeof(*fill));
		if (!fill || setup_trials(sockurl, ntrials, fill, tcp))
			goto out;
		/* Fill with nclients threads at a time, each trial getting rows reports. */
		for (int at = 0; at < ntrials; at += nclients) {
			int n = ntrials - at < nclients ? ntrials - at : nclients;
			for (int i = 0; i < n; i++) {
				fill[at + i].rows = rows;
				fill[at + i].cap = 1;
				fill[at + i].lat_ms = malloc(sizeof(double));
			}
			for (int i = 0; i < n; i++)
				pthread_create(&fill[at + i].th, NULL, client_main, &fill[at + i]);
			for (int i = 0; i < n; i++)
				pthread_join(fill[at + i].th, NULL);
		}
		printf("master RSS with %d trials x %d metric rows: %.1f MB", ntrials, rows,
		       (double)rss_kb(pid) / 1024.0);
		sleep(6); /* the master returns freed heap every 5 s */
		printf(", %.1f MB after 6 s idle\n", (double)rss_kb(pid) / 1024.0);
		for (int i = 0; i < ntrials; i++)
			free(fill[i].lat_ms);
		free(fill);
	}
	rv = 0;
out:
	kill_experiments(sockurl);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (cl)
		for (int i = 0; i < nclients; i++)
			free(cl[i].lat_ms);
	free(cl);
	/* Remove the state directory. */
	char *rm[] = {"rm", "-rf", dir, NULL};
	pid_t r = fork();
	if (r == 0) {
		execvp("rm", rm);
		_exit(127);
	}
	waitpid(r, NULL, 0);
	return rv;
}
