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
 * A master running as root starts another user's task as that user (fork,
 * then only async-signal-safe calls in the child: ids dropped and checked
 * before exec), never as root. A command runs under det-master itself as a
 * small waiter (RM_LOCAL_RUN_COMMAND): it records the command's wait status
 * in task-ID.status, so that a command adopted after a restart still ends
 * with its real exit status.
 */
#include "rm.h"
#include "launch_unpack.h"
#include "log.h"
#include "proc_stat.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
	long owner_uid; /* who the tasks run as (when the master is root) */
	int held, canceled;
	struct task *tasks;
	struct array *next;
	char **cmd_argv, **cmd_env; /* a command task's (rm_array.argv, env); NULL otherwise */
	char *context_path;         /* a command's context archive (rm_array); NULL = none */
};

/* A copy of the NULL-terminated string vector v (NULL stays NULL); *bad set when out of
 * memory. */
static char **strv_dup(const char *const *v, int *bad)
{
	size_t n = 0;
	if (!v)
		return NULL;
	while (v[n])
		n++;
	char **out = calloc(n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = strdup(v[i])))
			*bad = 1;
	if (!out)
		*bad = 1;
	return out;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void array_free(struct array *a)
{
	if (!a)
		return;
	free(a->tasks);
	free(a->master_url);
	free(a->token);
	strv_free(a->cmd_argv);
	strv_free(a->cmd_env);
	free(a->context_path);
	free(a);
}

