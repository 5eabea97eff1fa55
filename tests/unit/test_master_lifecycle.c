/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's restart-or-fail rule (master/lifecycle.c): a table over
 * crash, lost task and requeue in every trial and experiment state and
 * restart budget, then properties checked over every combination and
 * simulated runs of repeated crashes and preemptions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "master/lifecycle.h"

#define CRASHED LIFECYCLE_EV_CRASHED
#define LOST LIFECYCLE_EV_TASK_LOST
#define REQUEUED LIFECYCLE_EV_REQUEUED

struct row {
	const char *what;
	enum lifecycle_event ev;
	struct lifecycle_trial_view in;
	enum lifecycle_action action;
	int64_t restarts;   /* after */
	int preempted;      /* after */
	enum fsm_state end; /* LIFECYCLE_FAIL only */
};

#define A FSM_ACTIVE
#define P FSM_PAUSED

static const struct row table[] = {
    /* A crash reported by the launcher. */
    {"crash with budget left restarts", CRASHED, {A, A, 0, 2, 0}, LIFECYCLE_RESTART, 1, 0, A},
    {"second crash spends the last restart", CRASHED, {A, A, 1, 2, 0}, LIFECYCLE_RESTART, 2, 0, A},
    {"crash with the budget spent fails",
     CRASHED,
     {A, A, 2, 2, 0},
     LIFECYCLE_FAIL,
     2,
     0,
     FSM_ERROR},
    {"crash with max_restarts 0 fails", CRASHED, {A, A, 0, 0, 0}, LIFECYCLE_FAIL, 0, 0, FSM_ERROR},
    {"crash after a preemption restarts", CRASHED, {A, A, 0, 1, 1}, LIFECYCLE_RESTART, 1, 1, A},
    {"crash in a paused experiment fails",
     CRASHED,
     {A, P, 0, 2, 0},
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_ERROR},
    {"crash in a canceling experiment fails",
     CRASHED,
     {A, FSM_STOPPING_CANCELED, 0, 2, 0},
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_ERROR},
    {"crash of a paused trial is a preemption",
     CRASHED,
     {P, P, 2, 2, 0},
     LIFECYCLE_PREEMPTED,
     2,
     1,
     A},
    {"crash while stopping to complete ends in ERROR",
     CRASHED,
     {FSM_STOPPING_COMPLETED, A, 0, 2, 0},
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_ERROR},
    {"crash while canceled ends CANCELED",
     CRASHED,
     {FSM_STOPPING_CANCELED, A, 0, 2, 0},
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_CANCELED},
    {"crash while killed ends CANCELED",
     CRASHED,
     {FSM_STOPPING_KILLED, A, 0, 2, 0},
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_CANCELED},
    {"crash while stopping in error ends ERROR",
     CRASHED,
     {FSM_STOPPING_ERROR, A, 0, 2, 0},
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_ERROR},
    {"crash report of a finished trial changes nothing",
     CRASHED,
     {FSM_COMPLETED, A, 0, 2, 0},
     LIFECYCLE_NONE,
     0,
     0,
     A},
    /* A task that ended with no exit report and was not requeued. */
    {"lost task with budget left is requeued", LOST, {A, A, 0, 1, 0}, LIFECYCLE_REQUEUE, 0, 0, A},
    {"lost task with the budget spent fails",
     LOST,
     {A, A, 1, 1, 0},
     LIFECYCLE_FAIL,
     1,
     0,
     FSM_ERROR},
    {"lost task of a paused trial waits for activate",
     LOST,
     {P, P, 5, 1, 0},
     LIFECYCLE_WAIT,
     5,
     0,
     A},
    {"lost task in a paused experiment fails",
     LOST,
     {A, P, 0, 1, 0},
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_ERROR},
    {"lost task of a killed trial ends CANCELED",
     LOST,
     {FSM_STOPPING_KILLED, A, 0, 1, 0},
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_CANCELED},
    {"lost task of an errored trial changes nothing",
     LOST,
     {FSM_ERROR, A, 0, 1, 0},
     LIFECYCLE_NONE,
     0,
     0,
     A},
    /* Requeued by the resource manager (preemption, node failure). */
    {"requeue is a preemption, even with the budget spent",
     REQUEUED,
     {A, A, 2, 2, 0},
     LIFECYCLE_PREEMPTED,
     2,
     1,
     A},
    {"requeue of a paused trial is a preemption",
     REQUEUED,
     {P, P, 0, 2, 0},
     LIFECYCLE_PREEMPTED,
     0,
     1,
     A},
    {"requeue of a stopping trial is a preemption",
     REQUEUED,
     {FSM_STOPPING_CANCELED, A, 0, 2, 0},
     LIFECYCLE_PREEMPTED,
     0,
     1,
     A},
    {"second requeue before a claim changes nothing",
     REQUEUED,
     {A, A, 0, 2, 1},
     LIFECYCLE_NONE,
     0,
     1,
     A},
    {"requeue of a canceled trial changes nothing",
     REQUEUED,
     {FSM_CANCELED, A, 0, 2, 0},
     LIFECYCLE_NONE,
     0,
     0,
     A},
};

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *r = &table[i];
		struct lifecycle_decision d = lifecycle_restart_or_fail(&r->in, r->ev);
		if (d.action != r->action || d.restarts != r->restarts ||
		    d.preempted != r->preempted ||
		    (r->action == LIFECYCLE_FAIL && d.end_state != r->end))
			fail_msg("%s: got %s restarts %lld preempted %d end %s", r->what,
			         lifecycle_action_name(d.action), (long long)d.restarts,
			         d.preempted, fsm_state_name(d.end_state));
	}
}

