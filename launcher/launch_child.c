/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The entrypoint as a child process in its own process group. One poll()
 * loop reads its stdout and stderr pipes line by line (to our own output
 * and to the log queue), the launcher's signalfd (a preemption request)
 * and, every 100 ms, the abort file other ranks create on failure.
 * Non-obvious: a preemption request (SIGUSR1) does not signal the child; it
 * creates the preempt file the trial polls through should_preempt. After a
 * SIGTERM or SIGINT, halfway through the grace period, the entrypoint's
 * process group gets a SIGTERM too (the Core APIs take it as a preemption
 * request as well). det-launch is a child
 * subreaper, so what the entrypoint orphans (the process behind `sh -c`,
 * daemons) is reparented to it; when the grace period ends, or once the
 * entrypoint has exited, every remaining descendant is killed.
 */
#include "launch_child.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define CHILD_LINE_BYTES 65536
#define CHILD_ABORT_GRACE_SECONDS 10
#define CHILD_REAP_MS 5000

struct line_buf {
	int fd;
	const char *stream;
	FILE *out;
	char buf[CHILD_LINE_BYTES];
	size_t len;
};

/* A dotted Python name: [A-Za-z_][A-Za-z0-9_]* parts joined by dots; the end of it. */
static const char *dotted_name_end(const char *s)
{
	for (;;) {
		if (!(isalpha((unsigned char)*s) || *s == '_'))
			return NULL;
		while (isalnum((unsigned char)*s) || *s == '_')
			s++;
		if (*s != '.')
			return s;
		s++;
	}
}

int launch_entrypoint_is_trial_class(const char *s)
{
	const char *p = dotted_name_end(s);
	if (!p || *p != ':')
		return 0;
	p = dotted_name_end(p + 1);
	return p && *p == '\0';
}

const char **launch_child_argv(const json_t *entrypoint, char *err, size_t errlen)
{
	const char **argv = NULL;
	if (json_is_string(entrypoint)) {
		if (json_string_length(entrypoint) == 0)
			goto bad;
		argv = calloc(5, sizeof(*argv));
		if (!argv)
			goto oom;
		if (launch_entrypoint_is_trial_class(json_string_value(entrypoint))) {
			/* Determined's legacy form: run that PyTorchTrial through the Trainer */
			argv[0] = "python3";
			argv[1] = "-m";
			argv[2] = "determined.exec.harness";
			argv[3] = json_string_value(entrypoint);
			return argv;
		}
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = json_string_value(entrypoint);
		return argv;
	}
	size_t n = json_array_size(entrypoint);
	if (!json_is_array(entrypoint) || n == 0)
		goto bad;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		argv[i] = json_string_value(json_array_get(entrypoint, i));
		if (!argv[i]) {
			free(argv);
			goto bad;
		}
	}
	return argv;
bad:
	snprintf(err, errlen, "entrypoint: expected a non-empty string or a list of strings");
	return NULL;
oom:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void emit_line(const struct launch_child_opts *o, struct line_buf *b, const char *line,
                      size_t len)
{
	if (o->prefix_lines)
		fprintf(b->out, "[rank %d] %.*s\n", o->rank, (int)len, line);
	else
		fprintf(b->out, "%.*s\n", (int)len, line);
	fflush(b->out);
	if (o->logq)
		launch_logq_push(o->logq, b->stream, line, len);
	if (o->reason && b->out == stderr)
		launch_reason_feed(o->reason, line, len);
}

static void close_buf(const struct launch_child_opts *o, struct line_buf *b)
{
	if (b->len)
		emit_line(o, b, b->buf, b->len);
	b->len = 0;
	close(b->fd);
	b->fd = -1;
}

/* Read what is there and emit complete lines; closes the fd at EOF. */
static void pump(const struct launch_child_opts *o, struct line_buf *b)
{
	ssize_t n = read(b->fd, b->buf + b->len, sizeof(b->buf) - b->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_buf(o, b);
		return;
	}
	b->len += (size_t)n;
	size_t start = 0;
	for (size_t i = 0; i < b->len; i++) {
		if (b->buf[i] != '\n')
			continue;
		size_t l = i - start;
		if (l && b->buf[start + l - 1] == '\r')
			l--;
		emit_line(o, b, b->buf + start, l);
		start = i + 1;
	}
	memmove(b->buf, b->buf + start, b->len - start);
	b->len -= start;
	if (b->len == sizeof(b->buf)) { /* a line longer than the buffer: cut it */
		emit_line(o, b, b->buf, b->len);
		b->len = 0;
	}
}

/* The hook det-launch runs before the entrypoint, in the entrypoint's shell so
 * that its exports reach it. A fixed script: the user's argv follows as "$@".
 * The EXIT trap also catches a hook that calls exit (which ends the shell);
 * the shell then never exits 0, as the entrypoint did not run. */
