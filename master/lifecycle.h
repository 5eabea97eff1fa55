/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The experiment engine's pure lifecycle rules: a view of a trial or an
 * experiment and an event in, a decision (a state and the effects to apply)
 * out. No I/O, no locks, no clock, no HTTP codes; the
 * engine (master/exp_*.c) gathers the view, applies the decision and commits it.
 */
#ifndef DET_LIFECYCLE_H
#define DET_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "fsm.h"

/* What happened to a live trial's process or task. */
enum lifecycle_event {
	LIFECYCLE_EV_CRASHED, /* the launcher reported a failed exit (not a stop or bad hparams) */
	LIFECYCLE_EV_TASK_LOST, /* the task ended without an exit report and was not requeued */
	LIFECYCLE_EV_REQUEUED,  /* the resource manager requeued the task (preemption, node lost) */
	LIFECYCLE_EV_NEVENTS
};

/* What the engine does about it. */
enum lifecycle_action {
	LIFECYCLE_NONE,    /* the rule does not apply (the trial already ended): nothing changes */
	LIFECYCLE_RESTART, /* run the trial again in its allocation; one restart spent now */
	LIFECYCLE_REQUEUE, /* requeue the task; its next claim spends the restart */
	LIFECYCLE_PREEMPTED, /* mark the trial preempted: the next claim resumes it, nothing spent
	                      */
	LIFECYCLE_WAIT,      /* the trial is paused: it resumes on activate */
	LIFECYCLE_FAIL,      /* the trial ends in end_state */
	LIFECYCLE_END,       /* the trial ended as it should: it settles in end_state */
	LIFECYCLE_NACTIONS
};

/* What the rule needs to know about the trial and its experiment. */
struct lifecycle_trial_view {
	enum fsm_state trial;      /* the trial's state */
	enum fsm_state experiment; /* its experiment's state */
	int64_t restarts;          /* restarts already spent */
	int64_t max_restarts;      /* the experiment's budget (max_restarts) */
	int preempted;             /* its last end was a preemption (not counted) */
};

/* The decision; restarts and preempted are the trial's values after it. */
struct lifecycle_decision {
	enum lifecycle_action action;
	int64_t restarts;
	int preempted;
	enum fsm_state end_state; /* LIFECYCLE_FAIL only: COMPLETED, CANCELED or ERROR */
};

/* Restart or fail: what a crash, a lost task or a requeue does to the trial t. */
struct lifecycle_decision lifecycle_restart_or_fail(const struct lifecycle_trial_view *t,
                                                    enum lifecycle_event ev);

/* Why the trial said it stopped before its process exited (its end_reason). */
enum lifecycle_exit_reason {
	LIFECYCLE_EXIT_NONE,           /* none given */
	LIFECYCLE_EXIT_INVALID_HP,     /* "INVALID_HP": the hyperparameters cannot work */
	LIFECYCLE_EXIT_ERRORED,        /* "ERRORED": the trial gave up */
	LIFECYCLE_EXIT_STOP_REQUESTED, /* "USER_REQUESTED_STOP" */
	LIFECYCLE_EXIT_OTHER           /* any other text */
};

/* The reason for an end_reason text ("" or NULL: none). */
enum lifecycle_exit_reason lifecycle_exit_reason_parse(const char *text);

/* A trial's process exited (failed: a non-zero status or a signal): a paused trial is
 * preempted, a trial that gave up or has invalid hyperparameters fails in ERROR, a clean
 * exit or a requested stop ends it, and any other failure is a crash (restart-or-fail).
 * An exit after the trial ended changes nothing. */
struct lifecycle_decision lifecycle_trial_exit(const struct lifecycle_trial_view *t, int failed,
                                               enum lifecycle_exit_reason reason);

/* "restart", "fail", ... (for logs and tests). */
const char *lifecycle_action_name(enum lifecycle_action action);

/* ---- experiments ------------------------------------------------------------- */

/* A command for the resource manager about an experiment's array (queued by the manager:
 * it never blocks). */
