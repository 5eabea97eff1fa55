/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch: runs one rank of a trial inside a job (doc/launcher.md).
 * Rank 0 claims the array task's trial, unpacks the model definition into
 * the job directory and publishes each assignment there; every rank runs
 * the entrypoint with the trial environment, relays its output and records
 * its exit; rank 0 reports the exit and, on the master's word, restarts
 * the trial from its latest checkpoint or claims a replacement.
 * Non-obvious: termination signals are blocked and read through a
 * signalfd, so a preemption request is an ordinary event in the child
 * loop, and no signal handler or global flag is needed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch_child.h"
#include "launch_command.h"
#include "launch_container.h"
#include "launch_env.h"
#include "launch_logq.h"
#include "launch_master.h"
#include "launch_cpus.h"
#include "launch_net.h"
#include "launch_rank.h"
#include "launch_share.h"
#include "launch_unpack.h"

extern char **environ;

#define MODEL_DEF_MAX_BYTES (256UL << 20)
#define LOG_QUEUE_LINES 10000
#define LOG_SPILL_MAX_BYTES (256UL << 20)
#define MASTER_WAIT_SECONDS 300
/* Exit status after a preemption that did not come from the master: the
 * trial is not over, so the job should run again (det-master requeues its
 * Slurm task; EX_TEMPFAIL). A trial's own exit status 75 is reported as 1,
 * so that only det-launch asks for a requeue. */
#define LAUNCH_EXIT_REQUEUE 75
#define LAUNCH_DEFAULT_GRACE_SECONDS 25

struct launch {
	struct launch_rank rank;
	const char *master;
	const char *alloc_token;
	long long exp, task;
	char job_dir[PATH_MAX - 64];
	int job_dir_ours; /* named by det-launch, not by DET_JOB_DIR: removed at the end */
	char model_dir[PATH_MAX];
	const char *pythondir;
	char bindirs[2 * PATH_MAX + 2];
	int signal_fd;
	int grace_seconds;
	long wait_ms; /* how long other ranks wait for rank 0 */
};

static int env_ll(const char *name, long long *out, int required, char *err, size_t errlen)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v) {
		if (required)
			snprintf(err, errlen, "%s is not set", name);
		return required ? -1 : 1;
	}
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || *end || x < 0) {
		snprintf(err, errlen, "%s=\"%.32s\": not a non-negative integer", name, v);
		return -1;
	}
	*out = x;
	return 0;
}

/* The Python package and the programs next to det-launch (the examples)
 * go first on the trial's search paths: installed, or in the build tree
 * when det-launch runs from there. */
static void search_paths(struct launch *l)
{
	const char *v = getenv("DET_PYTHONDIR");
	char self[PATH_MAX];
	struct stat st;
	int installed = stat(DET_PYTHONDIR "/determined", &st) == 0;
	l->pythondir = v && *v ? v : installed ? DET_PYTHONDIR : DET_SRC_PYTHONDIR;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(l->bindirs, sizeof(l->bindirs), "%s%s%s", self, installed ? "" : ":",
	         installed ? "" : DET_BUILD_EXAMPLES_PATH);
	if (!l->bindirs[0] || l->bindirs[0] == ':')
		snprintf(l->bindirs, sizeof(l->bindirs), "%s", BINDIR);
}