/* Calls fn for every event, trial state, experiment state, budget and flag. */
static void for_all(void (*fn)(const struct lifecycle_trial_view *, enum lifecycle_event,
                               const struct lifecycle_decision *))
{
	for (int ev = 0; ev < LIFECYCLE_EV_NEVENTS; ev++)
		for (int ts = 0; ts < FSM_NSTATES; ts++)
			for (int es = 0; es < FSM_NSTATES; es++)
				for (int64_t max = 0; max <= 3; max++)
					for (int64_t used = 0; used <= max; used++)
						for (int pre = 0; pre <= 1; pre++) {
							struct lifecycle_trial_view v = {
							    (enum fsm_state)ts, (enum fsm_state)es,
							    used, max, pre};
							struct lifecycle_decision d =
							    lifecycle_restart_or_fail(
							        &v, (enum lifecycle_event)ev);
							fn(&v, (enum lifecycle_event)ev, &d);
						}
}

static void budget_never_overspent(const struct lifecycle_trial_view *v, enum lifecycle_event ev,
                                   const struct lifecycle_decision *d)
{
	assert_true(d->restarts <= v->max_restarts);
	assert_true(d->restarts == v->restarts ||
	            (d->action == LIFECYCLE_RESTART && d->restarts == v->restarts + 1));
	if (d->action == LIFECYCLE_RESTART || d->action == LIFECYCLE_REQUEUE)
		assert_true(v->trial == FSM_ACTIVE && v->experiment == FSM_ACTIVE &&
		            v->restarts < v->max_restarts);
}

static void test_restart_budget_is_never_overspent(void **state)
{
	for_all(budget_never_overspent);
}

static void preemption_is_free(const struct lifecycle_trial_view *v, enum lifecycle_event ev,
                               const struct lifecycle_decision *d)
{
	if (ev != LIFECYCLE_EV_REQUEUED)
		return;
	assert_int_equal(d->restarts, v->restarts);
	assert_true(d->action == LIFECYCLE_PREEMPTED || d->action == LIFECYCLE_NONE);
	if (!fsm_is_terminal(v->trial))
		assert_int_equal(d->preempted, 1);
}

static void test_requeue_never_spends_a_restart(void **state)
{
	for_all(preemption_is_free);
}

static void failures_settle(const struct lifecycle_trial_view *v, enum lifecycle_event ev,
                            const struct lifecycle_decision *d)
{
	if (fsm_is_terminal(v->trial))
		assert_int_equal(d->action, LIFECYCLE_NONE);
	if (d->action == LIFECYCLE_FAIL)
		assert_true(fsm_is_terminal(d->end_state));
}

static void test_failures_end_in_a_final_state_and_final_trials_stay(void **state)
{
	for_all(failures_settle);
}

/* A trial that crashes every time runs 1 + max_restarts times, whatever the
 * preemptions in between; the claim (exp_claim.c) clears preempted and counts a
 * restart for a requeued lost task. */
static void test_simulated_runs_spend_exactly_the_budget(void **state)
{
	for (int64_t max = 0; max <= 4; max++) {
		for (int lost = 0; lost <= 1; lost++) {
			struct lifecycle_trial_view v = {FSM_ACTIVE, FSM_ACTIVE, 0, max, 0};
			int runs = 1;
			for (int step = 0; step < 100; step++) {
				struct lifecycle_decision d =
				    lifecycle_restart_or_fail(&v, LIFECYCLE_EV_REQUEUED);
				assert_int_equal(d.action, LIFECYCLE_PREEMPTED);
				v.preempted = 0; /* the next claim resumes it, nothing spent */
				d = lifecycle_restart_or_fail(&v, lost ? LIFECYCLE_EV_TASK_LOST
				                                       : LIFECYCLE_EV_CRASHED);
				if (d.action == LIFECYCLE_FAIL) {
					assert_int_equal(d.end_state, FSM_ERROR);
					break;
				}
				if (d.action == LIFECYCLE_REQUEUE)
					d.restarts++; /* the claim counts it */
				else
					assert_int_equal(d.action, LIFECYCLE_RESTART);
				v.restarts = d.restarts;
				runs++;
			}
			assert_int_equal(runs, 1 + max);
			assert_int_equal(v.restarts, max);
		}
	}
}

static void test_action_names(void **state)
{
	assert_string_equal(lifecycle_action_name(LIFECYCLE_RESTART), "restart");
	assert_string_equal(lifecycle_action_name(LIFECYCLE_FAIL), "fail");
	assert_string_equal(lifecycle_action_name(LIFECYCLE_NACTIONS), "unknown");
}

/* ---- experiments: user events ----------------------------------------------- */

#define SC FSM_STOPPING_COMPLETED
#define SX FSM_STOPPING_CANCELED
#define SK FSM_STOPPING_KILLED
#define SE FSM_STOPPING_ERROR
#define NONE_ LIFECYCLE_RM_NONE
#define HOLD LIFECYCLE_RM_HOLD
#define RELEASE LIFECYCLE_RM_RELEASE
#define CANCEL LIFECYCLE_RM_CANCEL

struct user_row {
	enum fsm_state from;
	enum fsm_event ev;
	int allowed;
	enum fsm_state to;
	enum lifecycle_rm_command rm;
};