enum lifecycle_rm_command {
	LIFECYCLE_RM_NONE,
	LIFECYCLE_RM_HOLD,    /* start no new task, ask running ones to stop (pause) */
	LIFECYCLE_RM_RELEASE, /* let tasks start again */
	LIFECYCLE_RM_CANCEL,  /* stop every task */
	LIFECYCLE_RM_NCOMMANDS
};

/* A user's pause/activate/cancel/kill of an experiment in state from. */
struct lifecycle_user_decision {
	int allowed;                  /* 0: the event is refused in from (a conflict) */
	enum fsm_state to;            /* the experiment's state after it */
	enum lifecycle_rm_command rm; /* for its array, when it has one */
};

/* Decide a user event on an experiment (trials follow through fsm_trial_next). */
struct lifecycle_user_decision lifecycle_user_event(enum fsm_state from, enum fsm_event ev);

/* What settling an experiment needs to know. */
struct lifecycle_exp_view {
	enum fsm_state state;
	int searcher_done;    /* the searcher asks for no more trials */
	int trials_completed; /* trials that ended COMPLETED */
	int trials_errored;   /* trials that ended in ERROR */
	int trials_live;      /* trials not ended yet */
};

/* Settling: the experiment's next state and the effects of reaching it. */
struct lifecycle_settlement {
	int changed;          /* 0: nothing to write */
	enum fsm_state state; /* the state to write */
	int progress_done;    /* write progress 1.0 (completed only) */
	int ended;            /* final: cancel the array, free the searcher, collect checkpoints */
};

/* Completion: a done searcher stops the experiment (ERROR when trials only failed), and
 * a stopping experiment with nothing live ends. */
struct lifecycle_settlement lifecycle_settle(const struct lifecycle_exp_view *v);

/* What recording an array that was submitted without the lock does, given the
 * experiment as it is now (it may have changed or gone meanwhile). */
struct lifecycle_submitted {
	int record;                   /* keep the job as the experiment's array */
	enum lifecycle_rm_command rm; /* then (or instead) this command for the new job */
};

/* exists: the experiment is still there; has_job: another job was recorded meanwhile;
 * held: the array was submitted held (the experiment was paused then). */
struct lifecycle_submitted lifecycle_array_submitted(int exists, int has_job, enum fsm_state state,
                                                     int held);

/* "hold", "cancel", ... (for logs and tests). */
const char *lifecycle_rm_command_name(enum lifecycle_rm_command c);

/* ---- claims ------------------------------------------------------------------ */

/* What a claim by an array task finds. */
struct lifecycle_claim_view {
	int task;                  /* the array task that claims */
	int64_t num_tasks;         /* tasks in the experiment's array */
	enum fsm_state experiment; /* the experiment's state */
	int searching;             /* the experiment still has its searcher */
	int has_trial;             /* the task's allocation runs or ran a trial */
	enum fsm_state trial;      /* that trial's state (has_trial only) */
	int64_t next_index;        /* the replacement trial owed to the task, -1: none */
	int64_t restarts;          /* the trial's restarts so far */
	int preempted;             /* the trial's last end was a preemption */
	int has_secret;            /* the trial's token is known in memory */
};

/* What the claim gets. */
enum lifecycle_claim_action {
	LIFECYCLE_CLAIM_OUT_OF_RANGE, /* refused: no such task in the array (invalid input) */
	LIFECYCLE_CLAIM_PAUSED,       /* refused: the experiment is paused (a conflict) */
	LIFECYCLE_CLAIM_DONE,         /* nothing to run: the task ends */
	LIFECYCLE_CLAIM_NEW,          /* create trial `index` for the task (a fresh token) */
	LIFECYCLE_CLAIM_FINISH, /* the trial was told to stop: it settles in end_state, done */
	LIFECYCLE_CLAIM_RESUME, /* run the current trial again from its latest checkpoint */
	LIFECYCLE_CLAIM_NACTIONS
};

struct lifecycle_claim {
	enum lifecycle_claim_action action;
	int64_t index;            /* NEW: the trial index */
	int64_t restarts;         /* RESUME: the trial's restarts after the claim */
	int rotate_token;         /* RESUME: mint a new trial token (none known in memory) */
	enum fsm_state end_state; /* FINISH: the trial's final state */
};

