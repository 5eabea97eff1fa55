/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Slurm resource manager: an experiment's job array is one Slurm job
 * array (several when it has more tasks than MaxArraySize), submitted by the
 * master through libslurm or by the user with `det submit` and then adopted.
 * This is the only file that includes slurm.h (libslurm's ABI changes with
 * every release).
 *
 * Main structure: a list of watched arrays, each with a small record per
 * task (what the master was last told, Slurm's last state, reason, restart
 * count, the task's own job id). poll() asks slurmctld once per poll_ms for
 * the whole master, whatever the number of arrays and trials: one
 * slurm_load_jobs(last_update, SHOW_ALL), slurmctld's time of the last list
 * applied (0 after an array is linked in, so its first read is whole). An
 * unchanged cluster answers SLURM_NO_CHANGE_IN_DATA, a few bytes. Chosen over
 * a load filtered by user (one call per owner, and 22.05 filters by nothing
 * else) and per-array loads (one call per array): the cost is one call per
 * interval, and a full list on a busy cluster (squeue's cost). That list is
 * the safety net: spank_det's reports from slurmstepd come first
 * (rm_task_report: a batch script started, or ended with a status of its
 * own, is an event at once; an end that only Slurm can explain makes the
 * next lists come within RECHECK_MS). While the reports are trusted (one came, and
 * no task was listed running twice without one: check_unreported) and nothing waits
 * on the list, it comes RM_SLURM_REPORTING_FACTOR times less often
 * (rm_slurm_poll_interval). A list asked for before a task's report
 * is stale for that task (report_seq), and a reported end is not undone by a
 * list from before slurmctld heard of it (reported_end). Changes turn into
 * started/ended events (rm_slurm_util.c's step); events beyond what the
 * caller takes wait in a queue. Non-obvious decision: a task that ends
 * CANCELLED without the master having canceled its array was scancel'ed by
 * someone: when nothing of the array is left to run that is the whole array,
 * reported once (canceled flag), and it stops the experiment; otherwise only
 * those tasks were canceled and only their trials end (task_canceled). Tasks
 * that never started produce no events at all, so a large array costs the
 * master nothing until its tasks run. A task that ends with det-launch's
 * status 75 (its trial checkpointed on a SIGTERM that det-master did not send)
 * is requeued here, for det jobs only, not by RequeueExit=75 in slurm.conf
 * (every job of the cluster that exits 75). cancel/hold/release/requeue
 * come under the master's own lock, so they never call slurmctld: they queue
 * an operation that the next poll applies, in order, retrying while slurmctld
 * does not answer; an operation slurmctld refuses is kept for describe (a
 * refused requeue also ends its task for good). poll itself calls slurmctld
 * without holding s->lock, and so does submit_array (the new array is linked in
 * after). The node list (/agents) is a cache that poll refreshes; the request
 * path never asks slurmctld. An experiment split over several arrays keeps one
 * throttle: later arrays are submitted held and released in turn
 * (balance_throttle, rm_slurm_throttle_plan).
 *
 * Lock order: poll_lock, then lock. label_lock and nodes_lock are leaves, and
 * none of the four is held across a call to slurmctld except poll_lock.
 */
#include "rm.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "det_policy.h"
#include "log.h"
#include "rm_slurm_util.h"

/* Since Slurm 23.02 libslurm reports errors in errno (slurm_get_errno is gone) and
 * an array's job id means every task of it (KILL_JOB_ARRAY is gone; KILL_ARRAY_TASK
 * asks for the one task): the same calls on 22.05 and 24.11. */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 2, 0)
#define KILL_JOB_ARRAY 0
#define slurm_get_errno() errno
#endif

/* In libslurm 22.05 but not in its public header. */
extern char *slurm_job_state_string(uint32_t inx);
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(24, 5, 0)
/* renamed in 24.05 */
extern const char *slurm_job_state_reason_string(enum job_state_reason inx);
#define slurm_job_reason_string slurm_job_state_reason_string
#else
extern char *slurm_job_reason_string(enum job_state_reason inx);
#endif
extern char *slurm_node_state_string(uint32_t inx);
extern void slurm_xfree(void **item);

extern char **environ;

#define SCRIPT_MAX 8192
#define QUEUE_MAX 1000000

struct stask {
	uint8_t st;          /* enum rm_slurm_tstate: what the master was told */
	uint8_t known;       /* Slurm listed it at least once */
	uint8_t cancel_seen; /* ended by an outside scancel; reported once the array is read */
	uint16_t reason;     /* enum job_state_reason */
	unsigned restarts;
	uint32_t job_id; /* the task's own job id once it started */
	uint32_t state;  /* Slurm job_state */
	uint32_t exit_code;
	uint32_t priority; /* Slurm's priority when last listed (squeue's PRIORITY) */
	/* Its node reported the end (rm_task_report) before slurmctld knew it: until Slurm
	 * lists it ended or run again, a listing as running or pending is not news. */
	uint8_t reported_end;
	uint32_t report_seq; /* loads_started when its node last reported: older lists are stale */
	/* The load (applying_seq) that first showed this run running before its node
	 * reported it; 0 once a report came. Still set two loads later: its node does not
	 * report (spank_det without master= there), and the reports are not trusted. */
	uint32_t listed_seq;
};

/* An operation slurmctld refused (not one it did not answer: those are retried). Kept
 * by the manager, not the array, so that describe still shows it after the array is
 * forgotten (an experiment that ended because of it). */
struct srefusal {
	char id[160]; /* the array's id (struct sarr's) */
	time_t at;
	char op[16];     /* cancel, hold, release, requeue */
	int task;        /* requeue: the array task; -1 for the whole array */
	char error[240]; /* what slurmctld said */
};
#define REFUSALS_MAX 256

struct sarr {
	char id[160];
	int64_t experiment_id;
	int num_tasks, nparts;
	struct rm_slurm_part parts[RM_SLURM_MAX_PARTS];
	unsigned char gone[RM_SLURM_MAX_PARTS]; /* slurmctld no longer knows the array */
	struct stask *tasks;
	int canceled;        /* by the master */
	uint64_t kill_at_ms; /* after a cancel: when tasks still running are canceled too */
	int cancel_reported; /* an outside scancel was reported */
	int nops;            /* queued operations that name this array */
	int dead;            /* replaced by a re-registration: freed by poll */
	/* One throttle over all parts (rm_slurm_throttle_plan): later parts wait held. */
	int max_concurrent; /* 0 = none */
	int paused;         /* held by the master (pause): no part is released */
	int hold_later;     /* adopted: hold the later parts first (they may run on their own) */
	uint32_t throttle[RM_SLURM_MAX_PARTS];     /* ArrayTaskThrottle last set; 0 unknown */
	unsigned char waiting[RM_SLURM_MAX_PARTS]; /* held until its turn */
	int command;                               /* a command task (det-t<ID>): never requeued */
	struct sarr *next;
};

/* A trial to name in its task's job comment, once the task's job id is known. */
struct slabel {
	int64_t experiment_id, trial_id;
	int task;
	int tries; /* polls left before it is dropped (the task never showed as running) */
};

#define LABELS_MAX 4096
#define OPS_MAX 4096

enum sop_kind { SOP_CANCEL, SOP_HOLD, SOP_RELEASE, SOP_REQUEUE };

/* A control operation waiting for the poll thread to tell slurmctld. */
struct sop {
	enum sop_kind kind;
	struct sarr *a;
	int task; /* SOP_REQUEUE */
};
#define LABEL_TRIES 50

/* Calls to slurmctld, counted for /metrics (det_slurm_rpcs_total{op}). */
enum rpc_kind {
	RPC_LOAD_JOBS, /* the batched job list of poll */
	RPC_LOAD_JOB,  /* one job (checking a job a user registers) */
	RPC_SUBMIT,
	RPC_CONTROL, /* cancel, hold, release, throttle, requeue, comment */
	RPC_NODES,   /* nodes and partitions for /agents */
	RPC_CONF,
	RPC_BASELINE, /* the per-task polling that bench/slurm_rpc.sh compares against */
	RPC_NKINDS
};
static const char *const rpc_names[RPC_NKINDS] = {
    "load_jobs", "load_job", "submit", "control", "load_nodes", "load_conf", "baseline_load_job"};

struct rm_slurm {
	struct rm base;
	pthread_mutex_t lock;
	/* Held by poll for its whole run (it alone frees arrays), never by a caller of
	 * the control operations or of describe. */
	pthread_mutex_t poll_lock;
	pthread_mutex_t nodes_lock; /* the node cache; never held across an RPC */
	struct sop ops[OPS_MAX];
	int nops;
	/* Labels come from claims, under the master's lock: they get a lock of their
	 * own that is never held across a call to slurmctld. */
	pthread_mutex_t label_lock;
	struct slabel labels[LABELS_MAX];
	int nlabels;
	char *launcher, *output, *work_dir;
	int poll_ms, grace_ms;
	long walltime_signal_s; /* the master's default lead of the walltime SIGUSR1 */
	uint64_t next_poll_ms;
	uint32_t max_array; /* tasks per Slurm array at most (MaxArraySize) */
	int ctld_down;      /* logged once per outage */
	const struct log_sink *log;
	struct sarr *arrays;
	unsigned arrays_gen;    /* bumped when an array is linked in: its first load is whole */
	time_t last_update;     /* slurmctld's time of the last job list applied; 0: ask for all */
	int baseline_per_task;  /* bench only: one slurm_load_job per unfinished task too */
	uint32_t loads_started; /* batched loads asked for so far */
	uint32_t applying_seq;  /* the number of the load being applied */
	int rechecks;           /* loads still to do soon, after a report slurmctld must explain */
	int reports_seen;       /* a node reported a task being watched */
	uint64_t distrust_until_ms; /* a task ran without a report: poll_ms until then */
	int interval_ms;            /* the safety net's interval now (/metrics, in seconds) */
	uint64_t rpcs[RPC_NKINDS];  /* calls to slurmctld by kind (__atomic) */
	struct rm_task_event *queue;
	size_t qlen, qcap;
	/* The last operations slurmctld refused, oldest first (describe shows an array's). */
	struct srefusal refused[REFUSALS_MAX];
	int nrefused;
	/* det.conf's pools (PoolPartition), which name the pools in /agents and
	 * /resource-pools as users name them (--det-pool, resources.resource_pool); npools 0:
	 * no det.conf, pools are partitions. */
	struct det_pool *pools;
	size_t npools;
	json_t *nodes;        /* the last node list; /agents serves it, poll refreshes it */
	uint64_t nodes_at;    /* when it was last loaded (or tried), now_ms() */
	uint64_t nodes_asked; /* when /agents last read it */
	/* Partitions as last loaded with the nodes: name -> [DefaultTime, MaxTime] in
	 * minutes (-1: none), "" -> the default partition's name (nodes_lock). */
	json_t *partitions;
};

#define NODES_TTL_MS 1000
/* After a report that slurmctld must explain (rm_task_report): this many loads, this far
 * apart, before poll_ms applies again. */
#define REPORT_RECHECKS 3
#define RECHECK_MS 250
/* After a task was seen running without its node's report: how long the job list is
 * loaded every poll_ms again before the reports are trusted once more. */
#define DISTRUST_MS (10 * 60 * 1000)
/* Nobody read the node list for this long: stop reloading it until someone does. */
#define NODES_IDLE_MS 60000

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define say(s, level, ...) log_msg((s)->log, (level), "slurm: " __VA_ARGS__)

static void count_rpc(struct rm_slurm *s, enum rpc_kind k)
{
	__atomic_fetch_add(&s->rpcs[k], 1, __ATOMIC_RELAXED);
}

static void refresh_nodes(struct rm_slurm *s, uint64_t now);
static int queue_event(struct rm_slurm *s, struct rm_task_event ev);

static const char *slurm_err(void)
{
	return slurm_strerror(slurm_get_errno());
}

/* slurm_free_job_info_msg of 22.05 leaves each record's admin_comment behind (which
 * job_submit_det sets on every det job); free those first. xfree clears the pointer, so a
 * libslurm that frees them itself is not hurt. */
static void free_jobs(job_info_msg_t *msg)
{
	if (!msg)
		return;
	for (uint32_t r = 0; r < msg->record_count; r++)
		slurm_xfree((void **)&msg->job_array[r].admin_comment);
	slurm_free_job_info_msg(msg);
}

static struct sarr *find_array(struct rm_slurm *s, const char *id)
{
	for (struct sarr *a = s->arrays; a; a = a->next)
		if (!a->dead && !strcmp(a->id, id))
			return a;
	return NULL;
}

static void free_array(struct sarr *a)
{
	if (a) {
		free(a->tasks);
		free(a);
	}
}

/* ---- the batch script ----------------------------------------------------------- */

/* Append s single-quoted for the shell. */
static int put_quoted(char *buf, size_t len, size_t *used, const char *s)
{
	if (*used + 2 >= len)
		return -1;
	buf[(*used)++] = '\'';
	for (; *s; s++) {
		const char *piece = *s == '\'' ? "'\\''" : NULL;
		size_t n = piece ? 4 : 1;
		if (*used + n + 2 >= len)
			return -1;
		if (piece)
			memcpy(buf + *used, piece, n);
		else
			buf[*used] = *s;
		*used += n;
	}
	buf[(*used)++] = '\'';
	buf[*used] = '\0';
	return 0;
}

static int put_text(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int put_text(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return -1;
	*used += (size_t)n;
	return 0;
}

static int slots_of(const struct rm_array *a)
{
	return a->slots_per_trial > 0 ? a->slots_per_trial : 1;
}

/* The batch script for the part at offset: DET_* for det-launch, then det-launch
 * itself (under srun, one rank per slot, when a trial has several slots). */
static int make_script(struct rm_slurm *s, const struct rm_array *a, int offset, char *buf,
                       size_t len)
{
	size_t u = 0;
	int slots = slots_of(a);
	if (put_text(buf, len, &u,
	             "#!/bin/sh\n# det-slurm experiment %lld: one trial per array task.\n"
	             "export DET_MASTER=",
	             (long long)a->experiment_id) ||
	    put_quoted(buf, len, &u, a->master_url) ||
	    put_text(buf, len, &u, "\nexport DET_EXPERIMENT_ID=%lld\nexport DET_ALLOCATION_TOKEN=",
	             (long long)a->experiment_id) ||
	    put_quoted(buf, len, &u, a->alloc_token) ||
	    put_text(buf, len, &u,
	             "\nexport DET_SLOTS_PER_TRIAL=%d\n"
	             "export DET_ARRAY_TASK=$((${SLURM_ARRAY_TASK_ID:-0} + %d))\nexec ",
	             slots, offset))
		return -1;
	if (slots > 1 && put_text(buf, len, &u, "srun --mpi=pmix --kill-on-bad-exit=1 "))
		return -1;
	if (put_quoted(buf, len, &u, s->launcher) || put_text(buf, len, &u, "\n"))
		return -1;
	return 0;
}

static void array_spec(const struct rm_array *a, int count, char *buf, size_t len)
{
	if (a->max_concurrent > 0)
		snprintf(buf, len, "0-%d%%%d", count - 1, a->max_concurrent);
	else
		snprintf(buf, len, "0-%d", count - 1);
}

static const char *pool_of(const struct rm_array *a)
{
	json_t *res = json_object_get(a->config, "resources");
	return json_string_value(json_object_get(res, "resource_pool"));
}

/* The experiment's slurm.sbatch_args as the master applies them. 0 or -1 with err. */
static int master_opts(const struct rm_array *a, struct rm_slurm_opts *o, char *err, size_t errlen)
{
	json_t *v = json_object_get(json_object_get(a->config, "slurm"), "sbatch_args");
	const char *args[256];
	size_t i, n = 0;
	json_t *x;
	json_array_foreach (v, i, x) {
		if (!json_is_string(x) || n == sizeof(args) / sizeof(args[0])) {
			snprintf(err, errlen, "slurm.sbatch_args: expected at most 256 strings");
			return -1;
		}
		args[n++] = json_string_value(x);
	}
	return rm_slurm_parse_sbatch_args(args, (int)n, o, err, errlen);
}

/* The lead of the walltime signal (SIGUSR1 to the batch step, det-launch: a preemption
 * request) for a job with time_min minutes (-1: unknown): the experiment's
 * slurm.walltime_signal_seconds, else the master's; 0: none. */
static long walltime_lead(const struct rm_slurm *s, const struct rm_array *a, long time_min)
{
	json_t *v = json_object_get(json_object_get(a->config, "slurm"), "walltime_signal_seconds");
	long lead = json_is_integer(v) ? (long)json_integer_value(v) : s->walltime_signal_s;
	return rm_slurm_walltime_lead(lead, time_min);
}

/* The time limit in minutes a's jobs get (-1: unlimited or unknown), from the cached
 * partitions: sbatch_args' --partition, else the pool's (det.conf), else the pool's name,
 * else the default partition. -1 with err for a --time above that partition's MaxTime. */
static int time_limit(struct rm_slurm *s, const struct rm_array *a, const struct rm_slurm_opts *o,
                      long *limit_min, char *err, size_t errlen)
{
	const char *pool = pool_of(a);
	char part[128] = "";
	long dflt = -1, max = -1;

	if (*o->partition)
		snprintf(part, sizeof(part), "%s", o->partition);
	for (size_t i = 0; !part[0] && pool && *pool && i < s->npools; i++)
		if (!strcmp(s->pools[i].name, pool))
			snprintf(part, sizeof(part), "%s", s->pools[i].partition);
	if (!part[0] && !s->npools && pool && *pool)
		snprintf(part, sizeof(part), "%s", pool);
	if (!part[0] && s->npools && (!pool || !*pool))
		snprintf(part, sizeof(part), "%s", s->pools[0].partition); /* the default pool */
	pthread_mutex_lock(&s->nodes_lock);
	if (!part[0])
		snprintf(part, sizeof(part), "%s",
		         json_string_value(json_object_get(s->partitions, "")) ?: "");
	json_t *t = json_object_get(s->partitions, part);
	if (json_is_array(t)) {
		dflt = (long)json_integer_value(json_array_get(t, 0));
		max = (long)json_integer_value(json_array_get(t, 1));
	}
	pthread_mutex_unlock(&s->nodes_lock);
	return rm_slurm_time_limit(o->time_min, dflt, max, part, limit_min, err, errlen);
}

static int rm_check_config(struct rm *rm, json_t *config, char *err, size_t errlen)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	struct rm_array a = {.config = config};
	struct rm_slurm_opts o;
	long limit;
	if (master_opts(&a, &o, err, errlen))
		return 0; /* the submission names it, leaving the experiment in ERROR */
	return time_limit(s, &a, &o, &limit, err, errlen);
}

/* The experiment's slurm.sbatch_args (strings), or an empty array. */
static json_t *sbatch_args(const struct rm_array *a)
{
	json_t *v = json_object_get(json_object_get(a->config, "slurm"), "sbatch_args");
	json_t *out = json_array();
	size_t i;
	json_t *x;
	json_array_foreach (v, i, x) {
		if (json_is_string(x))
			json_array_append(out, x);
	}
	return out;
}

/* ---- submitting ----------------------------------------------------------------- */

/* The job's environment: the master's own minus DET_*, and with pw (a job run as another
 * user) that user's HOME, USER and LOGNAME; then SLURM_SPANK_ plus each of the nspank
 * spank job env entries, as sbatch puts them in the job's environment, so that spank_det
 * knows the job's steps as det steps. NULL-terminated, malloc'd; *n gets the count. */
static char **job_env(const struct passwd *pw, char *const *spank, size_t nspank, uint32_t *n)
{
	size_t base = 0, k = 0;
	while (environ[base])
		base++;
	char **env = calloc(base + 4 + nspank, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < base; i++) {
		const char *e = environ[i];
		if (!strncmp(e, "DET_", 4) ||
		    (pw && (!strncmp(e, "HOME=", 5) || !strncmp(e, "USER=", 5) ||
		            !strncmp(e, "LOGNAME=", 8) || !strncmp(e, "MAIL=", 5))))
			continue;
		if (!(env[k++] = strdup(e)))
			goto fail;
	}
	if (pw && (asprintf(&env[k++], "HOME=%s", pw->pw_dir) < 0 ||
	           asprintf(&env[k++], "USER=%s", pw->pw_name) < 0 ||
	           asprintf(&env[k++], "LOGNAME=%s", pw->pw_name) < 0)) {
		env[--k] = NULL;
		goto fail;
	}
	for (size_t i = 0; i < nspank; i++)
		if (asprintf(&env[k++], "SLURM_SPANK_%s", spank[i]) < 0) {
			env[--k] = NULL;
			goto fail;
		}
	*n = (uint32_t)k;
	return env;
fail:
	for (size_t i = 0; i < k; i++)
		free(env[i]);
	free(env);
	return NULL;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A command task's batch script: fixed text; the command's argv are its arguments, so no
 * user data ever becomes shell text. */
#define COMMAND_SCRIPT                                                                             \
	"#!/bin/sh\n# det-slurm command task: its argv are this script's arguments.\n"             \
	"exec \"$@\"\n"

/* The partition and slots of a command task in d: pool -> partition (det.conf's
 * PoolPartition, else the pool is a partition) unless sbatch_args named one; slots as
 * GPUs (a GPU pool) or tasks, like a one-trial array. */
static void command_resources(const struct rm_slurm *s, const struct rm_array *spec,
                              const struct rm_slurm_opts *o, job_desc_msg_t *d, char *tres,
                              size_t tlen)
{
	const char *pool = pool_of(spec);
	const struct det_pool *dp = NULL;
	int slots = slots_of(spec);

	for (size_t i = 0; pool && *pool && i < s->npools; i++)
		if (!strcmp(s->pools[i].name, pool))
			dp = &s->pools[i];
	if (*o->partition)
		d->partition = (char *)o->partition;
	else if (dp)
		d->partition = (char *)dp->partition;
	else if (pool && *pool)
		d->partition = (char *)pool;
	if (dp && dp->gpu) {
		snprintf(tres, tlen, "gres:gpu:%d", slots);
		d->tres_per_node = tres;
		d->num_tasks = 1;
	} else {
		d->num_tasks = (uint32_t)slots;
		d->min_cpus = (uint32_t)slots;
	}
}

/* The environment of a command task's job: job_env's, then DET_MASTER, DET_TASK_ID and
 * the command's own variables. NULL-terminated, malloc'd; NULL when out of memory. */
static char **command_env(const struct rm_array *spec, const struct passwd *pw, uint32_t *n)
{
	size_t extra = 0;
	char **env = job_env(pw, NULL, 0, n), **grown;

	while (spec->env && spec->env[extra])
		extra++;
	if (!env || !(grown = realloc(env, (*n + extra + 3) * sizeof(*env)))) {
		free_strv(env);
		return NULL;
	}
	env = grown;
	env[*n] = NULL;
	if (asprintf(&env[*n], "DET_MASTER=%s", spec->master_url) < 0)
		goto fail;
	env[++*n] = NULL;
	if (asprintf(&env[*n], "DET_TASK_ID=%lld", -(long long)spec->experiment_id) < 0)
		goto fail;
	env[++*n] = NULL;
	for (size_t i = 0; i < extra; i++) {
		if (!(env[*n] = strdup(spec->env[i])))
			goto fail;
		env[++*n] = NULL;
	}
	return env;
fail:
	env[*n] = NULL;
	free_strv(env);
	return NULL;
}

/* sbatch d as part p (its job id into p->job_id), counted in det_slurm_rpcs_total for
 * experiments and tasks alike; what job_submit says to the user is logged as
 * "<what> <id>: ...". 0, or -1 with err. */
static int submit_desc(struct rm_slurm *s, job_desc_msg_t *d, struct rm_slurm_part *p,
                       const char *what, long long id, char *err, size_t errlen)
{
	submit_response_msg_t *resp = NULL;
	int rv = -1;

	count_rpc(s, RPC_SUBMIT);
	if (slurm_submit_batch_job(d, &resp) != SLURM_SUCCESS || !resp) {
		snprintf(err, errlen, "slurm_submit_batch_job: %s", slurm_err());
		goto out;
	}
	p->job_id = resp->job_id;
	if (resp->job_submit_user_msg && *resp->job_submit_user_msg)
		say(s, LOG_LEVEL_WARN, "%s %lld: %s", what, id, resp->job_submit_user_msg);
	rv = 0;
out:
	if (resp)
		slurm_free_submit_response_response_msg(resp);
	return rv;
}

/* The account, QOS, constraint and time limit of o that are set, into d (which keeps
 * pointers into o). */
static void desc_from_opts(job_desc_msg_t *d, struct rm_slurm_opts *o)
{
	if (*o->account)
		d->account = o->account;
	if (*o->qos)
		d->qos = o->qos;
	if (*o->constraint)
		d->features = o->constraint;
	if (o->time_min >= 0)
		d->time_limit = (uint32_t)o->time_min;
}

/* Submit a command task (spec->argv) as part p: a one-task array named det-t<ID>, run as
 * its owner, never requeued (an interactive task ends on preemption or node failure),
 * its output in spec->output_path; with a context, under det-launch --command. */
static int submit_command(struct rm_slurm *s, const struct rm_array *spec, struct rm_slurm_part *p,
                          char *err, size_t errlen)
{
	job_desc_msg_t d;
	char name[64], comment[128], tres[96], pwstore[4096], inx[] = "0";
	struct passwd pwbuf, *pw = NULL;
	struct rm_slurm_opts o;
	char **argv = NULL;
	size_t n = 0;
	int rv = -1;

	slurm_init_job_desc_msg(&d);
	if (master_opts(spec, &o, err, errlen))
		return -1;
	if (spec->owner_uid < 0 ||
	    getpwuid_r((uid_t)spec->owner_uid, &pwbuf, pwstore, sizeof(pwstore), &pw) || !pw) {
		snprintf(err, errlen, "uid %ld: no such user", spec->owner_uid);
		return -1;
	}
	if (geteuid() != 0 && pw->pw_uid != geteuid()) {
		snprintf(err, errlen,
		         "this det-master runs as uid %u: it submits only that user's jobs",
		         (unsigned)geteuid());
		return -1;
	}
	desc_from_opts(&d, &o);
	command_resources(s, spec, &o, &d, tres, sizeof(tres));
	d.user_id = pw->pw_uid;
	d.group_id = pw->pw_gid;
	while (spec->argv[n])
		n++;
	argv = calloc(n + 4, sizeof(*argv));
	d.environment = command_env(spec, pw->pw_uid == geteuid() ? NULL : pw, &d.env_size);
	if (!argv || !d.environment) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(name, sizeof(name), "det-t%lld", -(long long)spec->experiment_id);
	snprintf(comment, sizeof(comment), "det-slurm task %lld (%s)",
	         -(long long)spec->experiment_id, spec->task_kind ? spec->task_kind : "command");
	argv[0] = name;
	/* A context: det-launch fetches it with the task's token, as rank 0 a model
	 * definition, and runs the command in it. */
	size_t k = 1;
	if (spec->context_path) {
		argv[k++] = s->launcher;
		argv[k++] = (char *)"--command";
	}
	for (size_t i = 0; i < n; i++)
		argv[k++] = (char *)spec->argv[i];
	d.argc = (uint32_t)k;
	d.argv = argv;
	d.script = (char *)COMMAND_SCRIPT;
	d.array_inx = inx;
	d.name = name;
	d.comment = comment;
	d.requeue = 0;
	d.work_dir = pw->pw_dir && *pw->pw_dir ? pw->pw_dir : (char *)"/";
	d.std_out = (char *)(spec->output_path ? spec->output_path : "/dev/null");
	d.std_err = d.std_out;
	rv = submit_desc(s, &d, p, "task", -(long long)spec->experiment_id, err, errlen);
out:
	free_strv(d.environment);
	free(argv);
	return rv;
}

/* Submit one Slurm array for part p of spec (held, with hold: it waits for its turn under
 * the experiment's throttle). */
static int submit_part(struct rm_slurm *s, const struct rm_array *spec, struct rm_slurm_part *p,
                       int hold, char *err, size_t errlen)
{
	job_desc_msg_t d;
	char script[SCRIPT_MAX], inx[64], name[64], spank_exp[64], spank_slots[64], spank_pool[320],
	    comment[128];
	char *spank[3];
	struct passwd pwbuf, *pw = NULL;
	char pwstore[4096];
	int rv = -1;

	struct rm_slurm_opts o;
	if (spec->argv)
		return submit_command(s, spec, p, err, errlen);
	if (make_script(s, spec, p->offset, script, sizeof(script))) {
		snprintf(err, errlen, "batch script longer than %d bytes", SCRIPT_MAX);
		return -1;
	}
	if (master_opts(spec, &o, err, errlen))
		return -1;
	slurm_init_job_desc_msg(&d);
	if (*o.partition)
		d.partition = o.partition;
	desc_from_opts(&d, &o);
	long limit;
	if (time_limit(s, spec, &o, &limit, err, errlen))
		return -1;
	long lead = walltime_lead(s, spec, limit); /* the partition's DefaultTime without --time */
	if (lead > 0) {
		d.warn_signal = SIGUSR1;
		d.warn_time = (uint16_t)lead;
		d.warn_flags = KILL_JOB_BATCH; /* the batch shell is det-launch or srun (exec) */
	}
	if (geteuid() == 0) {
		if (spec->owner_uid < 0) {
			snprintf(err, errlen,
			         "the experiment's owner has no Unix account: submit it with "
			         "det submit");
			return -1;
		}
		if (getpwuid_r((uid_t)spec->owner_uid, &pwbuf, pwstore, sizeof(pwstore), &pw) ||
		    !pw) {
			snprintf(err, errlen, "uid %ld: no such user", spec->owner_uid);
			return -1;
		}
		d.user_id = pw->pw_uid;
		d.group_id = pw->pw_gid;
		if (pw->pw_uid == geteuid())
			pw = NULL; /* the master's own environment is the user's */
	}
	array_spec(spec, p->count, inx, sizeof(inx));
	snprintf(name, sizeof(name), "det-e%lld", (long long)spec->experiment_id);
	snprintf(comment, sizeof(comment), "det-slurm experiment %lld tasks %d-%d",
	         (long long)spec->experiment_id, p->offset, p->offset + p->count - 1);
	snprintf(spank_exp, sizeof(spank_exp), "DET_EXPERIMENT_ID=%lld",
	         (long long)spec->experiment_id);
	snprintf(spank_slots, sizeof(spank_slots), "DET_SLOTS_PER_TRIAL=%d", slots_of(spec));
	spank[0] = spank_exp;
	spank[1] = spank_slots;
	d.spank_job_env_size = 2;
	if (pool_of(spec)) {
		snprintf(spank_pool, sizeof(spank_pool), "DET_RESOURCE_POOL=%.256s", pool_of(spec));
		spank[d.spank_job_env_size++] = spank_pool;
	}
	d.spank_job_env = spank;
	d.environment = job_env(pw, spank, d.spank_job_env_size, &d.env_size);
	if (!d.environment) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d.script = script;
	d.array_inx = inx;
	d.name = name;
	d.comment = comment;
	d.requeue = 1;
	if (hold)
		d.priority = 0;
	d.work_dir = (char *)(s->work_dir ? s->work_dir : "/tmp");
	d.std_out = (char *)(s->output ? s->output : "/dev/null");
	d.std_err = d.std_out;
	rv = submit_desc(s, &d, p, "experiment", (long long)spec->experiment_id, err, errlen);
	free_strv(d.environment);
	return rv;
}

/* A job named by a user must be theirs and a det job of this experiment: the master
 * (often root) holds and cancels what it watches. */
static int check_job(struct rm_slurm *s, const struct rm_array *spec, uint32_t job_id, char *err,
                     size_t errlen)
{
	job_info_msg_t *msg = NULL;
	char name[64];
	int rv = -1;

	if (geteuid() == 0 && spec->owner_uid < 0) {
		snprintf(err, errlen,
		         "the experiment's owner has no Unix account (use det on the master's Unix "
		         "socket or with MUNGE)");
		return -1;
	}
	count_rpc(s, RPC_LOAD_JOB);
	if (slurm_load_job(&msg, job_id, SHOW_ALL) != SLURM_SUCCESS || !msg ||
	    msg->record_count == 0) {
		snprintf(err, errlen, "job %u: %s", (unsigned)job_id, slurm_err());
		goto out;
	}
	slurm_job_info_t *j = &msg->job_array[0];
	snprintf(name, sizeof(name), "det-e%lld", (long long)spec->experiment_id);
	if (j->array_job_id != job_id) {
		snprintf(err, errlen, "job %u is not a job array", (unsigned)job_id);
	} else if (!j->name || strcmp(j->name, name)) {
		snprintf(err, errlen, "job %u is %s, not %s", (unsigned)job_id,
		         j->name ? j->name : "unnamed", name);
	} else if (spec->owner_uid >= 0 && j->user_id != (uint32_t)spec->owner_uid) {
		snprintf(err, errlen, "job %u belongs to uid %u, not to the experiment's owner",
		         (unsigned)job_id, (unsigned)j->user_id);
	} else {
		rv = 0;
	}
out:
	free_jobs(msg);
	return rv;
}

static struct sarr *new_array(const struct rm_array *spec)
{
	struct sarr *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->tasks = calloc((size_t)spec->num_tasks, sizeof(*a->tasks));
	if (!a->tasks) {
		free(a);
		return NULL;
	}
	a->experiment_id = spec->experiment_id;
	a->num_tasks = spec->num_tasks;
	a->max_concurrent = spec->max_concurrent > 0 ? spec->max_concurrent : 0;
	a->command = spec->argv != NULL;
	for (int i = 0; i < spec->num_tasks; i++) {
		a->tasks[i].st = RM_SLURM_T_PENDING;
		a->tasks[i].state = NO_VAL;
		if (spec->skip && spec->skip[i]) {
			a->tasks[i].st = RM_SLURM_T_DONE;
		} else if (spec->existing_job && spec->adopt_ids && spec->adopt_ids[i] > 0) {
			/* Running when the master stopped: its end is still to be seen. */
			a->tasks[i].st = RM_SLURM_T_RUNNING;
			a->tasks[i].job_id = (uint32_t)spec->adopt_ids[i];
		}
	}
	return a;
}

static int submit_array(struct rm *rm, const struct rm_array *spec, char *job_id, size_t idlen,
                        char *err, size_t errlen)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	struct sarr *a = NULL;
	int rv = -1, submitted = 0; /* Slurm arrays submitted so far */

	if (spec->num_tasks <= 0 || (spec->argv && (!spec->argv[0] || spec->num_tasks != 1))) {
		snprintf(err, errlen,
		         spec->num_tasks <= 0 ? "empty array"
		                              : "a command task needs an argv and one task");
		return -1;
	}
	a = new_array(spec);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* a is this call's own until it is linked in below: slurmctld is asked (check_job,
	 * submit_part) without s->lock, which poll, describe and the control operations
	 * need. */
	if (spec->existing_job && *spec->existing_job) {
		/* Adopt: the counts follow from the offsets. */
		a->nparts = rm_slurm_parse_ids(spec->existing_job, a->parts, RM_SLURM_MAX_PARTS,
		                               err, errlen);
		if (a->nparts < 0)
			goto out;
		for (int i = 0; i < a->nparts; i++) {
			int end = i + 1 < a->nparts ? a->parts[i + 1].offset : spec->num_tasks;
			a->parts[i].count = end - a->parts[i].offset;
			if (a->parts[i].count <= 0 || end > spec->num_tasks) {
				snprintf(err, errlen, "job id %s does not fit %d tasks",
				         spec->existing_job, spec->num_tasks);
				goto out;
			}
			if (spec->check_owner &&
			    check_job(s, spec, a->parts[i].job_id, err, errlen))
				goto out;
			/* Later parts wait for their turn (balance_throttle holds them). */
			a->waiting[i] = i > 0 && a->max_concurrent > 0;
			a->hold_later |= a->waiting[i];
		}
	} else {
		a->nparts = rm_slurm_split(spec->num_tasks, (int)s->max_array, a->parts,
		                           RM_SLURM_MAX_PARTS, err, errlen);
		if (a->nparts < 0)
			goto out;
		for (int i = 0; i < a->nparts; i++) {
			/* Parts after the first wait held: one throttle for all of them. */
			a->waiting[i] = i > 0 && a->max_concurrent > 0;
			a->throttle[i] = (uint32_t)a->max_concurrent;
			if (submit_part(s, spec, &a->parts[i], a->waiting[i], err, errlen))
				goto out;
			submitted = i + 1;
		}
	}
	if (rm_slurm_format_ids(a->parts, a->nparts, a->id, sizeof(a->id)) ||
	    strlen(a->id) >= idlen) {
		snprintf(err, errlen, "too many arrays for one experiment");
		goto out;
	}
	snprintf(job_id, idlen, "%s", a->id);
	/* A second watcher of the same job (a re-registration) replaces the first, which
	 * poll frees (it may be reading it). */
	pthread_mutex_lock(&s->lock);
	for (struct sarr *o = s->arrays; o; o = o->next)
		if (!o->dead && !strcmp(o->id, a->id))
			o->dead = 1;
	a->next = s->arrays;
	s->arrays = a;
	a = NULL;
	s->arrays_gen++;
	s->next_poll_ms = 0;
	pthread_mutex_unlock(&s->lock);
	submitted = 0;
	rv = 0;
out:
	/* Leave nothing half-submitted behind. */
	for (int j = 0; j < submitted; j++)
		slurm_kill_job(a->parts[j].job_id, SIGKILL, KILL_JOB_ARRAY);
	free_array(a);
	return rv;
}

static json_t *rm_plan(struct rm *rm, const struct rm_array *spec, char *err, size_t errlen)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	struct rm_slurm_part parts[RM_SLURM_MAX_PARTS];
	char script[SCRIPT_MAX], inx[64], name[64];
	int n = rm_slurm_split(spec->num_tasks, (int)s->max_array, parts, RM_SLURM_MAX_PARTS, err,
	                       errlen);
	if (n < 0)
		return NULL;
	json_t *arrays = json_array();
	for (int i = 0; i < n && arrays; i++) {
		if (make_script(s, spec, parts[i].offset, script, sizeof(script))) {
			snprintf(err, errlen, "batch script longer than %d bytes", SCRIPT_MAX);
			json_decref(arrays);
			return NULL;
		}
		array_spec(spec, parts[i].count, inx, sizeof(inx));
		json_array_append_new(arrays, json_pack("{s:s, s:i, s:i, s:s}", "array", inx,
		                                        "offset", parts[i].offset, "count",
		                                        parts[i].count, "script", script));
	}
	snprintf(name, sizeof(name), "det-e%lld", (long long)spec->experiment_id);
	json_t *args = sbatch_args(spec);
	/* det submit adds its own sbatch arguments, so the signal goes first (theirs win) and
	 * only where the config's own --time (or the partition's DefaultTime) shows that it
	 * leaves the trial time to run. */
	struct rm_slurm_opts o;
	char sig[64], ignored[256];
	long limit = -1;
	long lead = master_opts(spec, &o, ignored, sizeof(ignored)) == 0 &&
	                    time_limit(s, spec, &o, &limit, ignored, sizeof(ignored)) == 0 &&
	                    limit >= 0
	                ? walltime_lead(s, spec, limit)
	                : 0;
	snprintf(sig, sizeof(sig), "--signal=B:USR1@%ld", lead);
	if (args && lead > 0)
		json_array_insert_new(args, 0, json_string(sig));
	json_t *out = json_pack("{s:o, s:s, s:i, s:s?, s:o}", "arrays", arrays, "job_name", name,
	                        "slots_per_trial", slots_of(spec), "resource_pool", pool_of(spec),
	                        "sbatch_args", args);
	if (!out)
		snprintf(err, errlen, "out of memory");
	return out;
}

