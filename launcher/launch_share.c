/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File rendezvous between det-launch ranks. Rank 0 publishes each trial
 * assignment as "assign-<generation>.json" (written to a temporary name and
 * renamed, so a reader never sees half a file); the other ranks poll for it.
 * Exit codes, aborts and preemption requests are files too.
 * Non-obvious: files rather than a socket, because every rank can reach a
 * shared directory without knowing rank 0's address, the files survive a
 * launcher crash for inspection, and det-launch needs no MPI itself. On
 * several nodes the directory must be on a shared file system. When the job
 * ends each rank leaves a "finished-<rank>" marker and whichever rank sees
 * every marker removes the directory: no rank reads it any more by then.
 * A directory keyed by a process id (one det-launch on its own) also names
 * its owner (host, pid, start time) so that a later det-launch on the same
 * host can tell it is dead and remove what it left.
 */
#include "launch_share.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launch_rank.h"
#include "proc_stat.h"

int launch_share_path(char *out, size_t outlen, const char *dir, const char *fmt, ...)
{
	char name[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(name))
		return -1;
	return snprintf(out, outlen, "%s/%s", dir, name) >= (int)outlen ? -1 : 0;
}

static int mkdirs(char *path, mode_t mode)
{
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			int rc = mkdir(path, mode);
			*p = c;
			if (rc < 0 && errno != EEXIST)
				return -1;
			if (c == '\0')
				return 0;
		}
	}
}

/* A file-name-safe copy of v (letters, digits, '.', '-', '_'). */
static void safe_copy(char *out, size_t outlen, const char *v)
{
	size_t i = 0;
	for (; v && v[i] && i + 1 < outlen; i++)
		out[i] = (strchr("._-", v[i]) || (v[i] >= '0' && v[i] <= '9') ||
		          ((v[i] | 32) >= 'a' && (v[i] | 32) <= 'z'))
		             ? v[i]
		             : '_';
	out[i] = '\0';
}

static void job_key(char *const envp[], char *out, size_t outlen)
{
	const char *job = launch_env_lookup(envp, "SLURM_JOB_ID");
	char a[64], b[64], c[64];
	if (job) {
		safe_copy(a, sizeof(a), job);
		safe_copy(b, sizeof(b), launch_env_lookup(envp, "SLURM_STEP_ID"));
		safe_copy(c, sizeof(c), launch_env_lookup(envp, "SLURM_RESTART_COUNT"));
		snprintf(out, outlen, "slurm%s.%s.r%s", a, b, c);
		return;
	}
	const char *ompi = launch_env_lookup(envp, "OMPI_MCA_ess_base_jobid");
	if (!ompi)
		ompi = launch_env_lookup(envp, "OMPI_MCA_orte_ess_jobid");
	if (ompi) {
		safe_copy(a, sizeof(a), ompi);
		snprintf(out, outlen, "ompi%s", a);
		return;
	}
	const char *ns = launch_env_lookup(envp, "PMIX_NAMESPACE");
	if (ns) {
		safe_copy(a, sizeof(a), ns);
		snprintf(out, outlen, "pmix%s", a);
		return;
	}
	/* a single process on its own: its pid is unique enough */
	snprintf(out, outlen, "pid%ld", (long)getpid());
}

int launch_share_dir(char *const envp[], long long experiment, long long task, char *out,
                     size_t outlen, char *err, size_t errlen)
{
	const char *dir = launch_env_lookup(envp, "DET_JOB_DIR");
	char key[256];
	int n;
	if (dir && *dir) {
		n = snprintf(out, outlen, "%s", dir);
	} else {
		const char *run = launch_env_lookup(envp, "DET_RUN_DIR");
		const char *home = launch_env_lookup(envp, "HOME");
		job_key(envp, key, sizeof(key));
		if (run && *run)
			n = snprintf(out, outlen, "%s/e%lld-t%lld-%s", run, experiment, task, key);
		else
			n = snprintf(out, outlen, "%s/.det-slurm/run/e%lld-t%lld-%s",
			             home && *home ? home : "/tmp", experiment, task, key);
	}
	if (n < 0 || n >= (int)outlen) {
		snprintf(err, errlen, "job directory path too long");
		return -1;
	}
	if (out[0] != '/') {
		snprintf(err, errlen, "job directory %s: not an absolute path", out);
		return -1;
	}
	if (mkdirs(out, 0700) < 0) {
		snprintf(err, errlen, "job directory %s: %s", out, strerror(errno));
		return -1;
	}
	return 0;
}

