/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure helpers of the Slurm resource manager: no libslurm here, so they are unit tested. */
#ifndef DET_RM_SLURM_UTIL_H
#define DET_RM_SLURM_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* One Slurm array of an experiment: its tasks 0..count-1 are det array tasks offset.. */
struct rm_slurm_part {
	uint32_t job_id;
	int offset;
	int count;
};

#define RM_SLURM_MAX_PARTS 64

/* Split num_tasks into arrays of at most max_array_size tasks; fills offset/count of
 * up to max parts. Returns the number of parts, or -1 (with err) when more are needed. */
int rm_slurm_split(int num_tasks, int max_array_size, struct rm_slurm_part *parts, int max,
                   char *err, size_t errlen);

/* "ID+OFFSET,ID+OFFSET..." for parts. 0, or -1 when out is too small. */
int rm_slurm_format_ids(const struct rm_slurm_part *parts, int n, char *out, size_t len);

/* Parse what rm_slurm_format_ids wrote (a bare "ID" is one array at offset 0); counts are
 * left 0. Returns the number of parts or -1 with err. */
int rm_slurm_parse_ids(const char *s, struct rm_slurm_part *parts, int max, char *err,
                       size_t errlen);

/* Mark in flags[0..n-1] the indices listed in a Slurm array task string such as
 * "0-3,5,7-11:2%4" (the throttle is ignored). 0, or -1 with err when malformed. */
int rm_slurm_parse_indices(const char *s, unsigned char *flags, int n, char *err, size_t errlen);

/* What Slurm says about one array task, reduced. */
enum rm_slurm_obs {
	RM_SLURM_OBS_PENDING,  /* waiting (also after a requeue) */
	RM_SLURM_OBS_RUNNING,  /* running, suspended, or configuring */
	RM_SLURM_OBS_REQUEUED, /* ended, and Slurm runs it again */
	RM_SLURM_OBS_ENDED,    /* ended for good (completed, failed, canceled, timed out) */
};

/* What the master last reported for a task. */
enum rm_slurm_tstate { RM_SLURM_T_PENDING, RM_SLURM_T_RUNNING, RM_SLURM_T_DONE };

/* Events to send, in this order. */
enum rm_slurm_emit {
	RM_SLURM_EMIT_END_REQUEUED = 1, /* an ended-but-requeued event */
	RM_SLURM_EMIT_START = 2,
	RM_SLURM_EMIT_END = 4,
};

/* Advance a task's state from an observation; restarts is Slurm's restart count now and
 * *last_restarts the one seen before (updated). Returns a mask of rm_slurm_emit. */
int rm_slurm_step(enum rm_slurm_tstate *st, unsigned *last_restarts, enum rm_slurm_obs obs,
                  unsigned restarts);

/* What to make of a node's report that a task's batch script ended. */
enum rm_slurm_report_act {
	RM_SLURM_REPORT_IGNORE,  /* the master saw it end already */
	RM_SLURM_REPORT_END,     /* end it now with the reported status */
	RM_SLURM_REPORT_RECHECK, /* only Slurm can say why (signal, 75): ask it again soon */
};

/* A report of an end with wait_status (waitpid's) of a task the master last reported as
 * st, in an array the master canceled or paused (whose ends Slurm explains). */
enum rm_slurm_report_act rm_slurm_report_end(enum rm_slurm_tstate st, int wait_status, int canceled,
                                             int paused);

/* Whether a node's report that a task started with restart_count is news: not from a run
 * older than the last Slurm listed (last_restarts), nor of a run already seen ended. */
int rm_slurm_report_start(enum rm_slurm_tstate st, unsigned last_restarts, unsigned restart_count);

/* The plugins' reports make the batched job list a safety net: while they are trusted
 * (some came, and no task was seen running without one) and nothing waits on the list
 * (a canceled array's grace period, a part held until its turn), it is loaded this many
 * times less often than poll_ms, at most once a minute unless poll_ms is longer. */
#define RM_SLURM_REPORTING_FACTOR 5
#define RM_SLURM_REPORTING_MAX_MS 60000

/* Milliseconds until the next batched job list. */
int rm_slurm_poll_interval(int poll_ms, int reports_trusted, int list_awaited);

/* What the master takes from slurm.sbatch_args when it submits itself ("" / -1: unset). */
struct rm_slurm_opts {
	char partition[128], account[128], qos[128], constraint[256];
	long time_min;
};

/* Parse sbatch arguments ("--time=10", "-t 10", "--partition=gpu", "-A acct", "--qos",
 * "--constraint"). 0, or -1 with err naming an argument the master cannot apply. */
int rm_slurm_parse_sbatch_args(const char *const *args, int n, struct rm_slurm_opts *o, char *err,
                               size_t errlen);

/* A Slurm time limit ("MIN", "MIN:SEC", "H:M:S", "D-H", "D-H:M", "D-H:M:S") in whole
 * minutes, rounded up; -1 when malformed. */
long rm_slurm_parse_time(const char *s);

/* The walltime signal's lead in seconds for a job with time_min minutes (-1: unknown, the
 * partition's default): lead_s when it is under half the limit, else 0 (no signal, so a
 * trial whose every run would be preempted at once ends at its limit instead). */
long rm_slurm_walltime_lead(long lead_s, long time_min);

/* The time limit in minutes a job gets in partition (its DefaultTime default_min and
 * MaxTime max_min; -1: none): time_min when given (-1: not), else DefaultTime, else
 * MaxTime, else -1 (unlimited). An explicit time_min above MaxTime: -1 with err naming
 * both, as slurmctld would refuse it (or leave it pending) only later. 0 otherwise. */
int rm_slurm_time_limit(long time_min, long default_min, long max_min, const char *partition,
                        long *limit_min, char *err, size_t errlen);

/* One Slurm array of an experiment, as the experiment's throttle sees it. */
struct rm_slurm_part_load {
	int running;       /* tasks running now */
	int pending;       /* tasks waiting to start: never started, or requeued */
	int waiting;       /* held by the master until its turn */
	int gone;          /* slurmctld no longer knows it */
	uint32_t throttle; /* the ArrayTaskThrottle last set; 0 unknown */
};

/* What to do to one array for the experiment's throttle. */
enum rm_slurm_throttle_act {
	RM_SLURM_TH_NONE,
	RM_SLURM_TH_SET,         /* set its throttle to the value given */
	RM_SLURM_TH_SET_RELEASE, /* set its throttle, then release it (its turn came) */
	RM_SLURM_TH_HOLD,        /* hold it until its turn */
};

/* One throttle, max_concurrent, over all n arrays of an experiment: the first array with
 * pending tasks may run what the others leave of it (its throttle, at least 1, as Slurm
 * has no throttle of 0); later arrays with pending tasks wait held; a waiting array is
 * released only when at least one task may start. Fills act[i] and throttle[i]. */
void rm_slurm_throttle_plan(const struct rm_slurm_part_load *parts, int n, int max_concurrent,
                            enum rm_slurm_throttle_act *act, uint32_t *throttle);

#endif
