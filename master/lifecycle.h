/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The experiment engine's pure lifecycle rules: a view of a trial and an
 * event in, a decision out. No I/O, no locks, no clock, no HTTP codes; the
 * engine (exp.c) gathers the view, applies the decision and commits it.
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

/* "restart", "fail", ... (for logs and tests). */
const char *lifecycle_action_name(enum lifecycle_action action);

#endif
