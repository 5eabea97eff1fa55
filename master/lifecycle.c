/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure lifecycle rules of the experiment engine. Restart-or-fail: a crash
 * restarts an active trial of an active experiment while max_restarts is not
 * spent, otherwise the trial fails; a requeue by the resource manager
 * (preemption, node failure) resumes the trial without spending a restart,
 * so the budget is spent on crashes only. Non-obvious: a crash restarts in
 * the same allocation (the restart is counted now), while a task that died
 * without an exit report is requeued and its next claim counts it.
 */
#include "lifecycle.h"

#include <stddef.h>
#include <string.h>

static const char *const action_names[LIFECYCLE_NACTIONS] = {
    "none", "restart", "requeue", "preempted", "wait", "fail", "end",
};

const char *lifecycle_action_name(enum lifecycle_action action)
{
	return action >= 0 && action < LIFECYCLE_NACTIONS ? action_names[action] : "unknown";
}

/* The state a failing trial settles in: FAIL where the table allows it, then ENDED. */
static enum fsm_state failed_state(enum fsm_state from)
{
	int next = fsm_trial_next(from, FSM_EV_FAIL);
	next = fsm_trial_next(next >= 0 ? (enum fsm_state)next : from, FSM_EV_ENDED);
	return next >= 0 ? (enum fsm_state)next : FSM_ERROR;
}

/* An active trial of an active experiment with a restart left. */
static int may_restart(const struct lifecycle_trial_view *t)
{
	return t->trial == FSM_ACTIVE && t->experiment == FSM_ACTIVE &&
	       t->restarts < t->max_restarts;
}

struct lifecycle_decision lifecycle_restart_or_fail(const struct lifecycle_trial_view *t,
                                                    enum lifecycle_event ev)
{
	struct lifecycle_decision d = {LIFECYCLE_NONE, t->restarts, t->preempted, t->trial};

	if (fsm_is_terminal(t->trial))
		return d;
	switch (ev) {
	case LIFECYCLE_EV_REQUEUED:
		if (!t->preempted) {
			d.action = LIFECYCLE_PREEMPTED;
			d.preempted = 1;
		}
		return d;
	case LIFECYCLE_EV_CRASHED:
		if (t->trial == FSM_PAUSED) {
			/* Stopped by a pause: it resumes on the next claim. */
			d.action = LIFECYCLE_PREEMPTED;
			d.preempted = 1;
		} else if (may_restart(t)) {
			d.action = LIFECYCLE_RESTART;
			d.restarts = t->restarts + 1;
		} else {
			d.action = LIFECYCLE_FAIL;
			d.end_state = failed_state(t->trial);
		}
		return d;
	case LIFECYCLE_EV_TASK_LOST:
		if (may_restart(t)) {
			d.action = LIFECYCLE_REQUEUE;
		} else if (t->trial == FSM_PAUSED) {
			d.action = LIFECYCLE_WAIT;
		} else {
			d.action = LIFECYCLE_FAIL;
			d.end_state = failed_state(t->trial);
		}
		return d;
	case LIFECYCLE_EV_NEVENTS:
		break;
	}
	return d;
}

enum lifecycle_exit_reason lifecycle_exit_reason_parse(const char *text)
{
	if (!text || !*text)
		return LIFECYCLE_EXIT_NONE;
	if (!strcmp(text, "INVALID_HP"))
		return LIFECYCLE_EXIT_INVALID_HP;
	if (!strcmp(text, "ERRORED"))
		return LIFECYCLE_EXIT_ERRORED;
	if (!strcmp(text, "USER_REQUESTED_STOP"))
		return LIFECYCLE_EXIT_STOP_REQUESTED;
	return LIFECYCLE_EXIT_OTHER;
}

struct lifecycle_decision lifecycle_trial_exit(const struct lifecycle_trial_view *t, int failed,
                                               enum lifecycle_exit_reason reason)
{
	struct lifecycle_decision d = {LIFECYCLE_NONE, t->restarts, t->preempted, t->trial};