/* Every state × pause/activate/cancel/kill. */
static const struct user_row user_table[] = {
    {A, FSM_EV_PAUSE, 1, P, HOLD},
    {A, FSM_EV_ACTIVATE, 1, A, RELEASE},
    {A, FSM_EV_CANCEL, 1, SX, CANCEL},
    {A, FSM_EV_KILL, 1, SK, CANCEL},
    {P, FSM_EV_PAUSE, 1, P, HOLD},
    {P, FSM_EV_ACTIVATE, 1, A, RELEASE},
    {P, FSM_EV_CANCEL, 1, SX, CANCEL},
    {P, FSM_EV_KILL, 1, SK, CANCEL},
    {SC, FSM_EV_PAUSE, 0, SC, NONE_},
    {SC, FSM_EV_ACTIVATE, 0, SC, NONE_},
    {SC, FSM_EV_CANCEL, 0, SC, NONE_},
    {SC, FSM_EV_KILL, 1, SK, CANCEL},
    {SX, FSM_EV_PAUSE, 0, SX, NONE_},
    {SX, FSM_EV_ACTIVATE, 0, SX, NONE_},
    {SX, FSM_EV_CANCEL, 0, SX, NONE_},
    {SX, FSM_EV_KILL, 1, SK, CANCEL},
    {SK, FSM_EV_PAUSE, 0, SK, NONE_},
    {SK, FSM_EV_ACTIVATE, 0, SK, NONE_},
    {SK, FSM_EV_CANCEL, 0, SK, NONE_},
    {SK, FSM_EV_KILL, 0, SK, NONE_},
    {SE, FSM_EV_PAUSE, 0, SE, NONE_},
    {SE, FSM_EV_ACTIVATE, 0, SE, NONE_},
    {SE, FSM_EV_CANCEL, 0, SE, NONE_},
    {SE, FSM_EV_KILL, 1, SK, CANCEL},
    {FSM_COMPLETED, FSM_EV_PAUSE, 0, FSM_COMPLETED, NONE_},
    {FSM_COMPLETED, FSM_EV_ACTIVATE, 0, FSM_COMPLETED, NONE_},
    {FSM_COMPLETED, FSM_EV_CANCEL, 0, FSM_COMPLETED, NONE_},
    {FSM_COMPLETED, FSM_EV_KILL, 0, FSM_COMPLETED, NONE_},
    {FSM_CANCELED, FSM_EV_PAUSE, 0, FSM_CANCELED, NONE_},
    {FSM_CANCELED, FSM_EV_ACTIVATE, 0, FSM_CANCELED, NONE_},
    {FSM_CANCELED, FSM_EV_CANCEL, 0, FSM_CANCELED, NONE_},
    {FSM_CANCELED, FSM_EV_KILL, 0, FSM_CANCELED, NONE_},
    {FSM_ERROR, FSM_EV_PAUSE, 0, FSM_ERROR, NONE_},
    {FSM_ERROR, FSM_EV_ACTIVATE, 0, FSM_ERROR, NONE_},
    {FSM_ERROR, FSM_EV_CANCEL, 0, FSM_ERROR, NONE_},
    {FSM_ERROR, FSM_EV_KILL, 0, FSM_ERROR, NONE_},
};

static void test_user_events_table(void **state)
{
	(void)state;
	assert_int_equal(sizeof(user_table) / sizeof(user_table[0]), FSM_NSTATES * 4);
	for (size_t i = 0; i < sizeof(user_table) / sizeof(user_table[0]); i++) {
		const struct user_row *r = &user_table[i];
		struct lifecycle_user_decision d = lifecycle_user_event(r->from, r->ev);
		if (d.allowed != r->allowed || d.to != r->to || d.rm != r->rm)
			fail_msg("%s on %s: got %d %s %s", fsm_event_name(r->ev),
			         fsm_state_name(r->from), d.allowed, fsm_state_name(d.to),
			         lifecycle_rm_command_name(d.rm));
	}
}

/* ---- experiments: completion ------------------------------------------------ */

struct settle_row {
	const char *what;
	struct lifecycle_exp_view in;
	int changed;
	enum fsm_state state;
	int progress_done, ended;
};

static const struct settle_row settle_table[] = {
    {"running, searcher not done: nothing", {A, 0, 1, 0, 2}, 0, A, 0, 0},
    {"paused: nothing", {P, 1, 0, 0, 0}, 0, P, 0, 0},
    {"searcher done, trials live: stopping", {A, 1, 2, 0, 1}, 1, SC, 0, 0},
    {"searcher done, nothing live: completed", {A, 1, 2, 1, 0}, 1, FSM_COMPLETED, 1, 1},
    {"searcher done, only failures, live: stopping in error", {A, 1, 0, 2, 1}, 1, SE, 0, 0},
    {"searcher done, only failures: error", {A, 1, 0, 2, 0}, 1, FSM_ERROR, 0, 1},
    {"searcher done, no trial at all: completed", {A, 1, 0, 0, 0}, 1, FSM_COMPLETED, 1, 1},
    {"canceling with trials live: waits", {SX, 0, 0, 0, 1}, 0, SX, 0, 0},
    {"canceling, nothing live: canceled", {SX, 0, 0, 0, 0}, 1, FSM_CANCELED, 0, 1},
    {"killing, nothing live: canceled", {SK, 1, 3, 0, 0}, 1, FSM_CANCELED, 0, 1},
    {"stopping in error, nothing live: error", {SE, 0, 0, 1, 0}, 1, FSM_ERROR, 0, 1},
    {"stopping completed, nothing live: completed", {SC, 1, 1, 0, 0}, 1, FSM_COMPLETED, 1, 1},
    {"final states stay", {FSM_COMPLETED, 1, 1, 0, 0}, 0, FSM_COMPLETED, 0, 0},
    {"final error stays", {FSM_ERROR, 0, 0, 1, 0}, 0, FSM_ERROR, 0, 0},
};

static void test_settle_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(settle_table) / sizeof(settle_table[0]); i++) {
		const struct settle_row *r = &settle_table[i];
		struct lifecycle_settlement d = lifecycle_settle(&r->in);
		if (d.changed != r->changed || d.state != r->state ||
		    d.progress_done != r->progress_done || d.ended != r->ended)
			fail_msg("%s: got changed %d %s progress %d ended %d", r->what, d.changed,
			         fsm_state_name(d.state), d.progress_done, d.ended);
	}
}

