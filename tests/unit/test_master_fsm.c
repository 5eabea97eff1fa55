/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The experiment and trial transition tables, walked exhaustively. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "master/fsm.h"

static void test_names_round_trip(void **state)
{
	for (int s = 0; s < FSM_NSTATES; s++)
		assert_int_equal(fsm_state_parse(fsm_state_name((enum fsm_state)s)), s);
	assert_int_equal(fsm_state_parse("RUNNING"), -1);
	assert_int_equal(fsm_state_parse(NULL), -1);
}

static void test_terminal_states_are_final(void **state)
{
	for (int s = 0; s < FSM_NSTATES; s++) {
		if (!fsm_is_terminal((enum fsm_state)s))
			continue;
		for (int ev = 0; ev < FSM_EV_NEVENTS; ev++) {
			assert_int_equal(fsm_experiment_next((enum fsm_state)s, (enum fsm_event)ev),
			                 -1);
			assert_int_equal(fsm_trial_next((enum fsm_state)s, (enum fsm_event)ev), -1);
		}
	}
}

static void test_every_state_can_finish(void **state)
{
	/* From every non-terminal state some path of events reaches a terminal state. */
	for (int table = 0; table < 2; table++) {
		int reach[FSM_NSTATES] = {0};
		for (int s = 0; s < FSM_NSTATES; s++)
			reach[s] = fsm_is_terminal((enum fsm_state)s);
		for (int round = 0; round < FSM_NSTATES; round++)
			for (int s = 0; s < FSM_NSTATES; s++)
				for (int ev = 0; ev < FSM_EV_NEVENTS; ev++) {
					int n = table ? fsm_trial_next((enum fsm_state)s,
					                               (enum fsm_event)ev)
					              : fsm_experiment_next((enum fsm_state)s,
					                                    (enum fsm_event)ev);
					if (n >= 0 && reach[n])
						reach[s] = 1;
				}
		for (int s = 0; s < FSM_NSTATES; s++)
			assert_true(reach[s]);
	}
}

static void test_experiment_lifecycle(void **state)
{
	assert_int_equal(fsm_experiment_next(FSM_ACTIVE, FSM_EV_PAUSE), FSM_PAUSED);
	assert_int_equal(fsm_experiment_next(FSM_PAUSED, FSM_EV_ACTIVATE), FSM_ACTIVE);
	assert_int_equal(fsm_experiment_next(FSM_ACTIVE, FSM_EV_DONE), FSM_STOPPING_COMPLETED);
	assert_int_equal(fsm_experiment_next(FSM_STOPPING_COMPLETED, FSM_EV_ENDED), FSM_COMPLETED);
	assert_int_equal(fsm_experiment_next(FSM_PAUSED, FSM_EV_CANCEL), FSM_STOPPING_CANCELED);
	assert_int_equal(fsm_experiment_next(FSM_STOPPING_CANCELED, FSM_EV_KILL),
	                 FSM_STOPPING_KILLED);
	assert_int_equal(fsm_experiment_next(FSM_STOPPING_KILLED, FSM_EV_ENDED), FSM_CANCELED);
	assert_int_equal(fsm_experiment_next(FSM_STOPPING_ERROR, FSM_EV_ENDED), FSM_ERROR);
	/* Cannot pause something that is stopping. */
	assert_int_equal(fsm_experiment_next(FSM_STOPPING_KILLED, FSM_EV_PAUSE), -1);
	assert_int_equal(fsm_experiment_next(FSM_STOPPING_COMPLETED, FSM_EV_ACTIVATE), -1);
}

static void test_trial_lifecycle(void **state)
{
	assert_int_equal(fsm_trial_next(FSM_ACTIVE, FSM_EV_DONE), FSM_STOPPING_COMPLETED);
	assert_int_equal(fsm_trial_next(FSM_ACTIVE, FSM_EV_ENDED), FSM_COMPLETED);
	assert_int_equal(fsm_trial_next(FSM_STOPPING_KILLED, FSM_EV_ENDED), FSM_CANCELED);
	assert_int_equal(fsm_trial_next(FSM_ACTIVE, FSM_EV_FAIL), FSM_STOPPING_ERROR);
	assert_int_equal(fsm_trial_next(FSM_PAUSED, FSM_EV_KILL), FSM_STOPPING_KILLED);
	assert_int_equal(fsm_trial_next(FSM_PAUSED, FSM_EV_DONE), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_round_trip),
	    cmocka_unit_test(test_terminal_states_are_final),
	    cmocka_unit_test(test_every_state_can_finish),
	    cmocka_unit_test(test_experiment_lifecycle),
	    cmocka_unit_test(test_trial_lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
