/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch running real entrypoints: argv vs /bin/sh -c, output relayed
 * line by line per stream, exit codes and signals, preemption through the
 * preempt file and the grace-period kill, another rank's abort; and the
 * file rendezvous that shares assignments between ranks.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "launch_child.h"
#include "launch_share.h"
#include "unit_tmpdir.h"

struct fixture {
	char dir[64];
	char preempt[128], abort_file[128], spill[128];
	struct launch_logq *q;
	json_t *got;
};

static int collect(void *ctx, const json_t *body, char *err, size_t errlen)
{
	json_t *got = ctx;
	size_t i;
	json_t *e;
	json_t *logs = json_object_get(body, "logs");
	for (i = 0; i < json_array_size(logs); i++) {
		e = json_array_get(logs, i);
		json_array_append(got, e);
	}
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = unit_dir_fixture_new(sizeof(*f), sizeof(f->dir), "test_child_");
	char err[256];
	if (!f)
		return -1;
	snprintf(f->preempt, sizeof(f->preempt), "%s/preempt", f->dir);
	snprintf(f->abort_file, sizeof(f->abort_file), "%s/abort", f->dir);
	snprintf(f->spill, sizeof(f->spill), "%s/spill", f->dir);
	f->q = launch_logq_new(2, 1000, f->spill, 1 << 20, err, sizeof(err));
	f->got = json_array();
	*state = f;
	return f->q ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	launch_logq_free(f->q);
	json_decref(f->got);
	return unit_dir_fixture_free(state);
}

static char *child_env[] = {"PATH=/usr/bin:/bin", "GREETING=hello", NULL};

static struct launch_child_opts opts(struct fixture *f, json_t *ep)
{
	struct launch_child_opts o = {ep, child_env,  f->dir,        2, 1,   f->q,
	                              -1, f->preempt, f->abort_file, 1, NULL};
	return o;
}

