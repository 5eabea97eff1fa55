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
 * preemptions in between; the claim (exp.c) clears preempted and counts a
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_restart_budget_is_never_overspent),
	    cmocka_unit_test(test_requeue_never_spends_a_restart),
	    cmocka_unit_test(test_failures_end_in_a_final_state_and_final_trials_stay),
	    cmocka_unit_test(test_simulated_runs_spend_exactly_the_budget),
	    cmocka_unit_test(test_action_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
