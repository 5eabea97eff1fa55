/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Master-restart recovery (master/lifecycle.c): an experiment driven through
 * start, reports, a crash, a preemption, a pause, an exhausted restart budget
 * and completion, one event at a time; replaying the stored event list from
 * scratch gives the same state, after every prefix and at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "master/lifecycle.h"

#define NTASKS 2
#define MAX_RESTARTS 1

static struct lifecycle_replay_event claim(int task)
{
	return (struct lifecycle_replay_event){.kind = LIFECYCLE_REPLAY_CLAIM, .task = task};
}

static struct lifecycle_replay_event report(int task, double value, int stop)
{
	return (struct lifecycle_replay_event){
	    .kind = LIFECYCLE_REPLAY_VALIDATION, .task = task, .value = value, .stop = stop};
}

static struct lifecycle_replay_event exited(int task, int failed)
{
	return (struct lifecycle_replay_event){
	    .kind = LIFECYCLE_REPLAY_EXIT, .task = task, .failed = failed};
}

static struct lifecycle_replay_event requeued(int task)
{
	return (struct lifecycle_replay_event){
	    .kind = LIFECYCLE_REPLAY_RM, .task = task, .rm_event = LIFECYCLE_EV_REQUEUED};
}

static struct lifecycle_replay_event user(enum fsm_event ev)
{
	return (struct lifecycle_replay_event){.kind = LIFECYCLE_REPLAY_USER, .user = ev};
}

static struct lifecycle_replay_event searcher_done(void)
{
	return (struct lifecycle_replay_event){.kind = LIFECYCLE_REPLAY_SEARCHER_DONE};
}

/* The stored events of one experiment, in the order the engine applied them. */
static size_t scenario(struct lifecycle_replay_event *ev)
{
	size_t n = 0;
	ev[n++] = claim(0);              /* start: trial 0 */
	ev[n++] = claim(1);              /* start: trial 1 */
	ev[n++] = report(0, 0.5, 0);     /* report */
	ev[n++] = exited(0, 1);          /* crash: restart 1 of 1 */
	ev[n++] = requeued(1);           /* preempted by the manager */
	ev[n++] = claim(1);              /* requeued task resumes: no restart spent */
	ev[n++] = user(FSM_EV_PAUSE);    /* pause */
	ev[n++] = exited(0, 1);          /* stopped by the pause: preempted */
	ev[n++] = claim(0);              /* refused while paused */
	ev[n++] = user(FSM_EV_ACTIVATE); /* activate */
	ev[n++] = claim(0);              /* resumes after the pause: no restart spent */
	ev[n++] = exited(1, 1);          /* crash: restart 1 of 1 */
	ev[n++] = exited(1, 1);          /* crash: budget exhausted, trial 1 fails */
	ev[n++] = report(0, 0.3, 1);     /* report: better, and the searcher says stop */
	ev[n++] = exited(0, 0);          /* clean exit: trial 0 completes */
	ev[n++] = searcher_done();       /* completion */
	ev[n++] = claim(0);              /* a late claim changes nothing */
	return n;
}

/* Live run, one event at a time, then recovery by replay at every point. */
static void test_replay_gives_same_state(void **state)
{
	struct lifecycle_replay_event ev[32];
	struct lifecycle_replay_state live, after[32], replayed;
	size_t n = scenario(ev), changed = 0;
	(void)state;

	lifecycle_replay_init(&live, NTASKS, MAX_RESTARTS, 1);
	for (size_t i = 0; i < n; i++) {
		changed += (size_t)lifecycle_replay_apply(&live, &ev[i]);
		after[i] = live;
	}

	/* What the live run came to. */
	assert_int_equal(live.experiment, FSM_COMPLETED);
	assert_true(live.searcher_done);
	assert_true(live.trials[0].exists);
	assert_int_equal(live.trials[0].state, FSM_COMPLETED);
	assert_int_equal(live.trials[0].restarts, 1);
	assert_int_equal(live.trials[0].preempted, 0);
	assert_true(live.trials[0].has_best);
	assert_true(live.trials[0].best == 0.3);
	assert_int_equal(live.trials[1].state, FSM_ERROR);
	assert_int_equal(live.trials[1].restarts, MAX_RESTARTS);

	/* The steps on the way. */
	assert_int_equal(after[4].trials[1].preempted, 1);
	assert_int_equal(after[5].trials[1].restarts, 0); /* a preemption costs nothing */
	assert_int_equal(after[6].experiment, FSM_PAUSED);
	assert_int_equal(after[6].trials[0].state, FSM_PAUSED);
	assert_int_equal(after[7].trials[0].preempted, 1);
	assert_true(lifecycle_replay_equal(&after[7], &after[8])); /* claim refused */
	assert_int_equal(after[10].trials[0].restarts, 1);
	assert_int_equal(after[12].trials[1].state, FSM_ERROR);
	assert_int_equal(after[13].trials[0].state, FSM_STOPPING_COMPLETED);
	assert_int_equal(after[14].experiment, FSM_ACTIVE);
	assert_int_equal(changed, n - 2); /* the refused and the late claim */

	/* A master restarted after any event rebuilds exactly that state. */
	for (size_t k = 1; k <= n; k++) {
		lifecycle_replay_init(&replayed, NTASKS, MAX_RESTARTS, 1);
		lifecycle_replay(&replayed, ev, k);
		if (!lifecycle_replay_equal(&replayed, &after[k - 1]))
			fail_msg("replaying %zu of %zu events differs from the live state", k, n);
	}

	/* And the whole list gives the final state, with the same changes counted. */
	lifecycle_replay_init(&replayed, NTASKS, MAX_RESTARTS, 1);
	assert_int_equal(lifecycle_replay(&replayed, ev, n), changed);
	assert_true(lifecycle_replay_equal(&replayed, &live));
}