/* ---- control -------------------------------------------------------------------- */

static int with_array(struct rm_slurm *s, const char *id, struct sarr **out, char *err,
                      size_t errlen)
{
	*out = find_array(s, id);
	if (!*out) {
		snprintf(err, errlen, "no array %s", id);
		return -1;
	}
	return 0;
}

/* "JOB_[a-b,c,...]": the tasks of part pi that never started. 0 when there is none, 1 when
 * buf holds them, -1 when they do not fit. */
static int pending_expr(const struct sarr *a, int pi, char *buf, size_t len)
{
	const struct rm_slurm_part *p = &a->parts[pi];
	size_t u = 0;
	int n = 0;
	int w = snprintf(buf, len, "%u_[", (unsigned)p->job_id);
	if (w < 0 || (size_t)w >= len)
		return -1;
	u = (size_t)w;
	for (int k = 0; k < p->count; k++) {
		const struct stask *t = &a->tasks[p->offset + k];
		if (t->st != RM_SLURM_T_PENDING || t->job_id)
			continue;
		int end = k;
		while (end + 1 < p->count &&
		       a->tasks[p->offset + end + 1].st == RM_SLURM_T_PENDING &&
		       !a->tasks[p->offset + end + 1].job_id)
			end++;
		w = end > k ? snprintf(buf + u, len - u, "%s%d-%d", n ? "," : "", k, end)
		            : snprintf(buf + u, len - u, "%s%d", n ? "," : "", k);
		if (w < 0 || (size_t)w >= len - u)
			return -1;
		u += (size_t)w;
		n++;
		k = end;
	}
	if (u + 2 > len)
		return -1;
	buf[u++] = ']';
	buf[u] = '\0';
	return n > 0;
}