static const char hook_script[] =
    "trap 'st=$?; echo \"det-launch: " LAUNCH_STARTUP_HOOK " failed (exit status $st); the "
    "entrypoint was not run\" >&2; [ $st -ne 0 ] || st=1; exit $st' EXIT; . ./" LAUNCH_STARTUP_HOOK
    " || exit; trap - EXIT; exec \"$@\"";

int launch_child_has_hook(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	if (!dir ||
	    snprintf(path, sizeof(path), "%s/%s", dir, LAUNCH_STARTUP_HOOK) >= (int)sizeof(path))
		return 0;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char **launch_child_hook_argv(const char **argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	const char **w = calloc(n + 5, sizeof(*w));
	if (!w)
		return NULL;
	w[0] = "/bin/sh";
	w[1] = "-c";
	w[2] = hook_script;
	w[3] = "sh"; /* $0 */
	memcpy(w + 4, argv, n * sizeof(*w));
	return w;
}

static pid_t spawn(const struct launch_child_opts *o, const char **argv, int out[2], int errp[2],
                   char *err, size_t errlen)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		/* its own process group, so it must not outlive a launcher killed with SIGKILL */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		close(out[0]);
		close(errp[0]);
		close(out[1]);
		close(errp[1]);
		if (o->cwd && chdir(o->cwd) < 0) {
			dprintf(STDERR_FILENO, "det-launch: chdir %s: %s\n", o->cwd,
			        strerror(errno));
			_exit(127);
		}
		/* execvpe searches the launcher's PATH; the trial's own PATH must win */
		environ = o->env;
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "det-launch: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid); /* also here, so the group exists before we ever signal it */
	return pid;
}

/* 0: nothing read; 1: a preemption request; 2: one that ends the trial too
 * (SIGTERM, SIGINT: passed on to the entrypoint's group). */
static int signal_requested(int fd)
{
	struct signalfd_siginfo si;
	int got = 0;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int ends = si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT;
		got = ends ? 2 : got > 1 ? got : 1;
	}
	return got;
}

/* The parent pid of pid from /proc/PID/stat, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold anything */
	int ppid;
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/* SIGKILL every descendant of this process that /proc shows; how many. */
static int kill_descendants(void)
{
	pid_t self = getpid(), *pids = NULL, *ppids = NULL;
	size_t n = 0, cap = 0;
	int killed = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		if (*end || v <= 0 || v == self)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 256;
			pid_t *np = realloc(pids, nc * sizeof(*np)), *npp;
			if (!np)
				break;
			pids = np;
			npp = realloc(ppids, nc * sizeof(*npp));
			if (!npp)
				break;
			ppids = npp;
			cap = nc;
		}
		pids[n] = (pid_t)v;
		ppids[n++] = parent_of((pid_t)v);
	}
	closedir(d);
	/* Mark descendants: a parent marked (its ppid set to self) marks its
	 * children, until nothing changes. */
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			if (ppids[i] == self)
				continue;
			for (size_t j = 0; j < n; j++) {
				if (ppids[j] == self && pids[j] == ppids[i]) {
					ppids[i] = self;
					changed = 1;
					break;
				}
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (ppids[i] == self && kill(pids[i], SIGKILL) == 0)
			killed++;
	}
	free(pids);
	free(ppids);
	return killed;
}

/* Reap every child that has ended; *status gets pid's status if it did. */
static int reap(pid_t pid, int *status)
{
	int st, got = 0;
	pid_t w;
	while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
		if (w == pid) {
			*status = st;
			got = 1;
		}
	}
	return got;
}

/* Has this process a child, running or ended and not reaped? As a subreaper it
 * inherits every orphan below it, so without a child it has no descendant at all. */