/* Replaying the stored events again on the recovered state's start is stable:
 * two replays agree, and a different history gives a different state. */
static void test_replay_is_deterministic(void **state)
{
	struct lifecycle_replay_event ev[32];
	struct lifecycle_replay_state x, y;
	size_t n = scenario(ev);
	(void)state;

	lifecycle_replay_init(&x, NTASKS, MAX_RESTARTS, 1);
	lifecycle_replay_init(&y, NTASKS, MAX_RESTARTS, 1);
	lifecycle_replay(&x, ev, n);
	lifecycle_replay(&y, ev, n);
	assert_true(lifecycle_replay_equal(&x, &y));

	/* Without the crash that spent trial 0's restart the record differs. */
	lifecycle_replay_init(&y, NTASKS, MAX_RESTARTS, 1);
	lifecycle_replay(&y, ev, 3);
	lifecycle_replay(&y, ev + 4, n - 4);
	assert_false(lifecycle_replay_equal(&x, &y));
	assert_int_equal(y.trials[0].restarts, 0);
}

/* Simulated histories (a fixed-seed generator): replay always matches the live
 * run, and a final experiment or trial never leaves its final state. */
static void test_replay_random_histories(void **state)
{
	uint32_t seed = 12345;
	(void)state;

	for (int run = 0; run < 2000; run++) {
		struct lifecycle_replay_event ev[40];
		struct lifecycle_replay_state live, replayed;
		const enum fsm_event users[] = {FSM_EV_PAUSE, FSM_EV_ACTIVATE, FSM_EV_CANCEL,
		                                FSM_EV_KILL};
		size_t n = 5 + (size_t)run % 36;
		int was_final = 0;

		lifecycle_replay_init(&live, 3, run % 3, run % 2);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			uint32_t r = seed >> 8;
			int task = (int)(r % 3);
			switch (r / 3 % 8) {
			case 0:
			case 1:
				ev[i] = claim(task);
				break;
			case 2:
				ev[i] = report(task, (double)(r % 100) / 100.0, r % 5 == 0);
				break;
			case 3:
				ev[i] = exited(task, r % 4 != 0);
				break;
			case 4:
				ev[i] = requeued(task);
				break;
			case 5:
				ev[i] = (struct lifecycle_replay_event){.kind = LIFECYCLE_REPLAY_RM,
				                                        .task = task,
				                                        .rm_event =
				                                            LIFECYCLE_EV_TASK_LOST};
				break;
			case 6:
				ev[i] = user(users[r % 4]);
				break;
			default:
				ev[i] = r % 3 ? claim(task) : searcher_done();
				break;
			}
			struct lifecycle_replay_state before = live;
			lifecycle_replay_apply(&live, &ev[i]);
			if (was_final)
				assert_true(fsm_is_terminal(live.experiment));
			was_final = fsm_is_terminal(live.experiment);
			for (int t = 0; t < 3; t++)
				if (before.trials[t].exists &&
				    fsm_is_terminal(before.trials[t].state))
					assert_int_equal(live.trials[t].state,
					                 before.trials[t].state);
		}
		lifecycle_replay_init(&replayed, 3, run % 3, run % 2);
		lifecycle_replay(&replayed, ev, n);
		if (!lifecycle_replay_equal(&replayed, &live))
			fail_msg("run %d: replay differs from the live run", run);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replay_gives_same_state),
	    cmocka_unit_test(test_replay_is_deterministic),
	    cmocka_unit_test(test_replay_random_histories),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