/* slurmctld did not answer (down, restarting, or slower than MessageTimeout). */
static int ctld_silent(int e)
{
	return (e >= SLURM_COMMUNICATIONS_CONNECTION_ERROR && e < 2000) ||
	       e == SLURM_PROTOCOL_SOCKET_IMPL_TIMEOUT || e == ETIMEDOUT || e == ECONNREFUSED ||
	       e == EAGAIN;
}

/* One call to slurmctld that an operation needs. */
enum tgt_kind { TGT_KILL, TGT_HOLD, TGT_RELEASE, TGT_REQUEUE_HOLD, TGT_REQUEUE, TGT_THROTTLE };

struct tgt {
	enum tgt_kind kind;
	uint32_t job_id;
	uint16_t flags;
	char *expr;        /* TGT_KILL of some tasks of an array */
	uint32_t throttle; /* TGT_THROTTLE */
};

/* 0: done or nothing to do, 1: slurmctld did not answer, -1: refused (err says why). */
static int run_tgt(struct rm_slurm *s, const struct tgt *t, char *err, size_t errlen)
{
	char jid[32];
	int rc, e;
	snprintf(jid, sizeof(jid), "%u", (unsigned)t->job_id);
	count_rpc(s, RPC_CONTROL);
	switch (t->kind) {
	case TGT_KILL:
		/* SIGKILL through slurmctld is scancel's termination: SIGTERM, KillWait,
		 * SIGKILL. */
		rc = t->expr ? slurm_kill_job2(t->expr, SIGKILL, t->flags, NULL)
		             : slurm_kill_job(t->job_id, SIGKILL, t->flags);
		e = slurm_get_errno();
		if (rc == SLURM_SUCCESS || e == ESLURM_ALREADY_DONE || e == ESLURM_INVALID_JOB_ID)
			return 0;
		snprintf(err, errlen, "cancel %s: %s", t->expr ? t->expr : jid, slurm_strerror(e));
		break;
	case TGT_HOLD:
	case TGT_RELEASE: {
		/* priority 0 with a user hold (hold) or INFINITE (release) on every pending
		 * task of one Slurm array. */
		job_desc_msg_t d;
		job_array_resp_msg_t *resp = NULL;
		slurm_init_job_desc_msg(&d);
		d.job_id_str = jid;
		d.priority = t->kind == TGT_HOLD ? 0 : INFINITE;
		if (t->kind == TGT_HOLD)
			d.alloc_sid = ALLOC_SID_USER_HOLD;
		rc = slurm_update_job2(&d, &resp);
		e = slurm_get_errno();
		if (resp)
			slurm_free_job_array_resp(resp);
		/* Tasks already running refuse the update; that is expected. */
		if (rc == SLURM_SUCCESS || e == ESLURM_JOB_NOT_PENDING || e == ESLURM_ALREADY_DONE)
			return 0;
		snprintf(err, errlen, "%s %s: %s", t->kind == TGT_HOLD ? "hold" : "release", jid,
		         slurm_strerror(e));
		break;
	}
	case TGT_THROTTLE: {
		/* What scontrol update ArrayTaskThrottle=N sends. */
		job_desc_msg_t d;
		job_array_resp_msg_t *resp = NULL;
		char inx[16];
		slurm_init_job_desc_msg(&d);
		snprintf(inx, sizeof(inx), "%u", (unsigned)t->throttle);
		d.job_id_str = jid;
		d.array_inx = inx;
		rc = slurm_update_job2(&d, &resp);
		e = slurm_get_errno();
		if (resp)
			slurm_free_job_array_resp(resp);
		if (rc == SLURM_SUCCESS || e == ESLURM_ALREADY_DONE)
			return 0;
		snprintf(err, errlen, "throttle %s to %u: %s", jid, (unsigned)t->throttle,
		         slurm_strerror(e));
		break;
	}
	case TGT_REQUEUE_HOLD:
	case TGT_REQUEUE:
	default:
		rc = slurm_requeue(t->job_id, t->kind == TGT_REQUEUE_HOLD ? JOB_REQUEUE_HOLD : 0);
		e = slurm_get_errno();
		/* Pending already (Slurm requeued it itself, RequeueExit): what was asked. */
		if (rc == SLURM_SUCCESS || (t->kind == TGT_REQUEUE && e == ESLURM_JOB_PENDING))
			return 0;
		snprintf(err, errlen, "%s %s: %s",
		         t->kind == TGT_REQUEUE_HOLD ? "requeuehold" : "requeue", jid,
		         slurm_strerror(e));
		break;
	}
	return ctld_silent(e) ? 1 : -1;
}

