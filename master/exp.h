/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment and trial lifecycle: the searcher-driven core behind the API.
 * Every function that takes the app lock says so; the ones named *_locked
 * expect the caller to hold it. Functions answering the API return an engine
 * status (EXP_OK on success) and put a message in err otherwise; the API layer
 * alone turns it into an HTTP status.
 */
#ifndef DET_EXP_H
#define DET_EXP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "fsm.h"
#include "lifecycle.h"

/* What an engine call came to (the API maps each to one HTTP status). */
enum exp_status {
	EXP_OK,          /* done */
	EXP_NOT_FOUND,   /* no such experiment or trial */
	EXP_CONFLICT,    /* not allowed in the current state (ended, paused, uuid taken) */
	EXP_FORBIDDEN,   /* the caller may not do this */
	EXP_INVALID,     /* the input is wrong: err says where and why */
	EXP_UNAVAILABLE, /* a service the engine needs is not there now: try again */
	EXP_INTERNAL     /* a store or memory failure: err says which */
};

/* "ok", "not_found", ... (for logs and tests). */
const char *exp_status_name(enum exp_status s);

/* Load every experiment, trial and allocation; resubmit unfinished arrays. 0 or -1. */
int exp_load_all(struct app *a, char *err, size_t errlen);

/* Start / stop the scheduler thread that polls the resource manager. */
int exp_ticker_start(struct app *a, char *err, size_t errlen);
void exp_ticker_stop(struct app *a);

/* Free every in-memory experiment. */
void exp_free_all(struct app *a);

/* Find an experiment (lock held). */
struct exp_rt *exp_find_locked(struct app *a, int64_t id);

/* Find a trial and its experiment (lock held); NULL when unknown. */
struct exp_trial *exp_trial_locked(struct app *a, int64_t trial_id, struct exp_rt **e);

/* The Unix uid of e's owner, -1 when the det user has none (lock held). */
long exp_owner_uid_locked(struct app *a, struct exp_rt *e);

/* The checkpoint directory of trial_id's experiment (as the claim reports it) into dir,
 * its owner's Unix uid and (exp_id non-NULL) its id; lock taken here. 0, or -1 with err. */
int exp_trial_storage(struct app *a, int64_t trial_id, int64_t *exp_id, long *uid, char *dir,
                      size_t dirlen, char *err, size_t errlen);

/* Create from YAML text and a model definition in project ("ID" or "WORKSPACE/PROJECT",
 * NULL: the default one, which p must be allowed to write), forked from parent_id (0:
 * none); *out gets the view. With
 * client_submits the master submits nothing and the view carries "submit_plan" (the
 * array specs and batch scripts) or "submit_error". */
enum exp_status exp_create(struct app *a, const struct principal *p, const char *yaml, size_t ylen,
                           const void *model, size_t mlen, int activate, int client_submits,
                           const char *project, int64_t parent_id, json_t **out, char *err,
                           size_t errlen);

/* The owner's own submission of the experiment's array: watch job (takes the lock). */
enum exp_status exp_register_job(struct app *a, const struct principal *p, int64_t id,
                                 const char *job, char *err, size_t errlen);

/* The plan a config would produce (preview-hp-search). */
enum exp_status exp_preview(const char *yaml, size_t ylen, json_t **out, char *err, size_t errlen);

/* pause / activate / cancel / kill by a user (takes the lock). */
enum exp_status exp_user_event(struct app *a, int64_t id, enum fsm_event ev, char *err,
                               size_t errlen);

/* archive (1) / unarchive (0); only finished experiments (takes the lock). */
enum exp_status exp_set_archived(struct app *a, int64_t id, int archived, char *err, size_t errlen);

/* Delete a finished experiment and everything it owns (takes the lock). */
enum exp_status exp_delete(struct app *a, int64_t id, char *err, size_t errlen);

/* 1 when uuid is experiment id's searcher.source_checkpoint_uuid, where its trials
 * start (its trials may read that checkpoint's record) (takes the lock). */
int exp_source_checkpoint_is(struct app *a, int64_t id, const char *uuid);

/* Drop a deleted experiment (its rows already gone) from memory and free it (lock held). */
void exp_forget_locked(struct app *a, struct exp_rt *e);

/* Claim for an array task (takes the lock). */
enum exp_status exp_claim(struct app *a, int64_t id, int task, json_t **out, char *err,
                          size_t errlen);

/* A metrics report; *out gets {stop, preempt} (takes the lock). */
enum exp_status exp_report_metrics(struct app *a, int64_t trial_id, const char *group,
                                   int64_t steps, json_t *metrics, json_t **out, char *err,
                                   size_t errlen);

/* A training report in flight: exp_training_begin() checks the trial and
 * prepares ops; the caller commits them (store_write or store_write_async);
 * exp_training_end() then updates the trial and answers {stop, preempt}. */
struct exp_training {
	int64_t trial_id, steps;
	json_t *mrow, *trow;
	struct store_op ops[2];
};

/* Check and prepare (takes the lock briefly): EXP_OK, or another status with err. */
enum exp_status exp_training_begin(struct app *a, int64_t trial_id, int64_t steps, json_t *metrics,
                                   struct exp_training *w, char *err, size_t errlen);

/* After the commit (rv 0, or -1 with commit_err): EXP_OK with the trial's signals
 * (stop when it is gone), or EXP_INTERNAL (takes the lock). */
enum exp_status exp_training_end(struct app *a, struct exp_training *w, int rv,
                                 const char *commit_err, int *stop, int *preempt, char *err,
                                 size_t errlen);

