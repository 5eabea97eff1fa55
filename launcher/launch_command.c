/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch --command: a command task's context on a Slurm node. The job
 * (already its owner's uid, gid and groups: Slurm started it) fetches the
 * context from the master with the task's own token, the way rank 0 fetches
 * a model definition, unpacks it with the model definition's checks into a
 * fresh directory, runs the command there and removes the directory after.
 * Non-obvious decision: termination signals are blocked and read with
 * sigwaitinfo, then passed to the command, so the directory is removed
 * whichever process Slurm signals, and no handler or global is needed.
 */
#include "launch_command.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch_master.h"
#include "launch_unpack.h"

/* nftw callback: remove one entry of the context directory (deepest first). */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) != 0 ? -1 : 0;
}

/* The task's context fetched and unpacked into a new directory dir ($TMPDIR or /tmp).
 * 0, or -1 with err (nothing left behind). */
static int context_fetch(size_t max_bytes, char *dir, size_t dirlen, char *err, size_t errlen)
{
	const char *master = getenv("DET_MASTER"), *token = getenv("DET_TASK_TOKEN");
	const char *id_s = getenv("DET_TASK_ID"), *tmp = getenv("TMPDIR");
	char *data = NULL, *end = NULL;
	size_t len = 0;
	int rv = -1;

	dir[0] = '\0';
	long long id = id_s ? strtoll(id_s, &end, 10) : 0;
	if (!master || !*master || !token || !*token || !end || *end || id <= 0) {
		snprintf(err, errlen, "DET_MASTER, DET_TASK_TOKEN and DET_TASK_ID must be set");
		return -1;
	}
	if (launch_master_task_context(master, token, id, max_bytes, &data, &len, err, errlen))
		return -1;
	if (snprintf(dir, dirlen, "%s/det-context-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp") >=
	        (int)dirlen ||
	    !mkdtemp(dir)) {
		snprintf(err, errlen, "mkdtemp in %s: %s", tmp && tmp[0] == '/' ? tmp : "/tmp",
		         strerror(errno));
		dir[0] = '\0';
		goto fail;
	}
	/* The checks of a model definition: no "..", no absolute paths or links out of the
	 * directory, no devices, size and entry limits. */
	if (launch_unpack(data, len, dir, NULL, err, errlen))
		goto fail;
	rv = 0;
fail:
	if (rv && dir[0]) {
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		dir[0] = '\0';
	}
	free(data);
	return rv;
}

/* Run argv in dir with sigs unblocked; pass each of sigs to it until it ends. Its wait
 * status, or 126 << 8 when it could not be started. */
static int run_in(char **argv, const char *dir, const sigset_t *sigs, const sigset_t *old)
{
	int status = 126 << 8;
	siginfo_t si;
	pid_t pid = fork();

	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		if (chdir(dir) != 0) {
			fprintf(stderr, "det-launch: chdir %s: %s\n", dir, strerror(errno));
			_exit(126);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "det-launch: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (pid < 0) {
		fprintf(stderr, "det-launch: fork: %s\n", strerror(errno));
		return status;
	}
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "det-launch: waitpid: %s\n", strerror(errno));
			return 126 << 8;
		}
		if (sigwaitinfo(sigs, &si) > 0 && si.si_signo != SIGCHLD)
			kill(pid, si.si_signo);
	}
}

int launch_command_run(int argc, char **argv, size_t max_bytes)
{
	static const int passed[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	char dir[4096], err[1024];
	sigset_t sigs, old;
	struct rlimit no_core = {0, 0};
	int status;

	if (argc < 1 || !argv[0][0]) {
		fprintf(stderr, "usage: det-launch --command PROGRAM [ARG...]\n");
		return 2;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaddset(&sigs, passed[i]);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	if (context_fetch(max_bytes, dir, sizeof(dir), err, sizeof(err))) {
		fprintf(stderr, "det-launch: the command's context is refused: %s\n", err);
		return 126;
	}
	status = run_in(argv, dir, &sigs, &old);
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "det-launch: %s: not removed: %s\n", dir, strerror(errno));
	if (WIFSIGNALED(status)) {
		/* End by the same signal (the job's state says so), without a core. */
		setrlimit(RLIMIT_CORE, &no_core);
		sigemptyset(&sigs);
		sigaddset(&sigs, WTERMSIG(status));
		signal(WTERMSIG(status), SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		raise(WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 126;
}