/* Queue an operation on a for the poll thread. Called with s->lock held. */
static int queue_op(struct rm_slurm *s, struct sarr *a, enum sop_kind kind, int task, char *err,
                    size_t errlen)
{
	if (s->nops >= OPS_MAX) {
		snprintf(err, errlen, "too many operations wait for slurmctld");
		return -1;
	}
	s->ops[s->nops++] = (struct sop){.kind = kind, .a = a, .task = task};
	a->nops++;
	s->next_poll_ms = 0;
	return 0;
}

static int add_tgt(struct tgt **v, int *n, int *cap, struct tgt t)
{
	if (*n == *cap) {
		int c = *cap ? *cap * 2 : 16;
		struct tgt *nv = realloc(*v, (size_t)c * sizeof(*nv));
		if (!nv)
			return -1;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = t;
	return 0;
}

static void free_tgts(struct tgt *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i].expr);
	free(v);
}

/* The calls to slurmctld that op needs now, from what poll last saw. Called with s->lock
 * held. */
static int plan_op(struct rm_slurm *s, const struct sop *op, struct tgt **out, int *nout)
{
	struct sarr *a = op->a;
	struct tgt *v = NULL;
	int n = 0, cap = 0, rv = 0;
	char expr[4096];
	(void)s;
	switch (op->kind) {
	case SOP_CANCEL:
		/* What waits goes now; running tasks are canceled by poll after grace_ms. */
		for (int i = 0; i < a->nparts && !rv; i++) {
			if (a->gone[i])
				continue;
			int r = pending_expr(a, i, expr, sizeof(expr));
			struct tgt t = {.kind = TGT_KILL, .job_id = a->parts[i].job_id};
			if (r < 0) {
				t.flags = KILL_JOB_ARRAY;
			} else if (r > 0) {
				if (!(t.expr = strdup(expr))) {
					rv = -1;
					break;
				}
			} else {
				continue;
			}
			if (add_tgt(&v, &n, &cap, t)) {
				free(t.expr);
				rv = -1;
			}
		}
		/* Requeued tasks (held by a pause, say) wait too. */
		for (int i = 0; i < a->num_tasks && !rv; i++) {
			const struct stask *t = &a->tasks[i];
			if (t->st == RM_SLURM_T_PENDING && t->job_id)
				rv = add_tgt(&v, &n, &cap,
				             (struct tgt){.kind = TGT_KILL, .job_id = t->job_id});
		}
		break;
	case SOP_HOLD:
	case SOP_RELEASE:
		/* A part waiting for its turn under the throttle stays held. */
		for (int i = 0; i < a->nparts && !rv; i++)
			if (!a->gone[i] && !(op->kind == SOP_RELEASE && a->waiting[i]))
				rv =
				    add_tgt(&v, &n, &cap,
				            (struct tgt){.kind = op->kind == SOP_HOLD ? TGT_HOLD
				                                                      : TGT_RELEASE,
				                         .job_id = a->parts[i].job_id});
		/* Running tasks go back to the queue, held (the trial checkpoints on
		 * SIGTERM). */
		for (int i = 0; op->kind == SOP_HOLD && i < a->num_tasks && !rv; i++) {
			const struct stask *t = &a->tasks[i];
			if (t->st == RM_SLURM_T_RUNNING && t->job_id)
				rv = add_tgt(
				    &v, &n, &cap,
				    (struct tgt){.kind = TGT_REQUEUE_HOLD, .job_id = t->job_id});
		}
		break;
	case SOP_REQUEUE:
	default:
		if (op->task >= 0 && op->task < a->num_tasks && a->tasks[op->task].job_id)
			rv = add_tgt(
			    &v, &n, &cap,
			    (struct tgt){.kind = TGT_REQUEUE, .job_id = a->tasks[op->task].job_id});
		break;
	}
	if (rv) {
		free_tgts(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

static const char *op_name(enum sop_kind k)
{
	return k == SOP_CANCEL    ? "cancel"
	       : k == SOP_HOLD    ? "hold"
	       : k == SOP_RELEASE ? "release"
	                          : "requeue";
}

/* Keep what slurmctld refused for describe; a refused requeue also ends the task for
 * good (an event with requeue_refused), so its trial does not wait for a task that will
 * not come back. Called with s->lock held. */
static void record_refusal(struct rm_slurm *s, struct sarr *a, const struct sop *op,
                           const char *err)
{
	struct srefusal *r;

	if (s->nrefused == REFUSALS_MAX) {
		memmove(s->refused, s->refused + 1, (REFUSALS_MAX - 1) * sizeof(*s->refused));
		s->nrefused--;
	}
	r = &s->refused[s->nrefused++];
	snprintf(r->id, sizeof(r->id), "%s", a->id);
	r->at = time(NULL);
	snprintf(r->op, sizeof(r->op), "%s", op_name(op->kind));
	r->task = op->kind == SOP_REQUEUE ? op->task : -1;
	snprintf(r->error, sizeof(r->error), "%s", err);
	if (op->kind == SOP_REQUEUE && op->task >= 0 && op->task < a->num_tasks) {
		struct stask *t = &a->tasks[op->task];
		queue_event(s, (struct rm_task_event){.kind = RM_TASK_ENDED,
		                                      .experiment_id = a->experiment_id,
		                                      .array_task = op->task,
		                                      .pid = (int)(t->job_id & 0x7fffffff),
		                                      .wait_status = -1,
		                                      .requeue_refused = 1});
	}
}

/* Apply the queued operations in order; stop at the first that slurmctld does not answer,
 * to retry it (and those behind it) at the next poll. Called by poll, s->lock not held. */
static void run_ops(struct rm_slurm *s)
{
	for (;;) {
		struct sop op;
		struct tgt *v = NULL;
		int n = 0, retry = 0, fail = 0, requeued = 0;
		char err[4200], refusal[4200] = "";

		pthread_mutex_lock(&s->lock);
		if (s->nops == 0) {
			pthread_mutex_unlock(&s->lock);
			return;
		}
		op = s->ops[0];
		if (!op.a->dead && plan_op(s, &op, &v, &n)) {
			pthread_mutex_unlock(&s->lock);
			say(s, LOG_LEVEL_ERROR, "%s of array %s: out of memory (retrying)",
			    op_name(op.kind), op.a->id);
			return;
		}
		pthread_mutex_unlock(&s->lock);
		for (int i = 0; i < n && !retry; i++) {
			int r = run_tgt(s, &v[i], err, sizeof(err));
			if (r > 0) {
				retry = 1;
				if (!s->ctld_down) {
					s->ctld_down = 1;
					say(s, LOG_LEVEL_ERROR, "%s of array %s (retrying): %s",
					    op_name(op.kind), op.a->id, err);
				}
			} else if (r < 0) {
				fail = 1;
				say(s, LOG_LEVEL_WARN, "%s", err);
				snprintf(refusal, sizeof(refusal), "%s", err);
			} else if (v[i].kind == TGT_REQUEUE_HOLD) {
				requeued++;
			}
		}
		free_tgts(v, n);
		if (retry)
			return;
		pthread_mutex_lock(&s->lock);
		if (op.kind == SOP_REQUEUE && !fail && !op.a->dead && op.task >= 0 &&
		    op.task < op.a->num_tasks && op.a->tasks[op.task].st == RM_SLURM_T_DONE)
			/* A running task's end is reported when Slurm shows it pending again. */
			op.a->tasks[op.task].st = RM_SLURM_T_PENDING;
		if (fail && !op.a->dead)
			record_refusal(s, op.a, &op, refusal);
		op.a->nops--;
		s->nops--;
		memmove(s->ops, s->ops + 1, (size_t)s->nops * sizeof(*s->ops));
		pthread_mutex_unlock(&s->lock);
		if (op.kind == SOP_HOLD)
			say(s, LOG_LEVEL_INFO, "array %s held, %d running tasks requeued", op.a->id,
			    requeued);
	}
}

/* Cancel: what waits goes at the next poll; running tasks get grace_ms to end by
 * themselves (their trials are told to stop), then poll cancels whatever still runs. So
 * the tasks of a completed experiment, which are exiting anyway, end COMPLETED in Slurm's
 * accounting. The array is marked canceled at once, so that its tasks' CANCELLED is not
 * taken for an outside scancel. */
static int rm_cancel(struct rm *rm, const char *id, char *err, size_t errlen)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	struct sarr *a;
	int rv = -1;
	pthread_mutex_lock(&s->lock);
	if (with_array(s, id, &a, err, errlen) || queue_op(s, a, SOP_CANCEL, 0, err, errlen))
		goto out;
	a->canceled = 1;
	/* A command has no det-launch to stop it first: scancel's SIGTERM, KillWait and
	 * SIGKILL are its grace period. */
	a->kill_at_ms = now_ms() + (a->command ? 0 : (uint64_t)s->grace_ms);
	rv = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rv;
}

/* Hold (paused 1) or release (0) array id: queued for the worker, marked at once. */
static int set_paused(struct rm *rm, const char *id, int paused, char *err, size_t errlen)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	struct sarr *a;
	int rv = -1;
	pthread_mutex_lock(&s->lock);
	if (!with_array(s, id, &a, err, errlen))
		rv = queue_op(s, a, paused ? SOP_HOLD : SOP_RELEASE, 0, err, errlen);
	if (rv == 0)
		a->paused = paused;
	pthread_mutex_unlock(&s->lock);
	return rv;
}

static int rm_hold(struct rm *rm, const char *id, char *err, size_t errlen)
{
	return set_paused(rm, id, 1, err, errlen);
}

static int rm_release(struct rm *rm, const char *id, char *err, size_t errlen)
{
	return set_paused(rm, id, 0, err, errlen);
}

static int rm_requeue(struct rm *rm, const char *id, int task, char *err, size_t errlen)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	struct sarr *a;
	int rv = -1;
	pthread_mutex_lock(&s->lock);
	if (with_array(s, id, &a, err, errlen))
		goto out;
	if (task < 0 || task >= a->num_tasks) {
		snprintf(err, errlen, "no task %d in %s", task, id);
		goto out;
	}
	if (!a->tasks[task].job_id) {
		/* Never started: it is still pending in the array. */
		a->tasks[task].st = RM_SLURM_T_PENDING;
		rv = 0;
		goto out;
	}
	rv = queue_op(s, a, SOP_REQUEUE, task, err, errlen);
out:
	pthread_mutex_unlock(&s->lock);
	return rv;
}