struct rm_local {
	struct rm base;
	pthread_mutex_t lock;
	char *launcher;
	char *log_dir;
	const struct log_sink *log;
	char *ca_file; /* the tasks' DET_MASTER_CERT_FILE; NULL = none */
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

/* Does pid's environment hold the task's marker (DET_EXPERIMENT_ID and
 * DET_ARRAY_TASK as spawn_task set them; a command's DET_TASK_ID)? Readable by
 * root or the same uid. */
static int proc_has_marker(pid_t pid, int64_t experiment_id, int index)
{
	char path[64], want_exp[64], want_task[64];
	size_t cap = 1 << 16, len = 0;
	int found = 0, fd = -1;
	char *buf = malloc(cap + 1);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	snprintf(want_exp, sizeof(want_exp), "DET_EXPERIMENT_ID=%lld", (long long)experiment_id);
	snprintf(want_task, sizeof(want_task), "DET_ARRAY_TASK=%d", index);
	if (experiment_id < 0) /* a command: its task id alone */
		snprintf(want_exp, sizeof(want_exp), "DET_TASK_ID=%lld", -(long long)experiment_id);
	if (experiment_id < 0)
		snprintf(want_task, sizeof(want_task), "%s", want_exp);
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
	return pid > 0 && start > 0 && proc_stat_start_time(pid) == start &&
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

/* Everything a task's child process needs, prepared in the parent so that the
 * child does only async-signal-safe work between fork and exec. */
struct task_exec {
	int switch_ids; /* become the owner: uid, gid, groups, home, clean environment */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	char home[4096];
	char program[4096]; /* argv[0] resolved to a path */
	const char *argv[8];
	const char *const *cmd_argv; /* a command task's argv instead of argv; NULL otherwise */
	const char **wrap_argv;      /* a command's: det-master as its waiter, then cmd_argv */
	char cmd_program[4096];      /* a command's cmd_argv[0] resolved to a path */
	char status_path[4096];      /* a command's wait status file; "" = none */
	char context_path[4096];     /* a command's context archive; "" = none */
	char np[16];
	char **env;
	int nenv;
	char log_path[4096]; /* "" = inherit stdout/stderr */
	int max_fd;
};

#define TASK_PATH_ROOT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define TASK_PATH_USER "/usr/local/bin:/usr/bin:/bin"

static void task_exec_free(struct task_exec *x)
{
	for (int i = 0; i < x->nenv; i++)
		free(x->env[i]);
	free(x->env);
	free(x->groups);
	free(x->wrap_argv);
}

/* The owner's passwd entry and group list into x. 0, or -1 with err. */
static int task_owner(long uid, struct task_exec *x, char *shell, size_t shlen, char *user,
                      size_t ulen, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	long bufmax = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t blen = bufmax > 0 ? (size_t)bufmax : 16384;
	char *buf = NULL;
	int rv = -1, n = 64;

	if (uid < 0) {
		snprintf(err, errlen,
		         "the experiment's owner has no Unix account: the local resource "
		         "manager runs trials only as their owner's uid");
		goto fail;
	}
	buf = malloc(blen);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (getpwuid_r((uid_t)uid, &pw, buf, blen, &res) != 0 || !res) {
		snprintf(err, errlen, "uid %ld (the experiment's owner) has no passwd entry", uid);
		goto fail;
	}
	for (;;) {
		gid_t *g = realloc(x->groups, (size_t)n * sizeof(*g));
		if (!g) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		x->groups = g;
		int want = n;
		if (getgrouplist(pw.pw_name, pw.pw_gid, x->groups, &want) >= 0) {
			x->ngroups = want;
			break;
		}
		if (want <= n || want > 65536) {
			snprintf(err, errlen, "%s: cannot list its groups", pw.pw_name);
			goto fail;
		}
		n = want;
	}
	x->switch_ids = 1;
	x->uid = pw.pw_uid;
	x->gid = pw.pw_gid;
	snprintf(x->home, sizeof(x->home), "%s", pw.pw_dir && *pw.pw_dir ? pw.pw_dir : "/");
	snprintf(shell, shlen, "%s", pw.pw_shell && *pw.pw_shell ? pw.pw_shell : "/bin/sh");
	snprintf(user, ulen, "%s", pw.pw_name);
	rv = 0;
fail:
	free(buf);
	return rv;
}

/* The task's environment: the owner's basics (switching ids) or the master's own
 * (same user), never the master's DET_*, plus what det-launch needs. 0 or -1. */
static int task_env(const struct rm_local *l, struct array *a, int index, struct task_exec *x,
                    const char *shell, const char *user)
{
	static const char *const keep[] = {"LANG", "LC_ALL", "TZ"};
	size_t base = 0, extra = 0;

	while (!x->switch_ids && environ[base])
		base++;
	while (a->cmd_env && a->cmd_env[extra])
		extra++;
	x->env = calloc(base + extra + 24, sizeof(*x->env));
	if (!x->env)
		return -1;
	/* A command's own variables first: getenv finds the first of a name. */
	for (size_t i = 0; i < extra; i++) {
		x->env[x->nenv] = strdup(a->cmd_env[i]);
		if (!x->env[x->nenv++])
			return -1;
	}
	for (size_t i = 0; i < base; i++) {
		if (strncmp(environ[i], "DET_", 4) == 0)
			continue; /* the master's own DET_* must not leak into tasks */
		x->env[x->nenv] = strdup(environ[i]);
		if (!x->env[x->nenv++])
			return -1;
	}
	if (x->switch_ids) {
		if (add_env(x->env, &x->nenv, "HOME=%s", x->home) ||
		    add_env(x->env, &x->nenv, "USER=%s", user) ||
		    add_env(x->env, &x->nenv, "LOGNAME=%s", user) ||
		    add_env(x->env, &x->nenv, "SHELL=%s", shell) ||
		    add_env(x->env, &x->nenv, "PATH=%s",
		            x->uid == 0 ? TASK_PATH_ROOT : TASK_PATH_USER))
			return -1;
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
			const char *v = getenv(keep[i]);
			if (v && add_env(x->env, &x->nenv, "%s=%s", keep[i], v))
				return -1;
		}
	}
	if (a->cmd_argv)
		return add_env(x->env, &x->nenv, "DET_MASTER=%s", a->master_url) ||
		               add_env(x->env, &x->nenv, "DET_TASK_ID=%lld",
		                       (long long)-a->experiment_id) ||
		               (l->ca_file &&
		                add_env(x->env, &x->nenv, "DET_MASTER_CERT_FILE=%s", l->ca_file))
		           ? -1
		           : 0;
	if (add_env(x->env, &x->nenv, "DET_MASTER=%s", a->master_url) ||
	    add_env(x->env, &x->nenv, "DET_EXPERIMENT_ID=%lld", (long long)a->experiment_id) ||
	    add_env(x->env, &x->nenv, "DET_ARRAY_TASK=%d", index) ||
	    add_env(x->env, &x->nenv, "DET_ALLOCATION_TOKEN=%s", a->token) ||
	    add_env(x->env, &x->nenv, "DET_SLOTS_PER_TRIAL=%d", a->slots_per_trial) ||
	    add_env(x->env, &x->nenv, "DET_PREEMPT_GRACE_SECONDS=%d",
	            launch_grace_seconds(l->grace_ms)) ||
	    (l->ca_file && add_env(x->env, &x->nenv, "DET_MASTER_CERT_FILE=%s", l->ca_file)))
		return -1;
	return 0;
}

/* name as an executable path: itself when it has a '/', else the first match in
 * path. 0 or -1. */
static int resolve_program(const char *name, const char *path, char *out, size_t outlen)
{
	if (strchr(name, '/')) {
		snprintf(out, outlen, "%s", name);
		return 0;
	}
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		if (n > 0 &&
		    (size_t)snprintf(out, outlen, "%.*s/%s", (int)n, path, name) < outlen &&
		    access(out, X_OK) == 0)
			return 0;
		path = end ? end + 1 : NULL;
	}
	return -1;
}

