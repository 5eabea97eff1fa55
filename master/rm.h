/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resource managers: how an experiment's job array runs. Everything above
 * this interface is shared; rm_local.c forks det-launch on this machine.
 */
#ifndef DET_RM_H
#define DET_RM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct rm;
struct log_sink;

/* An array to run: tasks 0..num_tasks-1, at most max_concurrent at once. */
struct rm_array {
	int64_t experiment_id;
	int num_tasks;
	int max_concurrent; /* 0 = unlimited */
	int slots_per_trial;
	const char *master_url;    /* DET_MASTER for the tasks */
	const char *alloc_token;   /* DET_ALLOCATION_TOKEN */
	const unsigned char *skip; /* NULL, or num_tasks flags: 1 = already finished, do not run */
	/* NULL, or num_tasks ids of tasks still running from before (0 = none): their pids
	 * (local) or their own Slurm job ids (slurm) */
	const int *adopt_ids;
	const char *existing_job; /* NULL, or a job id from before to watch instead of submitting */
	int check_owner;          /* existing_job came from the user: it must be their det job */
	long owner_uid;           /* Unix uid of the experiment's owner; -1 unknown */
	json_t *config;           /* the experiment's config (resources, slurm); may be NULL */
	/* NULL, or the start times of adopt_ids when they are pids (/proc/PID/stat field 22) */
	const int64_t *adopt_starts;
	/* Start held (the experiment is paused): no task starts before release. A manager
	 * may ignore it when its hold, applied right after, is queued anyway (slurm). */
	int held;
	/* NULL: run det-launch. Else a task of its own (a command): experiment_id is minus the
	 * task's id, num_tasks 1, and the task runs this argv (NULL-terminated) with env
	 * ("KEY=VALUE", NULL-terminated; may be NULL) added; its job id is "task-<id>" and
	 * its output goes to the log directory's task-<id>.log (local manager). */
	const char *const *argv;
	const char *const *env;
	/* NULL, or a command's context (tar.gz): unpacked as the owner into a fresh
	 * directory, its working directory; the file is removed when the task ends (slurm:
	 * det-launch --command fetches it from the master, GET /tasks/{id}/context) */
	const char *context_path;
	/* A command's output file (slurm; the local manager uses its log directory); NULL:
	 * none */
	const char *output_path;
	/* A task's kind for the Slurm job's comment ("notebook", ...); NULL: "command" */
	const char *task_kind;
};

enum rm_event_kind { RM_TASK_STARTED, RM_TASK_ENDED };

/* A task that started or ended. */
struct rm_task_event {
	enum rm_event_kind kind;
	int64_t experiment_id;
	int array_task;
	int pid;
	int wait_status; /* as waitpid(2) reports it; -1 unknown (adopted task) */
	int requeued;    /* ended because of hold/requeue: it will run again */
	int canceled;    /* canceled outside the master (scancel): the experiment stops */
	/* STARTED: the pid's start time (/proc/PID/stat field 22), 0 unknown */
	int64_t pid_start;
	int requeue_refused; /* the manager refused to run it again: its trial cannot go on */
	/* ENDED: canceled outside the master, this task only (scancel of one array task): its
	 * trial ends as killed, the experiment goes on */
	int task_canceled;
	/* ENDED for good: why, in the manager's words ("TIMEOUT", "NODE_FAIL",
	 * "OUT_OF_MEMORY", "CANCELLED by scancel"); "" when it ended by itself */
	char reason[32];
};

/* What a compute node said of one task (the Slurm plugin's reports): its batch script
 * started, or ended with wait_status. */
struct rm_task_report {
	int64_t experiment_id;
	uint32_t job_id;        /* the task's own job id */
	uint32_t array_job_id;  /* its array's job id */
	uint32_t array_task_id; /* its index in that array */
	int ended;              /* 0: started, 1: ended */
	unsigned restart_count; /* started: how often the scheduler ran it again before */
	int wait_status;        /* ended: as waitpid(2) reports it */
};