int launch_share_put(const char *dir, const char *name, const json_t *value, char *err,
                     size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	if (launch_share_path(path, sizeof(path), dir, "%s", name) < 0 ||
	    launch_share_path(tmp, sizeof(tmp), dir, ".%s.tmp%ld", name, (long)getpid()) < 0) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		return -1;
	}
	if (json_dump_file(value, tmp, JSON_COMPACT) < 0) {
		snprintf(err, errlen, "%s: cannot write", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

json_t *launch_share_wait(const char *dir, const char *name, const char *stop_name, long timeout_ms,
                          char *err, size_t errlen)
{
	char path[PATH_MAX];
	long deadline = now_ms() + timeout_ms;
	if (launch_share_path(path, sizeof(path), dir, "%s", name) < 0) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		return NULL;
	}
	for (;;) {
		if (access(path, F_OK) == 0) {
			json_error_t jerr;
			json_t *v = json_load_file(path, 0, &jerr);
			if (!v)
				snprintf(err, errlen, "%s: %s", path, jerr.text);
			return v;
		}
		if (stop_name && launch_share_exists(dir, stop_name)) {
			snprintf(err, errlen, "%s/%s appeared while waiting for %s", dir, stop_name,
			         name);
			return NULL;
		}
		if (now_ms() >= deadline) {
			snprintf(err, errlen, "%s did not appear within %ld s", path,
			         timeout_ms / 1000);
			return NULL;
		}
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int launch_share_touch(const char *dir, const char *name)
{
	char path[PATH_MAX];
	if (launch_share_path(path, sizeof(path), dir, "%s", name) < 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int launch_share_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	if (launch_share_path(path, sizeof(path), dir, "%s", name) < 0)
		return 0;
	return access(path, F_OK) == 0;
}

/* nftw callback: remove what is there (depth first, symlinks not followed). */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path); /* what could not go is seen at the next pass */
	return 0;
}

/* 1 when dir holds a spill file of log lines not yet sent. */
static int holds_unsent_logs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	while (d && !found && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		found = !strncmp(e->d_name, "logs-", 5) && n > 6 &&
		        !strcmp(e->d_name + n - 6, ".jsonl");
	}
	if (d)
		closedir(d);
	return found;
}

int launch_share_finish(const char *dir, int rank, int size, int remove_dir)
{
	char name[32];
	snprintf(name, sizeof(name), "finished-%d", rank);
	if (launch_share_touch(dir, name) < 0 || !remove_dir)
		return 0;
	for (int r = 0; r < size; r++) {
		snprintf(name, sizeof(name), "finished-%d", r);
		if (!launch_share_exists(dir, name))
			return 0;
	}
	if (holds_unsent_logs(dir))
		return 0;
	/* A last marker (the signals thread's preempt file) may land while the
	 * tree goes: another pass takes it. */
	for (int pass = 0; pass < 5 && access(dir, F_OK) == 0; pass++)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return access(dir, F_OK) != 0;
}

/* 1 when name is a job directory keyed by a process id ("e<n>-t<n>-pid<n>"). */
static int pid_keyed(const char *name)
{
	long long a, b;
	long pid;
	int end = 0;
	return sscanf(name, "e%lld-t%lld-pid%ld%n", &a, &b, &pid, &end) == 3 && name[end] == '\0' &&
	       pid > 0;
}

/* Remove run/name when its owner (owner.json) ran on this host and is gone. */
static void sweep_stale_one(const char *run, const char *name, const char *host)
{
	char dir[PATH_MAX], err[256];
	struct stat st;
	if (snprintf(dir, sizeof(dir), "%s/%s", run, name) >= (int)sizeof(dir) ||
	    lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    !launch_share_exists(dir, "owner.json"))
		return;
	json_t *o = launch_share_wait(dir, "owner.json", NULL, 0, err, sizeof(err));
	const char *h = json_string_value(json_object_get(o, "host"));
	long pid = (long)json_integer_value(json_object_get(o, "pid"));
	long long start = json_integer_value(json_object_get(o, "start"));
	int dead = h && !strcmp(h, host) && pid > 0 && proc_stat_start_time(pid) != start;
	json_decref(o);
	if (dead && !holds_unsent_logs(dir))
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void launch_share_sweep_stale(const char *job_dir)
{
	char run[PATH_MAX], host[256] = "", err[256];
	const char *slash = strrchr(job_dir, '/');
	if (!slash || slash == job_dir || (size_t)(slash - job_dir) >= sizeof(run) ||
	    gethostname(host, sizeof(host) - 1) < 0)
		return;
	memcpy(run, job_dir, (size_t)(slash - job_dir));
	run[slash - job_dir] = '\0';
	if (pid_keyed(slash + 1)) {
		json_t *me = json_pack("{s:s, s:I, s:I}", "host", host, "pid", (json_int_t)getpid(),
		                       "start", (json_int_t)proc_stat_start_time((long)getpid()));
		if (me)
			launch_share_put(job_dir, "owner.json", me, err, sizeof(err));
		json_decref(me);
	}
	DIR *d = opendir(run);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (pid_keyed(e->d_name) && strcmp(e->d_name, slash + 1))
			sweep_stale_one(run, e->d_name, host);
	if (d)
		closedir(d);
}