/* ---- polling -------------------------------------------------------------------- */

static enum rm_slurm_obs observe(uint32_t state)
{
	uint32_t base = state & JOB_STATE_BASE;
	if (base == JOB_PENDING)
		return RM_SLURM_OBS_PENDING;
	if (state & (JOB_REQUEUE | JOB_REQUEUE_HOLD | JOB_REQUEUE_FED))
		return RM_SLURM_OBS_REQUEUED;
	if (base == JOB_RUNNING || base == JOB_SUSPENDED)
		return RM_SLURM_OBS_RUNNING;
	return RM_SLURM_OBS_ENDED;
}

static int queue_event(struct rm_slurm *s, struct rm_task_event ev)
{
	if (s->qlen == s->qcap) {
		size_t cap = s->qcap ? s->qcap * 2 : 64;
		if (cap > QUEUE_MAX)
			return -1;
		struct rm_task_event *q = realloc(s->queue, cap * sizeof(*q));
		if (!q)
			return -1;
		s->queue = q;
		s->qcap = cap;
	}
	s->queue[s->qlen++] = ev;
	return 0;
}

/* Slurm's exit code is a wait status; a canceled or killed task without one reads as
 * killed by SIGKILL. */
static int wait_status_of(const struct stask *t)
{
	uint32_t base = t->state & JOB_STATE_BASE;
	if (t->exit_code == NO_VAL)
		return -1;
	if (t->exit_code == 0 && base != JOB_COMPLETE)
		return SIGKILL;
	return (int)t->exit_code;
}

/* det-launch's "run me again" (EX_TEMPFAIL): it ends with 75 when a SIGTERM that det-master
 * did not send (scancel --signal=TERM, a preemption's grace time) made its trial checkpoint
 * and stop. Asked of tasks that failed with it while the array is neither canceled nor
 * paused by the master (a pause requeues its tasks held itself). */
#define LAUNCH_EXIT_REQUEUE 75

static int asks_requeue(const struct sarr *a, const struct stask *t)
{
	return (t->state & JOB_STATE_BASE) == JOB_FAILED && t->exit_code != NO_VAL &&
	       WIFEXITED((int)t->exit_code) &&
	       WEXITSTATUS((int)t->exit_code) == LAUNCH_EXIT_REQUEUE && !a->canceled &&
	       !a->paused && t->job_id && !a->command;
}

/* Why Slurm ended a task for good, as a trial's end_reason; "" when it ended by itself
 * (completed or failed: det-launch reports why) or was canceled by the master. */
static const char *end_reason(uint32_t state)
{
	switch (state & JOB_STATE_BASE) {
	case JOB_TIMEOUT:
		return "TIMEOUT";
	case JOB_NODE_FAIL:
		return "NODE_FAIL";
	case JOB_OOM:
		return "OUT_OF_MEMORY";
	case JOB_BOOT_FAIL:
		return "BOOT_FAIL";
	case JOB_DEADLINE:
		return "DEADLINE";
	case JOB_PREEMPTED:
		return "PREEMPTED";
	default:
		return "";
	}
}

static void report_cancels(struct rm_slurm *s, struct sarr *a);
static int array_live(const struct sarr *a);

/* Apply one observation of task i. */
static void observe_task(struct rm_slurm *s, struct sarr *a, int i, uint32_t state,
                         unsigned restarts)
{
	struct stask *t = &a->tasks[i];
	enum rm_slurm_obs obs = observe(state);
	uint32_t base = state & JOB_STATE_BASE;
	int external_cancel = base == JOB_CANCELLED && !a->canceled;

	t->known = 1;
	/* Asked for before the task's node reported: what it says of the task is older. */
	if ((int32_t)(s->applying_seq - t->report_seq) <= 0)
		return;
	if (t->reported_end) {
		if ((obs == RM_SLURM_OBS_RUNNING || obs == RM_SLURM_OBS_PENDING) &&
		    restarts == t->restarts)
			return; /* slurmctld has not heard of the end yet */
		t->reported_end = 0;
	}
	t->state = state;
	if (base == JOB_CANCELLED && t->st == RM_SLURM_T_PENDING && !t->job_id) {
		/* Canceled before it ever ran: no trial to end. */
		t->st = RM_SLURM_T_DONE;
		t->restarts = restarts;
		if (external_cancel && !a->cancel_reported) {
			a->cancel_reported = 1;
			queue_event(s, (struct rm_task_event){.kind = RM_TASK_ENDED,
			                                      .experiment_id = a->experiment_id,
			                                      .array_task = i,
			                                      .wait_status = SIGKILL,
			                                      .canceled = 1});
		}
		return;
	}
	enum rm_slurm_tstate st = (enum rm_slurm_tstate)t->st;
	int emit = rm_slurm_step(&st, &t->restarts, obs, restarts);
	t->st = (uint8_t)st;
	struct rm_task_event ev = {.experiment_id = a->experiment_id,
	                           .array_task = i,
	                           .pid = (int)(t->job_id & 0x7fffffff)};
	if (emit & RM_SLURM_EMIT_END_REQUEUED) {
		ev.kind = RM_TASK_ENDED;
		ev.wait_status = -1;
		ev.requeued = 1;
		queue_event(s, ev);
	}
	if (emit & RM_SLURM_EMIT_START) {
		ev.kind = RM_TASK_STARTED;
		ev.wait_status = 0;
		ev.requeued = 0;
		queue_event(s, ev);
		t->listed_seq = s->applying_seq; /* the list told it first */
	}
	if (emit & RM_SLURM_EMIT_END) {
		char err[128];
		ev.kind = RM_TASK_ENDED;
		ev.wait_status = wait_status_of(t);
		ev.requeued = 0;
		if (external_cancel) {
			/* One task or the whole array: report_cancels decides once every part
			 * of the array was read. */
			t->cancel_seen = 1;
			return;
		}
		if (asks_requeue(a, t) && !queue_op(s, a, SOP_REQUEUE, i, err, sizeof(err))) {
			/* run_ops requeues it (a refusal ends its trial): until then it is done. */
			ev.wait_status = -1;
			ev.requeued = 1;
		} else {
			snprintf(ev.reason, sizeof(ev.reason), "%s", end_reason(state));
		}
		queue_event(s, ev);
	}
}

/* Tasks that an outside scancel ended (cancel_seen): when nothing of the array is left to
 * run, the array was canceled and the experiment stops (canceled, once); otherwise those
 * tasks alone were, and only their trials end (task_canceled). Slurm cancels a whole array
 * at once, so one poll sees all of it. Called with s->lock held. */
static void report_cancels(struct rm_slurm *s, struct sarr *a)
{
	int whole = !array_live(a);
	for (int i = 0; i < a->num_tasks; i++) {
		struct stask *t = &a->tasks[i];
		if (!t->cancel_seen)
			continue;
		t->cancel_seen = 0;
		struct rm_task_event ev = {.kind = RM_TASK_ENDED,
		                           .experiment_id = a->experiment_id,
		                           .array_task = i,
		                           .pid = (int)(t->job_id & 0x7fffffff),
		                           .wait_status = wait_status_of(t)};
		snprintf(ev.reason, sizeof(ev.reason), "%s", "CANCELLED by scancel");
		if (!whole)
			ev.task_canceled = 1;
		else if (!a->cancel_reported)
			ev.canceled = a->cancel_reported = 1;
		queue_event(s, ev);
	}
}