/* In the child after a failure: say which step failed (to the task log) and exit. */
static void child_fail(const char *step, int code)
{
	static const char pre[] = "det-master: cannot start the task: ";
	ssize_t r = write(2, pre, sizeof(pre) - 1);
	r += write(2, step, strlen(step));
	r += write(2, "\n", 1);
	(void)r;
	_exit(code);
}

/* The child between fork and exec: async-signal-safe calls only. */
static void child_exec(const struct task_exec *x)
{
	struct sigaction dfl;
	sigset_t none;
	int fd;

	if (setpgid(0, 0) != 0)
		child_fail("setpgid", 126);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 0) < 0)
		child_fail("open /dev/null", 126);
	if (x->log_path[0]) {
		fd = open(x->log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0640);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			child_fail("open the task log", 126);
	}
	/* Nothing of the master's (database, sockets, listeners) reaches the task. */
	if (close_range(3, ~0U, 0) != 0)
		for (fd = 3; fd < x->max_fd; fd++)
			close(fd);
	/* The waiter's status file, opened while still the master's uid (its directory is
	 * the master's only); the waiter gets it as RM_LOCAL_STATUS_FD. */
	if (x->status_path[0]) {
		fd = open(x->status_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
		if (fd < 0 || (fd != RM_LOCAL_STATUS_FD &&
		               (dup2(fd, RM_LOCAL_STATUS_FD) < 0 || close(fd) != 0)))
			child_fail("open the task's status file", 126);
	}
	if (x->context_path[0]) {
		fd = open(x->context_path, O_RDONLY | O_NOFOLLOW);
		if (fd < 0 || (fd != RM_LOCAL_CONTEXT_FD &&
		               (dup2(fd, RM_LOCAL_CONTEXT_FD) < 0 || close(fd) != 0)))
			child_fail("open the task's context", 126);
	}
	if (x->switch_ids) {
		if (setgroups((size_t)x->ngroups, x->groups) != 0)
			child_fail("setgroups", 126);
		if (setgid(x->gid) != 0)
			child_fail("setgid", 126);
		if (setuid(x->uid) != 0)
			child_fail("setuid", 126);
		/* A drop that did not take must never exec. */
		if (getuid() != x->uid || geteuid() != x->uid || getgid() != x->gid ||
		    getegid() != x->gid || (x->uid != 0 && setuid(0) != -1))
			child_fail("dropping privileges", 126);
		if (chdir(x->home) != 0 && chdir("/") != 0)
			child_fail("chdir", 126);
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(x->program,
	       (char *const *)(x->wrap_argv  ? x->wrap_argv
	                       : x->cmd_argv ? x->cmd_argv
	                                     : x->argv),
	       x->env);
	if (x->wrap_argv && !x->context_path[0]) {
		/* det-master's binary is not the owner's to run: the command alone, its exit
		 * status then known only while this master runs (a context needs the waiter). */
		close(RM_LOCAL_STATUS_FD);
		execve(x->cmd_program, (char *const *)x->cmd_argv, x->env);
	}
	child_fail("execve", 127);
}

/* Run command a under det-master's waiter: x->program becomes this binary, x->wrap_argv
 * its argv (RM_LOCAL_RUN_COMMAND, the resolved program, the command's argv). 0 or -1. */
static int command_waiter(const struct rm_local *l, const struct array *a, struct task_exec *x,
                          char *err, size_t errlen)
{
	size_t n = 0;
	ssize_t len;

	while (x->cmd_argv[n])
		n++;
	x->wrap_argv = calloc(n + 4, sizeof(*x->wrap_argv));
	if (!x->wrap_argv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(x->cmd_program, x->program, sizeof(x->cmd_program));
	len = readlink("/proc/self/exe", x->program, sizeof(x->program) - 1);
	if (len <= 0 || (size_t)len >= sizeof(x->program) - 1) {
		snprintf(err, errlen, "/proc/self/exe: %s", len < 0 ? strerror(errno) : "too long");
		return -1;
	}
	x->program[len] = '\0';
	snprintf(x->status_path, sizeof(x->status_path), "%s/task-%lld.status", l->log_dir,
	         (long long)-a->experiment_id);
	snprintf(x->context_path, sizeof(x->context_path), "%s",
	         a->context_path ? a->context_path : "");
	x->wrap_argv[0] = "det-master";
	x->wrap_argv[1] = RM_LOCAL_RUN_COMMAND;
	x->wrap_argv[2] = x->cmd_program;
	for (size_t i = 0; i < n; i++)
		x->wrap_argv[3 + i] = x->cmd_argv[i];
	return 0;
}

/* Start task index of a; its pid, or -1 with err. When the master runs as root
 * and the experiment's owner is another uid, the task runs as the owner. */
static pid_t spawn_task(struct rm_local *l, struct array *a, int index, char *err, size_t errlen)
{
	struct task_exec x;
	char shell[4096] = "", user[256] = "";
	struct rlimit rl;
	int argc = 0;
	pid_t pid = -1;

	memset(&x, 0, sizeof(x));
	if (a->owner_uid != (long)geteuid()) {
		if (geteuid() != 0) {
			snprintf(err, errlen,
			         "this det-master runs as uid %u: it runs only that user's trials",
			         (unsigned)geteuid());
			goto fail;
		}
		if (task_owner(a->owner_uid, &x, shell, sizeof(shell), user, sizeof(user), err,
		               errlen))
			goto fail;
	}
	if (task_env(l, a, index, &x, shell, user)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (a->slots_per_trial > 1) {
		snprintf(x.np, sizeof(x.np), "%d", a->slots_per_trial);
		x.argv[argc++] = "mpirun";
		x.argv[argc++] = "-np";
		x.argv[argc++] = x.np;
		x.argv[argc++] = "--oversubscribe";
		if ((x.switch_ids ? x.uid : geteuid()) == 0)
			x.argv[argc++] = "--allow-run-as-root";
	}
	x.argv[argc++] = l->launcher;
	x.argv[argc] = NULL;
	if (a->cmd_argv)
		x.cmd_argv = (const char *const *)a->cmd_argv;
	if (resolve_program(x.cmd_argv ? x.cmd_argv[0] : x.argv[0],
	                    x.switch_ids ? (x.uid == 0 ? TASK_PATH_ROOT : TASK_PATH_USER)
	                                 : getenv("PATH"),
	                    x.program, sizeof(x.program))) {
		snprintf(err, errlen, "%s: not found", x.cmd_argv ? x.cmd_argv[0] : x.argv[0]);
		goto fail;
	}
	if (x.cmd_argv && l->log_dir && command_waiter(l, a, &x, err, errlen))
		goto fail;
	if (a->context_path && !x.wrap_argv) {
		snprintf(err, errlen, "a context needs the master's task log directory");
		goto fail;
	}
	if (l->log_dir && a->cmd_argv)
		snprintf(x.log_path, sizeof(x.log_path), "%s/task-%lld.log", l->log_dir,
		         (long long)-a->experiment_id);
	else if (l->log_dir)
		snprintf(x.log_path, sizeof(x.log_path), "%s/e%lld-task%d.log", l->log_dir,
		         (long long)a->experiment_id, index);
	x.max_fd =
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
	pid = fork();
	if (pid == 0)
		child_exec(&x);
	if (pid < 0)
		snprintf(err, errlen, "fork: %s", strerror(errno));
fail:
	task_exec_free(&x);
	return pid;
}

static int submit_array(struct rm *rm, const struct rm_array *spec, char *job_id, size_t idlen,
                        char *err, size_t errlen)
{
	struct rm_local *l = (struct rm_local *)rm;
	struct array *a = calloc(1, sizeof(*a));
	int bad = 0;

	if (!a || spec->num_tasks <= 0 || (spec->argv && (!spec->argv[0] || spec->num_tasks != 1)))
		goto fail;
	a->tasks = calloc((size_t)spec->num_tasks, sizeof(*a->tasks));
	a->master_url = strdup(spec->master_url);
	a->token = strdup(spec->alloc_token);
	a->cmd_argv = strv_dup(spec->argv, &bad);
	a->cmd_env = strv_dup(spec->env, &bad);
	a->context_path = spec->context_path ? strdup(spec->context_path) : NULL;
	if (!a->tasks || !a->master_url || !a->token || bad ||
	    (spec->context_path && !a->context_path))
		goto fail;
	a->experiment_id = spec->experiment_id;
	a->owner_uid = spec->owner_uid;
	a->num_tasks = spec->num_tasks;
	a->max_concurrent = spec->max_concurrent;
	a->slots_per_trial = spec->slots_per_trial > 0 ? spec->slots_per_trial : 1;
	a->held = spec->held;
	pthread_mutex_lock(&l->lock);
	if (a->cmd_argv)
		snprintf(a->id, sizeof(a->id), "task-%lld", (long long)-a->experiment_id);
	else
		snprintf(a->id, sizeof(a->id), "local-%lld-%d", (long long)a->experiment_id,
		         ++l->counter);
	for (int i = 0; i < a->num_tasks; i++) {
		if (spec->skip && spec->skip[i])
			a->tasks[i].state = TASK_DONE;
		/* A stored pid that is no longer the task is gone: never adopted,
		 * never signalled; the task counts as ended and runs again. */
		/* A command is never started again: adopted even when gone, so that poll
		 * ends it with the status its waiter recorded. */
		if (spec->adopt_ids && spec->adopt_starts &&
		    (task_is_ours(a, i, spec->adopt_ids[i], spec->adopt_starts[i]) ||
		     (a->cmd_argv && spec->adopt_ids[i] > 0 && spec->adopt_starts[i] > 0))) {
			a->tasks[i].state = TASK_RUNNING;
			a->tasks[i].pid = spec->adopt_ids[i];
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
	snprintf(err, errlen,
	         spec->num_tasks <= 0 ? "empty array"
	         : spec->argv && (!spec->argv[0] || spec->num_tasks != 1)
	             ? "a command task needs a non-empty argv and one task"
	             : "out of memory");
	array_free(a);
	return -1;
}

/* What rm_cancel/hold/release/requeue do to an array. */
enum array_op { ARRAY_CANCEL, ARRAY_HOLD, ARRAY_RELEASE, ARRAY_REQUEUE };

/* Apply op to the array job_id (task: ARRAY_REQUEUE only). */
static int control_array(struct rm *rm, const char *job_id, enum array_op op, int task, char *err,
                         size_t errlen)
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
	case ARRAY_CANCEL:
		a->canceled = 1;
		for (int i = 0; i < a->num_tasks; i++) {
			if (a->tasks[i].state == TASK_PENDING)
				a->tasks[i].state = TASK_DONE;
			a->tasks[i].requeue = 0;
			signal_task(l, a, i, SIGTERM);
		}
		break;
	case ARRAY_HOLD:
		a->held = 1;
		for (int i = 0; i < a->num_tasks; i++) {
			if (a->tasks[i].state == TASK_RUNNING) {
				a->tasks[i].requeue = 1;
				signal_task(l, a, i, SIGTERM);
			}
		}
		break;
	case ARRAY_RELEASE:
		a->held = 0;
		break;
	case ARRAY_REQUEUE:
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
	return control_array(rm, id, ARRAY_CANCEL, 0, err, errlen);
}
static int rm_hold(struct rm *rm, const char *id, char *err, size_t errlen)
{
	return control_array(rm, id, ARRAY_HOLD, 0, err, errlen);
}
static int rm_release(struct rm *rm, const char *id, char *err, size_t errlen)
{
	return control_array(rm, id, ARRAY_RELEASE, 0, err, errlen);
}
static int rm_requeue(struct rm *rm, const char *id, int task, char *err, size_t errlen)
{
	return control_array(rm, id, ARRAY_REQUEUE, task, err, errlen);
}

/* The wait status a command's waiter recorded in log_dir, or -1 when there is none. */
static int command_status(const char *log_dir, const struct array *a)
{
	char path[4096], buf[32];
	int fd, status = -1;
	ssize_t n;

	if (!log_dir || !a->cmd_argv)
		return -1;
	snprintf(path, sizeof(path), "%s/task-%lld.status", log_dir, (long long)-a->experiment_id);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%d", &status) != 1 || status < 0)
		status = -1;
	return status;
}

/* Has a running task ended? Fills *status. */
static int task_ended(const struct rm_local *l, const struct array *a, struct task *t, int *status)
{
	if (t->adopted) {
		if (proc_stat_start_time(t->pid) == t->start)
			return 0; /* still the process verified at adoption */
		*status = command_status(l->log_dir, a);
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
			if (task_ended(l, a, t, &status)) {
				ev[n++] = (struct rm_task_event){RM_TASK_ENDED,
				                                 a->experiment_id,
				                                 i,
				                                 t->pid,
				                                 status,
				                                 t->requeue,
				                                 0,
				                                 0,
				                                 0,
				                                 0,
				                                 ""};
				if (a->cmd_argv && status < 0)
					snprintf(ev[n - 1].reason, sizeof(ev[n - 1].reason),
					         "exit status unknown");
				if (a->context_path)
					unlink(a->context_path); /* unpacked: no longer needed */
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
			char why[512];
			pid_t pid = spawn_task(l, a, i, why, sizeof(why));
			if (pid < 0) {
				log_msg(l->log, LOG_LEVEL_ERROR, "experiment %lld: task %d: %s",
				        (long long)a->experiment_id, i, why);
				if (a->context_path)
					unlink(a->context_path);
				t->state = TASK_DONE;
				ev[n++] = (struct rm_task_event){RM_TASK_ENDED,
				                                 a->experiment_id,
				                                 i,
				                                 0,
				                                 127 << 8,
				                                 0,
				                                 0,
				                                 0,
				                                 0,
				                                 0,
				                                 ""};
				continue;
			}
			t->state = TASK_RUNNING;
			t->pid = pid;
			t->start =
			    proc_stat_start_time(pid); /* recorded to adopt it after a restart */
			l->used_slots += a->slots_per_trial;
			running++;
			ev[n++] = (struct rm_task_event){
			    RM_TASK_STARTED, a->experiment_id, i, pid, 0, 0, 0, t->start, 0, 0, ""};
		}
	}
	/* Forget arrays with nothing left to do. */
	for (struct array **pp = &l->arrays; *pp;) {
		struct array *a = *pp;
		int live = 0;
		for (int i = 0; i < a->num_tasks; i++)
			live |= a->tasks[i].state != TASK_DONE;
		if (live || (!a->canceled && !a->cmd_argv)) {
			pp = &a->next;
			continue;
		}
		*pp = a->next;
		array_free(a);
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
		array_free(a);
	}
	free(l->launcher);
	free(l->log_dir);
	free(l->ca_file);
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
	l->ca_file = cfg->ca_file && *cfg->ca_file ? strdup(cfg->ca_file) : NULL;
	if (!l->launcher || (cfg->log_dir && !l->log_dir) ||
	    (cfg->ca_file && *cfg->ca_file && !l->ca_file))
		goto oom;
	l->log = cfg->log;
	l->slots = cfg->slots > 0 ? cfg->slots : detect_slots();
	l->grace_ms = cfg->grace_seconds * 1000;
	return &l->base;
oom:
	snprintf(err, errlen, "out of memory");
	rm_free(l ? &l->base : NULL);
	return NULL;
}

/* nftw callback: remove one entry of a context directory (deepest first). */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) != 0 ? -1 : 0;
}

/* The waiter's context: the archive on RM_LOCAL_CONTEXT_FD unpacked into a new directory
 * (dir) that becomes the working directory. 0 when there is none or it is unpacked;
 * -1 after saying why on stderr. */
static int context_enter(char *dir, size_t dirlen)
{
	char err[1024] = "";
	struct stat st;
	unsigned char *data = NULL;
	size_t len = 0;
	int rv = -1, fd = RM_LOCAL_CONTEXT_FD;

	dir[0] = '\0';
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
		return 0; /* no context */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > (off_t)(512L << 20)) {
		snprintf(err, sizeof(err), "not a readable archive");
		goto fail;
	}
	data = malloc((size_t)st.st_size);
	if (!data) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, sizeof(err), "read: %s", n < 0 ? strerror(errno) : "short");
			goto fail;
		}
		len += (size_t)n;
	}
	snprintf(dir, dirlen, "/tmp/det-context-XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(err, sizeof(err), "mkdtemp %s: %s", dir, strerror(errno));
		dir[0] = '\0';
		goto fail;
	}
	/* The checks of a model definition: no "..", no absolute paths or links out of the
	 * directory, no devices, size and entry limits. */
	if (launch_unpack(data, len, dir, NULL, err, sizeof(err)) || chdir(dir) != 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "chdir %s: %s", dir, strerror(errno));
		goto fail;
	}
	rv = 0;
