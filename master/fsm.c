/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two lifecycle tables. Each row is (from, event, to); anything not in
 * a table is refused (the API answers 409). The non-obvious part is ENDED:
 * for an experiment it means "no trial is running any more", so every
 * STOPPING_X state settles into X; for a trial it means its process exited,
 * and what that exit means (success, crash) was already folded into the
 * state by DONE/FAIL before, so ACTIVE + ENDED is a normal completion.
 */
#include "fsm.h"

#include <string.h>

struct fsm_row {
	enum fsm_state from;
	enum fsm_event ev;
	enum fsm_state to;
};

static const struct fsm_row experiment_table[] = {
    {FSM_ACTIVE, FSM_EV_PAUSE, FSM_PAUSED},
    {FSM_PAUSED, FSM_EV_ACTIVATE, FSM_ACTIVE},
    {FSM_ACTIVE, FSM_EV_ACTIVATE, FSM_ACTIVE},
    {FSM_PAUSED, FSM_EV_PAUSE, FSM_PAUSED},
    {FSM_ACTIVE, FSM_EV_CANCEL, FSM_STOPPING_CANCELED},
    {FSM_PAUSED, FSM_EV_CANCEL, FSM_STOPPING_CANCELED},
    {FSM_ACTIVE, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_PAUSED, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_STOPPING_CANCELED, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_STOPPING_COMPLETED, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_STOPPING_ERROR, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_ACTIVE, FSM_EV_DONE, FSM_STOPPING_COMPLETED},
    {FSM_ACTIVE, FSM_EV_FAIL, FSM_STOPPING_ERROR},
    {FSM_PAUSED, FSM_EV_FAIL, FSM_STOPPING_ERROR},
    {FSM_STOPPING_COMPLETED, FSM_EV_ENDED, FSM_COMPLETED},
    {FSM_STOPPING_CANCELED, FSM_EV_ENDED, FSM_CANCELED},
    {FSM_STOPPING_KILLED, FSM_EV_ENDED, FSM_CANCELED},
    {FSM_STOPPING_ERROR, FSM_EV_ENDED, FSM_ERROR},
};

static const struct fsm_row trial_table[] = {
    {FSM_ACTIVE, FSM_EV_PAUSE, FSM_PAUSED},
    {FSM_PAUSED, FSM_EV_ACTIVATE, FSM_ACTIVE},
    {FSM_ACTIVE, FSM_EV_ACTIVATE, FSM_ACTIVE},
    {FSM_ACTIVE, FSM_EV_DONE, FSM_STOPPING_COMPLETED},
    {FSM_ACTIVE, FSM_EV_CANCEL, FSM_STOPPING_CANCELED},
    {FSM_PAUSED, FSM_EV_CANCEL, FSM_STOPPING_CANCELED},
    {FSM_ACTIVE, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_PAUSED, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_STOPPING_COMPLETED, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_STOPPING_CANCELED, FSM_EV_KILL, FSM_STOPPING_KILLED},
    {FSM_ACTIVE, FSM_EV_FAIL, FSM_STOPPING_ERROR},
    {FSM_PAUSED, FSM_EV_FAIL, FSM_STOPPING_ERROR},
    {FSM_STOPPING_COMPLETED, FSM_EV_FAIL, FSM_STOPPING_ERROR},
    {FSM_ACTIVE, FSM_EV_ENDED, FSM_COMPLETED},
    {FSM_STOPPING_COMPLETED, FSM_EV_ENDED, FSM_COMPLETED},
    {FSM_STOPPING_CANCELED, FSM_EV_ENDED, FSM_CANCELED},
    {FSM_STOPPING_KILLED, FSM_EV_ENDED, FSM_CANCELED},
    {FSM_STOPPING_ERROR, FSM_EV_ENDED, FSM_ERROR},
};

static const char *const state_names[FSM_NSTATES] = {
    "ACTIVE",          "PAUSED",         "STOPPING_COMPLETED", "STOPPING_CANCELED",
    "STOPPING_KILLED", "STOPPING_ERROR", "COMPLETED",          "CANCELED",
    "ERROR",
};

static const char *const event_names[FSM_EV_NEVENTS] = {
    "pause", "activate", "cancel", "kill", "done", "fail", "ended",
};

static int lookup(const struct fsm_row *t, size_t n, enum fsm_state from, enum fsm_event ev)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].from == from && t[i].ev == ev)
			return (int)t[i].to;
	return -1;
}

int fsm_experiment_next(enum fsm_state from, enum fsm_event ev)
{
	return lookup(experiment_table, sizeof(experiment_table) / sizeof(experiment_table[0]),
	              from, ev);
}

int fsm_trial_next(enum fsm_state from, enum fsm_event ev)
{
	return lookup(trial_table, sizeof(trial_table) / sizeof(trial_table[0]), from, ev);
}

const char *fsm_state_name(enum fsm_state s)
{
	return (unsigned)s < FSM_NSTATES ? state_names[s] : "UNKNOWN";
}

int fsm_state_parse(const char *name)
{
	for (int i = 0; i < FSM_NSTATES; i++)
		if (name && !strcmp(name, state_names[i]))
			return i;
	return -1;
}

const char *fsm_event_name(enum fsm_event ev)
{
	return (unsigned)ev < FSM_EV_NEVENTS ? event_names[ev] : "unknown";
}

int fsm_is_terminal(enum fsm_state s)
{
	return s == FSM_COMPLETED || s == FSM_CANCELED || s == FSM_ERROR;
}

int fsm_is_stopping(enum fsm_state s)
{
	return s >= FSM_STOPPING_COMPLETED && s <= FSM_STOPPING_ERROR;
}