/* Settling twice changes nothing more: its result is a fixed point. */
static void test_settle_is_idempotent(void **state)
{
	(void)state;
	for (int s = 0; s < FSM_NSTATES; s++)
		for (int done = 0; done <= 1; done++)
			for (int ok = 0; ok <= 1; ok++)
				for (int bad = 0; bad <= 1; bad++)
					for (int live = 0; live <= 1; live++) {
						struct lifecycle_exp_view v = {(enum fsm_state)s,
						                               done, ok, bad, live};
						struct lifecycle_settlement d =
						    lifecycle_settle(&v);
						v.state = d.state;
						struct lifecycle_settlement d2 =
						    lifecycle_settle(&v);
						assert_false(d2.changed);
						if (fsm_is_terminal((enum fsm_state)s))
							assert_false(d.changed);
					}
}

/* ---- experiments: an array submitted without the lock ------------------------- */

struct submitted_row {
	const char *what;
	int exists, has_job;
	enum fsm_state state;
	int held;
	int record;
	enum lifecycle_rm_command rm;
};

static const struct submitted_row submitted_table[] = {
    {"still active: recorded", 1, 0, A, 0, 1, NONE_},
    {"paused meanwhile: recorded and held", 1, 0, P, 0, 1, HOLD},
    {"submitted held, still paused: held", 1, 0, P, 1, 1, HOLD},
    {"submitted held, activated meanwhile: released", 1, 0, A, 1, 1, RELEASE},
    {"killed meanwhile: recorded and canceled", 1, 0, SK, 0, 1, CANCEL},
    {"canceled meanwhile: recorded and canceled", 1, 0, SX, 1, 1, CANCEL},
    {"ended meanwhile: recorded and canceled", 1, 0, FSM_CANCELED, 0, 1, CANCEL},
    {"deleted meanwhile: canceled", 0, 0, FSM_ERROR, 0, 0, CANCEL},
    {"another job registered meanwhile: canceled", 1, 1, A, 1, 0, CANCEL},
};

static void test_array_submitted_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(submitted_table) / sizeof(submitted_table[0]); i++) {
		const struct submitted_row *r = &submitted_table[i];
		struct lifecycle_submitted d =
		    lifecycle_array_submitted(r->exists, r->has_job, r->state, r->held);
		if (d.record != r->record || d.rm != r->rm)
			fail_msg("%s: got record %d %s", r->what, d.record,
			         lifecycle_rm_command_name(d.rm));
	}
}

/* ---- master restart: replaying what was stored ---------------------------------- */

/* An experiment driven by a pseudo-random stream of user events, trial ends and searcher
 * completion, the engine committing each decision's state; a restarted master replays the
 * committed events from the initial state and must reach the same state at every step. */
struct sim {
	enum fsm_state state;
	int done, ok, bad, live;
};

static void sim_step(struct sim *s, unsigned ev)
{
	if (ev < 4) {
		static const enum fsm_event user[] = {FSM_EV_PAUSE, FSM_EV_ACTIVATE, FSM_EV_CANCEL,
		                                      FSM_EV_KILL};
		struct lifecycle_user_decision d = lifecycle_user_event(s->state, user[ev]);
		if (d.allowed)
			s->state = d.to;
	} else if (ev == 4 && s->live) {
		s->live--;
		s->ok++;
	} else if (ev == 5 && s->live) {
		s->live--;
		s->bad++;
	} else if (ev == 6) {
		s->done = 1;
	} else if (ev == 7 && !s->done && s->state == A) {
		s->live++;
	}
	struct lifecycle_exp_view v = {s->state, s->done, s->ok, s->bad, s->live};
	struct lifecycle_settlement d = lifecycle_settle(&v);
	if (d.changed)
		s->state = d.state;
}

static void test_replaying_stored_events_gives_the_same_state(void **state)
{
	(void)state;
	unsigned seed = 12345;
	for (int run = 0; run < 500; run++) {
		unsigned log[64];
		enum fsm_state states[64];
		struct sim live = {A, 0, 0, 0, 2}, replay = {A, 0, 0, 0, 2};
		for (int i = 0; i < 64; i++) {
			seed = seed * 1103515245u + 12345u;
			log[i] = (seed >> 16) % 8;
			sim_step(&live, log[i]);
			states[i] = live.state;
		}
		for (int i = 0; i < 64; i++) {
			sim_step(&replay, log[i]);
			assert_int_equal(replay.state, states[i]);
		}
		assert_memory_equal(&live, &replay, sizeof(live));
		/* And a final state is never left. */
		for (int i = 1; i < 64; i++)
			if (fsm_is_terminal(states[i - 1]))
				assert_int_equal(states[i], states[i - 1]);
	}
}

static void test_rm_command_names(void **state)
{
	(void)state;
	assert_string_equal(lifecycle_rm_command_name(LIFECYCLE_RM_HOLD), "hold");
	assert_string_equal(lifecycle_rm_command_name(LIFECYCLE_RM_CANCEL), "cancel");
	assert_string_equal(lifecycle_rm_command_name(LIFECYCLE_RM_NCOMMANDS), "unknown");
}

/* ---- trials: an exit report --------------------------------------------------- */

#define EXIT_NONE LIFECYCLE_EXIT_NONE
#define EXIT_HP LIFECYCLE_EXIT_INVALID_HP
#define EXIT_ERR LIFECYCLE_EXIT_ERRORED
#define EXIT_STOP LIFECYCLE_EXIT_STOP_REQUESTED
#define EXIT_OTHER LIFECYCLE_EXIT_OTHER

struct exit_row {
	const char *what;
	struct lifecycle_trial_view in;
	int failed;
	enum lifecycle_exit_reason reason;
	enum lifecycle_action action;
	int64_t restarts;
	int preempted;
	enum fsm_state end; /* FAIL and END */
};