static int configure(struct launch *l, char *err, size_t errlen)
{
	long long v;
	memset(l, 0, sizeof(*l));
	l->signal_fd = -1;
	if (launch_rank_detect(environ, &l->rank, err, errlen) < 0)
		return -1;
	l->master = getenv("DET_MASTER");
	l->alloc_token = getenv("DET_ALLOCATION_TOKEN");
	if (!l->master || !*l->master) {
		snprintf(err, errlen,
		         "DET_MASTER is not set (det-launch runs trials for det-master)");
		return -1;
	}
	if (env_ll("DET_EXPERIMENT_ID", &l->exp, 1, err, errlen) < 0)
		return -1;
	int rc = env_ll("DET_ARRAY_TASK", &l->task, 0, err, errlen);
	if (rc > 0)
		rc = env_ll("SLURM_ARRAY_TASK_ID", &l->task, 0, err, errlen);
	if (rc < 0)
		return -1;
	if (rc > 0)
		l->task = 0;
	/* The manager sets it below its own SIGKILL delay (local: grace_seconds
	 * minus a margin); the default stays under Slurm's default KillWait (30 s). */
	l->grace_seconds = LAUNCH_DEFAULT_GRACE_SECONDS;
	if (env_ll("DET_PREEMPT_GRACE_SECONDS", &v, 0, err, errlen) == 0)
		l->grace_seconds = v > 3600 ? 3600 : (int)v;
	l->wait_ms = 900000;
	if (env_ll("DET_LAUNCH_WAIT_SECONDS", &v, 0, err, errlen) == 0)
		l->wait_ms = v * 1000;
	search_paths(l);
	if (launch_share_dir(environ, l->exp, l->task, l->job_dir, sizeof(l->job_dir), err,
	                     errlen) < 0)
		return -1;
	l->job_dir_ours = !getenv("DET_JOB_DIR") || !*getenv("DET_JOB_DIR");
	if (l->job_dir_ours)
		launch_share_sweep_stale(l->job_dir);
	snprintf(l->model_dir, sizeof(l->model_dir), "%s/model", l->job_dir);
	return 0;
}