static int has_children(void)
{
	siginfo_t si;
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

/* End everything the entrypoint started: its process group, then every
 * descendant (orphans come back to us as subreaper), until none is left or
 * CHILD_REAP_MS have passed (a process stuck in the kernel). The scan of /proc
 * (every process of the node) runs only while a child is left: after a trial
 * that left nothing behind, the usual case, the end costs one waitid. */
static void kill_tree(pid_t pgid, pid_t pid, int *exited, int *status)
{
	long until = now_ms() + CHILD_REAP_MS;
	kill(-pgid, SIGKILL);
	for (;;) {
		if (reap(pid, status))
			*exited = 1;
		int left = has_children() ? kill_descendants() : 0;
		if ((!left && *exited) || now_ms() >= until)
			break;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (reap(pid, status))
		*exited = 1;
}

static void touch(const char *path)
{
	if (!path)
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

int launch_child_run(const struct launch_child_opts *o, struct launch_child_result *r, char *err,
                     size_t errlen)
{
	int rv = -1, out[2] = {-1, -1}, errp[2] = {-1, -1}, status = 0, exited = 0;
	long kill_at = -1, term_at = -1, next_check = 0, exited_at = 0, closed_at = -1;
	struct line_buf *bo = NULL, *be = NULL;
	const char **argv = launch_child_argv(o->entrypoint, err, errlen);
	memset(r, 0, sizeof(*r));
	if (!argv)
		return -1;
	if (launch_child_has_hook(o->cwd)) {
		const char **w = launch_child_hook_argv(argv);
		if (!w) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		free(argv);
		argv = w;
	}
	bo = calloc(1, sizeof(*bo));
	be = calloc(1, sizeof(*be));
	if (!bo || !be) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* Orphans of the entrypoint come back to us, so they can be ended too. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fprintf(stderr, "det-launch: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
	pid_t pid = spawn(o, argv, out, errp, err, errlen);
	if (pid < 0)
		goto fail;
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	*bo = (struct line_buf){.fd = out[0], .stream = "stdout", .out = stdout};
	*be = (struct line_buf){.fd = errp[0], .stream = "stderr", .out = stderr};
	out[0] = errp[0] = -1;
	while (!exited || bo->fd >= 0 || be->fd >= 0) {
		struct pollfd p[3] = {
		    {bo->fd, POLLIN, 0}, {be->fd, POLLIN, 0}, {o->signal_fd, POLLIN, 0}};
		/* Once both pipes are closed the child is likely ending: look for
		 * its exit often for a while, so that a short trial does not wait
		 * out a 100 ms tick (a child that lives on without them goes back
		 * to the tick). */
		if (bo->fd < 0 && be->fd < 0 && closed_at < 0)
			closed_at = now_ms();
		int ending = closed_at >= 0 && now_ms() - closed_at < 500;
		int rc = poll(p, 3, ending ? 2 : 100);
		if (rc < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			kill(-pid, SIGKILL);
		}
		if (bo->fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			pump(o, bo);
		if (be->fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			pump(o, be);
		long now = now_ms();
		int sig = o->signal_fd >= 0 && (p[2].revents & POLLIN)
		              ? signal_requested(o->signal_fd)
		              : 0;
		if (sig && !r->preempted) {
			r->preempted = 1;
			touch(o->preempt_file);
			kill_at = now + o->grace_seconds * 1000L;
		}
		if (sig == 2 && term_at == -1)
			term_at = kill_at >= 0 ? now + (kill_at - now) / 2 : now;
		if (!exited && (now >= next_check || ending)) {
			next_check = now + 100;
			if (!r->aborted && o->abort_file && access(o->abort_file, F_OK) == 0) {
				r->aborted = 1;
				kill(-pid, SIGTERM);
				long at = now + CHILD_ABORT_GRACE_SECONDS * 1000L;
				kill_at = kill_at < 0 || at < kill_at ? at : kill_at;
			}
			/* also reaps the orphans that came back to us */
			if (reap(pid, &status)) {
				exited = 1;
				exited_at = now;
			}
		}
		if (term_at >= 0 && now >= term_at) {
			/* Halfway through the grace period: SIGTERM for what does not
			 * poll the preempt file. Not at once, so that a trial still
			 * starting up (before its Core API holds SIGTERM) is not
			 * killed instead of preempted. */
			if (!exited)
				kill(-pid, SIGTERM);
			term_at = -2;
		} else if (kill_at >= 0 && now >= kill_at) {
			kill_tree(pid, pid, &exited, &status);
			if (exited && !exited_at)
				exited_at = now;
			kill_at = -1;
		}
		if (exited && now - exited_at > 2000) {
			/* a descendant still holds the pipes: it goes with the rest */
			kill_tree(pid, pid, &exited, &status);
			if (bo->fd >= 0)
				close_buf(o, bo);
			if (be->fd >= 0)
				close_buf(o, be);
		}
	}
	/* Nothing the entrypoint started outlives it (daemons, ignored SIGTERM). */
	kill_tree(pid, pid, &exited, &status);
	if (WIFSIGNALED(status)) {
		r->signal = WTERMSIG(status);
		r->exit_code = 128 + r->signal;
	} else {
		r->exit_code = WEXITSTATUS(status);
	}
	if ((r->exit_code != 0 || r->signal) && !r->aborted && o->abort_file)
		touch(o->abort_file);
	rv = 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (bo && bo->fd >= 0)
		close(bo->fd);
	if (be && be->fd >= 0)
		close(be->fd);
	free(bo);
	free(be);
	free(argv);
	return rv;
}