static const struct exit_row exit_table[] = {
    {"clean exit completes", {A, A, 0, 1, 0}, 0, EXIT_NONE, LIFECYCLE_END, 0, 0, FSM_COMPLETED},
    {"clean exit of a stopping trial ends it",
     {SC, A, 0, 1, 0},
     0,
     EXIT_NONE,
     LIFECYCLE_END,
     0,
     0,
     FSM_COMPLETED},
    {"clean exit of a killed trial cancels it",
     {SK, SK, 0, 1, 0},
     0,
     EXIT_NONE,
     LIFECYCLE_END,
     0,
     0,
     FSM_CANCELED},
    {"requested stop with a failed status still ends",
     {A, A, 0, 1, 0},
     1,
     EXIT_STOP,
     LIFECYCLE_END,
     0,
     0,
     FSM_COMPLETED},
    {"invalid hparams fail in ERROR", {A, A, 0, 3, 0}, 1, EXIT_HP, LIFECYCLE_FAIL, 0, 0, FSM_ERROR},
    {"invalid hparams with a clean status fail too",
     {A, A, 0, 3, 0},
     0,
     EXIT_HP,
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_ERROR},
    {"a trial that gave up fails in ERROR",
     {A, A, 0, 3, 0},
     1,
     EXIT_ERR,
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_ERROR},
    {"a crash with budget restarts", {A, A, 0, 1, 0}, 1, EXIT_NONE, LIFECYCLE_RESTART, 1, 0, A},
    {"a crash with another reason restarts",
     {A, A, 1, 3, 0},
     1,
     EXIT_OTHER,
     LIFECYCLE_RESTART,
     2,
     0,
     A},
    {"a crash with the budget spent fails",
     {A, A, 1, 1, 0},
     1,
     EXIT_NONE,
     LIFECYCLE_FAIL,
     1,
     0,
     FSM_ERROR},
    {"a crash of a paused experiment's trial fails",
     {A, P, 0, 1, 0},
     1,
     EXIT_NONE,
     LIFECYCLE_FAIL,
     0,
     0,
     FSM_ERROR},
    {"a paused trial's exit is a preemption",
     {P, P, 0, 1, 0},
     1,
     EXIT_NONE,
     LIFECYCLE_PREEMPTED,
     0,
     1,
     P},
    {"even a clean one", {P, P, 2, 2, 0}, 0, EXIT_NONE, LIFECYCLE_PREEMPTED, 2, 1, P},
    {"a second exit report changes nothing",
     {FSM_COMPLETED, A, 0, 1, 0},
     1,
     EXIT_NONE,
     LIFECYCLE_NONE,
     0,
     0,
     FSM_COMPLETED},
    {"nor for a trial in error",
     {FSM_ERROR, A, 1, 1, 0},
     0,
     EXIT_ERR,
     LIFECYCLE_NONE,
     1,
     0,
     FSM_ERROR},
};

static void test_exit_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_table) / sizeof(exit_table[0]); i++) {
		const struct exit_row *r = &exit_table[i];
		struct lifecycle_decision d = lifecycle_trial_exit(&r->in, r->failed, r->reason);
		int end_ok = (d.action != LIFECYCLE_FAIL && d.action != LIFECYCLE_END) ||
		             d.end_state == r->end;
		if (d.action != r->action || d.restarts != r->restarts ||
		    d.preempted != r->preempted || !end_ok)
			fail_msg("%s: got %s restarts %lld preempted %d end %s", r->what,
			         lifecycle_action_name(d.action), (long long)d.restarts,
			         d.preempted, fsm_state_name(d.end_state));
	}
}

static void test_exit_reasons_parse(void **state)
{
	(void)state;
	assert_int_equal(lifecycle_exit_reason_parse(NULL), EXIT_NONE);
	assert_int_equal(lifecycle_exit_reason_parse(""), EXIT_NONE);
	assert_int_equal(lifecycle_exit_reason_parse("INVALID_HP"), EXIT_HP);
	assert_int_equal(lifecycle_exit_reason_parse("ERRORED"), EXIT_ERR);
	assert_int_equal(lifecycle_exit_reason_parse("USER_REQUESTED_STOP"), EXIT_STOP);
	assert_int_equal(lifecycle_exit_reason_parse("invalid_hp"), EXIT_OTHER);
	assert_string_equal(lifecycle_action_name(LIFECYCLE_END), "end");
}

/* ---- searcher decisions ----------------------------------------------------------- */

static void test_validation_table(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		struct lifecycle_validation_view in;
		struct lifecycle_validation want;
	} rows[] = {
	    /* trial, stop, has_value, value, smaller, has_best, best */
	    {"first value becomes the best", {A, 0, 1, 0.5, 1, 0, 0}, {A, 1, 0.5}},
	    {"smaller is better: a smaller value wins", {A, 0, 1, 0.4, 1, 1, 0.5}, {A, 1, 0.4}},
	    {"smaller is better: a larger value does not", {A, 0, 1, 0.6, 1, 1, 0.5}, {A, 1, 0.5}},
	    {"larger is better: a larger value wins", {A, 0, 1, 0.6, 0, 1, 0.5}, {A, 1, 0.6}},
	    {"an equal value keeps the best", {A, 0, 1, 0.5, 1, 1, 0.5}, {A, 1, 0.5}},
	    {"no metric in the report: nothing changes", {A, 0, 0, 0, 1, 1, 0.5}, {A, 1, 0.5}},
	    {"no metric and no best yet", {A, 0, 0, 0, 1, 0, 0}, {A, 0, 0}},
	    {"stop moves an active trial on",
	     {A, 1, 1, 0.1, 1, 1, 0.5},
	     {FSM_STOPPING_COMPLETED, 1, 0.1}},
	    {"stop of a paused trial follows the table", {P, 1, 0, 0, 1, 0, 0}, {P, 0, 0}},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct lifecycle_validation d = lifecycle_validation_apply(&rows[i].in);
		int want_state = rows[i].want.state;
		if (rows[i].in.stop) {
			int next = fsm_trial_next(rows[i].in.trial, FSM_EV_DONE);
			want_state = next >= 0 ? next : (int)rows[i].in.trial;
		}
		if ((int)d.state != want_state || d.has_best != rows[i].want.has_best ||
		    (d.has_best && d.best != rows[i].want.best))
			fail_msg("%s: got %s best %d %g", rows[i].what, fsm_state_name(d.state),
			         d.has_best, d.best);
	}
	/* The stop row's expectation is the table's, not a copy of the code. */
	struct lifecycle_validation_view stop = {A, 1, 0, 0, 1, 0, 0};
	assert_int_equal(lifecycle_validation_apply(&stop).state, FSM_STOPPING_COMPLETED);
}