static int block_signals(struct launch *l, char *err, size_t errlen)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (l->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int fetch_model(struct launch *l, char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	struct stat st;
	if (stat(l->model_dir, &st) == 0)
		return 0; /* already unpacked by this job */
	if (launch_master_model_def(l->master, l->alloc_token, l->exp, MODEL_DEF_MAX_BYTES, &data,
	                            &len, err, errlen) < 0)
		return -1;
	int rc = launch_unpack(data, len, l->model_dir, NULL, err, errlen);
	free(data);
	return rc;
}

/* A free TCP port for torch.distributed / our own allgather (best effort). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t n = sizeof(a);
	int port = 29500;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &n) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Can a TCP listener bind port on every IPv4 address right now? */
static int port_bindable(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Rank 0's address and two free ports on it: MASTER_PORT for the trial's
 * own framework (torch.distributed), DET_DIST_PORT for the Core API's; the
 * pair spank_det reserved for the step (DET_RENDEZVOUS_PORT) when set. On
 * several nodes the address is one the other nodes reach (launch_net.c). */
static int add_rendezvous(struct launch *l, json_t *as)
{
	char host[256] = "127.0.0.1", err[256];
	if (l->rank.cross_size > 1) {
		struct ifaddrs *ifs = NULL;
		if (getifaddrs(&ifs) < 0)
			ifs = NULL;
		int rc = launch_net_master_addr(environ, ifs, host, sizeof(host), err, sizeof(err));
		if (ifs)
			freeifaddrs(ifs);
		if (rc < 0) {
			fprintf(stderr, "det-launch: MASTER_ADDR: %s\n", err);
			return -1;
		}
	}
	int port = 0, dist_port = 0;
	int step = launch_net_step_port(environ, &port, err, sizeof(err));
	if (step < 0)
		fprintf(stderr, "det-launch: %s; picking free ports instead\n", err);
	if (step == 1 && !(port_bindable(port) && port_bindable(port + 1))) {
		fprintf(stderr, "det-launch: the step's ports %d-%d are taken; picking free ones\n",
		        port, port + 1);
		step = 0;
	}
	if (step == 1) {
		dist_port = port + 1; /* the pair spank_det reserved for this step */
	} else {
		port = free_port();
		dist_port = free_port();
		for (int i = 0; i < 10 && dist_port == port; i++)
			dist_port = free_port();
	}
	return json_object_set_new(as, "master_addr", json_string(host)) |
	       json_object_set_new(as, "master_port", json_integer(port)) |
	       json_object_set_new(as, "dist_port", json_integer(dist_port));
}

/* Several nodes: torch.distributed's gloo binds the interface this rank
 * routes through to MASTER_ADDR, not what its host name resolves to (see
 * launch_net.c). A GLOO_SOCKET_IFNAME of the job or of the experiment's
 * environment_variables wins. */
static void set_gloo_interface(const struct launch *l, const json_t *as)
{
	char ifname[64], err[256];
	const char *addr = json_string_value(json_object_get(as, "master_addr"));
	if (l->rank.cross_size < 2 || !addr || getenv("GLOO_SOCKET_IFNAME"))
		return;
	if (launch_net_route_ifname(addr, ifname, sizeof(ifname), err, sizeof(err)) < 0)
		fprintf(stderr, "det-launch: rank %d: GLOO_SOCKET_IFNAME not set: %s\n",
		        l->rank.rank, err);
	else if (setenv("GLOO_SOCKET_IFNAME", ifname, 0) < 0)
		fprintf(stderr, "det-launch: rank %d: GLOO_SOCKET_IFNAME not set: %s\n",
		        l->rank.rank, strerror(errno));
}

struct gen_result {
	int exit_code, signal, preempted;
	char error[LAUNCH_REASON_MAX]; /* the first error the rank saw, "" none */
};

/* In a Slurm job array (a det job is one), spank_det marks every step with DET_ALLOCATION_ID,
 * the job id. Without it the plugin did not run on this node (not in plugstack.conf, or it
 * could not load: the shipped line is optional, so that it never stops other users' jobs): 1
 * with a message in buf. 0 when it ran, or outside a Slurm array (the local manager). */
static int spank_missing(char *buf, size_t len)
{
	const char *job = getenv("SLURM_JOB_ID"), *alloc = getenv("DET_ALLOCATION_ID");
	const char *node = getenv("SLURMD_NODENAME"), *array = getenv("SLURM_ARRAY_JOB_ID");
	if (!job || !*job || !array || !*array || (alloc && !strcmp(alloc, job)))
		return 0;
	snprintf(buf, len,
	         "det-launch: spank_det.so did not run in Slurm job %s on node %s: it must be "
	         "listed in plugstack.conf on every node (doc/admin.md, section 4)",
	         job, node && *node ? node : "?");
	return 1;
}

/* The part of det-launch's environment a container gets (borrowed strings, a new
 * array to free; NULL when out of memory): the allocated devices and the locale. */
static char **container_base(char *const *host)
{
	static const char *const keep[] = {"CUDA_VISIBLE_DEVICES=",
	                                   "ROCR_VISIBLE_DEVICES=",
	                                   "HIP_VISIBLE_DEVICES=",
	                                   "LANG=",
	                                   "LC_ALL=",
	                                   "TZ=",
	                                   NULL};
	size_t n = 0, k = 0;
	while (host && host[n])
		n++;
	char **v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		for (size_t j = 0; keep[j]; j++)
			if (!strncmp(host[i], keep[j], strlen(keep[j])))
				v[k++] = host[i];
	return v;
}

/* The container's whole command as an entrypoint list: podman run ... IMAGE, then
 * (through startup-hook.sh when the model directory has one, so that the hook runs
 * inside) the entrypoint's argv; for an OCI bundle the runtime's command, the
 * entrypoint in its config.json. A new reference, or NULL with err. */
static json_t *container_argv(struct launch_container *ct, const json_t *entrypoint,
                              const char *model_dir, char *err, size_t errlen)
{
	const char **inner = launch_child_argv(entrypoint, err, errlen), **hooked = NULL;
	json_t *all = json_array();
	int bad = !inner || !all, said = !inner;
	if (!bad && launch_child_has_hook(model_dir)) {
		hooked = launch_child_hook_argv(inner);
		bad = !hooked;
	}
	if (!bad && launch_container_finish(ct, hooked ? hooked : inner, err, errlen))
		bad = said = 1;
	for (size_t i = 0; !bad && ct->argv[i]; i++)
		bad = json_array_append_new(all, json_string(ct->argv[i])) < 0;
	if (bad && !said)
		snprintf(err, errlen, "out of memory");
	free(inner);
	free(hooked);
	if (bad) {
		json_decref(all);
		return NULL;
	}
	return all;
}

/* Run this rank's entrypoint for generation gen. */
static int run_generation(struct launch *l, int gen, const json_t *as, struct gen_result *res,
                          char *err, size_t errlen)
{
	int rv = -1;
	char preempt[PATH_MAX], early[PATH_MAX], abort_file[PATH_MAX], spill[PATH_MAX];
	char **env = NULL, **cbase = NULL;
	struct launch_container ct = {NULL, NULL, NULL, NULL};
	json_t *cargv = NULL;
	struct launch_logq *q = NULL;
	struct launch_shipper *ship = NULL;
	struct launch_poller *poll = NULL;
	struct launch_child_result r;
	struct launch_reason reason = {0};
	long long trial = json_integer_value(json_object_get(as, "trial_id"));
	const char *token = json_string_value(json_object_get(as, "token"));
	launch_share_path(preempt, sizeof(preempt), l->job_dir, "preempt-%d", gen);
	launch_share_path(early, sizeof(early), l->job_dir, "early-exit-%d", gen);
	launch_share_path(abort_file, sizeof(abort_file), l->job_dir, "abort-%d", gen);
	launch_share_path(spill, sizeof(spill), l->job_dir, "logs-t%lld-r%d.jsonl", trial,
	                  l->rank.rank);
	set_gloo_interface(l, as);
	struct launch_env_input in = {as,         &l->rank, l->master, l->pythondir,
	                              l->bindirs, preempt,  early};
	/* with an image: the entrypoint runs in it, never on the host in its place */
	const char *slot = launch_env_slot_type(environ);
	int contained = launch_container_wanted(as, slot);
	if (contained) {
		cbase = container_base(environ);
		in.bindirs = NULL; /* the host's programs do not run in the image */
	}
	env = launch_env_build(contained ? cbase : environ, &in, err, errlen);
	if (!env)
		goto fail;
	q = launch_logq_new(l->rank.rank, LOG_QUEUE_LINES, spill, LOG_SPILL_MAX_BYTES, err, errlen);
	if (!q)
		goto fail;
	ship = launch_shipper_start(l->master, token, trial, q, err, errlen);
	if (!ship)
		goto fail;
	if (l->rank.rank == 0) {
		poll = launch_poller_start(l->master, token, trial, preempt, err, errlen);
		if (!poll)
			goto fail;
	}
	if (spank_missing(err, errlen)) {
		/* A failed start, in the trial's logs too. */
		launch_logq_push(q, "stderr", err, strlen(err));
		goto fail;
	}
	if (contained) {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
		struct launch_container_input cin = {
		    as,           slot,        env,          environ,
		    l->model_dir, l->job_dir,  l->pythondir, n > 0 ? self : NULL,
		    l->master,    l->rank.rank};
		if (launch_container_prepare(&cin, &ct, err, errlen)) {
			/* the reason in the trial's own logs too */
			char line[1200];
			int len = snprintf(line, sizeof(line), "det-launch: %s", err);
			launch_logq_push(q, "stderr", line,
			                 len < (int)sizeof(line) ? (size_t)len : sizeof(line) - 1);
			goto fail;
		}
		cargv = container_argv(&ct, json_object_get(as, "entrypoint"), l->model_dir, err,
		                       errlen);
		if (!cargv)
			goto fail;
	}
	struct launch_child_opts o = {contained ? cargv : json_object_get(as, "entrypoint"),
	                              contained ? ct.env : env,
	                              contained ? NULL : l->model_dir,
	                              l->rank.rank,
	                              l->rank.size > 1,
	                              q,
	                              l->signal_fd,
	                              preempt,
	                              abort_file,
	                              l->grace_seconds,
	                              &reason};
	if (launch_child_run(&o, &r, err, errlen) < 0)
		goto fail;
	snprintf(res->error, sizeof(res->error), "%s", reason.line);
	res->exit_code = r.exit_code;
	res->signal = r.signal;
	res->preempted = r.preempted;
	rv = 0;
fail:
	launch_poller_stop(poll);
	launch_shipper_stop(ship, 10);
	if (q && launch_logq_pending(q))
		fprintf(stderr, "det-launch: %zu log lines not yet sent are kept in %s\n",
		        launch_logq_pending(q), spill);
	launch_logq_free(q);
	launch_env_free(env);
	launch_container_free(&ct);
	json_decref(cargv);
	free(cbase);
	return rv;
}

static int record_exit(struct launch *l, int gen, const struct gen_result *res, char *err,
                       size_t errlen)
{
	char name[64];
	json_t *v = json_pack("{s:i, s:i, s:b, s:s}", "exit_code", res->exit_code, "signal",
	                      res->signal, "preempted", res->preempted, "error", res->error);
	snprintf(name, sizeof(name), "exit-%d-%d.json", gen, l->rank.rank);
	int rc = v ? launch_share_put(l->job_dir, name, v, err, errlen) : -1;
	json_decref(v);
	return rc;
}

/* Rank 0: combine every rank's exit; the lowest failing rank speaks for all. */
static void collect_exits(struct launch *l, int gen, struct gen_result *all)
{
	char name[64], err[256];
	for (int r = 1; r < l->rank.size; r++) {
		snprintf(name, sizeof(name), "exit-%d-%d.json", gen, r);
		json_t *v = launch_share_wait(l->job_dir, name, NULL,
		                              (l->grace_seconds + 120) * 1000L, err, sizeof(err));
		struct gen_result g = {.exit_code = 1};
		if (v) {
			g.exit_code = (int)json_integer_value(json_object_get(v, "exit_code"));
			g.signal = (int)json_integer_value(json_object_get(v, "signal"));
			g.preempted = json_is_true(json_object_get(v, "preempted"));
			const char *e = json_string_value(json_object_get(v, "error"));
			snprintf(g.error, sizeof(g.error), "%s", e ? e : "");
		} else {
			fprintf(stderr, "det-launch: rank %d: %s\n", r, err);
			snprintf(g.error, sizeof(g.error), "rank %d: %s", r, err);
		}
		json_decref(v);
		if ((g.exit_code || g.signal) && !all->exit_code && !all->signal) {
			all->exit_code = g.exit_code;
			all->signal = g.signal;
			snprintf(all->error, sizeof(all->error), "%s", g.error);
		}
		all->preempted |= g.preempted;
	}
}

static int early_exit_invalid_hp(struct launch *l, int gen)
{
	char path[PATH_MAX], buf[32] = "";
	launch_share_path(path, sizeof(path), l->job_dir, "early-exit-%d", gen);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int n = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	return n && !strncmp(buf, "INVALID_HP", 10);
}

static int publish(struct launch *l, int gen, json_t *as, char *err, size_t errlen)
{
	char name[64];
	snprintf(name, sizeof(name), "assign-%d.json", gen);
	return launch_share_put(l->job_dir, name, as, err, errlen);
}

/* After a preemption by a signal: did the master ask for it (a pause, a
 * kill)? Then the exit is reported as usual. A signal from elsewhere (Slurm
 * preempting or ending the job, someone's kill) is not the trial's end: no
 * exit is reported, and the master requeues a task whose trial is still
 * live, which resumes it from its latest checkpoint. */
static int master_asked(struct launch *l, const json_t *as)
{
	char err[256];
	int stop = 0, preempt = 0;
	if (launch_master_signals(l->master, json_string_value(json_object_get(as, "token")),
	                          json_integer_value(json_object_get(as, "trial_id")), &stop,
	                          &preempt, err, sizeof(err)) < 0)
		fprintf(stderr, "det-launch: asking the master about the preemption: %s\n", err);
	return stop || preempt;
}

/* Rank 0 after a generation: the next assignment, or NULL when done
 * (*requeue set when the trial is not over but this job must end). */
static json_t *next_assignment(struct launch *l, int gen, json_t *as, const struct gen_result *all,
                               int *requeue, char *err, size_t errlen)
{
	long long trial = json_integer_value(json_object_get(as, "trial_id"));
	const char *token = json_string_value(json_object_get(as, "token"));
	if (all->preempted && !master_asked(l, as)) {
		fprintf(stderr,
		        "det-launch: trial %lld: preempted; it resumes from its latest "
		        "checkpoint when the job runs again (exit status %d asks for a "
		        "requeue)\n",
		        trial, LAUNCH_EXIT_REQUEUE);
		*requeue = 1;
		return NULL;
	}
	json_t *ans = launch_master_exit(l->master, token, trial, all->exit_code, all->signal,
	                                 all->exit_code || all->signal ? all->error : "",
	                                 MASTER_WAIT_SECONDS, err, errlen);
	if (!ans) {
		fprintf(stderr, "det-launch: trial %lld: reporting the exit: %s\n", trial, err);
		return NULL;
	}
	json_t *next = NULL;
	if (json_is_true(json_object_get(ans, "restart"))) {
		next = json_deep_copy(as);
		if (next) {
			json_object_set(next, "latest_checkpoint",
			                json_object_get(ans, "latest_checkpoint"));
			json_object_set(next, "steps_completed",
			                json_object_get(ans, "steps_completed"));
			json_object_set(next, "restarts", json_object_get(ans, "restarts"));
		}
		fprintf(stderr, "det-launch: trial %lld: restarting from checkpoint %s\n", trial,
		        json_string_value(json_object_get(ans, "latest_checkpoint"))
		            ? json_string_value(json_object_get(ans, "latest_checkpoint"))
		            : "(none)");
	} else if (all->exit_code == 0 && !all->signal && early_exit_invalid_hp(l, gen)) {
		next = launch_master_claim(l->master, l->alloc_token, l->exp, l->task,
		                           MASTER_WAIT_SECONDS, err, errlen);
		if (!next)
			fprintf(stderr, "det-launch: claiming a replacement trial: %s\n", err);
		else if (json_is_true(json_object_get(next, "done"))) {
			json_decref(next);
			next = NULL;
		}
	}
	json_decref(ans);
	if (next && add_rendezvous(l, next) < 0) {
		json_decref(next);
		next = NULL;
	}
	return next;
}

static int run_chief(struct launch *l, char *err, size_t errlen)
{
	int gen = 0, code = 0;
	json_t *as = NULL;
	json_t *done = NULL;
	if (fetch_model(l, err, errlen) < 0)
		goto fail;
	as = launch_master_claim(l->master, l->alloc_token, l->exp, l->task, MASTER_WAIT_SECONDS,
	                         err, errlen);
	if (!as)
		goto fail;
	if (json_is_true(json_object_get(as, "done"))) {
		fprintf(stderr, "det-launch: array task %lld has nothing left to run\n", l->task);
		json_decref(as);
		as = NULL;
	} else if (add_rendezvous(l, as) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (as) {
		struct gen_result res = {0};
		if (publish(l, gen, as, err, errlen) < 0)
			goto fail;
		if (run_generation(l, gen, as, &res, err, errlen) < 0) {
			fprintf(stderr, "det-launch: %s\n", err);
			res.exit_code = 1; /* could not start: reported like a crash */
			snprintf(res.error, sizeof(res.error), "det-launch: %.400s", err);
			launch_share_touch(l->job_dir, "abort-0");
		}
		collect_exits(l, gen, &res);
		code = res.signal ? 128 + res.signal : res.exit_code;
		if (code == LAUNCH_EXIT_REQUEUE)
			code = 1;
		int requeue = 0;
		json_t *next = next_assignment(l, gen, as, &res, &requeue, err, errlen);
		if (requeue)
			code = LAUNCH_EXIT_REQUEUE;
		json_decref(as);
		as = next;
		gen++;
	}
	done = json_pack("{s:b, s:i}", "done", 1, "exit_code", code);
	if (!done || publish(l, gen, done, err, errlen) < 0)
		goto fail;
	json_decref(done);
	return code;
fail:
	json_decref(as);
	json_decref(done);
	/* tell the other ranks to give up instead of waiting */
	done = json_pack("{s:b, s:i}", "done", 1, "exit_code", 1);
	if (done) {
		char e2[64];
		publish(l, gen, done, e2, sizeof(e2));
	}
	json_decref(done);
	return -1;
}

static int run_worker(struct launch *l, char *err, size_t errlen)
{
	for (int gen = 0;; gen++) {
		char name[64];
		snprintf(name, sizeof(name), "assign-%d.json", gen);
		json_t *as = launch_share_wait(l->job_dir, name, NULL, l->wait_ms, err, errlen);
		if (!as)
			return -1;
		if (json_is_true(json_object_get(as, "done"))) {
			int code = (int)json_integer_value(json_object_get(as, "exit_code"));
			json_decref(as);
			return code;
		}
		struct gen_result res = {0};
		if (run_generation(l, gen, as, &res, err, errlen) < 0) {
			fprintf(stderr, "det-launch: rank %d: %s\n", l->rank.rank, err);
			res.exit_code = 1;
			snprintf(res.error, sizeof(res.error), "det-launch: rank %d: %.400s",
			         l->rank.rank, err);
		}
		json_decref(as);
		if (record_exit(l, gen, &res, err, errlen) < 0)
			return -1;
	}
}

static void usage(FILE *out)
{
	fprintf(out, "usage: det-launch\n"
	             "Runs one rank of a det-slurm trial; configured by the environment\n"
	             "(DET_MASTER, DET_EXPERIMENT_ID, DET_ALLOCATION_TOKEN, DET_ARRAY_TASK or\n"
	             "SLURM_ARRAY_TASK_ID). See doc/launcher.md.\n"
	             "       det-launch --command PROGRAM [ARG...]\n"
	             "Runs a command task in its context (DET_MASTER, DET_TASK_ID,\n"
	             "DET_TASK_TOKEN): unpacked into a new directory, removed after.\n");
}

int main(int argc, char **argv)
{
	struct launch l;
	char err[1024];
	int code;
	/* A command task's context (rm_slurm.c puts this before the command's argv). */
	if (argc > 1 && !strcmp(argv[1], "--command"))
		return launch_command_run(argc - 2, argv + 2, MODEL_DEF_MAX_BYTES);
	if (argc > 1) {
		int help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
		if (!strcmp(argv[1], "--version")) {
			printf("det-launch %s\n", PACKAGE_VERSION);
			return 0;
		}
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (configure(&l, err, sizeof(err)) < 0 || block_signals(&l, err, sizeof(err)) < 0) {
		fprintf(stderr, "det-launch: %s\n", err);
		return 1;
	}
	/* Ranks sharing a node each get their share of the step's CPUs. */
	if (launch_cpus_pin(l.rank.source, l.rank.local_rank, l.rank.local_size, err, sizeof(err)) <
	    0)
		fprintf(stderr, "det-launch: rank %d: not pinned: %s\n", l.rank.rank, err);
	code =
	    l.rank.rank == 0 ? run_chief(&l, err, sizeof(err)) : run_worker(&l, err, sizeof(err));
	if (code < 0) {
		fprintf(stderr, "det-launch: rank %d: %s\n", l.rank.rank, err);
		code = 1;
	}
	close(l.signal_fd);
	launch_share_finish(l.job_dir, l.rank.rank, l.rank.size, l.job_dir_ours);
	return code > 255 ? 1 : code;
}