/* Free what exp_training_begin() prepared (safe after any result). */
void exp_training_free(struct exp_training *w);

/* A completed checkpoint (takes the lock). */
enum exp_status exp_report_checkpoint(struct app *a, int64_t trial_id, const char *uuid,
                                      int64_t steps, json_t *metadata, json_t *files, char *err,
                                      size_t errlen);

/* Log lines (already validated array of objects) (takes the lock). */
enum exp_status exp_report_logs(struct app *a, int64_t trial_id, json_t *logs, char *err,
                                size_t errlen);

/* Progress 0..1 (takes the lock). */
enum exp_status exp_report_progress(struct app *a, int64_t trial_id, double progress, char *err,
                                    size_t errlen);

/* Early exit reason (takes the lock). */
enum exp_status exp_report_early_exit(struct app *a, int64_t trial_id, const char *reason,
                                      char *err, size_t errlen);

/* The entrypoint ended; error is the first error line it printed (NULL or "": none).
 * *out gets {restart, restarts, latest_checkpoint, steps_completed}. */
enum exp_status exp_report_exit(struct app *a, int64_t trial_id, int exit_code, int signal,
                                const char *error, json_t **out, char *err, size_t errlen);

/* Kill one trial (takes the lock). */
enum exp_status exp_trial_kill(struct app *a, int64_t trial_id, char *err, size_t errlen);

/* Pending signals of a trial; -1 when unknown (takes the lock). */
int exp_trial_signals(struct app *a, int64_t trial_id, int *stop, int *preempt);

/* 1 when the trial has ended (or is unknown) (takes the lock). */
int exp_trial_over(struct app *a, int64_t trial_id);

/* JSON view of an experiment summary (lock held); new reference. */
json_t *exp_view_locked(struct exp_rt *e, int with_config);

/* ---- tasks (commands, notebooks, shells, TensorBoards; trials' kind too) ---- */

/* The most slots one task may ask for. */
#define EXP_TASK_MAX_SLOTS 4096

/* What a new task asks for. */
struct exp_task_spec {
	enum lifecycle_task_kind kind;
	long owner_uid;          /* the Unix user it runs as */
	int64_t slots;           /* 0..EXP_TASK_MAX_SLOTS */
	const char *pool;        /* resource pool name ("" = the default) */
	const char *description; /* the user's text, at most 1024 bytes; NULL = none */
};

/* Create a QUEUED task; *id gets its id. EXP_OK, EXP_INVALID (err says which field and
 * why; nothing written) or EXP_INTERNAL (takes the lock). */
enum exp_status exp_task_create(struct app *a, const struct exp_task_spec *s, int64_t *id,
                                char *err, size_t errlen);

/* Apply ev to task id (exit_status for EXITED; end_reason NULL: the event's name).
 * EXP_OK, EXP_NOT_FOUND, EXP_CONFLICT (refused in its state: nothing changes),
 * EXP_INVALID or EXP_INTERNAL (takes the lock). */
enum exp_status exp_task_event(struct app *a, int64_t id, enum lifecycle_task_event ev,
                               int exit_status, const char *end_reason, char *err, size_t errlen);

/* What a command runs. */
struct exp_task_command {
	const char *const *argv;      /* NULL-terminated, argv[0] not empty */
	const char *const *env;       /* "KEY=VALUE" added, NULL-terminated; may be NULL */
	const unsigned char *context; /* tar.gz of its working directory; NULL: none */
	size_t context_len;
	json_t *sbatch_args; /* its slurm.sbatch_args (strings; slurm); NULL: none */
	int path_prefix_at;  /* > 0: argv[i] becomes /proxy/<task id> once the id is known */
};

/* Create a command task and hand it to the resource manager: it runs cmd->argv as
 * s->owner_uid (local: forked; slurm: a job det-t<ID>). EXP_OK, EXP_INVALID (nothing
 * written) or EXP_INTERNAL (the task ends TERMINATED with the reason). */
enum exp_status exp_task_run(struct app *a, const struct exp_task_spec *s,
                             const struct exp_task_command *cmd, int64_t *id, char *err,
                             size_t errlen);

/* Open task t's output for reading: the local manager's log, or the Slurm job's output
 * file (trusted only as a regular file of the task's owner, never through a symlink).
 * A descriptor, or -1 with errno (ENOENT: no output yet) and err. */
int exp_task_log_open(struct app *a, const struct store_task *t, char *err, size_t errlen);

/* The context (tar.gz) of command id for its job, which presents the task's own token
 * (DET_TASK_TOKEN): *data (malloc'd) and *len. EXP_OK; EXP_NOT_FOUND (no such task, not
 * its token, or it has no context); EXP_CONFLICT (it ended: the context is removed then);
 * EXP_INTERNAL. */
enum exp_status exp_task_context(struct app *a, int64_t id, const char *token, unsigned char **data,
                                 size_t *len, char *err, size_t errlen);

/* End task id (TERMINATED, reason "killed") and stop its process tree. EXP_OK,
 * EXP_NOT_FOUND, EXP_CONFLICT (it ended already) or EXP_INTERNAL. */
enum exp_status exp_task_kill(struct app *a, int64_t id, char *err, size_t errlen);

/* At start: command tasks a previous master left RUNNING are adopted again (local
 * manager: the recorded pid with its start time); the others that did not end end
 * (reason "lost: det-master restarted"). 0 or -1 with err. Lock held. */
int exp_task_adopt_locked(struct app *a, char *err, size_t errlen);

#endif