static void test_replacement_table(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		int64_t replacement;
		enum fsm_state experiment;
		int has_job, task_gone;
		int64_t next;
		int requeue;
	} rows[] = {
	    {"nothing owed", -1, A, 1, 1, -1, 0},
	    {"owed, the task still runs: it claims the replacement", 9, A, 1, 0, 9, 0},
	    {"owed, the task is gone: requeue it", 9, A, 1, 1, 9, 1},
	    {"owed in a paused experiment: wait", 9, P, 1, 1, 9, 0},
	    {"owed without an array: nothing to requeue", 9, A, 0, 1, 9, 0},
	    {"owed while canceling: no requeue", 9, FSM_STOPPING_CANCELED, 1, 1, 9, 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct lifecycle_replacement d = lifecycle_replacement_owed(
		    rows[i].replacement, rows[i].experiment, rows[i].has_job, rows[i].task_gone);
		if (d.next_index != rows[i].next || d.requeue != rows[i].requeue)
			fail_msg("%s: got next %lld requeue %d", rows[i].what,
			         (long long)d.next_index, d.requeue);
	}
}

/* ---- claims ------------------------------------------------------------------- */

#define CL_RANGE LIFECYCLE_CLAIM_OUT_OF_RANGE
#define CL_PAUSED LIFECYCLE_CLAIM_PAUSED
#define CL_DONE LIFECYCLE_CLAIM_DONE
#define CL_NEW LIFECYCLE_CLAIM_NEW
#define CL_FINISH LIFECYCLE_CLAIM_FINISH
#define CL_RESUME LIFECYCLE_CLAIM_RESUME

static void test_claim_table(void **state)
{
	(void)state;
	/* task, num_tasks, experiment, searching, has_trial, trial, next_index, restarts,
	 * preempted, has_secret */
	static const struct {
		const char *what;
		struct lifecycle_claim_view in;
		enum lifecycle_claim_action action;
		int64_t index, restarts;
		int rotate;
		enum fsm_state end;
	} rows[] = {
	    {"task below the array", {-1, 4, A, 1, 0, A, -1, 0, 0, 0}, CL_RANGE, -1, 0, 0, A},
	    {"task past the array", {4, 4, A, 1, 0, A, -1, 0, 0, 0}, CL_RANGE, -1, 0, 0, A},
	    {"paused experiment refuses", {0, 4, P, 1, 0, A, -1, 0, 0, 0}, CL_PAUSED, -1, 0, 0, A},
	    {"first claim gets trial i", {2, 4, A, 1, 0, A, -1, 0, 0, 0}, CL_NEW, 2, 0, 0, A},
	    {"no searcher left: done", {2, 4, A, 0, 0, A, -1, 0, 0, 0}, CL_DONE, -1, 0, 0, A},
	    {"canceling experiment: done",
	     {0, 4, FSM_STOPPING_CANCELED, 1, 1, A, -1, 0, 0, 1},
	     CL_DONE,
	     -1,
	     0,
	     0,
	     A},
	    {"completed experiment: done",
	     {0, 4, FSM_COMPLETED, 0, 1, FSM_COMPLETED, -1, 0, 0, 1},
	     CL_DONE,
	     -1,
	     0,
	     0,
	     FSM_COMPLETED},
	    {"ended trial with a replacement owed",
	     {1, 4, A, 1, 1, FSM_ERROR, 7, 0, 0, 1},
	     CL_NEW,
	     7,
	     0,
	     0,
	     FSM_ERROR},
	    {"ended trial, nothing owed: done",
	     {1, 4, A, 1, 1, FSM_COMPLETED, -1, 0, 0, 1},
	     CL_DONE,
	     -1,
	     0,
	     0,
	     FSM_COMPLETED},
	    {"trial told to stop settles",
	     {1, 4, A, 1, 1, FSM_STOPPING_COMPLETED, -1, 0, 0, 1},
	     CL_FINISH,
	     -1,
	     0,
	     0,
	     FSM_COMPLETED},
	    {"trial being killed settles canceled",
	     {1, 4, A, 1, 1, FSM_STOPPING_KILLED, -1, 0, 0, 1},
	     CL_FINISH,
	     -1,
	     0,
	     0,
	     FSM_CANCELED},
	    {"claim again counts a restart",
	     {1, 4, A, 1, 1, A, -1, 1, 0, 1},
	     CL_RESUME,
	     -1,
	     2,
	     0,
	     A},
	    {"claim after a preemption counts none",
	     {1, 4, A, 1, 1, A, -1, 1, 1, 1},
	     CL_RESUME,
	     -1,
	     1,
	     0,
	     A},
	    {"no token in memory (master restarted): rotate",
	     {1, 4, A, 1, 1, A, -1, 0, 0, 0},
	     CL_RESUME,
	     -1,
	     1,
	     1,
	     A},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct lifecycle_claim d = lifecycle_claim_decide(&rows[i].in);
		int ok = d.action == rows[i].action;
		if (ok && d.action == CL_NEW)
			ok = d.index == rows[i].index;
		if (ok && d.action == CL_RESUME)
			ok = d.restarts == rows[i].restarts && d.rotate_token == rows[i].rotate;
		if (ok && d.action == CL_FINISH)
			ok = d.end_state == rows[i].end;
		if (!ok)
			fail_msg("%s: got %s index %lld restarts %lld rotate %d end %s",
			         rows[i].what, lifecycle_claim_action_name(d.action),
			         (long long)d.index, (long long)d.restarts, d.rotate_token,
			         fsm_state_name(d.end_state));
	}
	assert_string_equal(lifecycle_claim_action_name(CL_RESUME), "resume");
	assert_string_equal(lifecycle_claim_action_name(LIFECYCLE_CLAIM_NACTIONS), "unknown");
}