	if (fsm_is_terminal(t->trial))
		return d;
	if (t->trial == FSM_PAUSED) {
		/* Preempted by a pause: it resumes on the next claim. */
		d.action = LIFECYCLE_PREEMPTED;
		d.preempted = 1;
	} else if (reason == LIFECYCLE_EXIT_INVALID_HP || reason == LIFECYCLE_EXIT_ERRORED) {
		d.action = LIFECYCLE_FAIL;
		d.end_state = FSM_ERROR;
	} else if (!failed || reason == LIFECYCLE_EXIT_STOP_REQUESTED) {
		int next = fsm_trial_next(t->trial, FSM_EV_ENDED);
		d.action = LIFECYCLE_END;
		d.end_state = next >= 0 ? (enum fsm_state)next : FSM_COMPLETED;
	} else {
		d = lifecycle_restart_or_fail(t, LIFECYCLE_EV_CRASHED);
	}
	return d;
}

/* ---- experiments ------------------------------------------------------------- */

static const char *const rm_command_names[LIFECYCLE_RM_NCOMMANDS] = {
    "none",
    "hold",
    "release",
    "cancel",
};

const char *lifecycle_rm_command_name(enum lifecycle_rm_command c)
{
	return c >= 0 && c < LIFECYCLE_RM_NCOMMANDS ? rm_command_names[c] : "unknown";
}

struct lifecycle_user_decision lifecycle_user_event(enum fsm_state from, enum fsm_event ev)
{
	struct lifecycle_user_decision d = {0, from, LIFECYCLE_RM_NONE};
	int to = fsm_experiment_next(from, ev);
	if (to < 0)
		return d;
	d.allowed = 1;
	d.to = (enum fsm_state)to;
	if (ev == FSM_EV_PAUSE)
		d.rm = LIFECYCLE_RM_HOLD;
	else if (ev == FSM_EV_ACTIVATE)
		d.rm = LIFECYCLE_RM_RELEASE;
	else if (ev == FSM_EV_CANCEL || ev == FSM_EV_KILL)
		d.rm = LIFECYCLE_RM_CANCEL;
	return d;
}

struct lifecycle_settlement lifecycle_settle(const struct lifecycle_exp_view *v)
{
	struct lifecycle_settlement d = {0, v->state, 0, 0};
	if (d.state == FSM_ACTIVE && v->searcher_done) {
		int bad = v->trials_errored && !v->trials_completed;
		int next = fsm_experiment_next(d.state, bad ? FSM_EV_FAIL : FSM_EV_DONE);
		if (next >= 0) {
			d.state = (enum fsm_state)next;
			d.changed = 1;
		}
	}
	if (fsm_is_stopping(d.state) && v->trials_live == 0) {
		int next = fsm_experiment_next(d.state, FSM_EV_ENDED);
		if (next >= 0)
			d.state = (enum fsm_state)next;
		d.changed = 1;
	}
	/* Only a completed experiment did all its work: a canceled, killed or
	 * failed one keeps the searcher's progress (what was done). */
	d.progress_done = d.changed && d.state == FSM_COMPLETED;
	d.ended = d.changed && fsm_is_terminal(d.state);
	return d;
}

struct lifecycle_submitted lifecycle_array_submitted(int exists, int has_job, enum fsm_state state,
                                                     int held)
{
	struct lifecycle_submitted d = {0, LIFECYCLE_RM_NONE};
	if (!exists || has_job) {
		/* Deleted meanwhile, or another job runs it: nothing would watch this one. */
		d.rm = LIFECYCLE_RM_CANCEL;
		return d;
	}
	d.record = 1;
	if (state == FSM_PAUSED)
		d.rm = LIFECYCLE_RM_HOLD;
	else if (fsm_is_stopping(state) || fsm_is_terminal(state))
		d.rm = LIFECYCLE_RM_CANCEL;
	else if (held)
		d.rm = LIFECYCLE_RM_RELEASE; /* activated meanwhile */
	return d;
}
