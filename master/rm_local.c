/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The local resource manager: runs job arrays on this machine by spawning
 * det-launch once per array task (under `mpirun -np S` when a trial needs
 * several slots), honouring each array's throttle and the machine's slots.
 *
 * Main structure: a list of arrays, each with a task table (PENDING,
 * RUNNING, DONE). All the work happens in poll(), called by the master's
 * scheduler tick: reap children, escalate SIGTERM to SIGKILL after the
 * grace period, start what fits. Non-obvious decision: each task runs in its
 * own process group so that signals reach the launcher and everything it
 * started, and tasks left running by a master that crashed are "adopted":
 * never by pid alone, but only when the process has the start time recorded
 * with the pid and carries the task's marker in its environment; they are
 * watched through their start time, since they are no longer our children.
 */
#include "rm.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum task_state { TASK_PENDING, TASK_RUNNING, TASK_DONE };

struct task {
	enum task_state state;
	pid_t pid;
	int64_t start; /* pid's start time (/proc/PID/stat field 22) */
	int adopted;
	uint64_t kill_at_ms; /* SIGKILL time after a SIGTERM; 0 = none sent */
	int requeue;         /* run again after it exits (hold/requeue) */
};

struct array {
	char id[64];
	int64_t experiment_id;
	int num_tasks, max_concurrent, slots_per_trial;
	char *master_url, *token;
	int held, canceled;
	struct task *tasks;
	struct array *next;
};