static void run_ok(struct fixture *f, const char *ep_json, struct launch_child_result *r)
{
	char err[256];
	json_t *ep = json_loads(ep_json, JSON_DECODE_ANY, NULL);
	assert_non_null(ep);
	struct launch_child_opts o = opts(f, ep);
	if (launch_child_run(&o, r, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	json_decref(ep);
	assert_true(launch_logq_ship(f->q, 100, collect, f->got, err, sizeof(err)) >= 0);
}

static const char *line_at(struct fixture *f, size_t i, const char **stream)
{
	json_t *e = json_array_get(f->got, i);
	if (stream)
		*stream = json_string_value(json_object_get(e, "stream"));
	return json_string_value(json_object_get(e, "line"));
}

static void test_string_entrypoint_runs_through_sh_with_env_and_cwd(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	run_ok(f, "\"echo $GREETING; pwd; echo oops >&2; exit 3\"", &r);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(r.signal, 0);
	assert_int_equal(json_array_size(f->got), 3);
	const char *stream;
	/* stdout lines in order; stderr's line may interleave anywhere */
	size_t out_i = 0;
	for (size_t i = 0; i < 3; i++) {
		const char *l = line_at(f, i, &stream);
		if (!strcmp(stream, "stderr")) {
			assert_string_equal(l, "oops");
			continue;
		}
		assert_string_equal(l, out_i == 0 ? "hello" : f->dir);
		out_i++;
	}
	assert_int_equal(json_integer_value(json_object_get(json_array_get(f->got, 0), "rank")), 2);
	assert_true(launch_share_exists(f->dir, "abort")); /* a failure tells the other ranks */
}

static void write_hook(struct fixture *f, const char *text)
{
	char path[192];
	snprintf(path, sizeof(path), "%s/startup-hook.sh", f->dir);
	FILE *h = fopen(path, "w");
	assert_non_null(h);
	fputs(text, h);
	fclose(h);
}

/* The hook runs in the entrypoint's shell first: its exports reach an argv entrypoint,
 * whose arguments stay arguments (no word splitting, no expansion). */
static void test_startup_hook_exports_reach_the_entrypoint(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	write_hook(f, "echo hook ran\nexport FROM_HOOK=\"from hook\"\n");
	run_ok(
	    f,
	    "[\"/bin/sh\", \"-c\", \"echo \\\"$FROM_HOOK/$GREETING/$1\\\"\", \"x\", \"a b;$(id)\"]",
	    &r);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(json_array_size(f->got), 2);
	assert_string_equal(line_at(f, 0, NULL), "hook ran");
	assert_string_equal(line_at(f, 1, NULL), "from hook/hello/a b;$(id)");
}

/* A failing hook: its output in the logs, its status as the trial's, no entrypoint. */
static void test_failing_startup_hook_stops_the_trial(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	write_hook(f, "echo setting up\nfalse_command_that_does_not_exist\n");
	run_ok(f, "\"echo entrypoint ran\"", &r);
	assert_int_not_equal(r.exit_code, 0);
	int saw_hook = 0, saw_reason = 0;
	for (size_t i = 0; i < json_array_size(f->got); i++) {
		const char *l = line_at(f, i, NULL);
		assert_null(strstr(l, "entrypoint ran"));
		saw_hook |= !strcmp(l, "setting up");
		saw_reason |= strstr(l, "startup-hook.sh failed (exit status 127)") != NULL;
	}
	assert_true(saw_hook);
	assert_true(saw_reason);
	/* a link named startup-hook.sh is not a hook */
	char path[192];
	snprintf(path, sizeof(path), "%s/startup-hook.sh", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/bin/false", path), 0);
	assert_false(launch_child_has_hook(f->dir));
	assert_int_equal(unlink(path), 0);
}

static void test_list_entrypoint_is_argv_not_shell(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	run_ok(f, "[\"printf\", \"%s|\\n\", \"a b\", \"$HOME; rm -rf /\", \"*\"]", &r);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(json_array_size(f->got), 3);
	assert_string_equal(line_at(f, 0, NULL), "a b|");
	assert_string_equal(line_at(f, 1, NULL), "$HOME; rm -rf /|");
	assert_string_equal(line_at(f, 2, NULL), "*|");
	assert_false(launch_share_exists(f->dir, "abort"));
}

static void test_trial_class_entrypoint_runs_the_harness(void **state)
{
	(void)state;
	char err[256];
	json_t *ep = json_string("model_def:MyTrial");
	const char **argv = launch_child_argv(ep, err, sizeof(err));
	assert_non_null(argv);
	assert_string_equal(argv[0], "python3");
	assert_string_equal(argv[2], "determined.exec.harness");
	assert_string_equal(argv[3], "model_def:MyTrial");
	assert_null(argv[4]);
	free(argv);
	json_decref(ep);
	assert_true(launch_entrypoint_is_trial_class("pkg.model_def:Outer.Trial"));
	const char *not_classes[] = {"python3 train.py",
	                             "a:b c",
	                             ":T",
	                             "m:",
	                             "m:T;x",
	                             "1m:T",
	                             "m::T",
	                             "m.:T",
	                             "./m:T",
	                             "m:T:U"};
	for (size_t i = 0; i < sizeof(not_classes) / sizeof(*not_classes); i++)
		assert_false(launch_entrypoint_is_trial_class(not_classes[i]));
	ep = json_string("python3 train.py");
	argv = launch_child_argv(ep, err, sizeof(err));
	assert_non_null(argv);
	assert_string_equal(argv[0], "/bin/sh");
	free(argv);
	json_decref(ep);
}

static void test_list_entrypoint_found_on_the_trials_path(void **state)
{
	struct fixture *f = *state;
	char path_var[160], tool[160], err[256];
	struct launch_child_result r;
	snprintf(tool, sizeof(tool), "%s/det-test-tool", f->dir);
	FILE *fp = fopen(tool, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\necho found on PATH\n", fp);
	fclose(fp);
	assert_int_equal(chmod(tool, 0755), 0);
	snprintf(path_var, sizeof(path_var), "PATH=%s:/usr/bin:/bin", f->dir);
	char *env[] = {path_var, NULL};
	json_t *ep = json_pack("[s]", "det-test-tool");
	struct launch_child_opts o = opts(f, ep);
	o.env = env;
	assert_int_equal(launch_child_run(&o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.exit_code, 0);
	assert_true(launch_logq_ship(f->q, 100, collect, f->got, err, sizeof(err)) >= 0);
	assert_string_equal(line_at(f, 0, NULL), "found on PATH");
	json_decref(ep);
}

static void test_missing_program_and_bad_entrypoints(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	char err[256];
	run_ok(f, "[\"/nonexistent/program\"]", &r);
	assert_int_equal(r.exit_code, 127);
	assert_non_null(strstr(line_at(f, 0, NULL), "cannot run /nonexistent/program"));
	const char *bad[] = {"\"\"", "[]", "[1]", "{}", "3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *ep = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		struct launch_child_opts o = opts(f, ep);
		assert_int_equal(launch_child_run(&o, &r, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "entrypoint"));
		json_decref(ep);
	}
}

/* The first error line of stderr is kept for the exit report; stdout is not looked at. */
static void test_error_line_of_stderr_is_kept(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	struct launch_reason reason = {0};
	char err[256];
	json_t *ep = json_string("echo 'Error: on stdout'; echo 'step 1' >&2; "
	                         "echo 'Error: disk is full' >&2; echo 'Error: later' >&2; exit 3");
	struct launch_child_opts o = opts(f, ep);
	o.reason = &reason;
	assert_int_equal(launch_child_run(&o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.exit_code, 3);
	assert_string_equal(reason.line, "Error: disk is full");
	json_decref(ep);
}

static void test_killed_by_signal_is_reported(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	run_ok(f, "\"kill -9 $$\"", &r);
	assert_int_equal(r.signal, 9);
	assert_int_equal(r.exit_code, 137);
}

static void test_partial_last_line_and_crlf(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	run_ok(f, "\"printf 'one\\r\\ntwo'\"", &r);
	assert_int_equal(json_array_size(f->got), 2);
	assert_string_equal(line_at(f, 0, NULL), "one");
	assert_string_equal(line_at(f, 1, NULL), "two");
}

/* Block SIGUSR1 and return a signalfd for it, as det-launch's main does. */
static int usr1_fd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void test_signal_creates_preempt_file_the_trial_honours(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_child_result r;
	/* the trial polls the preempt file, then checkpoints and exits 0 */
	json_t *ep =
	    json_pack("[s, s, s, s]", "/bin/sh", "-c",
	              "while [ ! -e \"$1\" ]; do sleep 0.02; done; echo checkpointed", "sh");
	json_array_append_new(ep, json_string(f->preempt));
	int sfd = usr1_fd();
	assert_true(sfd >= 0);
	kill(getpid(), SIGUSR1); /* pending until the loop reads it */
	struct launch_child_opts o = opts(f, ep);
	o.signal_fd = sfd;
	o.grace_seconds = 30;
	assert_int_equal(launch_child_run(&o, &r, err, sizeof(err)), 0);
	assert_true(r.preempted);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.signal, 0);
	assert_true(launch_share_exists(f->dir, "preempt"));
	close(sfd);
	json_decref(ep);
}

static void test_trial_ignoring_preemption_is_killed_after_grace(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_child_result r;
	json_t *ep = json_string("trap '' TERM; sleep 30");
	int sfd = usr1_fd();
	kill(getpid(), SIGUSR1);
	struct launch_child_opts o = opts(f, ep);
	o.signal_fd = sfd;
	o.grace_seconds = 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(launch_child_run(&o, &r, err, sizeof(err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(r.preempted);
	assert_int_equal(r.signal, SIGKILL);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	close(sfd);
	json_decref(ep);
}

/* The pid a test entrypoint wrote into its working directory, or -1. */
static pid_t read_pid(struct fixture *f)
{
	char path[160];
	int pid = -1;
	snprintf(path, sizeof(path), "%s/pid", f->dir);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	if (fscanf(fp, "%d", &pid) != 1)
		pid = -1;
	fclose(fp);
	return (pid_t)pid;
}

static void test_daemon_left_behind_by_the_trial_is_killed(void **state)
{
	struct fixture *f = *state;
	struct launch_child_result r;
	/* a new session, ignoring SIGTERM, not holding our pipes: only the
	 * subreaper sees it once its parent has exited */
	run_ok(f,
	       "\"setsid sh -c 'trap \\\"\\\" TERM; exec sleep 300' </dev/null >/dev/null 2>&1 & "
	       "echo $! >pid\"",
	       &r);
	assert_int_equal(r.exit_code, 0);
	pid_t pid = read_pid(f);
	assert_true(pid > 0);
	if (kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		fail_msg("the daemonised sleep (pid %d) outlived the trial", (int)pid);
	}
}

static void test_sigterm_reaches_the_trial_and_its_stubborn_child_dies(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_child_result r;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	assert_true(sfd >= 0);
	/* the shell asks us to stop once its worker (which ignores SIGTERM) runs */
	json_t *ep = json_string("(trap '' TERM; exec sleep 300) & echo $! >pid; "
	                         "kill -TERM $PPID; wait");
	struct launch_child_opts o = opts(f, ep);
	o.signal_fd = sfd;
	o.grace_seconds = 6; /* SIGTERM after 3 s, SIGKILL after 6 */
	assert_int_equal(launch_child_run(&o, &r, err, sizeof(err)), 0);
	assert_true(r.preempted);
	assert_int_equal(r.signal, SIGTERM); /* the shell got it, before the SIGKILL */
	pid_t pid = read_pid(f);
	assert_true(pid > 0);
	if (kill(pid, 0) == 0) {
		kill(pid, SIGKILL);
		fail_msg("the worker ignoring SIGTERM (pid %d) outlived the trial", (int)pid);
	}
	close(sfd);
	json_decref(ep);
}

static void test_other_ranks_abort_stops_this_one(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_child_result r;
	json_t *ep = json_string("sleep 30");
	assert_int_equal(launch_share_touch(f->dir, "abort"), 0);
	struct launch_child_opts o = opts(f, ep);
	assert_int_equal(launch_child_run(&o, &r, err, sizeof(err)), 0);
	assert_true(r.aborted);
	assert_int_equal(r.signal, SIGTERM);
	json_decref(ep);
}

static void test_share_put_and_wait(void **state)
{
	struct fixture *f = *state;
	char err[256];
	json_t *v = json_pack("{s:i}", "trial_id", 4);
	assert_int_equal(launch_share_put(f->dir, "assign-0.json", v, err, sizeof(err)), 0);
	json_t *got = launch_share_wait(f->dir, "assign-0.json", NULL, 1000, err, sizeof(err));
	assert_non_null(got);
	assert_true(json_equal(v, got));
	json_decref(got);
	assert_null(launch_share_wait(f->dir, "assign-1.json", NULL, 200, err, sizeof(err)));
	assert_non_null(strstr(err, "did not appear"));
	assert_int_equal(launch_share_touch(f->dir, "abort-1"), 0);
	assert_null(launch_share_wait(f->dir, "assign-1.json", "abort-1", 5000, err, sizeof(err)));
	assert_non_null(strstr(err, "abort-1 appeared"));
	json_decref(v);
}

static void test_share_dir_from_launcher_environment(void **state)
{
	struct fixture *f = *state;
	char dir[512], err[256], want[512];
	char run[128];
	snprintf(run, sizeof(run), "DET_RUN_DIR=%s/run", f->dir);
	char *slurm[] = {run,
	                 "SLURM_JOB_ID=77",
	                 "SLURM_STEP_ID=0",
	                 "SLURM_RESTART_COUNT=2",
	                 "OMPI_MCA_ess_base_jobid=9",
	                 NULL};
	assert_int_equal(launch_share_dir(slurm, 5, 3, dir, sizeof(dir), err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/run/e5-t3-slurm77.0.r2", f->dir);
	assert_string_equal(dir, want);
	char *ompi[] = {run, "OMPI_MCA_ess_base_jobid=12/../x", NULL};
	assert_int_equal(launch_share_dir(ompi, 5, 3, dir, sizeof(dir), err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/run/e5-t3-ompi12_.._x", f->dir);
	assert_string_equal(dir, want);
	char *rel[] = {"DET_JOB_DIR=relative/dir", NULL};
	assert_int_equal(launch_share_dir(rel, 5, 3, dir, sizeof(dir), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an absolute path"));
}

static void test_job_dir_is_removed_when_every_rank_finished(void **state)
{
	struct fixture *f = *state;
	char dir[512], err[256], run[128], path[600];
	snprintf(run, sizeof(run), "DET_RUN_DIR=%s/run", f->dir);
	char *env[] = {run, "SLURM_JOB_ID=78", "SLURM_STEP_ID=0", NULL};
	assert_int_equal(launch_share_dir(env, 5, 3, dir, sizeof(dir), err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/model", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(launch_share_touch(path, "train.py"), 0);
	assert_int_equal(launch_share_touch(dir, "exit-0-1.json"), 0);
	/* rank 1 is done first: rank 0 may still write and read here */
	assert_int_equal(launch_share_finish(dir, 1, 2, 1), 0);
	assert_int_equal(access(dir, F_OK), 0);
	/* the last rank removes the whole directory */
	assert_int_equal(launch_share_finish(dir, 0, 2, 1), 1);
	assert_int_equal(access(dir, F_OK), -1);

	/* unsent log lines keep it (for the next run and for inspection) */
	assert_int_equal(launch_share_dir(env, 5, 4, dir, sizeof(dir), err, sizeof(err)), 0);
	assert_int_equal(launch_share_touch(dir, "logs-t9-r0.jsonl"), 0);
	assert_int_equal(launch_share_finish(dir, 0, 1, 1), 0);
	assert_int_equal(access(dir, F_OK), 0);
	/* a directory named by DET_JOB_DIR is not det-launch's to remove */
	assert_int_equal(launch_share_dir(env, 5, 5, dir, sizeof(dir), err, sizeof(err)), 0);
	assert_int_equal(launch_share_finish(dir, 0, 1, 0), 0);
	assert_int_equal(access(dir, F_OK), 0);
}

/* run/name as a pid-keyed job directory whose owner.json says host, pid, start. */
static void make_job_dir(const char *run, const char *name, const char *host, long pid,
                         long long start)
{
	char dir[512], err[256];
	snprintf(dir, sizeof(dir), "%s/%s", run, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	json_t *o = json_pack("{s:s, s:I, s:I}", "host", host, "pid", (json_int_t)pid, "start",
	                      (json_int_t)start);
	assert_int_equal(launch_share_put(dir, "owner.json", o, err, sizeof(err)), 0);
	json_decref(o);
}

static int dir_exists(const char *run, const char *name)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", run, name);
	return access(dir, F_OK) == 0;
}

static void test_job_dirs_of_dead_single_launchers_are_swept(void **state)
{
	struct fixture *f = *state;
	char run[128], envrun[160], dir[512], err[256], host[256] = "", self[64];
	const char *alive_name = "e1-t1-pid1";
	snprintf(run, sizeof(run), "%s/run", f->dir);
	snprintf(envrun, sizeof(envrun), "DET_RUN_DIR=%s", run);
	assert_int_equal(mkdir(run, 0700), 0);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	assert_true(child > 0);
	waitpid(child, NULL, 0);
	/* a det-launch that died on this host */
	make_job_dir(run, "e1-t0-pid99", host, (long)child, 12345);
	/* one that still runs: pid 1 with its real start time */
	FILE *fp = fopen("/proc/1/stat", "r");
	assert_non_null(fp);
	char buf[1024];
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	long long start = 0;
	assert_int_equal(sscanf(strrchr(buf, ')') + 1,
	                        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
	                        "%*d %*d %*d %*d %lld",
	                        &start),
	                 1);
	make_job_dir(run, alive_name, host, 1, start);
	/* another host's, a dead one with unsent logs, a Slurm job's */
	make_job_dir(run, "e1-t2-pid98", "some-other-host", (long)child, 12345);
	make_job_dir(run, "e1-t3-pid97", host, (long)child, 12345);
	snprintf(dir, sizeof(dir), "%s/e1-t3-pid97", run);
	assert_int_equal(launch_share_touch(dir, "logs-t1-r0.jsonl"), 0);
	snprintf(dir, sizeof(dir), "%s/e1-t4-slurm5.0.r0", run);
	assert_int_equal(mkdir(dir, 0700), 0);

	char *env[] = {envrun, NULL};
	assert_int_equal(launch_share_dir(env, 2, 0, dir, sizeof(dir), err, sizeof(err)), 0);
	launch_share_sweep_stale(dir);
	assert_false(dir_exists(run, "e1-t0-pid99"));
	assert_true(dir_exists(run, alive_name));
	assert_true(dir_exists(run, "e1-t2-pid98"));
	assert_true(dir_exists(run, "e1-t3-pid97"));
	assert_true(dir_exists(run, "e1-t4-slurm5.0.r0"));
	/* this launcher's own directory names its owner */
	assert_true(launch_share_exists(dir, "owner.json"));
	snprintf(self, sizeof(self), "e2-t0-pid%ld", (long)getpid());
	assert_true(dir_exists(run, self));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_string_entrypoint_runs_through_sh_with_env_and_cwd),
	    T(test_job_dir_is_removed_when_every_rank_finished),
	    T(test_job_dirs_of_dead_single_launchers_are_swept),
	    T(test_startup_hook_exports_reach_the_entrypoint),
	    T(test_failing_startup_hook_stops_the_trial),
	    T(test_list_entrypoint_is_argv_not_shell),
	    T(test_trial_class_entrypoint_runs_the_harness),
	    T(test_list_entrypoint_found_on_the_trials_path),
	    T(test_missing_program_and_bad_entrypoints),
	    T(test_killed_by_signal_is_reported),
	    T(test_error_line_of_stderr_is_kept),
	    T(test_partial_last_line_and_crlf),
	    T(test_signal_creates_preempt_file_the_trial_honours),
	    T(test_trial_ignoring_preemption_is_killed_after_grace),
	    T(test_other_ranks_abort_stops_this_one),
	    T(test_daemon_left_behind_by_the_trial_is_killed),
	    T(test_sigterm_reaches_the_trial_and_its_stubborn_child_dies),
	    T(test_share_put_and_wait),
	    T(test_share_dir_from_launcher_environment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
