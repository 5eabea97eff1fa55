/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-master: sustained trial-side load on a real det-master. Starts a
 * private master (temporary state directory, free port), creates an
 * experiment with one trial per client, claims them all, then runs N logical
 * clients (one kept-alive connection each, one request in flight) that post
 * training metric reports for S seconds, driven by a few threads of the raw
 * socket load generator of rawload.c so that the clients cost the shared
 * cores as little as possible. Prints reports/s, latency p50/p99/max, and the
 * master's RSS; as a baseline measured in the same run, the same clients
 * hammer GET /health (no database work) first, and the ratio is printed.
 * With --trials T --rows R it then fills T trials with R metric rows each and
 * prints the RSS again (the memory-with-many-trials figure). With --reports R
 * it skips the timed phases and has each client send exactly R training
 * reports (a fixed amount of work, for instruction counts under callgrind,
 * whose cost per report does not depend on the machine's load). With --gc-files N
 * it then ends a second experiment whose checkpoint directory holds N files,
 * so that checkpoint GC deletes them while the same clients report again, and
 * prints the reports' p99 without and with that deletion and their ratio,
 * with how long the deletion ran (make bench-report-p99).
 * The master's local resource manager runs this same program as the
 * "launcher" of each array task: started with DET_ARRAY_TASK set, it just
 * sleeps until it is signalled, so tasks cost nothing while clients report.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "rawload.h"

#define MAX_SAMPLES 400000

/* Run one phase and print its line; returns requests per second. */
static double run_p99(int port, struct rawload_client *cl, int n, int threads, int health,
                      double seconds, const char *what, double *p99)
{
	struct rawload_result r;
	char err[256];

	if (rawload_run(port, cl, n, threads, health, seconds, MAX_SAMPLES, &r, err, sizeof(err))) {
		fprintf(stderr, "bench-master: %s: %s\n", what, err);
		free(r.lat_ms);
		return 0;
	}
	double rate = r.seconds > 0 ? (double)r.n / r.seconds : 0;
	if (p99)
		*p99 = r.nlat ? r.lat_ms[(size_t)((double)r.nlat * 0.99)] : 0.0;
	printf(
	    "%-28s %8d clients %10zu requests %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms"
	    "  errors %lld\n",
	    what, n, r.n, rate, r.nlat ? r.lat_ms[r.nlat / 2] : 0.0,
	    r.nlat ? r.lat_ms[(size_t)((double)r.nlat * 0.99)] : 0.0,
	    r.nlat ? r.lat_ms[r.nlat - 1] : 0.0, r.errors);
	free(r.lat_ms);
	return r.errors ? 0 : rate;
}

static double run(int port, struct rawload_client *cl, int n, int threads, int health,
                  double seconds, const char *what)
{
	return run_p99(port, cl, n, threads, health, seconds, what, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Entries left in dir (-1: it is gone). */
static long count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	long n = 0;
	if (!d)
		return -1;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Watches a checkpoint directory being deleted: when its first file went and when
 * the directory was gone, in seconds after start (-1: not seen). */
struct gc_watch {
	char dir[512];
	long files;
	double start, first_gone, all_gone;
	volatile int stop;
};

static void *gc_watch_main(void *arg)
{
	struct gc_watch *w = arg;
	while (!w->stop && w->all_gone < 0) {
		long n = count_entries(w->dir);
		double t = now_s() - w->start;
		if (n < w->files && w->first_gone < 0)
			w->first_gone = t;
		if (n < 0)
			w->all_gone = t;
		usleep(20000);
	}
	return NULL;
}

/* A finished-to-be experiment whose one checkpoint directory holds nfiles files and
 * whose GC keeps nothing: its id in *exp, the directory in w->dir. 0 or -1. */
static int setup_gc_experiment(const char *sockurl, const char *host, long nfiles, long long *exp,
                               struct gc_watch *w)
{
	char err[512], cfg[1024], path[128], uuid[64], file[600];
	long status;
	json_t *out = NULL, *body = NULL;
	int rv = -1;
	struct http_client *h = http_client_new(sockurl, NULL, err, sizeof(err));
	struct http_client *th = NULL;

	if (!h)
		goto fail;
	snprintf(cfg, sizeof(cfg),
	         "name: bench-gc\nentrypoint: x\nsearcher: {name: single, metric: loss, "
	         "max_length: {batches: 1000000000}}\ncheckpoint_storage: {type: shared_fs, "
	         "host_path: %s, save_experiment_best: 0, save_trial_best: 0, "
	         "save_trial_latest: 0}\n",
	         host);
	body = json_pack("{s:s}", "config", cfg);
	if (http_client_json(h, "POST", "/api/v1/experiments", body, &out, &status, err,
	                     sizeof(err)) ||
	    status != 200) {
		fprintf(stderr, "bench-master: create the GC experiment: %s (%ld)\n", err, status);
		goto fail;
	}
	*exp = json_integer_value(json_object_get(out, "id"));
	json_decref(out);
	json_decref(body);
	out = NULL;
	body = json_pack("{s:i}", "array_task", 0);
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/claim", *exp);
	if (http_client_json(h, "POST", path, body, &out, &status, err, sizeof(err)) ||
	    status != 200) {
		fprintf(stderr, "bench-master: claim the GC trial: %s (%ld)\n", err, status);
		goto fail;
	}
	long long trial = json_integer_value(json_object_get(out, "trial_id"));
	char bearer[256];
	snprintf(bearer, sizeof(bearer), "Bearer %s",
	         json_string_value(json_object_get(out, "token")));
	th = http_client_new(sockurl, bearer, err, sizeof(err));
	json_decref(out);
	json_decref(body);
	out = NULL;
	snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012lld", *exp);
	snprintf(w->dir, sizeof(w->dir), "%s/%s", host, uuid);
	if (!th || (mkdir(host, 0700) && errno != EEXIST) || mkdir(w->dir, 0700)) {
		fprintf(stderr, "bench-master: %s: %s\n", w->dir, th ? strerror(errno) : err);
		goto fail;
	}
	for (long i = 0; i < nfiles; i++) {
		snprintf(file, sizeof(file), "%s/f%06ld", w->dir, i);
		int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || write(fd, "x", 1) != 1) {
			fprintf(stderr, "bench-master: %s: %s\n", file, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		close(fd);
	}
	w->files = nfiles;
	body = json_pack("{s:s, s:i, s:{}, s:[]}", "uuid", uuid, "steps_completed", 1, "metadata",
	                 "files");
	snprintf(path, sizeof(path), "/api/v1/trials/%lld/checkpoints", trial);
	if (http_client_json(th, "POST", path, body, NULL, &status, err, sizeof(err)) ||
	    status != 200) {
		fprintf(stderr, "bench-master: register the GC checkpoint: %s (%ld)\n", err,
		        status);
		goto fail;
	}
	rv = 0;
fail:
	json_decref(out);
	json_decref(body);
	http_client_free(th);
	http_client_free(h);
	return rv;
}

/* Reports without and with a checkpoint GC of nfiles files running: both p99s. */
static int gc_phase(int port, const char *sockurl, const char *host, struct rawload_client *cl,
                    int n, int threads, double seconds, long nfiles)
{
	char err[256], path[96];
	long status;
	long long exp = 0;
	struct gc_watch w = {.first_gone = -1, .all_gone = -1};
	double quiet, busy;
	pthread_t th;

	for (int i = 0; i < n; i++)
		cl[i].first_step += 100000000; /* steps keep growing across phases */
	if (run_p99(port, cl, n, threads, 0, seconds, "reports, no deletion", &quiet) <= 0)
		return -1;
	if (setup_gc_experiment(sockurl, host, nfiles, &exp, &w))
		return -1;
	for (int i = 0; i < n; i++)
		cl[i].first_step += 100000000;
	struct http_client *h = http_client_new(sockurl, NULL, err, sizeof(err));
	snprintf(path, sizeof(path), "/api/v1/experiments/%lld/kill", exp);
	w.start = now_s();
	if (!h || http_client_json(h, "POST", path, NULL, NULL, &status, err, sizeof(err)) ||
	    status != 200 || pthread_create(&th, NULL, gc_watch_main, &w)) {
		fprintf(stderr, "bench-master: kill the GC experiment: %s\n", err);
		http_client_free(h);
		return -1;
	}
	http_client_free(h);
	double rate = run_p99(port, cl, n, threads, 0, seconds, "reports, GC deleting", &busy);
	double phase_end = now_s() - w.start;
	while (w.all_gone < 0 && now_s() - w.start < 600)
		usleep(100000);
	w.stop = 1;
	pthread_join(th, NULL);
	printf("checkpoint GC of %ld files: first file gone %.2f s, directory gone %.2f s after"
	       " the kill (the report phase ended at %.2f s)\n",
	       nfiles, w.first_gone, w.all_gone, phase_end);
	printf("report p99 without deletion %.2f ms, with deletion %.2f ms, ratio %.2f\n", quiet,
	       busy, quiet > 0 ? busy / quiet : 0);
	return rate > 0 && w.all_gone >= 0 ? 0 : -1;
}

/* Each client sends exactly reports training reports; prints how many were answered. */
static int fixed_reports(int port, struct rawload_client *cl, int n, int threads, long reports)
{
	struct rawload_result r;
	char err[256];
	for (int i = 0; i < n; i++)
		cl[i].rows = reports;
	int rc = rawload_run(port, cl, n, threads, 0, 1e9, MAX_SAMPLES, &r, err, sizeof(err));
	if (rc)
		fprintf(stderr, "bench-master: fixed reports: %s\n", err);
	else
		printf("fixed reports: %zu answered, %lld errors, %.2f s\n", r.n, r.errors,
		       r.seconds);
	free(r.lat_ms);
	return rc || r.errors || r.n != (size_t)n * (size_t)reports ? -1 : 0;
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
	for (int id = 1; h && id <= 3; id++) {
		snprintf(path, sizeof(path), "/api/v1/experiments/%d/kill", id);
		http_client_json(h, "POST", path, NULL, NULL, &status, err, sizeof(err));
	}
	http_client_free(h);
	sleep(1); /* the scheduler signals the tasks on its next tick */
}

static int setup_trials(const char *sockurl, int ntrials, struct rawload_client *cl)
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
	                                     {"client-threads", required_argument, NULL, 'j'},
	                                     {"gc-files", required_argument, NULL, 'g'},
	                                     {"reports", required_argument, NULL, 'R'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *bin = "master/det-master";
	int nclients = 100, ntrials = 0, rows = 0, threads = 2, opt, port;
	long gc_files = 0, reports = 0;
	double seconds = 5;
	char dir[] = "/tmp/bench-master.XXXXXX", sockurl[300];

	while ((opt = getopt_long(argc, argv, "b:c:s:t:r:j:g:R:h", opts, NULL)) != -1) {
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
		case 'j':
			threads = atoi(optarg);
			break;
		case 'g':
			gc_files = atol(optarg);
			break;
		case 'R':
			reports = atol(optarg);
			break;
		default:
			printf("usage: bench-master [--master-bin PATH] [--clients N] [--seconds S]"
			       " [--trials T --rows R] [--client-threads J] [--gc-files N]"
			       " [--reports R]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (nclients < 1 || nclients > 2000 || seconds <= 0 || threads < 1 || threads > 64 ||
	    ntrials < 0 || rows < 0 || gc_files < 0 || gc_files > 1000000 || reports < 0 ||
	    reports > 100000000) {
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
	struct rawload_client *cl = calloc((size_t)nclients, sizeof(*cl));
	int rv = 1;
	if (!cl || setup_trials(sockurl, nclients, cl))
		goto out;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("det-master bench: %d concurrent clients on %d client threads, %.0f s each phase,"
	       " keep-alive HTTP/1.1\n",
	       nclients, threads, seconds);
	if (reports > 0) {
		rv = fixed_reports(port, cl, nclients, threads, reports) ? 1 : 0;
		goto out;
	}
	double base = run(port, cl, nclients, threads, 1, seconds, "GET /health (baseline)");
	double rate = run(port, cl, nclients, threads, 0, seconds, "POST /trials/ID/metrics");
	printf("metric reports/s over baseline: %.2f\n", base > 0 ? rate / base : 0);
	printf("master RSS after the load: %.1f MB\n", (double)rss_kb(pid) / 1024.0);
	if (rate <= 0)
		goto out;
	char host[64];
	snprintf(host, sizeof(host), "%s-checkpoints", dir);
	if (gc_files > 0 && gc_phase(port, sockurl, host, cl, nclients, threads, seconds, gc_files))
		goto out;
	if (ntrials > 0 && rows > 0) {
		struct rawload_client *fill = calloc((size_t)ntrials, sizeof(*fill));
		if (!fill || setup_trials(sockurl, ntrials, fill)) {
			free(fill);
			goto out;
		}
		/* Fill nclients trials at a time, each trial getting rows reports. */
		for (int i = 0; i < ntrials; i++)
			fill[i].rows = rows;
		for (int at = 0; at < ntrials; at += nclients) {
			int n = ntrials - at < nclients ? ntrials - at : nclients;
			struct rawload_result r;
			char err[256];
			int rc = rawload_run(port, fill + at, n, threads, 0, 1e9, 1, &r, err,
			                     sizeof(err));
			free(r.lat_ms);
			if (rc || r.errors) {
				fprintf(stderr, "bench-master: filling: %s\n",
				        rc ? err : "requests failed");
				free(fill);
				goto out;
			}
		}
		printf("master RSS with %d trials x %d metric rows: %.1f MB", ntrials, rows,
		       (double)rss_kb(pid) / 1024.0);
		sleep(6); /* the master returns freed heap every 5 s */
		printf(", %.1f MB after 6 s idle\n", (double)rss_kb(pid) / 1024.0);
		free(fill);
	}
	rv = 0;
out:
	kill_experiments(sockurl);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(cl);
	/* Remove the state directory and the checkpoints beside it. */
	char ckpts[64];
	snprintf(ckpts, sizeof(ckpts), "%s-checkpoints", dir);
	char *rm[] = {"rm", "-rf", dir, ckpts, NULL};
	pid_t r = fork();
	if (r == 0) {
		execvp("rm", rm);
		_exit(127);
	}
	waitpid(r, NULL, 0);
	return rv;
}