struct rm_local {
	struct rm base;
	pthread_mutex_t lock;
	char *launcher;
	char *log_dir;
	int slots, used_slots;
	int grace_ms;
	int counter;
	struct array *arrays;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int detect_slots(void)
{
	/* GPUs when the driver shows any (one slot per GPU), else CPUs. */
	int gpus = 0;
	char path[64];
	for (int i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/nvidia%d", i);
		if (access(path, F_OK) != 0)
			break;
		gpus++;
	}
	if (gpus > 0)
		return gpus;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static struct array *find_array(struct rm_local *l, const char *id)
{
	for (struct array *a = l->arrays; a; a = a->next)
		if (!strcmp(a->id, id))
			return a;
	return NULL;
}

/* The start time of pid in clock ticks after boot (/proc/PID/stat field 22),
 * or 0 when there is no such process. */
static int64_t proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	long long start = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold anything */
	/* after the name: fields 3 (state) to 21, then 22 (starttime) */
	if (!p || sscanf(p + 1,
	                 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
	                 "%*d %*d %*d %*d %lld",
	                 &start) != 1)
		return 0;
	return start;
}

/* Does pid's environment hold the task's marker (DET_EXPERIMENT_ID and
 * DET_ARRAY_TASK as spawn_task set them)? Readable by root or the same uid. */
static int proc_has_marker(pid_t pid, int64_t experiment_id, int index)
{
	char path[64], want_exp[64], want_task[64];
	size_t cap = 1 << 16, len = 0;
	int found = 0, fd = -1;
	char *buf = malloc(cap + 1);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	snprintf(want_exp, sizeof(want_exp), "DET_EXPERIMENT_ID=%lld", (long long)experiment_id);
	snprintf(want_task, sizeof(want_task), "DET_ARRAY_TASK=%d", index);
	if (!buf || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		goto out;
	for (;;) {
		if (len == cap) {
			char *nb = cap < (1 << 22) ? realloc(buf, 2 * cap + 1) : NULL;
			if (!nb)
				goto out;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		found |= !strcmp(buf + i, want_exp) ? 1 : 0;
		found |= !strcmp(buf + i, want_task) ? 2 : 0;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return found == 3;
}

/* Is pid still task index of a: the process with the recorded start time,
 * carrying the task's marker? A pid alone never is. */
static int task_is_ours(const struct array *a, int index, pid_t pid, int64_t start)
{
	return pid > 0 && start > 0 && proc_start_time(pid) == start &&
	       proc_has_marker(pid, a->experiment_id, index);
}

static void signal_task(struct rm_local *l, struct array *a, int index, int sig)
{
	struct task *t = &a->tasks[index];
	if (t->state != TASK_RUNNING || t->pid <= 0)
		return;
	/* An adopted pid may have been reused since: then poll finds it ended. */
	if (t->adopted && !task_is_ours(a, index, t->pid, t->start))
		return;
	/* The task leads its own process group; adopted ones too (we started them). */
	if (kill(-t->pid, sig) != 0)
		kill(t->pid, sig);
	if (sig == SIGTERM && !t->kill_at_ms)
		t->kill_at_ms = now_ms() + (uint64_t)l->grace_ms;
}

/* det-launch's grace period: shorter than ours by a third (at least 1 s), so
 * that it ends every process of the trial itself before our SIGKILL. */
static int launch_grace_seconds(int grace_ms)
{
	int s = grace_ms / 1000, margin = s / 3 > 1 ? s / 3 : 1;
	return s > margin ? s - margin : 0;
}

static int add_env(char **env, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_env(char **env, int *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vasprintf(&env[*n], fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	(*n)++;
	return 0;
}

static pid_t spawn_task(struct rm_local *l, struct array *a, int index)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	sigset_t none, def;
	char **env = NULL, np[16];
	const char *argv[8];
	int nenv = 0, argc = 0;
	size_t base = 0;
	pid_t pid = -1;

	while (environ[base])
		base++;
	env = calloc(base + 8, sizeof(*env));
	if (!env)
		return -1;
	for (size_t i = 0; i < base; i++) {
		if (strncmp(environ[i], "DET_", 4) == 0)
			continue; /* the master's own DET_* must not leak into tasks */
		env[nenv] = strdup(environ[i]);
		if (!env[nenv++])
			goto out;
	}
	if (add_env(env, &nenv, "DET_MASTER=%s", a->master_url) ||
	    add_env(env, &nenv, "DET_EXPERIMENT_ID=%lld", (long long)a->experiment_id) ||
	    add_env(env, &nenv, "DET_ARRAY_TASK=%d", index) ||
	    add_env(env, &nenv, "DET_ALLOCATION_TOKEN=%s", a->token) ||
	    add_env(env, &nenv, "DET_SLOTS_PER_TRIAL=%d", a->slots_per_trial) ||
	    add_env(env, &nenv, "DET_PREEMPT_GRACE_SECONDS=%d", launch_grace_seconds(l->grace_ms)))
		goto out;
	if (a->slots_per_trial > 1) {
		snprintf(np, sizeof(np), "%d", a->slots_per_trial);
		argv[argc++] = "mpirun";
		argv[argc++] = "-np";
		argv[argc++] = np;
		argv[argc++] = "--oversubscribe";
		if (geteuid() == 0)
			argv[argc++] = "--allow-run-as-root";
	}
	argv[argc++] = l->launcher;
	argv[argc] = NULL;

	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_init(&fa);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                                    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (l->log_dir) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/e%lld-task%d.log", l->log_dir,
		         (long long)a->experiment_id, index);
		posix_spawn_file_actions_addopen(&fa, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0640);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	if (posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, env) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
out:
	for (int i = 0; i < nenv; i++)
		free(env[i]);
	free(env);
	return pid;
}

static int submit_array(struct rm *rm, const struct rm_array *spec, char *job_id, size_t idlen,
                        char *err, size_t errlen)
{
	struct rm_local *l = (struct rm_local *)rm;
	struct array *a = calloc(1, sizeof(*a));

	if (!a || spec->num_tasks <= 0)
		goto fail;
	a->tasks = calloc((size_t)spec->num_tasks, sizeof(*a->tasks));
	a->master_url = strdup(spec->master_url);
	a->token = strdup(spec->alloc_token);
	if (!a->tasks || !a->master_url || !a->token)
		goto fail;
	a->experiment_id = spec->experiment_id;
	a->num_tasks = spec->num_tasks;
	a->max_concurrent = spec->max_concurrent;
	a->slots_per_trial = spec->slots_per_trial > 0 ? spec->slots_per_trial : 1;
	pthread_mutex_lock(&l->lock);
	snprintf(a->id, sizeof(a->id), "local-%lld-%d", (long long)a->experiment_id, ++l->counter);
	for (int i = 0; i < a->num_tasks; i++) {
		if (spec->skip && spec->skip[i])
			a->tasks[i].state = TASK_DONE;
		/* A stored pid that is no longer the task is gone: never adopted,
		 * never signalled; the task counts as ended and runs again. */
		if (spec->adopt_pids && spec->adopt_starts &&
		    task_is_ours(a, i, spec->adopt_pids[i], spec->adopt_starts[i])) {
			a->tasks[i].state = TASK_RUNNING;
			a->tasks[i].pid = spec->adopt_pids[i];
			a->tasks[i].start = spec->adopt_starts[i];
			a->tasks[i].adopted = 1;
			l->used_slots += a->slots_per_trial;
		}
	}
	a->next = l->arrays;
	l->arrays = a;
	snprintf(job_id, idlen, "%s", a->id);
	pthread_mutex_unlock(&l->lock);
	return 0;
fail:
	snprintf(err, errlen, spec->num_tasks <= 0 ? "empty array" : "out of memory");
	if (a) {
		free(a->tasks);
		free(a->master_url);
		free(a->token);
		free(a);
	}
	return -1;
}

static int with_array(struct rm *rm, const char *job_id, int op, int task, char *err, size_t errlen)
{
	struct rm_local *l = (struct rm_local *)rm;
	struct array *a;
	int rv = 0;

	pthread_mutex_lock(&l->lock);
	a = find_array(l, job_id);
	if (!a) {
		snprintf(err, errlen, "no array %s", job_id);
		rv = -1;
		goto out;
	}
	switch (op) {
	case 0: /* cancel */
		a->canceled = 1;
		for (int i = 0; i < a->num_tasks; i++) {
			if (a->tasks[i].state == TASK_PENDING)
				a->tasks[i].state = TASK_DONE;
			a->tasks[i].requeue = 0;
			signal_task(l, a, i, SIGTERM);
		}
		break;
	case 1: /* hold */
		a->held = 1;
		for (int i = 0; i < a->num_tasks; i++) {
			if (a->tasks[i].state == TASK_RUNNING) {
				a->tasks[i].requeue = 1;
				signal_task(l, a, i, SIGTERM);
			}
		}
		break;
	case 2: /* release */
		a->held = 0;
		break;
	case 3: /* requeue */
		if (task < 0 || task >= a->num_tasks) {
			snprintf(err, errlen, "no task %d in %s", task, job_id);
			rv = -1;
		} else if (a->tasks[task].state == TASK_RUNNING) {
			a->tasks[task].requeue = 1;
			signal_task(l, a, task, SIGTERM);
		} else {
			a->tasks[task].state = TASK_PENDING;
		}
		break;
	}
out:
	pthread_mutex_unlock(&l->lock);
	return rv;
}

static int rm_cancel(struct rm *rm, const char *id, char *err, size_t errlen)
{
	return with_array(rm, id, 0, 0, err, errlen);
}
static int rm_hold(struct rm *rm, const char *id, char *err, size_t errlen)
{
	return with_array(rm, id, 1, 0, err, errlen);
}
static int rm_release(struct rm *rm, const char *id, char *err, size_t errlen)
{
	return with_array(rm, id, 2, 0, err, errlen);
}
static int rm_requeue(struct rm *rm, const char *id, int task, char *err, size_t errlen)
{
	return with_array(rm, id, 3, task, err, errlen);
}

/* Has a running task ended? Fills *status. */
static int task_ended(struct task *t, int *status)
{
	if (t->adopted) {
		if (proc_start_time(t->pid) == t->start)
			return 0; /* still the process verified at adoption */
		*status = -1;
		return 1;
	}
	pid_t r = waitpid(t->pid, status, WNOHANG);
	if (r == t->pid)
		return 1;
	if (r < 0 && errno == ECHILD) {
		*status = -1;
		return 1;
	}
	return 0;
}

static int rm_poll(struct rm *rm, struct rm_task_event *ev, int max)
{
	struct rm_local *l = (struct rm_local *)rm;
	uint64_t now = now_ms();
	int n = 0;

	pthread_mutex_lock(&l->lock);
	for (struct array *a = l->arrays; a && n < max; a = a->next) {
		int running = 0;
		for (int i = 0; i < a->num_tasks && n < max; i++) {
			struct task *t = &a->tasks[i];
			int status;
			if (t->state != TASK_RUNNING)
				continue;
			if (task_ended(t, &status)) {
				ev[n++] = (struct rm_task_event){
				    RM_TASK_ENDED, a->experiment_id, i, t->pid,
				    status,        t->requeue,       0, 0};
				t->state = t->requeue && !a->canceled ? TASK_PENDING : TASK_DONE;
				t->requeue = 0;
				t->pid = 0;
				t->adopted = 0;
				t->start = 0;
				t->kill_at_ms = 0;
				l->used_slots -= a->slots_per_trial;
				continue;
			}
			if (t->kill_at_ms && now >= t->kill_at_ms)
				signal_task(l, a, i, SIGKILL);
			running++;
		}
		for (int i = 0; i < a->num_tasks && n < max && !a->held && !a->canceled; i++) {
			struct task *t = &a->tasks[i];
			if (t->state != TASK_PENDING)
				continue;
			if (a->max_concurrent > 0 && running >= a->max_concurrent)
				break;
			/* A trial wider than the machine still runs alone (oversubscribed). */
			if (l->used_slots > 0 && l->used_slots + a->slots_per_trial > l->slots)
				break;
			pid_t pid = spawn_task(l, a, i);
			if (pid < 0) {
				t->state = TASK_DONE;
				ev[n++] = (struct rm_task_event){
				    RM_TASK_ENDED, a->experiment_id, i, 0, 127 << 8, 0, 0, 0};
				continue;
			}
			t->state = TASK_RUNNING;
			t->pid = pid;
			t->start = proc_start_time(pid); /* recorded to adopt it after a restart */
			l->used_slots += a->slots_per_trial;
			running++;
			ev[n++] = (struct rm_task_event){
			    RM_TASK_STARTED, a->experiment_id, i, pid, 0, 0, 0, t->start};
		}
	}
	/* Forget arrays with nothing left to do. */
	for (struct array **pp = &l->arrays; *pp;) {
		struct array *a = *pp;
		int live = 0;
		for (int i = 0; i < a->num_tasks; i++)
			live |= a->tasks[i].state != TASK_DONE;
		if (live || !a->canceled) {
			pp = &a->next;
			continue;
		}
		*pp = a->next;
		free(a->tasks);
		free(a->master_url);
		free(a->token);
		free(a);
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

static json_t *rm_nodes(struct rm *rm)
{
	struct rm_local *l = (struct rm_local *)rm;
	char host[256] = "localhost";
	json_t *out;

	gethostname(host, sizeof(host) - 1);
	pthread_mutex_lock(&l->lock);
	out = json_pack("[{s:s, s:s, s:i, s:i, s:s}]", "name", host, "state", "UP", "slots",
	                l->slots, "slots_used", l->used_slots, "resource_pool", "default");
	pthread_mutex_unlock(&l->lock);
	return out;
}

static void rm_free(struct rm *rm)
{
	struct rm_local *l = (struct rm_local *)rm;
	if (!l)
		return;
	while (l->arrays) {
		struct array *a = l->arrays;
		l->arrays = a->next;
		free(a->tasks);
		free(a->master_url);
		free(a->token);
		free(a);
	}
	free(l->launcher);
	free(l->log_dir);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static const struct rm_ops local_ops = {
    .name = "local",
    .submit_array = submit_array,
    .cancel = rm_cancel,
    .hold = rm_hold,
    .release = rm_release,
    .requeue = rm_requeue,
    .poll = rm_poll,
    .nodes = rm_nodes,
    .free = rm_free,
};

struct rm *rm_local_new(const struct rm_local_config *cfg, char *err, size_t errlen)
{
	struct rm_local *l = calloc(1, sizeof(*l));

	if (!l)
		goto oom;
	l->base.ops = &local_ops;
	pthread_mutex_init(&l->lock, NULL);
	l->launcher = strdup(cfg->launcher);
	l->log_dir = cfg->log_dir ? strdup(cfg->log_dir) : NULL;
	if (!l->launcher || (cfg->log_dir && !l->log_dir))
		goto oom;
	l->slots = cfg->slots > 0 ? cfg->slots : detect_slots();
	l->grace_ms = cfg->grace_seconds * 1000;
	return &l->base;
oom:
	snprintf(err, errlen, "out of memory");
	rm_free(l ? &l->base : NULL);
	return NULL;
}