struct rm_ops {
	const char *name;
	/* Start an array; job_id receives the manager's id for it. */
	int (*submit_array)(struct rm *rm, const struct rm_array *a, char *job_id, size_t idlen,
	                    char *err, size_t errlen);
	/* Stop every task of the array (SIGTERM, SIGKILL after the grace period). */
	int (*cancel)(struct rm *rm, const char *job_id, char *err, size_t errlen);
	/* Start no new task; running ones are asked to stop (pause). */
	int (*hold)(struct rm *rm, const char *job_id, char *err, size_t errlen);
	/* Allow tasks to start again. */
	int (*release)(struct rm *rm, const char *job_id, char *err, size_t errlen);
	/* Queue a task again (it runs when slots and the throttle allow). */
	int (*requeue)(struct rm *rm, const char *job_id, int task, char *err, size_t errlen);
	/* Advance: reap, start, escalate signals; fill up to max events; returns how many. */
	int (*poll)(struct rm *rm, struct rm_task_event *ev, int max);
	/* The machine(s) and slots as JSON (new reference). */
	json_t *(*nodes)(struct rm *rm);
	/* For a user's own submission: {array, job_name, script, sbatch_args}; NULL with err
	 * when this manager does not take them (may be a NULL pointer). */
	json_t *(*plan)(struct rm *rm, const struct rm_array *a, char *err, size_t errlen);
	/* The array as the manager sees it: {tasks: [{array_task, state, reason, ...}],
	 * refused: [{at, operation, array_task, error}]} (new reference), or NULL (may be a
	 * NULL pointer). refused: the last control operations the manager's scheduler
	 * refused. */
	json_t *(*describe)(struct rm *rm, const char *job_id);
	/* Note which trial a running task works on, for the manager's own tools (squeue's
	 * comment); never blocks, applied later, best effort (may be a NULL pointer). */
	void (*label)(struct rm *rm, int64_t experiment_id, int task, int64_t trial_id);
	/* Stop managing: running tasks are left alone. */
	void (*free)(struct rm *rm);
	/* Calls made to the manager's scheduler so far, {kind: count} (new reference), or
	 * NULL (may be a NULL pointer). */
	json_t *(*rpc_counts)(struct rm *rm);
	/* The manager's own figures of the moment, {name: number} for /metrics as
	 * det_<manager>_<name> (new reference), or NULL (may be a NULL pointer). */
	json_t *(*gauges)(struct rm *rm);
	/* Learn a task's start or end from its node at once, without waiting for the next
	 * poll; never blocks, never calls the scheduler; reports that do not match a task
	 * being watched are ignored (may be a NULL pointer). */
	void (*task_report)(struct rm *rm, const struct rm_task_report *r);
	/* Refuse at create time a config the manager's scheduler would never run (e.g. a
	 * time limit above the partition's); from cached state only, never blocks. 0, or -1
	 * with err (may be a NULL pointer). */
	int (*check_config)(struct rm *rm, json_t *config, char *err, size_t errlen);
};

struct rm {
	const struct rm_ops *ops;
};

struct rm_local_config {
	const char *launcher; /* det-launch path */
	int slots;            /* 0 = detect (GPUs, else CPUs) */
	int grace_seconds;
	const char *log_dir;        /* where task stdout/stderr go; NULL = inherit */
	const struct log_sink *log; /* why a task could not start */
	const char *ca_file; /* DET_MASTER_CERT_FILE for the tasks (HTTPS master); NULL = none */
};

/* The local resource manager. NULL with err. */
struct rm *rm_local_new(const struct rm_local_config *cfg, char *err, size_t errlen);

/* det-master's argv[1] that makes it a command's waiter (started by the local manager). */
#define RM_LOCAL_RUN_COMMAND "--run-command"
/* The waiter's status file descriptor: it writes the command's wait status there. */
#define RM_LOCAL_STATUS_FD 3
/* The waiter's context (tar.gz) when the command has one. */
#define RM_LOCAL_CONTEXT_FD 4

/* The waiter: run argv[1..] (argv[0] its resolved path) in this process group, record its
 * wait status on RM_LOCAL_STATUS_FD and end the same way (exit code or signal). Ignores
 * termination signals meanwhile: they reach the command through the process group. With
 * RM_LOCAL_CONTEXT_FD open, the command runs in a fresh directory holding that archive,
 * unpacked like a model definition and removed after the command ends. */
int rm_local_run_command(int argc, char **argv);

struct rm_slurm_config {
	const char *launcher; /* det-launch path on the compute nodes */
	const char *output;   /* task stdout/stderr file pattern (%A, %a); NULL = /dev/null */
	const char *work_dir; /* working directory of master-submitted jobs */
	int poll_ms;          /* how often to ask slurmctld */
	int grace_seconds;    /* after a cancel, running tasks have this long to end */
	int walltime_signal_seconds; /* SIGUSR1 to the batch step this long before the limit */
	const struct log_sink *log;
	/* job_submit_det's det.conf, for the names of its pools (PoolPartition); NULL: the
	 * built-in path. A missing file: pools are named after partitions. */
	const char *det_conf;
	/* The master's container_runtime and container_oci_runtime (malloc'd strings):
	 * det.conf's ContainerRuntime and ContainerOciRuntime, when given, replace them
	 * (the site's choice for its nodes). NULL: left alone. */
	char **container_runtime;
	char **container_oci_runtime;
	/* bench/slurm_rpc.sh's baseline: also one slurm_load_job per unfinished task and poll */
	int baseline_per_task;
};

/* The Slurm resource manager (libslurm); NULL with err when Slurm is unusable or not
 * built in. */
struct rm *rm_slurm_new(const struct rm_slurm_config *cfg, char *err, size_t errlen);

#endif