/* Decide a claim: a trial claimed again is a restart, counted unless it was preempted. */
struct lifecycle_claim lifecycle_claim_decide(const struct lifecycle_claim_view *v);

/* "new", "resume", ... (for logs and tests). */
const char *lifecycle_claim_action_name(enum lifecycle_claim_action action);

/* ---- searcher decisions ------------------------------------------------------- */

/* A validation report as the engine applies it. */
struct lifecycle_validation_view {
	enum fsm_state trial;  /* the trial's state */
	int stop;              /* the searcher answered stop */
	int has_value;         /* the report carries the searcher metric */
	double value;          /* its value (has_value only) */
	int smaller_is_better; /* the searcher metric's direction */
	int has_best;          /* the trial's best so far */
	double best;
};

/* The trial after the report: a stop moves it on (FSM_EV_DONE), a better value
 * becomes its best. */
struct lifecycle_validation {
	enum fsm_state state;
	int has_best;
	double best;
};

/* Apply a searcher's answer to a validation report. */
struct lifecycle_validation lifecycle_validation_apply(const struct lifecycle_validation_view *v);

/* A trial ended and the searcher owes its task a replacement trial (replacement >= 0). */
struct lifecycle_replacement {
	int64_t next_index; /* the task's next trial (-1: none owed) */
	int requeue;        /* run the task again now: its process is gone already */
};

/* experiment: its state; has_job: it has an array; task_gone: the task's process ended. */
struct lifecycle_replacement lifecycle_replacement_owed(int64_t replacement,
                                                        enum fsm_state experiment, int has_job,
                                                        int task_gone);

/* ---- checkpoint garbage collection ------------------------------------------- */

/* One checkpoint as the collection sees it. */
struct lifecycle_ckpt {
	int64_t trial_id;
	int64_t steps;    /* steps_completed when it was saved */
	double metric;    /* the searcher metric at those steps (has_metric only) */
	int has_metric;   /* a validation was reported at those steps */
	int is_protected; /* registered or otherwise pinned: always kept, counts for no quota */
	int deleted;      /* already deleted: neither kept nor counted */
};

/* What to keep (checkpoint_storage's save_* settings). */
struct lifecycle_gc_policy {
	int experiment_best; /* best N with a metric over the whole experiment */
	int trial_best;      /* best N with a metric of each trial */
	int trial_latest;    /* latest N of each trial (metric or not) */
	int smaller_is_better;
};

/* Selection: drop[i] = 1 for each checkpoint to delete, 0 to keep (deleted ones: 0).
 * Ties go to the newer checkpoint, then to the earlier in c. 0, or -1 when out of memory. */
int lifecycle_gc_select(const struct lifecycle_ckpt *c, size_t n,
                        const struct lifecycle_gc_policy *p, unsigned char *drop);

/* ---- tasks (trials, commands, notebooks, shells, tensorboards) --------------- */

/* What a task runs. */
enum lifecycle_task_kind {
	LIFECYCLE_TASK_TRIAL,
	LIFECYCLE_TASK_COMMAND,
	LIFECYCLE_TASK_NOTEBOOK,
	LIFECYCLE_TASK_SHELL,
	LIFECYCLE_TASK_TENSORBOARD,
	LIFECYCLE_TASK_NKINDS
};

/* Where a task is. */
enum lifecycle_task_state {
	LIFECYCLE_TASK_QUEUED,   /* waiting for resources */
	LIFECYCLE_TASK_STARTING, /* resources granted, process starting */
	LIFECYCLE_TASK_RUNNING,  /* process up */
	LIFECYCLE_TASK_TERMINATED,
	LIFECYCLE_TASK_NSTATES
};

/* What happened to it. */
enum lifecycle_task_event {
	LIFECYCLE_TASK_EV_ALLOCATED, /* the resource manager granted its resources */
	LIFECYCLE_TASK_EV_STARTED,   /* its process reported in */
	LIFECYCLE_TASK_EV_EXITED,    /* its process ended (exit status recorded) */
	LIFECYCLE_TASK_EV_KILLED,    /* the owner or an admin ended it */
	LIFECYCLE_TASK_EV_REQUEUED,  /* preemption or node loss: it waits for resources again */
	LIFECYCLE_TASK_EV_NEVENTS
};