/* ---- checkpoint garbage collection --------------------------------------------- */

#define NOM 0, 0 /* no metric */
#define M(x) (x), 1

static void test_gc_table(void **state)
{
	(void)state;
	/* Trial 1: steps 10 (0.5), 20 (0.2), 30 (no metric), 40 (0.9);
	 * trial 2: steps 10 (0.1), 20 (0.3, protected), 30 (0.4, already deleted). */
	static const struct lifecycle_ckpt c[] = {
	    {1, 10, M(0.5), 0, 0}, {1, 20, M(0.2), 0, 0}, {1, 30, NOM, 0, 0},
	    {1, 40, M(0.9), 0, 0}, {2, 10, M(0.1), 0, 0}, {2, 20, M(0.3), 1, 0},
	    {2, 30, M(0.4), 0, 1},
	};
	static const struct {
		const char *what;
		struct lifecycle_gc_policy p;
		const char *drop; /* '1' delete, '0' keep, one per checkpoint */
	} rows[] = {
	    {"keep nothing: all but protected and deleted go", {0, 0, 0, 1}, "1111100"},
	    {"latest of each trial", {0, 0, 1, 1}, "1110000"},
	    {"two latest of each trial", {0, 0, 2, 1}, "1100000"},
	    {"best of each trial (smaller)", {0, 1, 0, 1}, "1011000"},
	    {"best of each trial (larger)", {0, 1, 0, 0}, "1110000"},
	    {"best of the experiment (smaller)", {1, 0, 0, 1}, "1111000"},
	    {"two best of the experiment (smaller)", {2, 0, 0, 1}, "1011000"},
	    {"defaults: trial best and latest", {0, 1, 1, 1}, "1010000"},
	    {"everything kept with large quotas", {10, 10, 10, 1}, "0000000"},
	    {"a metricless checkpoint is never a best", {0, 4, 0, 1}, "0010000"},
	};
	size_t n = sizeof(c) / sizeof(c[0]);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned char drop[sizeof(c) / sizeof(c[0])];
		char got[sizeof(c) / sizeof(c[0]) + 1];
		assert_int_equal(lifecycle_gc_select(c, n, &rows[i].p, drop), 0);
		for (size_t j = 0; j < n; j++)
			got[j] = drop[j] ? '1' : '0';
		got[n] = 0;
		if (strcmp(got, rows[i].drop))
			fail_msg("%s: dropped %s, expected %s", rows[i].what, got, rows[i].drop);
	}
	unsigned char none;
	struct lifecycle_gc_policy p = {1, 1, 1, 1};
	assert_int_equal(lifecycle_gc_select(NULL, 0, &p, &none), 0);
}

/* Over random sets: a protected or deleted checkpoint is never dropped, the quotas are
 * kept exactly (each trial keeps min(latest, its count) at least), and the answer does
 * not depend on the input order. */
static void test_gc_properties(void **state)
{
	(void)state;
	unsigned seed = 777;
	for (int run = 0; run < 300; run++) {
		struct lifecycle_ckpt c[24], r[24];
		unsigned char drop[24], rdrop[24];
		size_t n = 1 + run % 24;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			c[i] = (struct lifecycle_ckpt){
			    (seed >> 8) % 3,      (int64_t)i * 10,       (double)((seed >> 12) % 5),
			    (seed >> 4) % 4 != 0, (seed >> 20) % 7 == 0, (seed >> 24) % 9 == 0};
		}
		struct lifecycle_gc_policy p = {run % 3, (run / 3) % 3, 1 + run % 2, run % 2};
		assert_int_equal(lifecycle_gc_select(c, n, &p, drop), 0);
		for (size_t i = 0; i < n; i++) {
			if (c[i].is_protected || c[i].deleted)
				assert_int_equal(drop[i], 0);
			r[n - 1 - i] = c[i];
		}
		for (int64_t t = 0; t < 3; t++) {
			int live = 0, kept = 0;
			for (size_t i = 0; i < n; i++)
				if (c[i].trial_id == t && !c[i].is_protected && !c[i].deleted) {
					live++;
					kept += !drop[i];
				}
			assert_true(kept >= (live < p.trial_latest ? live : p.trial_latest));
			assert_true(kept <= p.experiment_best + p.trial_best + p.trial_latest);
		}
		/* Reversed input, same steps: the same checkpoints go. */
		assert_int_equal(lifecycle_gc_select(r, n, &p, rdrop), 0);
		for (size_t i = 0; i < n; i++)
			if (c[i].steps != c[(i + 1) % n].steps || n == 1)
				assert_int_equal(drop[i], rdrop[n - 1 - i]);
	}
}

/* ---- tasks ------------------------------------------------------------------------ */

#define TQ LIFECYCLE_TASK_QUEUED
#define TS LIFECYCLE_TASK_STARTING
#define TR LIFECYCLE_TASK_RUNNING
#define TT LIFECYCLE_TASK_TERMINATED