/* Apply what slurm_load_job said of one Slurm array of a: msg, or NULL and its error e.
 * Called with s->lock held. */
static void poll_part(struct rm_slurm *s, struct sarr *a, int pi, job_info_msg_t *msg, int e)
{
	struct rm_slurm_part *p = &a->parts[pi];
	char err[128];

	if (!msg) {
		if (e == ESLURM_INVALID_JOB_ID) {
			/* Purged (MinJobAge) or never known: whatever ran has ended. */
			a->gone[pi] = 1;
			for (int i = p->offset; i < p->offset + p->count; i++) {
				struct stask *t = &a->tasks[i];
				if (t->st == RM_SLURM_T_RUNNING)
					queue_event(s, (struct rm_task_event){
					                   .kind = RM_TASK_ENDED,
					                   .experiment_id = a->experiment_id,
					                   .array_task = i,
					                   .pid = (int)(t->job_id & 0x7fffffff),
					                   .wait_status = -1});
				t->st = RM_SLURM_T_DONE;
			}
			say(s, LOG_LEVEL_WARN, "array %u of experiment %lld is gone from slurmctld",
			    (unsigned)p->job_id, (long long)a->experiment_id);
		} else if (!s->ctld_down) {
			s->ctld_down = 1;
			say(s, LOG_LEVEL_ERROR, "cannot load job %u (retrying): %s",
			    (unsigned)p->job_id, slurm_strerror(e));
		}
		return;
	}
	if (s->ctld_down) {
		s->ctld_down = 0;
		say(s, LOG_LEVEL_WARN, "slurmctld answers again");
	}
	unsigned char *pending = calloc((size_t)p->count, 1);
	unsigned char *listed = calloc((size_t)p->count, 1);
	int complete = 1; /* every task Slurm still knows was listed */
	for (uint32_t r = 0; pending && listed && r < msg->record_count; r++) {
		slurm_job_info_t *j = &msg->job_array[r];
		if (j->array_job_id != p->job_id)
			continue;
		if (j->array_task_id == NO_VAL) {
			/* The record of the tasks that never started. */
			memset(pending, 0, (size_t)p->count);
			if (!j->array_task_str ||
			    rm_slurm_parse_indices(j->array_task_str, pending, p->count, err,
			                           sizeof(err))) {
				if (j->array_task_str)
					say(s, LOG_LEVEL_WARN, "job %u: %s", (unsigned)p->job_id,
					    err);
				complete = 0;
				continue;
			}
			for (int k = 0; k < p->count; k++) {
				if (!pending[k])
					continue;
				listed[k] = 1;
				struct stask *t = &a->tasks[p->offset + k];
				t->reason = j->state_reason;
				t->exit_code = j->exit_code;
				t->priority = j->priority;
				observe_task(s, a, p->offset + k, j->job_state, t->restarts);
			}
			continue;
		}
		if (j->array_task_id >= (uint32_t)p->count)
			continue;
		listed[j->array_task_id] = 1;
		int i = p->offset + (int)j->array_task_id;
		struct stask *t = &a->tasks[i];
		t->job_id = j->job_id;
		t->reason = j->state_reason;
		t->exit_code = j->exit_code;
		t->priority = j->priority;
		observe_task(s, a, i, j->job_state, j->restart_cnt);
	}
	/* A running task Slurm no longer lists was purged (MinJobAge) after it ended. */
	for (int k = 0; pending && listed && complete && k < p->count; k++) {
		struct stask *t = &a->tasks[p->offset + k];
		if (listed[k] || t->st != RM_SLURM_T_RUNNING ||
		    (int32_t)(s->applying_seq - t->report_seq) <= 0)
			continue;
		t->st = RM_SLURM_T_DONE;
		queue_event(s, (struct rm_task_event){.kind = RM_TASK_ENDED,
		                                      .experiment_id = a->experiment_id,
		                                      .array_task = p->offset + k,
		                                      .pid = (int)(t->job_id & 0x7fffffff),
		                                      .wait_status = -1});
	}
	free(pending);
	free(listed);
}

/* True while some task of a can still run. */
static int array_live(const struct sarr *a)
{
	for (int i = 0; i < a->num_tasks; i++)
		if (a->tasks[i].st != RM_SLURM_T_DONE)
			return 1;
	return 0;
}

static void rm_label(struct rm *rm, int64_t experiment_id, int task, int64_t trial_id)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	pthread_mutex_lock(&s->label_lock);
	if (s->nlabels < LABELS_MAX)
		s->labels[s->nlabels++] = (struct slabel){.experiment_id = experiment_id,
		                                          .trial_id = trial_id,
		                                          .task = task,
		                                          .tries = LABEL_TRIES};
	pthread_mutex_unlock(&s->label_lock);
}

/* Set the job comment of each labelled task that runs ("det-slurm experiment E
 * trial T", what squeue -o %k shows); keep those whose task Slurm has not shown
 * running yet. Called by poll, s->lock not held. */
static void apply_labels(struct rm_slurm *s)
{
	struct slabel *todo = NULL;
	int n = 0, keep = 0;

	pthread_mutex_lock(&s->label_lock);
	if (s->nlabels > 0 && (todo = malloc((size_t)s->nlabels * sizeof(*todo)))) {
		n = s->nlabels;
		memcpy(todo, s->labels, (size_t)n * sizeof(*todo));
		s->nlabels = 0;
	}
	pthread_mutex_unlock(&s->label_lock);
	for (int i = 0; i < n; i++) {
		struct slabel *l = &todo[i];
		char jid[32], comment[96];
		pthread_mutex_lock(&s->lock);
		struct sarr *a = s->arrays;
		while (a && (a->dead || a->experiment_id != l->experiment_id))
			a = a->next;
		if (!a || l->task < 0 || l->task >= a->num_tasks) {
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		const struct stask *t = &a->tasks[l->task];
		if (t->st != RM_SLURM_T_RUNNING || !t->job_id) {
			pthread_mutex_unlock(&s->lock);
			if (--l->tries > 0)
				todo[keep++] = *l;
			continue;
		}
		/* Named as ARRAY_TASK: the last task to start keeps the array's own job id,
		 * and an update of that id alone would change every task of the array. */
		int pi = 0;
		while (pi + 1 < a->nparts && l->task >= a->parts[pi + 1].offset)
			pi++;
		snprintf(jid, sizeof(jid), "%u_%d", (unsigned)a->parts[pi].job_id,
		         l->task - a->parts[pi].offset);
		pthread_mutex_unlock(&s->lock);
		job_desc_msg_t d;
		slurm_init_job_desc_msg(&d);
		snprintf(comment, sizeof(comment), "det-slurm experiment %lld trial %lld",
		         (long long)l->experiment_id, (long long)l->trial_id);
		d.job_id_str = jid;
		d.comment = comment;
		count_rpc(s, RPC_CONTROL);
		/* A master that may not change users' jobs only loses the label. */
		job_array_resp_msg_t *resp = NULL;
		if (slurm_update_job2(&d, &resp) != SLURM_SUCCESS)
			say(s, LOG_LEVEL_DEBUG, "comment of job %s: %s", jid, slurm_err());
		if (resp)
			slurm_free_job_array_resp(resp);
	}
	/* Labels still waiting go back, behind any that arrived meanwhile. */
	pthread_mutex_lock(&s->label_lock);
	for (int i = 0; i < keep && s->nlabels < LABELS_MAX; i++)
		s->labels[s->nlabels++] = todo[i];
	pthread_mutex_unlock(&s->label_lock);
	free(todo);
}

/* One throttle over the parts of a (rm_slurm_throttle_plan): set the current part's
 * throttle to what the others leave, release the next part when its turn comes, hold
 * later parts that run on their own (adopted). Called by poll, s->lock not held. */
static void balance_throttle(struct rm_slurm *s, struct sarr *a)
{
	struct rm_slurm_part_load load[RM_SLURM_MAX_PARTS];
	enum rm_slurm_throttle_act act[RM_SLURM_MAX_PARTS];
	uint32_t th[RM_SLURM_MAX_PARTS], job[RM_SLURM_MAX_PARTS];
	char err[256];
	int n;

	pthread_mutex_lock(&s->lock);
	n = a->nparts;
	if (a->dead || a->canceled || a->paused || a->max_concurrent <= 0 || n < 2 ||
	    s->ctld_down) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	for (int i = 0; i < n; i++) {
		load[i] = (struct rm_slurm_part_load){
		    .gone = a->gone[i], .waiting = a->waiting[i], .throttle = a->throttle[i]};
		job[i] = a->parts[i].job_id;
		for (int k = a->parts[i].offset; k < a->parts[i].offset + a->parts[i].count; k++) {
			const struct stask *t = &a->tasks[k];
			load[i].running += t->st == RM_SLURM_T_RUNNING;
			/* A pending task with a job id is requeued, or the last one of the array
			 * (Slurm lists that one on its own): both start under this part's throttle.
			 */
			load[i].pending += t->st == RM_SLURM_T_PENDING;
		}
	}
	rm_slurm_throttle_plan(load, n, a->max_concurrent, act, th);
	int hold_later = a->hold_later;
	pthread_mutex_unlock(&s->lock);
	if (hold_later) {
		/* Adopted (det submit, a master restart): the later parts may not be held
		 * yet; holding a held array again changes nothing. Their turn comes as
		 * planned at the next poll. */
		int retry = 0;
		for (int i = 1; i < n; i++) {
			struct tgt t = {.kind = TGT_HOLD, .job_id = job[i]};
			int r =
			    load[i].gone || !load[i].pending ? 0 : run_tgt(s, &t, err, sizeof(err));
			if (r < 0)
				say(s, LOG_LEVEL_WARN, "experiment %lld: %s",
				    (long long)a->experiment_id, err);
			retry |= r > 0;
		}
		pthread_mutex_lock(&s->lock);
		a->hold_later = retry;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct tgt t = {.kind = TGT_THROTTLE, .job_id = job[i], .throttle = th[i]};
		int r = 0;
		if (act[i] == RM_SLURM_TH_NONE)
			continue;
		if (act[i] == RM_SLURM_TH_HOLD)
			t.kind = TGT_HOLD;
		r = run_tgt(s, &t, err, sizeof(err));
		if (!r && act[i] == RM_SLURM_TH_SET_RELEASE) {
			t.kind = TGT_RELEASE;
			r = run_tgt(s, &t, err, sizeof(err));
		}
		if (r < 0)
			say(s, LOG_LEVEL_WARN, "experiment %lld: %s", (long long)a->experiment_id,
			    err);
		if (r)
			continue;
		pthread_mutex_lock(&s->lock);
		if (act[i] != RM_SLURM_TH_HOLD)
			a->throttle[i] = th[i];
		a->waiting[i] = act[i] == RM_SLURM_TH_HOLD;
		pthread_mutex_unlock(&s->lock);
	}
}

/* True when the job list holds a record of the Slurm array job_id. */
static int part_listed(const job_info_msg_t *msg, uint32_t job_id)
{
	for (uint32_t r = 0; r < msg->record_count; r++)
		if (msg->job_array[r].array_job_id == job_id)
			return 1;
	return 0;
}

/* Apply the batched job list (msg, or NULL and its error e; e 0: nothing was loaded,
 * SLURM_NO_CHANGE_IN_DATA: nothing changed) to a; cancel what still runs once a cancel's
 * grace period is over. Called by poll, s->lock not held (a is not freed meanwhile: only
 * poll frees arrays). */
static void poll_array(struct rm_slurm *s, struct sarr *a, uint64_t now, const job_info_msg_t *msg,
                       int e)
{
	char err[256];
	pthread_mutex_lock(&s->lock);
	/* A finished array is still read while its tasks can be requeued. */
	for (int i = 0; (msg || (e && e != SLURM_NO_CHANGE_IN_DATA)) && !a->dead && i < a->nparts;
	     i++) {
		if (a->gone[i])
			continue;
		if (msg && part_listed(msg, a->parts[i].job_id))
			poll_part(s, a, i, (job_info_msg_t *)msg, 0);
		else
			poll_part(s, a, i, NULL, msg ? ESLURM_INVALID_JOB_ID : e);
	}
	if (!a->dead)
		report_cancels(s, a);
	pthread_mutex_unlock(&s->lock);
	balance_throttle(s, a);
	pthread_mutex_lock(&s->lock);
	int kill = a->kill_at_ms && now >= a->kill_at_ms && array_live(a) && !a->dead;
	if (a->kill_at_ms && now >= a->kill_at_ms && !kill)
		a->kill_at_ms = 0;
	pthread_mutex_unlock(&s->lock);
	if (!kill)
		return;
	int retry = 0;
	for (int i = 0; i < a->nparts; i++) {
		struct tgt t = {
		    .kind = TGT_KILL, .job_id = a->parts[i].job_id, .flags = KILL_JOB_ARRAY};
		int r = a->gone[i] ? 0 : run_tgt(s, &t, err, sizeof(err));
		if (r < 0)
			say(s, LOG_LEVEL_WARN, "%s", err);
		retry |= r > 0;
	}
	/* Tried again at the next poll while slurmctld does not answer. */
	if (!retry) {
		pthread_mutex_lock(&s->lock);
		a->kill_at_ms = 0;
		pthread_mutex_unlock(&s->lock);
	}
}

/* The polling that the batched load replaces, for bench/slurm_rpc.sh to compare with: one
 * slurm_load_job per task that has not ended, answers unused. Called by poll, no lock
 * held. */
static void baseline_load(struct rm_slurm *s, struct sarr *head)
{
	for (struct sarr *a = head; a;) {
		for (int p = 0; p < a->nparts; p++) {
			for (int k = 0; k < a->parts[p].count; k++) {
				pthread_mutex_lock(&s->lock);
				const struct stask *t = &a->tasks[a->parts[p].offset + k];
				uint32_t id = t->st == RM_SLURM_T_DONE || a->dead || a->gone[p] ? 0
				              : t->job_id ? t->job_id
				                          : a->parts[p].job_id;
				pthread_mutex_unlock(&s->lock);
				job_info_msg_t *m = NULL;
				if (!id)
					continue;
				count_rpc(s, RPC_BASELINE);
				if (slurm_load_job(&m, id, SHOW_ALL) == SLURM_SUCCESS)
					free_jobs(m);
			}
		}
		pthread_mutex_lock(&s->lock);
		a = a->next;
		pthread_mutex_unlock(&s->lock);
	}
}

/* The task of a report, or -1 when no array being watched has it. Called with s->lock held. */
static int report_task(struct rm_slurm *s, const struct rm_task_report *r, struct sarr **out)
{
	for (struct sarr *a = s->arrays; a; a = a->next) {
		if (a->dead || a->experiment_id != r->experiment_id)
			continue;
		for (int p = 0; p < a->nparts; p++)
			if (!a->gone[p] && a->parts[p].job_id == r->array_job_id &&
			    r->array_task_id < (uint32_t)a->parts[p].count) {
				*out = a;
				return a->parts[p].offset + (int)r->array_task_id;
			}
	}
	return -1;
}

/* Queue the events of a step of task i (END_REQUEUED, START, END in that order). */
static void queue_step(struct rm_slurm *s, struct sarr *a, int i, int emit, int wait_status)
{
	struct rm_task_event ev = {.experiment_id = a->experiment_id,
	                           .array_task = i,
	                           .pid = (int)(a->tasks[i].job_id & 0x7fffffff)};
	if (emit & RM_SLURM_EMIT_END_REQUEUED) {
		ev.kind = RM_TASK_ENDED;
		ev.wait_status = -1;
		ev.requeued = 1;
		queue_event(s, ev);
	}
	ev.requeued = 0;
	if (emit & RM_SLURM_EMIT_START) {
		ev.kind = RM_TASK_STARTED;
		ev.wait_status = 0;
		queue_event(s, ev);
	}
	if (emit & RM_SLURM_EMIT_END) {
		ev.kind = RM_TASK_ENDED;
		ev.wait_status = wait_status;
		queue_event(s, ev);
	}
}

/* The node's word on a task's batch script, ahead of slurmctld's list. A start is taken as
 * it comes (unless it is older than what Slurm listed); an end with an exit status of its
 * own (not 75, which asks for a requeue) in an array the master neither canceled nor
 * paused ends the task now, and the next list that shows it ended confirms it. Any other
 * end (a signal: timeout, scancel, out of memory) needs Slurm's reason: it makes the next
 * loads come soon instead. */
static void rm_task_report(struct rm *rm, const struct rm_task_report *r)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	struct sarr *a = NULL;
	int ws = r->wait_status;

	pthread_mutex_lock(&s->lock);
	int i = report_task(s, r, &a);
	struct stask *t = i >= 0 ? &a->tasks[i] : NULL;
	if (!t || (t->job_id && t->job_id != r->job_id))
		goto out;
	t->listed_seq = 0;
	s->reports_seen = 1;
	enum rm_slurm_tstate st = (enum rm_slurm_tstate)t->st;
	if (!r->ended) {
		if (!rm_slurm_report_start(st, t->restarts, r->restart_count))
			goto out;
		int emit = rm_slurm_step(&st, &t->restarts, RM_SLURM_OBS_RUNNING, r->restart_count);
		t->st = (uint8_t)st;
		t->job_id = r->job_id;
		t->state = JOB_RUNNING;
		t->known = 1;
		t->reported_end = 0;
		t->report_seq = s->loads_started;
		queue_step(s, a, i, emit, 0);
		goto out;
	}
	enum rm_slurm_report_act act = rm_slurm_report_end(st, ws, a->canceled, a->paused);
	if (act == RM_SLURM_REPORT_IGNORE)
		goto out;
	if (act == RM_SLURM_REPORT_RECHECK) {
		s->rechecks = REPORT_RECHECKS;
		if (s->next_poll_ms > now_ms() + RECHECK_MS)
			s->next_poll_ms = now_ms() + RECHECK_MS;
		goto out;
	}
	int emit = rm_slurm_step(&st, &t->restarts, RM_SLURM_OBS_ENDED, t->restarts);
	t->st = (uint8_t)st;
	t->job_id = r->job_id;
	t->state = WEXITSTATUS(ws) == 0 ? JOB_COMPLETE : JOB_FAILED;
	t->exit_code = (uint32_t)ws;
	t->known = 1;
	t->reported_end = 1;
	t->report_seq = s->loads_started;
	queue_step(s, a, i, emit, ws);
out:
	pthread_mutex_unlock(&s->lock);
}