/* A task transition. */
struct lifecycle_task_step {
	int allowed;                  /* 0: the event is refused in that state (a conflict) */
	enum lifecycle_task_state to; /* the state after it */
	int stamp_started;            /* set started_at */
	int stamp_ended;              /* set ended_at (and the exit status / end reason) */
	int release;                  /* give its resources back to the resource manager */
};

/* The transition of a task in state from on ev (a table: see lifecycle.c). */
struct lifecycle_task_step lifecycle_task_next(enum lifecycle_task_state from,
                                               enum lifecycle_task_event ev);

/* Names as stored ("trial", "QUEUED", "killed") and their parsers (-1: unknown). */
const char *lifecycle_task_kind_name(enum lifecycle_task_kind k);
int lifecycle_task_kind_parse(const char *name);
const char *lifecycle_task_state_name(enum lifecycle_task_state s);
int lifecycle_task_state_parse(const char *name);
const char *lifecycle_task_event_name(enum lifecycle_task_event ev);

/* ---- replay ------------------------------------------------------------------ */

/* The most array tasks a replayed experiment has. */
#define LIFECYCLE_REPLAY_MAX_TASKS 64

/* A stored event of an experiment, as the engine applied it. */
enum lifecycle_replay_kind {
	LIFECYCLE_REPLAY_CLAIM,         /* task claims: its trial starts or resumes */
	LIFECYCLE_REPLAY_VALIDATION,    /* task's trial reports value; the searcher said stop */
	LIFECYCLE_REPLAY_EXIT,          /* task's trial process exited (failed, reason) */
	LIFECYCLE_REPLAY_RM,            /* the manager reports rm_event for task (requeue, lost) */
	LIFECYCLE_REPLAY_USER,          /* a user's pause/activate/cancel/kill (user) */
	LIFECYCLE_REPLAY_SEARCHER_DONE, /* the searcher asks for no more trials */
	LIFECYCLE_REPLAY_NKINDS
};

struct lifecycle_replay_event {
	enum lifecycle_replay_kind kind;
	int task;                          /* CLAIM, VALIDATION, EXIT, RM */
	double value;                      /* VALIDATION */
	int stop;                          /* VALIDATION */
	int failed;                        /* EXIT: non-zero status or a signal */
	enum lifecycle_exit_reason reason; /* EXIT */
	enum lifecycle_event rm_event;     /* RM */
	enum fsm_event user;               /* USER */
};

/* The trial of one array task (one trial per task: replacements are the searcher's). */
struct lifecycle_replay_trial {
	int exists; /* claimed at least once */
	enum fsm_state state;
	int64_t restarts;
	int preempted;
	int has_best;
	double best;
};

/* What the events make of an experiment. */
struct lifecycle_replay_state {
	enum fsm_state experiment;
	int64_t num_tasks;    /* 1..LIFECYCLE_REPLAY_MAX_TASKS */
	int64_t max_restarts; /* the config's max_restarts */
	int smaller_is_better;
	int searcher_done;
	struct lifecycle_replay_trial trials[LIFECYCLE_REPLAY_MAX_TASKS];
};

/* A fresh ACTIVE experiment with num_tasks tasks (clamped to 1..MAX) and no trial. */
void lifecycle_replay_init(struct lifecycle_replay_state *s, int64_t num_tasks,
                           int64_t max_restarts, int smaller_is_better);

/* 1 when a and b are the same experiment state (every field that matters). */
int lifecycle_replay_equal(const struct lifecycle_replay_state *a,
                           const struct lifecycle_replay_state *b);

/* Apply one event through the lifecycle rules, then settle the experiment. 1 when
 * it changed s, 0 when the rules refused or ignored it (s is unchanged). */
int lifecycle_replay_apply(struct lifecycle_replay_state *s,
                           const struct lifecycle_replay_event *ev);

/* Replay n stored events on s (as lifecycle_replay_init left it): the state a
 * master rebuilds after a restart. The number of events that changed s. */
size_t lifecycle_replay(struct lifecycle_replay_state *s, const struct lifecycle_replay_event *ev,
                        size_t n);

#endif