static void test_task_table(void **state)
{
	(void)state;
	/* Every state x event: allowed, to, stamp_started, stamp_ended, release. */
	static const struct {
		enum lifecycle_task_state from;
		enum lifecycle_task_event ev;
		struct lifecycle_task_step want;
	} rows[] = {
	    {TQ, LIFECYCLE_TASK_EV_ALLOCATED, {1, TS, 0, 0, 0}},
	    {TQ, LIFECYCLE_TASK_EV_STARTED, {0, TQ, 0, 0, 0}},
	    {TQ, LIFECYCLE_TASK_EV_EXITED, {0, TQ, 0, 0, 0}},
	    {TQ, LIFECYCLE_TASK_EV_KILLED, {1, TT, 0, 1, 0}},
	    {TQ, LIFECYCLE_TASK_EV_REQUEUED, {0, TQ, 0, 0, 0}},
	    {TS, LIFECYCLE_TASK_EV_ALLOCATED, {0, TS, 0, 0, 0}},
	    {TS, LIFECYCLE_TASK_EV_STARTED, {1, TR, 1, 0, 0}},
	    {TS, LIFECYCLE_TASK_EV_EXITED, {1, TT, 0, 1, 1}},
	    {TS, LIFECYCLE_TASK_EV_KILLED, {1, TT, 0, 1, 1}},
	    {TS, LIFECYCLE_TASK_EV_REQUEUED, {1, TQ, 0, 0, 1}},
	    {TR, LIFECYCLE_TASK_EV_ALLOCATED, {0, TR, 0, 0, 0}},
	    {TR, LIFECYCLE_TASK_EV_STARTED, {0, TR, 0, 0, 0}},
	    {TR, LIFECYCLE_TASK_EV_EXITED, {1, TT, 0, 1, 1}},
	    {TR, LIFECYCLE_TASK_EV_KILLED, {1, TT, 0, 1, 1}},
	    {TR, LIFECYCLE_TASK_EV_REQUEUED, {1, TQ, 0, 0, 1}},
	    {TT, LIFECYCLE_TASK_EV_ALLOCATED, {0, TT, 0, 0, 0}},
	    {TT, LIFECYCLE_TASK_EV_STARTED, {0, TT, 0, 0, 0}},
	    {TT, LIFECYCLE_TASK_EV_EXITED, {0, TT, 0, 0, 0}},
	    {TT, LIFECYCLE_TASK_EV_KILLED, {0, TT, 0, 0, 0}},
	    {TT, LIFECYCLE_TASK_EV_REQUEUED, {0, TT, 0, 0, 0}},
	};
	assert_int_equal(sizeof(rows) / sizeof(rows[0]),
	                 LIFECYCLE_TASK_NSTATES * LIFECYCLE_TASK_EV_NEVENTS);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct lifecycle_task_step d = lifecycle_task_next(rows[i].from, rows[i].ev);
		if (memcmp(&d, &rows[i].want, sizeof(d)))
			fail_msg("%s on %s: got allowed %d to %s started %d ended %d release %d",
			         lifecycle_task_state_name(rows[i].from),
			         lifecycle_task_event_name(rows[i].ev), d.allowed,
			         lifecycle_task_state_name(d.to), d.stamp_started, d.stamp_ended,
			         d.release);
	}
}

static void test_task_names(void **state)
{
	(void)state;
	for (int k = 0; k < LIFECYCLE_TASK_NKINDS; k++)
		assert_int_equal(lifecycle_task_kind_parse(lifecycle_task_kind_name(k)), k);
	for (int s = 0; s < LIFECYCLE_TASK_NSTATES; s++)
		assert_int_equal(lifecycle_task_state_parse(lifecycle_task_state_name(s)), s);
	assert_string_equal(lifecycle_task_kind_name(LIFECYCLE_TASK_TENSORBOARD), "tensorboard");
	assert_int_equal(lifecycle_task_kind_parse("Trial"), -1);
	assert_int_equal(lifecycle_task_kind_parse(NULL), -1);
	assert_int_equal(lifecycle_task_state_parse("PENDING"), -1);
	assert_string_equal(lifecycle_task_event_name(LIFECYCLE_TASK_EV_REQUEUED), "requeued");
}

/* A stored event log replayed from QUEUED lands where the live run did, refused
 * events change nothing, and TERMINATED is never left. */
static void test_task_replay(void **state)
{
	(void)state;
	unsigned seed = 4242;
	for (int run = 0; run < 500; run++) {
		enum lifecycle_task_event log[32];
		enum lifecycle_task_state live = TQ, states[32];
		int ends = 0;
		for (int i = 0; i < 32; i++) {
			seed = seed * 1103515245u + 12345u;
			log[i] =
			    (enum lifecycle_task_event)((seed >> 16) % LIFECYCLE_TASK_EV_NEVENTS);
			struct lifecycle_task_step d = lifecycle_task_next(live, log[i]);
			if (!d.allowed)
				assert_int_equal(d.to, live);
			ends += d.stamp_ended;
			if (i > 0 && states[i - 1] == TT)
				assert_int_equal(d.to, TT);
			live = d.to;
			states[i] = live;
		}
		assert_true(ends <= 1);
		enum lifecycle_task_state replay = TQ;
		for (int i = 0; i < 32; i++) {
			replay = lifecycle_task_next(replay, log[i]).to;
			assert_int_equal(replay, states[i]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_restart_budget_is_never_overspent),
	    cmocka_unit_test(test_requeue_never_spends_a_restart),
	    cmocka_unit_test(test_failures_end_in_a_final_state_and_final_trials_stay),
	    cmocka_unit_test(test_simulated_runs_spend_exactly_the_budget),
	    cmocka_unit_test(test_action_names),
	    cmocka_unit_test(test_user_events_table),
	    cmocka_unit_test(test_settle_table),
	    cmocka_unit_test(test_settle_is_idempotent),
	    cmocka_unit_test(test_array_submitted_table),
	    cmocka_unit_test(test_replaying_stored_events_gives_the_same_state),
	    cmocka_unit_test(test_rm_command_names),
	    cmocka_unit_test(test_exit_table),
	    cmocka_unit_test(test_exit_reasons_parse),
	    cmocka_unit_test(test_validation_table),
	    cmocka_unit_test(test_replacement_table),
	    cmocka_unit_test(test_claim_table),
	    cmocka_unit_test(test_gc_table),
	    cmocka_unit_test(test_gc_properties),
	    cmocka_unit_test(test_task_table),
	    cmocka_unit_test(test_task_names),
	    cmocka_unit_test(test_task_replay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
