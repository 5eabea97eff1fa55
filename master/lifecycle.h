/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The experiment engine's pure lifecycle rules: a view of a trial or an
 * experiment and an event in, a decision (a state and the effects to apply)
 * out. No I/O, no locks, no clock, no HTTP codes; the
 * engine (master/exp_*.c) gathers the view, applies the decision and commits it.
 */
#ifndef DET_LIFECYCLE_H
#define DET_LIFECYCLE_H

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

#endif
