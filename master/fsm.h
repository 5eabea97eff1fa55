/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment and trial state machines as transition tables: pure data that
 * the runtime consults and the tests walk.
 */
#ifndef DET_FSM_H
#define DET_FSM_H

enum fsm_state {
	FSM_ACTIVE,
	FSM_PAUSED,
	FSM_STOPPING_COMPLETED,
	FSM_STOPPING_CANCELED,
	FSM_STOPPING_KILLED,
	FSM_STOPPING_ERROR,
	FSM_COMPLETED,
	FSM_CANCELED,
	FSM_ERROR,
	FSM_NSTATES
};

enum fsm_event {
	FSM_EV_PAUSE,    /* user pause */
	FSM_EV_ACTIVATE, /* user activate */
	FSM_EV_CANCEL,   /* user cancel: stop gracefully */
	FSM_EV_KILL,     /* user kill: stop now */
	FSM_EV_DONE,     /* experiment: searcher finished; trial: searcher said stop */
	FSM_EV_FAIL,     /* unrecoverable error */
	FSM_EV_ENDED,    /* experiment: no trial left running; trial: process exited */
	FSM_EV_NEVENTS
};

/* Next experiment state, or -1 when the event is not allowed in from. */
int fsm_experiment_next(enum fsm_state from, enum fsm_event ev);

/* Next trial state, or -1 when the event is not allowed in from. */
int fsm_trial_next(enum fsm_state from, enum fsm_event ev);

/* "ACTIVE", "STOPPING_KILLED", ... */
const char *fsm_state_name(enum fsm_state s);

/* Parse a state name; -1 if unknown. */
int fsm_state_parse(const char *name);

/* Event name ("pause"). */
const char *fsm_event_name(enum fsm_event ev);

/* 1 for COMPLETED, CANCELED, ERROR. */
int fsm_is_terminal(enum fsm_state s);

/* 1 for the STOPPING_* states. */
int fsm_is_stopping(enum fsm_state s);

#endif