static json_t *rm_rpc_counts(struct rm *rm)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	json_t *o = json_object();
	for (int k = 0; o && k < RPC_NKINDS; k++)
		json_object_set_new(
		    o, rpc_names[k],
		    json_integer((json_int_t)__atomic_load_n(&s->rpcs[k], __ATOMIC_RELAXED)));
	return o;
}

/* Whether the next list is needed on time whatever the reports say: a canceled array's
 * tasks that still run are canceled by poll once the grace period is over, and a part
 * held until its turn is released by poll. Called with s->lock held. */
static int list_awaited(const struct rm_slurm *s)
{
	for (const struct sarr *a = s->arrays; a; a = a->next) {
		if (a->dead)
			continue;
		if (a->canceled && array_live(a))
			return 1;
		for (int p = 0; p < a->nparts; p++)
			if (a->waiting[p] && !a->gone[p])
				return 1;
	}
	return 0;
}

/* After a load was applied: a task that two loads have shown running without a report
 * from its node means the reports do not cover every node, and the list is the primary
 * path again for a while. Called with s->lock held. */
static void check_unreported(struct rm_slurm *s, uint64_t now)
{
	for (struct sarr *a = s->arrays; a; a = a->next) {
		for (int i = 0; !a->dead && i < a->num_tasks; i++) {
			struct stask *t = &a->tasks[i];
			if (!t->listed_seq || t->st != RM_SLURM_T_RUNNING ||
			    (int32_t)(s->applying_seq - t->listed_seq) < 2)
				continue;
			t->listed_seq = 0;
			if (now >= s->distrust_until_ms)
				say(s, LOG_LEVEL_WARN,
				    "task %d of experiment %lld runs without a report from "
				    "spank_det (no master= in plugstack.conf on its node?): "
				    "the job list is loaded every %d ms",
				    i, (long long)a->experiment_id, s->poll_ms);
			s->distrust_until_ms = now + DISTRUST_MS;
		}
	}
}

static json_t *rm_gauges(struct rm *rm)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	pthread_mutex_lock(&s->lock);
	int interval = s->interval_ms;
	pthread_mutex_unlock(&s->lock);
	return json_pack("{s:f}", "poll_interval_seconds", interval / 1000.0);
}

static int rm_poll(struct rm *rm, struct rm_task_event *ev, int max)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	int n = 0, due;
	uint64_t now = now_ms();

	pthread_mutex_lock(&s->poll_lock);
	pthread_mutex_lock(&s->lock);
	due = s->qlen == 0 && now >= s->next_poll_ms;
	if (due && s->rechecks > 0) {
		s->rechecks--;
		s->next_poll_ms =
		    now + (uint64_t)(s->poll_ms < RECHECK_MS ? s->poll_ms : RECHECK_MS);
	} else if (due) {
		int trusted = s->reports_seen && now >= s->distrust_until_ms;
		s->interval_ms = rm_slurm_poll_interval(s->poll_ms, trusted, list_awaited(s));
		s->next_poll_ms = now + (uint64_t)s->interval_ms;
	}
	pthread_mutex_unlock(&s->lock);
	if (due) {
		run_ops(s);
		/* Arrays are added at the head of the list: those after the head read now
		 * stay in place until poll frees them below, and the job list loaded after
		 * this covers them all. */
		pthread_mutex_lock(&s->lock);
		struct sarr *a = s->arrays, *head = a;
		unsigned gen = s->arrays_gen;
		time_t since = s->last_update;
		s->applying_seq = ++s->loads_started;
		int watched = 0;
		for (struct sarr *w = a; w && !watched; w = w->next)
			for (int i = 0; !w->dead && i < w->nparts; i++)
				watched |= !w->gone[i];
		pthread_mutex_unlock(&s->lock);
		job_info_msg_t *msg = NULL;
		int e = 0;
		if (watched) {
			count_rpc(s, RPC_LOAD_JOBS);
			if (slurm_load_jobs(since, &msg, SHOW_ALL) != SLURM_SUCCESS) {
				e = slurm_get_errno();
				msg = NULL;
			}
			if (s->baseline_per_task)
				baseline_load(s, head);
		}
		pthread_mutex_lock(&s->lock);
		if (e == SLURM_NO_CHANGE_IN_DATA && s->ctld_down) {
			s->ctld_down = 0;
			say(s, LOG_LEVEL_WARN, "slurmctld answers again");
		}
		if (watched && (msg || e == SLURM_NO_CHANGE_IN_DATA) && s->reports_seen)
			check_unreported(s, now);
		pthread_mutex_unlock(&s->lock);
		for (a = head; a;) {
			poll_array(s, a, now, msg, e);
			pthread_mutex_lock(&s->lock);
			a = a->next;
			pthread_mutex_unlock(&s->lock);
		}
		if (msg) {
			pthread_mutex_lock(&s->lock);
			/* An array linked in meanwhile was not in this list: load all next time. */
			s->last_update = gen == s->arrays_gen ? msg->last_update : 0;
			pthread_mutex_unlock(&s->lock);
			free_jobs(msg);
		}
		apply_labels(s);
		refresh_nodes(s, now);
		/* Forget canceled arrays once nothing of them runs and nothing waits for them. */
		pthread_mutex_lock(&s->lock);
		for (struct sarr **pp = &s->arrays; *pp;) {
			struct sarr *f = *pp;
			int all_gone = 1;
			for (int i = 0; i < f->nparts; i++)
				all_gone &= f->gone[i];
			if (f->nops == 0 &&
			    (f->dead || (f->canceled && !array_live(f)) || all_gone)) {
				*pp = f->next;
				free_array(f);
			} else {
				pp = &f->next;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	while (n < max && (size_t)n < s->qlen) {
		ev[n] = s->queue[n];
		n++;
	}
	if (n > 0) {
		memmove(s->queue, s->queue + n, (s->qlen - (size_t)n) * sizeof(*s->queue));
		s->qlen -= (size_t)n;
	}
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->poll_lock);
	return n;
}

/* ---- views ---------------------------------------------------------------------- */

static json_t *rm_describe(struct rm *rm, const char *id)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	json_t *out = NULL;
	pthread_mutex_lock(&s->lock);
	struct sarr *a = find_array(s, id);
	json_t *tasks = json_array(), *refused = json_array();
	out = json_pack("{s:o, s:o}", "tasks", tasks, "refused", refused);
	for (int i = 0; out && i < s->nrefused; i++) {
		const struct srefusal *r = &s->refused[i];
		if (strcmp(r->id, id) != 0)
			continue;
		json_array_append_new(refused, json_pack("{s:I, s:s, s:i, s:s}", "at",
		                                         (json_int_t)r->at, "operation", r->op,
		                                         "array_task", r->task, "error", r->error));
	}
	if (a && out) {
		for (int i = 0; i < a->num_tasks && out; i++) {
			struct stask *t = &a->tasks[i];
			if (!t->known)
				continue;
			int pi = 0;
			while (pi + 1 < a->nparts && a->parts[pi + 1].offset <= i)
				pi++;
			char jid[48];
			snprintf(jid, sizeof(jid), "%u_%d", (unsigned)a->parts[pi].job_id,
			         i - a->parts[pi].offset);
			json_array_append_new(
			    tasks,
			    json_pack("{s:i, s:s, s:s, s:s, s:i, s:I}", "array_task", i,
			              "slurm_job", jid, "state", slurm_job_state_string(t->state),
			              "reason", t->reason ? slurm_job_reason_string(t->reason) : "",
			              "restarts", (int)t->restarts, "priority",
			              (json_int_t)t->priority));
		}
	}
	pthread_mutex_unlock(&s->lock);
	return out;
}