fail:
	if (rv)
		fprintf(stderr, "det-master: the command's context is refused: %s\n", err);
	if (rv && dir[0])
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(data);
	close(fd);
	return rv;
}

int rm_local_run_command(int argc, char **argv)
{
	static const int passed[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
	struct sigaction ign, dfl;
	struct rlimit no_core = {0, 0};
	char line[32], dir[64];
	int status = 0, sfd = RM_LOCAL_STATUS_FD;
	pid_t pid = -1, r = -1;

	if (argc < 2) {
		fprintf(stderr, "det-master %s: expected PROGRAM ARGV0 [ARG...]\n",
		        RM_LOCAL_RUN_COMMAND);
		return 126;
	}
	memset(&ign, 0, sizeof(ign));
	memset(&dfl, 0, sizeof(dfl));
	ign.sa_handler = SIG_IGN;
	dfl.sa_handler = SIG_DFL;
	if (fcntl(sfd, F_SETFD, FD_CLOEXEC) != 0)
		sfd = -1; /* not started by the local manager: nothing to record */
	if (context_enter(dir, sizeof(dir))) {
		status = 126 << 8;
		goto done;
	}
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaction(passed[i], &ign, NULL);
	pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
			sigaction(passed[i], &dfl, NULL);
		execv(argv[0], argv + 1);
		fprintf(stderr, "det-master: cannot start the task: execve: %s\n", strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		fprintf(stderr, "det-master: cannot start the task: fork: %s\n", strerror(errno));
	while (pid > 0 && (r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (pid < 0 || r != pid)
		status = 126 << 8;
	if (dir[0] && (chdir("/") != 0 || nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0))
		fprintf(stderr, "det-master: %s: not removed: %s\n", dir, strerror(errno));
done:;
	int len = snprintf(line, sizeof(line), "%d\n", status);
	if (sfd >= 0 && write(sfd, line, (size_t)len) != len)
		fprintf(stderr, "det-master: the task's exit status was not recorded: %s\n",
		        strerror(errno));
	if (WIFSIGNALED(status)) {
		/* End by the same signal, without a core of our own. */
		setrlimit(RLIMIT_CORE, &no_core);
		sigaction(WTERMSIG(status), &dfl, NULL);
		raise(WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 126;
}