/* Count of the GPUs in a gres string such as "gpu:2", "gpu:a100:4(S:0)" or
 * "gpu:2(IDX:0-1)"; with used, the allocated count of gres_used. */
static long gres_gpus(const char *gres)
{
	long total = 0;
	for (const char *p = gres; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (!strncmp(p, "gpu", 3) && (p[3] == ':' || p[3] == '\0')) {
			/* The count is the last ":N" before any "(". */
			const char *paren = memchr(p, '(', len);
			size_t l = paren ? (size_t)(paren - p) : len;
			const char *c = p + l;
			while (c > p && c[-1] >= '0' && c[-1] <= '9')
				c--;
			if (c > p && c[-1] == ':')
				total += strtol(c, NULL, 10);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return total;
}

/* The det pools of a node in partitions parts: det.conf's pools of those partitions, in
 * det.conf's order; without det.conf, the partitions themselves. New reference. */
static json_t *node_pools(const struct rm_slurm *s, json_t *parts)
{
	json_t *out, *p;
	size_t i;
	if (s->npools == 0)
		return json_deep_copy(parts);
	out = json_array();
	for (size_t k = 0; out && k < s->npools; k++)
		json_array_foreach (parts, i, p) {
			if (!strcmp(json_string_value(p), s->pools[k].partition)) {
				json_array_append_new(out, json_string(s->pools[k].name));
				break;
			}
		}
	return out;
}

/* A partition's time in minutes as rm_slurm_time_limit takes it: -1 for none. */
static json_int_t part_minutes(uint32_t t)
{
	return t == INFINITE || t == NO_VAL ? -1 : (json_int_t)t;
}

/* The partitions' DefaultTime and MaxTime, for the cache (new reference). */
static json_t *partition_times(const partition_info_msg_t *pm)
{
	json_t *out = json_object();
	for (uint32_t p = 0; out && p < pm->record_count; p++) {
		const partition_info_t *pi = &pm->partition_array[p];
		if (!pi->name)
			continue;
		json_object_set_new(
		    out, pi->name,
		    json_pack("[I,I]", part_minutes(pi->default_time), part_minutes(pi->max_time)));
		if (pi->flags & PART_FLAG_DEFAULT)
			json_object_set_new(out, "", json_string(pi->name));
	}
	return out;
}

/* The nodes as /agents shows them, from slurmctld; NULL when it does not answer. Called
 * with no lock held. *parts: the partitions' times (partition_times), when it answers. */
static json_t *load_nodes(struct rm_slurm *s, json_t **parts_out)
{
	node_info_msg_t *nm = NULL;
	partition_info_msg_t *pm = NULL;
	json_t *out = NULL;

	count_rpc(s, RPC_NODES);
	if (slurm_load_node(0, &nm, SHOW_ALL) != SLURM_SUCCESS ||
	    slurm_load_partitions(0, &pm, SHOW_ALL) != SLURM_SUCCESS) {
		say(s, LOG_LEVEL_ERROR, "cannot load nodes and partitions: %s", slurm_err());
		goto out;
	}
	*parts_out = partition_times(pm);
	out = json_array();
	for (uint32_t i = 0; out && i < nm->record_count; i++) {
		node_info_t *n = &nm->node_array[i];
		if (!n->name)
			continue;
		json_t *parts = json_array();
		for (uint32_t p = 0; p < pm->record_count; p++) {
			int32_t *inx = pm->partition_array[p].node_inx;
			for (int k = 0; inx && inx[k] >= 0; k += 2)
				if ((int32_t)i >= inx[k] && (int32_t)i <= inx[k + 1]) {
					json_array_append_new(
					    parts, json_string(pm->partition_array[p].name));
					break;
				}
		}
		uint16_t alloc_cpus = 0;
		slurm_get_select_nodeinfo(n->select_nodeinfo, SELECT_NODEDATA_SUBCNT,
		                          NODE_STATE_ALLOCATED, &alloc_cpus);
		long gpus = gres_gpus(n->gres), gpus_used = gres_gpus(n->gres_used);
		json_t *pools = node_pools(s, parts);
		const char *pool = json_string_value(json_array_get(pools, 0));
		json_array_append_new(
		    out, json_pack("{s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:o, s:o, s:s, s:s?}",
		                   "name", n->name, "state", slurm_node_state_string(n->node_state),
		                   "cpus", (int)n->cpus, "cpus_used", (int)alloc_cpus, "gpus",
		                   (json_int_t)gpus, "gpus_used", (json_int_t)gpus_used, "slots",
		                   (json_int_t)(gpus > 0 ? gpus : n->cpus), "slots_used",
		                   (json_int_t)(gpus > 0 ? gpus_used : alloc_cpus), "partitions",
		                   parts, "pools", pools ? pools : json_array(), "resource_pool",
		                   pool ? pool : "default", "reason", n->reason));
	}
out:
	if (nm)
		slurm_free_node_info_msg(nm);
	if (pm)
		slurm_free_partition_info_msg(pm);
	return out;
}

/* Reload the node cache when it is NODES_TTL_MS old and was read in the last
 * NODES_IDLE_MS (poll's thread and start-up only: never on a request's path). A failed
 * load keeps the last list. */
static void refresh_nodes(struct rm_slurm *s, uint64_t now)
{
	pthread_mutex_lock(&s->nodes_lock);
	int due = !s->nodes_at ||
	          (now >= s->nodes_at + NODES_TTL_MS && now < s->nodes_asked + NODES_IDLE_MS);
	pthread_mutex_unlock(&s->nodes_lock);
	if (!due)
		return;
	json_t *parts = NULL;
	json_t *nodes = load_nodes(s, &parts);
	pthread_mutex_lock(&s->nodes_lock);
	s->nodes_at = now ? now : 1;
	if (nodes) {
		json_decref(s->nodes);
		s->nodes = nodes;
	}
	if (parts) {
		json_decref(s->partitions);
		s->partitions = parts;
	}
	pthread_mutex_unlock(&s->nodes_lock);
}

/* The cached node list (refresh_nodes keeps it current): slurmctld is never asked here,
 * so pages and CLIs polling /agents cost it nothing and never wait on it. */
static json_t *rm_nodes(struct rm *rm)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	json_t *out;

	pthread_mutex_lock(&s->nodes_lock);
	out = s->nodes ? json_deep_copy(s->nodes) : json_array();
	s->nodes_asked = now_ms();
	pthread_mutex_unlock(&s->nodes_lock);
	return out;
}

static void rm_free(struct rm *rm)
{
	struct rm_slurm *s = (struct rm_slurm *)rm;
	if (!s)
		return;
	while (s->arrays) {
		struct sarr *a = s->arrays;
		s->arrays = a->next;
		free_array(a);
	}
	free(s->queue);
	free(s->pools);
	json_decref(s->nodes);
	json_decref(s->partitions);
	free(s->launcher);
	free(s->output);
	free(s->work_dir);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->label_lock);
	pthread_mutex_destroy(&s->poll_lock);
	pthread_mutex_destroy(&s->nodes_lock);
	free(s);
	slurm_fini();
}

/* det.conf's value (when given) replaces *dst, the master's setting; logged. */
static int replace_setting(struct rm_slurm *s, char **dst, const char *value, const char *key,
                           const char *path, char *err, size_t errlen)
{
	char *v;
	if (!dst || !*value)
		return 0;
	v = strdup(value);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	say(s, LOG_LEVEL_INFO, "%s: %s=%s (in place of master.yaml's %s)", path, key, v,
	    *dst ? *dst : "default");
	free(*dst);
	*dst = v;
	return 0;
}

/* Read det.conf (the file job_submit_det applies; DET_SLURM_CONF overrides path, as for
 * slurmctld) for its pool names and container runtime. A missing file leaves pools named
 * after partitions; one that does not parse is an error, as it is for slurmctld. */
static int load_pools(struct rm_slurm *s, const struct rm_slurm_config *cfg, const char *path,
                      char *err, size_t errlen)
{
	struct det_policy_conf *conf = NULL;
	char *text = NULL, perr[512];
	FILE *f = NULL;
	long n;
	int rv = -1;

	if (getenv("DET_SLURM_CONF") && *getenv("DET_SLURM_CONF"))
		path = getenv("DET_SLURM_CONF");
	f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		say(s, LOG_LEVEL_INFO, "%s not found: resource pools are named after partitions",
		    path);
		return 0;
	}
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1L << 20) ||
	    fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: %s", path,
		         f ? "unreadable or over 1 MiB" : strerror(errno));
		goto out;
	}
	conf = malloc(sizeof(*conf));
	text = calloc(1, (size_t)n + 1);
	if (!conf || !text) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (fread(text, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "%s: cannot read it", path);
		goto out;
	}
	det_policy_conf_init(conf);
	if (det_policy_conf_parse(conf, text, path, perr, sizeof(perr))) {
		snprintf(err, errlen, "%s", perr);
		goto out;
	}
	if (conf->npools > 0) {
		s->pools = calloc(conf->npools, sizeof(*s->pools));
		if (!s->pools) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		memcpy(s->pools, conf->pools, conf->npools * sizeof(*s->pools));
		s->npools = conf->npools;
	}
	if (replace_setting(s, cfg->container_runtime, conf->container_runtime, "ContainerRuntime",
	                    path, err, errlen) ||
	    replace_setting(s, cfg->container_oci_runtime, conf->container_oci_runtime,
	                    "ContainerOciRuntime", path, err, errlen))
		goto out;
	rv = 0;
out:
	if (f)
		fclose(f);
	free(text);
	free(conf);
	return rv;
}

static const struct rm_ops slurm_ops = {
    .name = "slurm",
    .submit_array = submit_array,
    .cancel = rm_cancel,
    .hold = rm_hold,
    .release = rm_release,
    .requeue = rm_requeue,
    .poll = rm_poll,
    .nodes = rm_nodes,
    .plan = rm_plan,
    .describe = rm_describe,
    .label = rm_label,
    .free = rm_free,
    .rpc_counts = rm_rpc_counts,
    .gauges = rm_gauges,
    .task_report = rm_task_report,
    .check_config = rm_check_config,
};

struct rm *rm_slurm_new(const struct rm_slurm_config *cfg, char *err, size_t errlen)
{
	struct rm_slurm *s;
	slurm_conf_t *conf = NULL;

	/* Array task lists come whole, not cut at 64 characters (read by libslurm). */
	setenv("SLURM_BITSTR_LEN", "0", 1);
	slurm_init(NULL);
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		slurm_fini();
		return NULL;
	}
	s->base.ops = &slurm_ops;
	s->log = cfg->log;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->label_lock, NULL);
	pthread_mutex_init(&s->poll_lock, NULL);
	pthread_mutex_init(&s->nodes_lock, NULL);
	s->launcher = strdup(cfg->launcher);
	s->output = cfg->output ? strdup(cfg->output) : NULL;
	s->work_dir = cfg->work_dir ? strdup(cfg->work_dir) : NULL;
	if (!s->launcher || (cfg->output && !s->output) || (cfg->work_dir && !s->work_dir)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : 1000;
	s->interval_ms = s->poll_ms;
	s->grace_ms = cfg->grace_seconds >= 0 ? cfg->grace_seconds * 1000 : 10000;
	s->walltime_signal_s = cfg->walltime_signal_seconds;
	s->baseline_per_task = cfg->baseline_per_task;
	count_rpc(s, RPC_CONF);
	if (slurm_load_ctl_conf(0, &conf) != SLURM_SUCCESS) {
		snprintf(err, errlen, "cannot reach slurmctld (SLURM_CONF=%s): %s",
		         getenv("SLURM_CONF") ? getenv("SLURM_CONF") : "default", slurm_err());
		goto fail;
	}
	/* MaxArraySize=N allows indices 0..N-1: N tasks. */
	s->max_array = conf->max_array_sz > 0 ? conf->max_array_sz : 1;
	slurm_free_ctl_conf(conf);
	if (load_pools(s, cfg, cfg->det_conf ? cfg->det_conf : DET_SLURM_CONF_DEFAULT, err, errlen))
		goto fail;
	refresh_nodes(s, now_ms());
	return &s->base;
fail:
	rm_free(&s->base);
	return NULL;
}
